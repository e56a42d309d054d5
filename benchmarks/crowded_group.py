"""The group confidence on crowded catalogs: what it gets wrong, and refits, held out (issue 21).

    python benchmarks/crowded_group.py --cache DIR [--shared PATH] [--wrong]
                                       [--variant NAME ...] [--json PATH]

Reads the rows ``crowded_scope.py`` routes (the same ``--cache DIR``: every catalog routed once)
and, per reported crowded catalog, refits the calibration with ``fit_defaults.fit`` on the
training catalogs sharing no source with it (a catalog of three or more labelled collections:
per request source), as ``crowded_scope.py`` does. Then:

* ``--wrong``: on the issue's install (wshobson in the project, voltagent and 0xfurai in the
  user's folder), every request answered at group confidence >= 0.7 whose shown set (agent +
  alternatives) misses the strict label, classified: the labelled agent a near-equivalent of
  the top agent (``Router.similar``) left out of the set; in the first five but doing another
  job; not in the first five. Also the figures counted once per distinct request text
  (wshobson files one text under every copy of an agent; the gold holds every copy, so a copy
  is never wrong, but the text counts once per copy).
* every ``--variant``: a group model refitted on the training catalogs, the ECE of the group
  confidence, the share answered at >= 0.7 and the shown set's precision there, and the mean
  gap between group confidence and the set's hit rate (ECE is never below its size).

Variants (``large`` catalogs only; the others keep the shipped model): ``shipped`` (the group
model of ``fit_defaults``: rows with alternatives, never below the agent's confidence);
``grouped + twins`` (the same with ``twin_mass``/``twin_count``); ``grouped, held-out top``
(``top_logit`` of each training catalog read from a confidence model fitted without its
sources); ``every row, ...`` (a recalibration of every decision, alternatives or not, fitted
on the large training catalogs with that held-out ``top_logit``: Platt on ``top_logit`` alone,
with the group inputs, with the twin inputs, with ``log_agents``). ``--cache DIR`` also keeps
the fitted calibrations (a pickle: point it only at a folder of your own).
"""

from __future__ import annotations

import argparse
import pickle
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _protocol import COLLECTIONS, UNLABELLED, install, load_collection, strip_examples  # noqa: E402
from _report import table, write_json  # noqa: E402
from crowded_scope import THRESHOLD, Reported, _subset, ece, group_confidences, load_rows  # noqa: E402
from fit_defaults import (  # noqa: E402
    RULES,
    CatalogRows,
    Rows,
    _logistic,
    declined,
    fit,
    logit,
    signal_names,
)

INSTALL = "install: wshobson (project) + voltagent, 0xfurai (user)"
GROUP = ("top_logit", "group_mass", "group_margin", "group_size")
TWINS = ("twin_mass", "twin_count")


@dataclass(frozen=True)
class Variant:
    inputs: tuple[str, ...]
    held_out_top: bool  # top_logit of each training catalog from a fit without its sources
    every_row: bool  # every decision (False: rows with alternatives, never below confidence)


VARIANTS: dict[str, Variant | None] = {
    "shipped": None,
    "grouped + twins": Variant((*GROUP, *TWINS), False, False),
    "grouped, held-out top": Variant(GROUP, True, False),
    "every row, top only": Variant(("top_logit",), True, True),
    "every row, group inputs": Variant(GROUP, True, True),
    "every row, group + twins": Variant((*GROUP, *TWINS), True, True),
    "every row, group + twins + log_agents": Variant((*GROUP, *TWINS, "log_agents"), True, True),
}


def _sigmoid(z: np.ndarray) -> np.ndarray:
    out: np.ndarray = 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))
    return out


class Fits:
    """Calibrations fitted without given sources, kept in ``cache`` between runs."""

    def __init__(self, train: Sequence[CatalogRows], cache: Path | None) -> None:
        from agentroute._calibrate import shipped

        self.train, self.template = train, shipped()
        self.path = cache / "crowded_group_fits.pkl" if cache else None
        self.full: dict[frozenset[str], Any] = {}
        if self.path is not None and self.path.is_file():
            with self.path.open("rb") as fh:
                self.full = pickle.load(fh)
        self.conf: dict[frozenset[str], Any] = {}

    def config(self, without: frozenset[str]) -> Any:
        if without not in self.full:
            self.full[without] = fit([t for t in self.train if not (t.sources & without)])
            if self.path is not None:
                with self.path.open("wb") as fh:
                    pickle.dump(self.full, fh)
        return self.full[without]

    def large_confidence(self, without: frozenset[str]) -> Any:
        """The large set's confidence model fitted without ``without`` (None: no catalog)."""
        from agentroute import Logistic

        if without not in self.conf:
            kept = [t for t in self.train if t.large and not (t.sources & without)]
            model = None
            if kept:
                names = self.template.large.confidence.inputs
                cols = [signal_names().index(n) for n in names]
                x = np.vstack([t.labelled.signals[t.labelled.live][:, cols] for t in kept])
                y = np.concatenate([t.labelled.right[t.labelled.live] for t in kept])
                w = np.concatenate(
                    [np.full(int(t.labelled.live.sum()), 1.0 / t.labelled.live.sum()) for t in kept]
                )
                c0, cw = _logistic(x, y, w)
                model = Logistic(
                    intercept=c0, coefficients=tuple(zip(names, cw.tolist(), strict=True))
                )
            self.conf[without] = model
        return self.conf[without]


def _columns(rows: Rows, top: np.ndarray, inputs: Sequence[str]) -> np.ndarray:
    names = signal_names()
    sig = rows.signals.copy()
    sig[:, names.index("top_logit")] = top
    out: np.ndarray = sig[:, [names.index(n) for n in inputs]]
    return out


def fit_variant(fits: Fits, without: frozenset[str], v: Variant) -> tuple[float, np.ndarray]:
    """The variant's logistic on the large training catalogs sharing no source with
    ``without`` (P(the shown set holds a right agent)), each catalog weighted equally."""
    cal = fits.config(without).calibration
    size = signal_names().index("group_size")
    xs, ys, ws = [], [], []
    for t in fits.train:
        if not t.large or t.sources & without:
            continue
        keep = t.labelled.live & (True if v.every_row else t.labelled.signals[:, size] > 0)
        model = (
            fits.large_confidence(without | t.sources) if v.held_out_top else cal.large.confidence
        )
        if not keep.any() or model is None:
            continue
        rows = _subset(t.labelled, keep)
        top = np.clip(logit(rows, model), -13.8, 6.9)
        assert rows.group_right is not None
        xs.append(_columns(rows, top, v.inputs))
        ys.append(rows.group_right)
        ws.append(np.full(len(top), 1.0 / len(top)))
    return _logistic(np.vstack(xs), np.concatenate(ys), np.concatenate(ws))


def _splits(r: Reported) -> list[tuple[frozenset[str], np.ndarray]]:
    """(sources left out of the fit, the requests it answers), as ``crowded_scope``."""
    labelled = sorted(r.sources & set(COLLECTIONS))
    src = np.array(r.request_sources)
    if len(labelled) >= 3:
        return [(frozenset({s}), src == s) for s in labelled]
    return [(r.sources, np.ones(len(src), dtype=bool))]


def answers(fits: Fits, r: Reported, v: Variant | None) -> tuple[np.ndarray, ...]:
    """Per request of ``r`` (in split order): declined, group confidence, set right, index."""
    import agentroute

    out: list[list[np.ndarray]] = [[], [], [], []]
    for without, keep in _splits(r):
        fitted = fits.config(without)
        cal = fitted.calibration
        cfg = agentroute.RouterConfig(calibration=cal, min_scope=fitted.min_scope, **RULES)
        large = cal.large_catalogs.applies(*r.shape)
        rows = _subset(r.labelled, keep)
        g = group_confidences(rows, cal, large)
        if v is not None and large:
            c0, cw = fit_variant(fits, without, v)
            top = np.clip(logit(rows, cal.large.confidence), -13.8, 6.9)
            new = _sigmoid(np.minimum(c0 + _columns(rows, top, v.inputs) @ cw, 6.9))
            grouped = rows.signals[:, signal_names().index("group_size")] > 0
            g = new if v.every_row else np.where(grouped, np.maximum(_sigmoid(top), new), g)
        assert rows.group_right is not None
        for acc, x in zip(
            out,
            (declined(rows, r.n_agents, cal, cfg, large=large), g, rows.group_right),
            strict=False,
        ):
            acc.append(x)
        out[3].append(np.flatnonzero(keep))
    return tuple(np.concatenate(x) for x in out)


def figures(dec: np.ndarray, g: np.ndarray, right: np.ndarray) -> dict[str, float]:
    live = ~dec
    answered = live & (g >= THRESHOLD)
    return {
        "ece_group": ece(g[live], right[live]),
        "answered": float(answered.mean()),
        "precision": float(right[answered].mean()) if answered.any() else float("nan"),
        "gap": float(g[live].mean() - right[live].mean()),
    }


def wrong_answers(fits: Fits, r: Reported, shared: Path) -> dict[str, Any]:
    """The issue's install: the wrong shown sets at >= THRESHOLD, classified."""
    import agentroute

    dec, g, right, order = answers(fits, r, None)
    with tempfile.TemporaryDirectory(prefix="agentroute-group-") as tmp:
        slugs = ("wshobson-agents", "voltagent-awesome-claude-code-subagents", UNLABELLED[0])
        strip_examples(shared, Path(tmp), slugs)
        ws, vo, fu = (load_collection(Path(tmp), shared, s) for s in slugs)
    c = install(INSTALL, ws, [vo, fu])
    router = agentroute.Router.from_agents(c.records)
    short = {"wshobson-agents": "wshobson", slugs[1]: "voltagent", slugs[2]: "0xfurai"}
    origin = {
        a.name: next((v for k, v in short.items() if k in (a.path or "")), "?") for a in c.records
    }
    gold = c.router_gold()
    assert r.labelled.shown is not None and r.labelled.ranked is not None
    answered = ~dec & (g >= THRESHOLD)
    kinds: dict[str, int] = {}
    listed: list[dict[str, Any]] = []
    for k in np.flatnonzero(answered & ~right):
        i = int(order[k])
        shown, ranked, labels = r.labelled.shown[i], r.labelled.ranked[i], gold[i]
        if labels & set(router.similar(shown[0])):
            kind = "a near-equivalent of the top agent, not shown"
        elif labels & set(ranked):
            kind = "in the first five, another job"
        else:
            kind = "not in the first five"
        kinds[kind] = kinds.get(kind, 0) + 1
        listed.append(
            {
                "request": c.requests[i],
                "labelled": sorted(labels),
                "shown": [f"{s} ({origin[s]})" for s in shown],
                "ranked": list(ranked),
                "group_confidence": round(float(g[k]), 3),
                "kind": kind,
            }
        )
    texts = np.array([c.requests[int(i)] for i in order])
    _, first = np.unique(texts, return_index=True)
    once = np.zeros(len(texts), dtype=bool)
    once[first] = True
    by_top: dict[str, int] = {}
    for item in listed:
        top = item["shown"][0].rsplit(" (", 1)[1].rstrip(")")
        by_top[top] = by_top.get(top, 0) + 1
    return {
        "rows": figures(dec, g, right),
        "distinct_texts": {
            "count": int(once.sum()),
            **figures(dec[once], g[once], right[once]),
        },
        "wrong": len(listed),
        "wrong_distinct_texts": len({x["request"] for x in listed}),
        "kinds": kinds,
        "top_agent_from": by_top,
        "listed": sorted(listed, key=lambda x: (x["kind"], x["request"])),
    }


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    ap.add_argument("--cache", type=Path, default=None, help="crowded_scope.py's rows, and fits")
    ap.add_argument("--wrong", action="store_true", help="list the install's wrong answers")
    ap.add_argument("--variant", nargs="*", default=list(VARIANTS), choices=list(VARIANTS))
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    shared = args.shared.resolve()
    train, reported = load_rows(shared, args.cache, False)
    crowded = [r for r in reported if " + " in r.name or r.name.startswith(("all", "install"))]
    fits = Fits(train, args.cache)
    results: dict[str, Any] = {}
    if args.wrong:
        found = wrong_answers(fits, next(r for r in reported if r.name == INSTALL), shared)
        results["wrong"] = found
        print(f"## {INSTALL}: wrong shown sets at group confidence >= {THRESHOLD}\n")
        for item in found["listed"]:
            print(
                f"- [{item['kind']}] {item['request']!r}: labelled {item['labelled']}, "
                f"shown {item['shown']}, ranked {item['ranked']}, {item['group_confidence']}"
            )
        keys = (
            "rows",
            "distinct_texts",
            "wrong",
            "wrong_distinct_texts",
            "kinds",
            "top_agent_from",
        )
        print("\n" + "\n".join(f"{k}: {found[k]}" for k in keys) + "\n", flush=True)
    for name in args.variant:
        out = {r.name: figures(*answers(fits, r, VARIANTS[name])[:3]) for r in crowded}
        results[name] = out
        rows = [
            [
                cat,
                *(f"{f[k]:.3f}" for k in ("ece_group", "answered", "precision")),
                f"{f['gap']:+.3f}",
            ]
            for cat, f in out.items()
        ]
        eces = [f["ece_group"] for f in out.values()]
        print(
            f"## {name}: worst ECE {max(eces):.3f}, mean {np.mean(eces):.3f}, "
            f"<= 0.05 on {sum(e <= 0.05 for e in eces)} of {len(eces)}\n"
        )
        print(
            table(["catalog", "ECE group", "@0.7 answered", "precision", "gap"], rows), flush=True
        )
    if args.json is not None:
        write_json(args.json, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
