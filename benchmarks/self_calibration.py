"""Would build-time self-calibration help? Per-catalog confidence adjustments under LOCO (issue 15).

    python benchmarks/self_calibration.py [--quick] [--short N] [--rows PATH]

An experiment, not a shipped feature: every per-catalog adjustment learnt from a catalog's own
text helped some of the protocol's held-out catalogs and hurt others about as much, and none
raised the number of catalogs meeting a target (benchmarks/README.md, "Build-time
self-calibration").

Pseudo-requests: for every catalog (training and reported), up to ``--per-agent`` sentences per
agent are drawn from its own text -- description sentences, "use when" statements, and example
requests where the catalog has them (the protocol's collections have theirs stripped: they are
the labels) -- ordered by a SHA-1 of their content (not ``hash()``), at most ``--cap`` in all.
``--short N`` cuts each to an N-word window (real requests are shorter than descriptions).
Cross-fitting: every drawn sentence is removed from its agent's description, body, triggers,
use cases and examples (with any sentence, line or item holding it), in ONE masked copy of the
catalog, and checked gone; the pseudo-requests are routed against that copy, right = the source
agent or an identical copy of it.

Per reported catalog the calibration is refitted leave-one-catalog-out (``fit_defaults.fit``),
and the confidence logit ``z`` of its real labelled requests is adjusted per catalog by:

* ``global``: nothing (what ships);
* ``platt_b`` / ``platt_ab``: ``sigmoid(a z + b)`` fitted on the catalog's pseudo-requests,
  with a Gaussian prior toward (1, 0);
* ``meta_b``: ``z + b``, with ``b`` predicted from the pseudo-request shift by a line fitted
  ACROSS the training catalogs (each training catalog's real shift measured under a
  calibration fitted without its sources too: nested leave-one-catalog-out);
* ``nested_ab``: one Platt ``(a, b)`` per coefficient set, fitted on the training catalogs'
  nested held-out logits (no pseudo-requests; tests whether the global fit is too steep);
* ``ORACLE_b`` / ``ORACLE_ab``: fitted on the reported requests themselves -- NOT honest, a
  ceiling: no per-catalog monotone adjustment of the logit can do better than these.

Printed: per catalog the pseudo-request statistics and, per method, ECE, the share of in-scope
requests answered at confidence >= 0.7 and their precision, computed from the routed rows as
``accuracy.py`` computes them from decisions (the ``global`` column reproduces its ``--loco``
figures). ``--rows`` keeps the routed rows in a pickle of this script's own making and reads
them back on the next run (the routing takes minutes, the methods seconds).
"""

from __future__ import annotations

import argparse
import hashlib
import pickle
import re
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _catalogs import DEFAULT_SHARED
from _protocol import COLLECTIONS, UNLABELLED, Catalog, protocol_catalogs, strip_examples
from fit_defaults import (
    RULES,
    CatalogRows,
    Rows,
    catalog_rows,
    declined,
    fit,
    fit_sets,
    fitting_oos,
    logit,
    route_rows,
    training_catalogs,
)

MIN_WORDS, MAX_WORDS = 4, 40
MAX_LOGIT = 6.9
HOOK = 0.7
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
METHODS = (
    "global",
    "platt_b",
    "platt_ab",
    "meta_b",
    "nested_ab",
    "ORACLE_b",
    "ORACLE_ab",
)


@dataclass(frozen=True)
class Options:
    per_agent: int = 2
    cap: int = 300
    short: int = 0  # 0: whole sentences


# --------------------------------------------------------------------------- pseudo-requests


def _digest(*parts: str) -> str:
    return hashlib.sha1("\x00".join(parts).encode("utf-8")).hexdigest()


def _fits(text: str) -> bool:
    return MIN_WORDS <= len(text.split()) <= MAX_WORDS


def sources_of(agent: Any) -> list[str]:
    """The agent's own sentences that read like requests for it."""
    pool = [s.strip() for s in _SENTENCE.split(agent.description.strip())]
    pool += [u.strip() for u in (*agent.use_cases, *agent.examples)]
    return sorted({p for p in pool if _fits(p)})


def window(text: str, words: int) -> str:
    """A ``words``-word window of ``text``, placed by its digest."""
    parts = text.split()
    if words <= 0 or len(parts) <= words:
        return text
    start = int(_digest(text), 16) % (len(parts) - words + 1)
    return " ".join(parts[start : start + words])


def _plain(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def masked(agent: Any, drawn: Sequence[str]) -> Any:
    """``agent`` with every drawn text removed from each field it can land in."""
    description, body = agent.description, agent.body
    for text in drawn:
        description = description.replace(text, " ")
        body = body.replace(text, " ")
    plain = [_plain(t) for t in drawn]

    def unrelated(piece: str) -> bool:
        p = _plain(piece)
        return not any(d in p or (len(piece.split()) >= MIN_WORDS and p in d) for d in plain)

    # A use case or example is cleaned when it is parsed (case, Markdown bullets, bold), so
    # its text in the description or body differs from it: drop every description sentence
    # and body line holding it, or held by it.
    description = " ".join(s for s in _SENTENCE.split(description) if unrelated(s))
    body = "\n".join(line for line in body.splitlines() if unrelated(line))

    def keep(item: str) -> bool:
        p = _plain(item)
        return not p or not any(p in d or d in p for d in plain)

    return replace(
        agent,
        description=" ".join(description.split()),
        body=body,
        triggers=tuple(t for t in agent.triggers if keep(t)),
        use_cases=tuple(u for u in agent.use_cases if keep(u)),
        examples=tuple(e for e in agent.examples if keep(e)),
    )


@dataclass(frozen=True)
class Pseudo:
    texts: list[str]
    gold: list[frozenset[str]]
    records: tuple[Any, ...]  # the masked catalog


def pseudo_requests(records: Sequence[Any], opt: Options) -> Pseudo:
    """Deterministic in record order: drawn per content (identical copies alike)."""
    groups: dict[tuple[str, str], list[Any]] = {}
    for a in sorted(records, key=lambda a: a.name):
        groups.setdefault((a.description, a.body), []).append(a)
    drawn = []
    for content, members in groups.items():
        pool = sorted(sources_of(members[0]), key=lambda s: _digest(s, *content))
        drawn += [(content, s) for s in pool[: opt.per_agent]]
    drawn = sorted(drawn, key=lambda cs: _digest(cs[1], *cs[0]))[: opt.cap]
    texts = [window(s, opt.short) for _, s in drawn]
    removed: dict[tuple[str, str], list[str]] = {}
    for content, sentence in drawn:
        removed.setdefault(content, []).append(sentence)
    masked_records = tuple(masked(a, removed.get((a.description, a.body), [])) for a in records)
    for a, m in zip(records, masked_records, strict=True):
        fields = (m.description, m.body, *m.triggers, *m.use_cases, *m.examples)
        text = _plain(" \n ".join(fields))
        for sentence in removed.get((a.description, a.body), []):
            if _plain(sentence) in text:
                raise RuntimeError(f"{a.name}: the masked copy still holds {sentence!r}")
    gold = [frozenset(a.name for a in groups[c]) for c, _ in drawn]
    return Pseudo(texts, gold, masked_records)


def pseudo_rows(c: Catalog, opt: Options) -> tuple[Rows, float]:
    """Pseudo-requests routed against the masked catalog; the seconds it took."""
    import agentroute

    t0 = time.perf_counter()
    p = pseudo_requests(c.records, opt)
    router = agentroute.Router.from_agents(p.records)
    rows = route_rows(router, p.texts, p.gold)
    return rows, time.perf_counter() - t0


# --------------------------------------------------------------------------- adjustments


def sigmoid(z: np.ndarray) -> np.ndarray:
    out: np.ndarray = 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))
    return out


def logits(rows: Rows, cal: Any, large: bool) -> np.ndarray:
    """The confidence logit of every row (before the MAX_LOGIT cap)."""
    return logit(rows, (cal.large if large else cal.general).confidence)


def platt(
    z: np.ndarray,
    y: np.ndarray,
    *,
    w: np.ndarray | None = None,
    a_prior: float,
    b_prior: float,
    slope: bool = True,
) -> tuple[float, float]:
    """MAP ``sigmoid(a z + b)``: Gaussian priors of precision ``a_prior``/``b_prior``
    toward ``a = 1``, ``b = 0`` (Newton steps)."""
    w = np.ones_like(z) if w is None else w
    a, b = 1.0, 0.0
    for _ in range(60):
        p = sigmoid(a * z + b)
        r, q = w * (p - y), w * p * (1.0 - p)
        if not slope:
            b -= (r.sum() + b_prior * b) / (q.sum() + b_prior)
            continue
        g = np.array([np.sum(r * z) + a_prior * (a - 1.0), r.sum() + b_prior * b])
        h = np.array(
            [[np.sum(q * z * z) + a_prior, np.sum(q * z)], [np.sum(q * z), q.sum() + b_prior]]
        )
        a, b = (float(v) for v in np.array([a, b]) - np.linalg.solve(h, g))
    return float(a), float(b)


def shift(z: np.ndarray, y: np.ndarray) -> float:
    """The intercept shift that calibrates ``z`` on ``y`` (weak prior: finite when all agree)."""
    return platt(np.minimum(z, MAX_LOGIT), y.astype(float), a_prior=0.0, b_prior=0.05, slope=False)[
        1
    ]


def metrics(rows: Rows, conf: np.ndarray, dec: np.ndarray) -> dict[str, float]:
    """ECE (10 bins, declined rows included at their confidence) and @0.7 answered/precision."""
    conf = np.where(rows.live, conf, 0.0)
    right = rows.right
    bins = np.minimum(9, (conf * 10).astype(int))
    ece = sum(
        abs(right[bins == k].mean() - conf[bins == k].mean()) * (bins == k).sum()
        for k in range(10)
        if (bins == k).any()
    ) / max(1, len(conf))
    hook = ~dec & (conf >= HOOK)
    return {
        "ece": float(ece),
        "answered": float(hook.mean()),
        "precision": float(right[hook].mean()) if hook.any() else float("nan"),
    }


# --------------------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class Routed:
    train: list[CatalogRows]
    train_pseudo: list[Rows]
    reported: list[tuple[Catalog, CatalogRows, Rows, float]]


def route_everything(shared: Path, opt: Options, quick: bool) -> Routed:
    oos = fitting_oos(shared)
    with tempfile.TemporaryDirectory(prefix="agentroute-selfcal-") as tmp:
        root = Path(tmp)
        strip_examples(shared, root, (*COLLECTIONS, *UNLABELLED))
        train_cats = training_catalogs(root, shared)
        train = [catalog_rows(c, oos) for c in train_cats]
        train_pseudo = [pseudo_rows(c, opt)[0] for c in train_cats]
        print("  training catalogs routed", file=sys.stderr, flush=True)
        reported = [
            (c, catalog_rows(c, ()), *pseudo_rows(c, opt))
            for c in protocol_catalogs(root, shared, quick=quick)
        ]
    return Routed(train, train_pseudo, reported)


def evaluate(data: Routed) -> list[str]:
    import agentroute

    fits: dict[frozenset[str], Any] = {}
    inner: dict[frozenset[str], Any] = {}

    def fitted(key: frozenset[str]) -> Any:
        if key not in fits:
            fits[key] = fit([t for t in data.train if not (t.sources & key)])
        return fits[key]

    def confidence_fit(key: frozenset[str]) -> Any:
        """Confidence coefficients only, without ``key``'s sources (nested fits)."""
        if key not in inner:
            inner[key] = fit_sets([t for t in data.train if not (t.sources & key)])
        return inner[key]

    lines: list[str] = []
    pooled: dict[str, dict[str, list[tuple[Rows, np.ndarray, np.ndarray]]]] = {}
    for c, cr, pr, seconds in data.reported:
        key = frozenset(c.sources)
        fitted_cfg = fitted(key)
        cal = fitted_cfg.calibration
        rules = agentroute.RouterConfig(calibration=cal, min_scope=fitted_cfg.min_scope, **RULES)
        large = cal.is_large(*cr.shape)
        z = logits(cr.labelled, cal, large)
        live = cr.labelled.live
        z_ps = np.minimum(logits(pr, cal, large)[pr.live], MAX_LOGIT)
        y_ps = pr.right[pr.live].astype(float)

        # Across the training catalogs (nested): real shift against pseudo shift, and the
        # held-out logits for nested_ab.
        xs, ys = [], []
        held: dict[bool, list[tuple[np.ndarray, np.ndarray]]] = {False: [], True: []}
        for t, tp in zip(data.train, data.train_pseudo, strict=True):
            if t.sources & key:
                continue
            cal_t = confidence_fit(key | t.sources)
            lg = cal_t.is_large(*t.shape)
            zt = logits(t.labelled, cal_t, lg)[t.labelled.live]
            yt = t.labelled.right[t.labelled.live]
            if len(zt) and (t.kind != "union" or lg):
                held[lg].append((np.minimum(zt, MAX_LOGIT), yt.astype(float)))
            ztp = logits(tp, cal_t, lg)[tp.live]
            if len(zt) >= 5 and len(ztp) >= 5:
                xs.append(shift(ztp, tp.right[tp.live]))
                ys.append(shift(zt, yt))
        x = np.column_stack([np.ones(len(xs)), xs])
        line = np.linalg.solve(x.T @ x + np.diag([1e-6, 1.0]), x.T @ np.array(ys))
        parts = held[large] or held[not large]
        zh = np.concatenate([p[0] for p in parts])
        yh = np.concatenate([p[1] for p in parts])
        wh = np.concatenate([np.full(len(p[0]), 1.0 / len(p[0])) for p in parts])

        b_ps = shift(z_ps, y_ps) if len(z_ps) else 0.0
        z_real, y_real = np.minimum(z[live], MAX_LOGIT), cr.labelled.right[live].astype(float)
        adjust = {
            "global": (1.0, 0.0),
            "platt_b": (1.0, platt(z_ps, y_ps, a_prior=0.0, b_prior=2.0, slope=False)[1]),
            "platt_ab": platt(z_ps, y_ps, a_prior=20.0, b_prior=2.0),
            "meta_b": (1.0, float(line[0] + line[1] * b_ps)),
            "nested_ab": platt(zh, yh, w=wh * len(wh) / wh.sum(), a_prior=1.0, b_prior=1.0),
            "ORACLE_b": (1.0, shift(z_real, y_real)),
            "ORACLE_ab": platt(z_real, y_real, a_prior=0.05, b_prior=0.05),
        }
        lines.append(
            f"{c.name:28s} agents {c.n_agents:4d}  pseudo {len(z_ps):3d} in {seconds:5.1f} s, "
            f"top-1 {y_ps.mean() if len(y_ps) else float('nan'):.2f}  "
            f"shift pseudo {b_ps:+.2f} real {adjust['ORACLE_b'][1]:+.2f}  "
            f"oracle (a, b) ({adjust['ORACLE_ab'][0]:.2f}, {adjust['ORACLE_ab'][1]:+.2f})  "
            f"platt (a, b) ({adjust['platt_ab'][0]:.2f}, {adjust['platt_ab'][1]:+.2f})"
        )
        unit = c.name.split(" #")[0] if c.kind == "small" else c.name
        per = pooled.setdefault(unit, {m: [] for m in METHODS})
        which = "large" if large else "general"
        for m, (a, b) in adjust.items():
            old = getattr(cal, which).confidence
            scaled = replace(
                old,
                intercept=a * old.intercept + b,
                coefficients=tuple((n, a * v) for n, v in old.coefficients),
            )
            cal_m = replace(cal, **{which: replace(getattr(cal, which), confidence=scaled)})
            conf = sigmoid(np.minimum(a * z + b, MAX_LOGIT))
            dec = declined(cr.labelled, cr.n_agents, cal_m, rules, large=large)
            per[m].append((cr.labelled, conf, dec))

    table: dict[str, dict[str, dict[str, float]]] = {}
    for unit, per in pooled.items():
        table[unit] = {}
        for m, got in per.items():
            rows = Rows(
                np.vstack([r.signals for r, _, _ in got]),
                np.concatenate([r.right for r, _, _ in got]),
                np.concatenate([r.triggers for r, _, _ in got]),
                np.concatenate([r.live for r, _, _ in got]),
            )
            table[unit][m] = metrics(
                rows, np.concatenate([c for _, c, _ in got]), np.concatenate([d for *_, d in got])
            )
    for what in ("ece", "answered", "precision"):
        lines.append(f"\n{what}\n\n| catalog | " + " | ".join(METHODS) + " |")
        lines.append("| --- " + "| ---: " * len(METHODS) + "|")
        for unit, per in table.items():
            lines.append(f"| {unit} | " + " | ".join(f"{per[m][what]:.3f}" for m in METHODS) + " |")
    lines.append("")
    for m in METHODS:
        ece = [per[m]["ece"] for per in table.values()]
        hooked = sum(
            per[m]["precision"] >= 0.9 and per[m]["answered"] >= 0.5 for per in table.values()
        )
        lines.append(
            f"{m}: mean ECE {np.mean(ece):.3f}; ECE <= 0.05 on {sum(e <= 0.05 for e in ece)} of "
            f"{len(ece)}; precision >= 0.90 with >= 50 % answered @0.7 on {hooked}"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    ap.add_argument("--quick", action="store_true", help="the protocol's --quick catalogs")
    ap.add_argument("--per-agent", type=int, default=Options.per_agent)
    ap.add_argument("--cap", type=int, default=Options.cap)
    ap.add_argument("--short", type=int, default=0, help="N-word windows (0: whole sentences)")
    ap.add_argument("--rows", type=Path, default=None, help="keep/reuse the routed rows here")
    args = ap.parse_args(argv)
    opt = Options(per_agent=args.per_agent, cap=args.cap, short=args.short)
    if args.rows is not None and args.rows.is_file():
        data = pickle.loads(args.rows.read_bytes())  # our own file from an earlier run
    else:
        data = route_everything(args.shared.resolve(), opt, args.quick)
        if args.rows is not None:
            args.rows.write_bytes(pickle.dumps(data))
    print(
        "# python benchmarks/self_calibration.py "
        + " ".join(sys.argv[1:] if argv is None else argv)
    )
    for line in evaluate(data):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
