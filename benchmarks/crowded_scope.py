"""Scope and group models on crowded catalogs, refitted leave-one-catalog-out (issue 21).

    python benchmarks/crowded_scope.py [--shared PATH] [--cache DIR] [--quick]
                                       [--variant NAME ...] [--json PATH]

A fast stand-in for ``accuracy.py --loco`` on the rows issue 21 is about: every catalog is
routed once (signals do not depend on the calibration), and each *variant* (the inputs the
models read, the training catalogs they are fitted on) is refitted with
``fit_defaults.fit`` for every reported catalog on the training catalogs sharing no source
with it (a catalog of three or more labelled collections: per request source, as
``accuracy._route_split``), then read the way the router decides (``fit_defaults.declined``;
group confidence as ``Calibration.group_confidence``). Reported per crowded catalog (and the
large single collections, which read the same large set): in-scope ``no_match``, CLINC150
``oos`` TEST and near-miss abstention, the ECE of ``group_confidence``, and at group
confidence >= 0.7 the share answered and the precision of the shown set (strict labels).
Where the in-scope ``no_match`` comes from: ``no_match_by_scope``, the share the scope rule
alone declines (the rest: no known word, or weak evidence); and whether one bar could meet
both of issue 21's targets on the row: ``bar_need``, how far the logit of the ``min_scope``
bar must rise for 90 % of CLINC ``oos`` to be declined, and ``bar_allow``, how far it may
rise with at most 5 % of in-scope requests declined (0: the fitted bar; a row where
``bar_need > bar_allow`` cannot meet both with these scope inputs at any bar).

Variants: the shipped inputs with and without the crowded training catalogs; the large
set's bar pooled over its training catalogs (``fit_defaults.fit(large_bar=...)``: the mean
share declined, not the worst catalog's); the large scope model also reading the
distinctness inputs the confidence model reads (margin, softmax, near counts).

The routing skips the not-for stage and the teams, so figures can differ from
``accuracy.py --loco`` in the third decimal; the variant that ships is measured there too.
Variants that read inputs the library no longer computes are in git history: the neighbourhood
scope inputs (``head_*``, the top agent against its 20 best neighbours) were measured with this
script at commit 7932a2b (``benchmarks/README.md``, "Crowded catalogs (issue 21): scope and group
refits"). ``--cache DIR`` keeps the routed rows between runs (a pickle: point it only at a folder of
your own, it is loaded as code would be).
"""

from __future__ import annotations

import argparse
import pickle
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _protocol import (  # noqa: E402
    COLLECTIONS,
    UNLABELLED,
    Catalog,
    clinc_oos,
    crowded_catalogs,
    load_collection,
    near_miss,
    strip_examples,
    union,
)
from _report import table, write_json  # noqa: E402
from fit_defaults import (  # noqa: E402
    RULES,
    CatalogRows,
    Rows,
    capped,
    catalog_rows,
    declined,
    fit,
    fitting_oos,
    logit,
    route_rows,
    signal_names,
    training_catalogs,
)

THRESHOLD = 0.7


@dataclass(frozen=True)
class Reported:
    name: str
    sources: frozenset[str]
    request_sources: tuple[str, ...]
    n_agents: int
    shape: tuple[float, float]
    labelled: Rows
    oos: Rows
    near: Rows


def reported_rows(c: Catalog, oos: Sequence[str], near: Sequence[str]) -> Reported:
    import agentroute
    from agentroute._calibrate import catalog_shape

    router = agentroute.Router.from_agents(c.records)
    sources = c.request_sources or tuple(next(iter(c.sources)) for _ in c.requests)
    return Reported(
        c.name,
        c.sources,
        sources,
        c.n_agents,
        catalog_shape(router.index),
        route_rows(router, c.requests, c.router_gold()),
        route_rows(router, oos, None),
        route_rows(router, near, None),
    )


def reported_catalogs(root: Path, shared: Path, quick: bool) -> list[Catalog]:
    base = {slug: load_collection(root, shared, slug) for slug in COLLECTIONS}
    unlabelled = {slug: load_collection(root, shared, slug) for slug in UNLABELLED}
    singles = [base[s] for s in COLLECTIONS[:2]] + [base[COLLECTIONS[3]]]
    out = [*singles, union("all collections", list(base.values()))]
    return out + crowded_catalogs(base, unlabelled, quick=quick)


def load_rows(
    shared: Path, cache: Path | None, quick: bool
) -> tuple[list[CatalogRows], list[Reported]]:
    name = f"crowded_scope{'_quick' if quick else ''}_{len(signal_names())}.pkl"
    key = cache / name if cache else None
    if key is not None and key.is_file():
        with key.open("rb") as fh:
            got: tuple[list[CatalogRows], list[Reported]] = pickle.load(fh)
        return got
    oos_fit = fitting_oos(shared)
    oos_test, near = clinc_oos(shared, "test"), near_miss()
    with tempfile.TemporaryDirectory(prefix="agentroute-scope-") as tmp:
        root = Path(tmp)
        strip_examples(shared, root, (*COLLECTIONS, *UNLABELLED))
        train = []
        for c in training_catalogs(root, shared, crowded=True):
            t0 = time.perf_counter()
            train.append(catalog_rows(c, oos_fit))
            print(f"  train {c.name}: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        reported = []
        for c in reported_catalogs(root, shared, quick):
            t0 = time.perf_counter()
            reported.append(reported_rows(c, oos_test, near))
            print(f"  report {c.name}: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    if key is not None:
        key.parent.mkdir(parents=True, exist_ok=True)
        with key.open("wb") as fh:
            pickle.dump((train, reported), fh)
    return train, reported


# --------------------------------------------------------------------------- variants


@dataclass(frozen=True)
class Variant:
    template: Callable[[Any], Any]
    crowded: bool = False  # also fit on the crowded training catalogs
    cap: bool = True  # scope_max_agents as fitted (False: no cap)
    # The large set's own bar, (target, pooled): None is fit_defaults' default (every
    # large training catalog declines 90 % of the out-of-scope requests).
    large_bar: tuple[float, bool] | None = None


def _same(cal: Any) -> Any:
    return cal


def _large_scope(extra: Sequence[str]) -> Callable[[Any], Any]:
    """A template whose large set's scope model also reads ``extra``."""
    from agentroute import Logistic

    def make(cal: Any) -> Any:
        old = cal.large.scope
        inputs = (*old.inputs, *(n for n in extra if n not in old.inputs))
        scope = Logistic(intercept=0.0, coefficients=tuple((n, 0.0) for n in inputs))
        return replace(cal, large=replace(cal.large, scope=scope))

    return make


DISTINCT = ("margin", "softmax_05", "softmax_10")

VARIANTS: dict[str, Variant] = {
    "shipped inputs": Variant(_same),
    "shipped inputs, crowded training": Variant(_same, crowded=True),
    "pooled bar 0.90": Variant(_same, crowded=True, large_bar=(0.90, True)),
    "pooled bar 0.93": Variant(_same, crowded=True, large_bar=(0.93, True)),
    "pooled bar 0.95": Variant(_same, crowded=True, large_bar=(0.95, True)),
    "+ margin, softmax": Variant(_large_scope(DISTINCT), crowded=True),
    "+ margin, softmax, near": Variant(
        _large_scope((*DISTINCT, "near_10", "near_20")), crowded=True
    ),
}


# --------------------------------------------------------------------------- evaluation


def _sigmoid(z: np.ndarray) -> np.ndarray:
    out: np.ndarray = 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))
    return out


def group_confidences(rows: Rows, cal: Any, large: bool) -> np.ndarray:
    """``Decision.group_confidence`` of every row (the confidence when no alternatives)."""
    names = signal_names()
    models = cal.large if large else cal.general
    top = np.clip(logit(rows, models.confidence), -13.8, 6.9)
    conf = _sigmoid(top)
    sig = rows.signals.copy()
    sig[:, names.index("top_logit")] = top
    grouped = sig[:, names.index("group_size")] > 0
    g = _sigmoid(np.minimum(logit(replace(rows, signals=sig), cal.group), 6.9))
    out: np.ndarray = np.where(grouped, np.maximum(conf, g), conf)
    return out


def ece(conf: np.ndarray, hit: np.ndarray, bins: int = 10) -> float:
    if not len(conf):
        return 0.0
    which = np.clip((conf * bins).astype(int), 0, bins - 1)
    total = sum(
        (which == b).sum() * abs(hit[which == b].mean() - conf[which == b].mean())
        for b in range(bins)
        if (which == b).any()
    )
    return float(total / len(conf))


def _subset(rows: Rows, keep: np.ndarray) -> Rows:
    gr = rows.group_right
    return Rows(
        rows.signals[keep],
        rows.right[keep],
        rows.triggers[keep],
        rows.live[keep],
        None if gr is None else gr[keep],
    )


def scope_room(rows: Rows, n_agents: int, cfg: Any, *, large: bool) -> np.ndarray:
    """Per row, how far the scope model's logit lies above the ``min_scope`` bar (the
    bar's logit may rise by this much before the row is declined by scope): -inf for
    rows another rule declines (nothing known, weak evidence), +inf for rows the bar
    cannot decline (trigger rescue, catalogs below ``scope_min_agents``)."""
    cal = cfg.calibration
    models = cal.large if large else cal.general
    z = logit(capped(rows, models.scope_max_agents), models.scope)
    room = z - _logit(cfg.min_scope)
    conf = _sigmoid(logit(rows, models.confidence))
    rescued = (
        (cfg.trigger_rescue > 0)
        & (rows.triggers >= cfg.trigger_rescue)
        & (_sigmoid(z) >= cfg.trigger_rescue_scope)
    )
    room = np.where(rescued | (n_agents < cfg.scope_min_agents), np.inf, room)
    other = ~rows.live | (conf < cfg.min_confidence)
    out: np.ndarray = np.where(other, -np.inf, room)
    return out


def _logit(p: float) -> float:
    return float(np.log(p / (1.0 - p)))


def evaluate(
    train: Sequence[CatalogRows], reported: Sequence[Reported], variant: Variant
) -> dict[str, dict[str, float]]:
    import agentroute
    from agentroute._calibrate import shipped

    template = variant.template(shipped())
    pool = [t for t in train if variant.crowded or not _crowded_training(t)]
    fits: dict[frozenset[str], Any] = {}

    def config(left_out: frozenset[str]) -> Any:
        if left_out not in fits:
            kept = [t for t in pool if not (t.sources & left_out)]
            fitted = fit(kept, template=template, large_bar=variant.large_bar)
            cal = fitted.calibration
            if not variant.cap:
                cal = replace(cal, large=replace(cal.large, scope_max_agents=None))
            fits[left_out] = agentroute.RouterConfig(
                calibration=cal, min_scope=fitted.min_scope, **RULES
            )
        return fits[left_out]

    out: dict[str, dict[str, float]] = {}
    for r in reported:
        labelled_sources = sorted(r.sources & set(COLLECTIONS))
        split = len(labelled_sources) >= 3
        groups = labelled_sources if split else [None]
        src = np.array(r.request_sources)
        no_match, gconf, set_right, oos, near = [], [], [], [], []
        room_in: list[np.ndarray] = []
        room_oos: list[np.ndarray] = []
        for i, s in enumerate(groups):
            cfg = config(frozenset({s}) if s is not None else r.sources)
            cal = cfg.calibration
            large = cal.large_catalogs.applies(*r.shape)
            keep = src == s if s is not None else np.ones(len(src), dtype=bool)
            rows = _subset(r.labelled, keep)
            dec = declined(rows, r.n_agents, cal, cfg, large=large)
            no_match.append(dec)
            room_in.append(scope_room(rows, r.n_agents, cfg, large=large))
            g = group_confidences(rows, cal, large)
            gconf.append(np.where(dec, 0.0, g))
            assert rows.group_right is not None
            set_right.append(rows.group_right)
            k = len(groups)
            for name, pool_rows, acc in (("oos", r.oos, oos), ("near", r.near, near)):
                n = len(pool_rows.live)
                part = _subset(pool_rows, np.arange(n) % k == i)
                acc.append(declined(part, r.n_agents, cal, cfg, large=large))
                if name == "oos":
                    room_oos.append(scope_room(part, r.n_agents, cfg, large=large))
        nm = np.concatenate(no_match)
        gc = np.concatenate(gconf)
        sr = np.concatenate(set_right)
        answered = ~nm & (gc >= THRESHOLD)
        rin, rout = np.concatenate(room_in), np.concatenate(room_oos)
        out[r.name] = {
            "agents": r.n_agents,
            "requests": len(nm),
            "in_scope_no_match": float(nm.mean()),
            "oos_abstained": float(np.concatenate(oos).mean()),
            "near_miss_abstained": float(np.concatenate(near).mean()),
            "ece_group": ece(gc[~nm], sr[~nm]),
            "group_answered": float(answered.mean()),
            "group_precision": float(sr[answered].mean()) if answered.any() else float("nan"),
            # in-scope requests the scope rule alone declines (the rest of no_match: no
            # known word, or weak evidence)
            "no_match_by_scope": float(((rin < 0) & np.isfinite(rin)).mean()),
            # the bar's logit may rise by bar_need or more (oos >= 0.90 declined) and by at
            # most bar_allow (in-scope no_match <= 0.05): both targets hold at one bar
            # on this row only where bar_need <= bar_allow
            "bar_need": float(np.quantile(rout, 0.90)),
            "bar_allow": float(np.quantile(rin, 0.05)),
        }
    return out


def _crowded_training(t: CatalogRows) -> bool:
    return t.kind == "union" and (" + unlabelled" in t.name or t.name.count(" + ") >= 2)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    ap.add_argument("--cache", type=Path, default=None, help="keep the routed rows here")
    ap.add_argument("--quick", action="store_true", help="the --quick crowded catalogs only")
    ap.add_argument("--variant", nargs="*", default=list(VARIANTS), choices=list(VARIANTS))
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    train, reported = load_rows(args.shared.resolve(), args.cache, args.quick)
    results: dict[str, Any] = {}
    keys = (
        "in_scope_no_match",
        "oos_abstained",
        "near_miss_abstained",
        "ece_group",
        "group_answered",
        "group_precision",
        "no_match_by_scope",
        "bar_need",
        "bar_allow",
    )
    for name in args.variant:
        t0 = time.perf_counter()
        results[name] = evaluate(train, reported, VARIANTS[name])
        print(f"\n## {name} ({time.perf_counter() - t0:.0f} s)\n")
        rows = [
            [cat, str(int(r["agents"])), *(f"{r[k]:.3f}" for k in keys)]
            for cat, r in results[name].items()
        ]
        print(table(["catalog", "agents", *keys], rows), flush=True)
    if args.json is not None:
        write_json(args.json, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
