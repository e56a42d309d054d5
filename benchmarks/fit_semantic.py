"""Choose how much the semantic view counts (``SemanticConfig`` weights), per catalog shape.

    python benchmarks/fit_semantic.py --encoder PATH [--encoder-cache DIR] [--exclude SOURCE ...]
                                      [--variants]

A tool, not a measurement: ``benchmarks/accuracy.py --loco --encoder PATH`` calls
:func:`loco_semantic` and, for every reported catalog, uses the weights chosen on the training
catalogs (``fit_defaults.training_catalogs``) that share no source with it.

The catalogs fall in three shapes (``SemanticConfig.weight``): full prompts (``log_terms`` at
least ``long_log_terms``), short texts whose agents carry example requests (intent datasets),
and short texts alone (name + description: tool and plugin lists). For each shape the weight
in :data:`GRID` with the best top-1 over the training requests of that shape (pooled: a catalog
counts by its requests, so the 8 requests of a small collection do not outvote the 921 of a
large one) is chosen; ties go to the smaller weight (less change).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _protocol import (  # noqa: E402
    COLLECTIONS,
    INTENTS,
    UNLABELLED,
    Catalog,
    description_only,
    intent_catalog,
    load_collection,
    strip_examples,
)

GRID = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
SHAPES = ("long", "examples", "short")


class CachedEncoder:
    """A sentence-transformers or model2vec folder behind a cache of vectors, one ``.npy``
    per text (keyed by the text's SHA-1), so reruns of the protocol encode nothing again."""

    def __init__(self, folder: str, cache: Path | None) -> None:
        from agentroute._semantic import load_encoder

        self._inner = load_encoder(folder)
        self._cache = cache
        self._memo: dict[str, np.ndarray] = {}
        self.label = folder
        if cache is not None:
            cache.mkdir(parents=True, exist_ok=True)

    def encode(self, texts: list[str]) -> np.ndarray:
        keys = [hashlib.sha1(t.encode("utf-8", "surrogatepass")).hexdigest() for t in texts]
        missing = []
        for k, t in zip(keys, texts, strict=True):
            if k in self._memo:
                continue
            path = None if self._cache is None else self._cache / f"{k}.npy"
            if path is not None and path.is_file():
                self._memo[k] = np.load(path)
            else:
                missing.append((k, t))
        if missing:
            fresh = self._inner.encode([t for _, t in missing])
            for (k, _), v in zip(missing, fresh, strict=True):
                self._memo[k] = v
                if self._cache is not None:
                    np.save(self._cache / f"{k}.npy", v)
        return np.vstack([self._memo[k] for k in keys])


def shape_of(router: Any) -> str:
    """Which weight of ``SemanticConfig`` applies to a router with a semantic view."""
    from agentroute._calibrate import catalog_shape

    cfg = router.config.semantic
    log_terms = catalog_shape(router.index)[1]
    view = router._state.semantic
    if log_terms >= cfg.long_log_terms:
        return "long"
    return "examples" if view.texts_per_agent >= cfg.examples_per_agent else "short"


@dataclass(frozen=True)
class Matrices:
    """One catalog's lexical fused scores and semantic cosines (requests x agents)."""

    name: str
    sources: frozenset[str]
    shape: str
    lexical: np.ndarray
    cosines: np.ndarray
    names: tuple[str, ...]
    gold: tuple[frozenset[str], ...]
    # For the view-alone confidence: which requests share a word with the catalog, the
    # agents' copy groups, and the out-of-scope fitting requests' cosines and words.
    known: np.ndarray
    copy_of: np.ndarray
    oos_cosines: np.ndarray
    oos_known: np.ndarray
    # Each agent's best single row (how the view scored before prototypes; --variants).
    best_row: np.ndarray


def matrices(c: Catalog, encoder: Any, oos: Sequence[str] = ()) -> Matrices:
    """``c``'s lexical and semantic matrices (``oos``: out-of-scope requests scored too)."""
    import agentroute
    from agentroute._negative import apply_not_for
    from agentroute._score import analyze_query, score

    router = agentroute.Router.from_agents(c.records, encoder=encoder)
    index, state = router.index, router._state
    queries = [analyze_query(index, t) for t in c.requests]
    sc = apply_not_for(
        index, queries, score(index, queries, router.config.weights), router.config.not_for
    )
    cosines = state.semantic.score(list(c.requests))
    oos_cos = state.semantic.score(list(oos))
    return Matrices(
        c.name,
        c.sources,
        shape_of(router),
        sc.combined,
        cosines,
        index.names,
        tuple(c.router_gold()),
        np.array([q.known_terms > 0 for q in queries], dtype=bool),
        index.copy_of,
        oos_cos,
        np.array([analyze_query(index, t).known_terms > 0 for t in oos], dtype=bool),
        best_rows(state.semantic, list(c.requests)),
    )


def best_rows(view: Any, texts: Sequence[str]) -> np.ndarray:
    """Requests x agents: each agent's best cosine over its encoded texts."""
    from agentroute._semantic import MAX_REQUEST_CHARS

    q = view.encoder.encode([t[:MAX_REQUEST_CHARS] for t in texts])
    cos = (q @ view.vectors.T).astype(np.float64)
    out = np.zeros((len(texts), view.n_agents))
    if cos.size:
        starts = np.flatnonzero(np.r_[True, view.owner[1:] != view.owner[:-1]])
        out[:, view.owner[starts]] = np.maximum.reduceat(cos, starts, axis=1)
    return np.clip(out, 0.0, 1.0)


def alone_inputs(cosines: np.ndarray, copy_of: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the view's leader (ties: the first) and ``(top, second)``: its cosine and
    the best cosine of an agent that is no copy of it (as ``_decide`` reads them)."""
    best = np.argmax(cosines, axis=1)
    rows = np.arange(cosines.shape[0])
    others = np.where(copy_of[None, :] == copy_of[best][:, None], -1.0, cosines)
    second = np.clip(others.max(axis=1), 0.0, None) if cosines.shape[1] > 1 else rows * 0.0
    return best, np.column_stack([cosines[rows, best], second])


ALONE_OOS_TARGET = 0.99


def fit_alone(train: Sequence[Matrices]) -> dict[str, float]:
    """``SemanticConfig``'s view-alone confidence, fitted on ``train``.

    A logistic of ``(top, top - second)``: in-scope requests labelled by whether the view's
    leader is right, the out-of-scope fitting requests as wrong, each catalog's two sets
    weighted equally. The bar (``alone_min_confidence``) is the lowest, in steps of 0.01,
    that declines :data:`ALONE_OOS_TARGET` of the out-of-scope requests sharing no word
    with their catalog, pooled over the training catalogs."""
    from sklearn.linear_model import LogisticRegression

    xs, ys, ws, oos_alone = [], [], [], []
    for m in train:
        if not len(m.gold) or not m.oos_cosines.shape[0]:
            continue
        best, x = alone_inputs(m.cosines, m.copy_of)
        right = np.array([m.names[j] in g for j, g in zip(best, m.gold, strict=True)])
        _, xo = alone_inputs(m.oos_cosines, m.copy_of)
        for feats, label, n in ((x, right, len(x)), (xo, np.zeros(len(xo), bool), len(xo))):
            xs.append(np.column_stack([feats[:, 0], feats[:, 0] - feats[:, 1]]))
            ys.append(label)
            ws.append(np.full(len(feats), 1.0 / n))
        oos_alone.append(xo[~m.oos_known])
    x, y, w = np.vstack(xs), np.concatenate(ys), np.concatenate(ws)
    model = LogisticRegression(C=1.0, max_iter=10_000, tol=1e-10)
    model.fit(x, y, sample_weight=w * len(w) / w.sum())
    a, (b_top, b_gap) = float(model.intercept_[0]), model.coef_[0].tolist()
    xo = np.vstack(oos_alone)
    z = a + b_top * xo[:, 0] + b_gap * (xo[:, 0] - xo[:, 1])
    conf = 1.0 / (1.0 + np.exp(-z))
    bar = next((b / 100 for b in range(1, 101) if (conf < b / 100).mean() >= ALONE_OOS_TARGET), 1.0)
    return {
        "alone_intercept": round(a, 4),
        "alone_top": round(b_top, 4),
        "alone_gap": round(b_gap, 4),
        "alone_min_confidence": bar,
    }


def top1(m: Matrices, weight: float) -> float:
    from agentroute._signal import fuse

    fused = np.round(fuse(m.lexical, [(weight, m.cosines)]), 9)
    if not fused.shape[0]:
        return 0.0
    cols = np.arange(fused.shape[1])
    best = [int(np.lexsort((cols, -row))[0]) for row in fused]
    return float(np.mean([m.names[j] in g for j, g in zip(best, m.gold, strict=True)]))


def choose(train: Sequence[Matrices]) -> dict[str, float]:
    """Per shape, the weight of GRID with the best top-1 over the shape's training requests
    (each catalog counted by its requests; ties: the smaller weight)."""
    out: dict[str, float] = {}
    for shape in SHAPES:
        members = [m for m in train if m.shape == shape]
        sizes = np.array([len(m.gold) for m in members], dtype=np.float64)
        if not members or not sizes.sum():
            continue
        pooled = [float(sizes @ [top1(m, w) for m in members]) / sizes.sum() for w in GRID]
        out[shape] = GRID[int(np.argmax(np.round(pooled, 9)))]
    return out


# -- fusions tried (--variants): each chosen per held-out catalog like the shipped one --------


def _first_right(m: Matrices, fused: np.ndarray) -> float:
    if not fused.shape[0]:
        return 0.0
    best = np.argmax(np.round(fused, 9), axis=1)  # ties: the first, as the router
    return float(np.mean([m.names[j] in g for j, g in zip(best, m.gold, strict=True)]))


def _log_softmax(x: np.ndarray) -> np.ndarray:
    x = x - x.max(axis=1, keepdims=True)
    out: np.ndarray = x - np.log(np.exp(x).sum(axis=1, keepdims=True))
    return out


def _rr(x: np.ndarray, k: float) -> np.ndarray:
    order = np.argsort(-x, axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(x.shape[1])[None, :], axis=1)
    out: np.ndarray = 1.0 / (k + rank)
    return out


def _zs(raw: np.ndarray, k: float) -> np.ndarray:
    mean, sd = raw.mean(axis=1, keepdims=True), raw.std(axis=1, keepdims=True)
    out: np.ndarray = np.divide(raw - mean, k * sd, out=np.zeros_like(raw), where=sd > 1e-12)
    return np.clip(out, 0.0, 1.0)


def _linear(m: Matrices, cos: np.ndarray, w: float) -> np.ndarray:
    from agentroute._signal import fuse

    return fuse(m.lexical, [(w, cos)])


Variant = tuple[Callable[[Matrices, tuple[float, ...]], np.ndarray], list[tuple[float, ...]]]
WEIGHTS = [(w,) for w in GRID]
VARIANTS: dict[str, Variant] = {
    "prototype, linear (shipped)": (lambda m, p: _linear(m, m.cosines, p[0]), WEIGHTS),
    "best row, linear (before)": (lambda m, p: _linear(m, m.best_row, p[0]), WEIGHTS),
    "prototype, z-score / 3": (
        lambda m, p: (1 - p[0]) * m.lexical + p[0] * _zs(m.cosines, 3.0),
        WEIGHTS,
    ),
    "prototype, log-linear": (
        lambda m, p: (
            (1 - p[0]) * _log_softmax(m.lexical / p[1]) + p[0] * _log_softmax(m.cosines / p[2])
        ),
        [(w, a, b) for (w,) in WEIGHTS for a in (0.1, 0.2, 0.4) for b in (0.02, 0.05, 0.1)],
    ),
    "prototype, reciprocal rank": (
        lambda m, p: (
            (1 - p[0]) * _rr(m.lexical, p[1]) + p[0] * _rr(m.cosines, p[1]) + 1e-6 * m.lexical
        ),
        [(w, k) for (w,) in WEIGHTS for k in (1.0, 5.0, 20.0, 60.0)],
    ),
}


def variants(train: Sequence[Matrices], report: Sequence[Matrices]) -> None:
    """Print held-out top-1 over lexical for each fusion of :data:`VARIANTS`, its parameters
    chosen on the training catalogs of the reported one's shape sharing no source with it
    (pooled requests, as :func:`choose`)."""
    memo: dict[tuple[str, str, tuple[float, ...]], float] = {}

    def top(name: str, m: Matrices, p: tuple[float, ...]) -> float:
        key = (name, m.name, p)
        if key not in memo:
            memo[key] = _first_right(m, VARIANTS[name][0](m, p))
        return memo[key]

    bound = "shipped, its best weight on the catalog itself (a bound, not a result)"
    print("\n| catalog | lexical | " + " | ".join(VARIANTS) + f" | {bound} |")
    print("| --- | ---: |" + " ---: |" * (len(VARIANTS) + 1))
    for m in report:
        kept = [t for t in train if t.shape == m.shape and not (t.sources & m.sources)]
        sizes = np.array([len(t.gold) for t in kept], dtype=np.float64)
        cells = []
        for name, (_, grid) in VARIANTS.items():
            pooled = [float(sizes @ [top(name, t, p) for t in kept]) for p in grid]
            p = grid[int(np.argmax(np.round(pooled, 9)))]
            cells.append(f"{top(name, m, p) - _first_right(m, m.lexical):+.3f}")
        shipped = next(iter(VARIANTS))
        best = max(top(shipped, m, p) for p in VARIANTS[shipped][1])
        cells.append(f"{best - _first_right(m, m.lexical):+.3f}")
        print(f"| {m.name} | {_first_right(m, m.lexical):.3f} | " + " | ".join(cells) + " |")


# -- how the view enters confidence and scope (issue 23, item 3) ------------------------------

# The shift's inputs beside the lexical logit (SemanticView.inputs_for); scope reads no agree.
SHIFT_INPUTS = ("top", "z", "agree")
SCOPE_SHIFT_INPUTS = ("top", "z")
# _decide reads the lexical confidence as a logit of p clipped to [1e-6, 1 - 1e-6], after
# the calibration caps it at MAX_LOGIT.
_LOGIT_LOW = float(np.log(1e-6 / (1.0 - 1e-6)))


@dataclass(frozen=True)
class ViewRows:
    """One catalog routed with the view at one weight, as ``_decide._confidence`` reads it:
    per live request the calibration's inputs on the fused row (``fit_defaults.Rows``) and
    the view's ``(top, z, agree)``; the same for the out-of-scope fitting requests."""

    name: str
    sources: frozenset[str]
    agent_catalog: bool
    shape: tuple[float, float]
    labelled: Any  # fit_defaults.Rows, live rows only
    sem: np.ndarray
    oos: Any
    oos_sem: np.ndarray


def _routed(
    router: Any,
    texts: Sequence[str],
    gold: Sequence[frozenset[str]] | None,
    weights: Sequence[float],
) -> dict[float, tuple[Any, np.ndarray]]:
    """Per weight of the view, ``texts`` decided as ``_decide`` decides them up to the
    calibration: the fused row (``_decide._meaning``), the not-for stage, the batch's
    signals; only the live requests (known words, a leader scoring above 0)."""
    from dataclasses import astuple, replace

    from agentroute._decide import _batch, _ranked
    from agentroute._negative import apply_not_for
    from agentroute._score import analyze_query, score
    from agentroute._signal import fuse
    from fit_defaults import Rows

    state, index, cfg = router._state, router.index, router.config
    view = state.semantic
    queries = [analyze_query(index, t) for t in texts]
    lexical = score(index, queries, cfg.weights)
    cosines = view.score(list(texts))
    lexical_best = [int(_ranked(row, 1)[0]) for row in np.round(lexical.combined, 9)]
    known = np.array(
        [bool(t.strip()) and q.known_terms > 0 for t, q in zip(texts, queries, strict=True)]
    )
    out: dict[float, tuple[Any, np.ndarray]] = {}
    rows = np.arange(len(texts))
    for w in weights:
        fused = replace(lexical, combined=fuse(lexical.combined, [(w, cosines)]))
        fused = apply_not_for(index, queries, fused, cfg.not_for)
        b = _batch(state, queries, fused, 1, explain=False)
        live = known & (b.combined[rows, b.best] > 0.0) if len(texts) else known
        sig = np.array([astuple(s) for s in b.signals], dtype=np.float64)
        sem = np.array(
            [view.inputs_for(cosines[r], int(b.best[r]), lexical_best[r]) for r in rows],
            dtype=np.float64,
        ).reshape(len(texts), 3)
        right = np.array(
            [gold is not None and index.names[int(b.best[r])] in gold[r] for r in rows], dtype=bool
        )
        keep = np.flatnonzero(live)
        n = keep.size
        out[w] = (
            Rows(sig.reshape(len(texts), -1)[keep], right[keep], np.zeros(n), np.ones(n, bool)),
            sem[keep],
        )
    return out


def view_rows(
    c: Catalog, encoder: Any, oos: Sequence[str], weights: Sequence[float]
) -> dict[float, ViewRows]:
    """``c`` and the out-of-scope fitting requests routed with the view at each weight."""
    import agentroute
    from agentroute._calibrate import catalog_shape

    router = agentroute.Router.from_agents(c.records, encoder=encoder)
    shape = catalog_shape(router.index)
    inside = _routed(router, c.requests, tuple(c.router_gold()), weights)
    outside = _routed(router, oos, None, weights)
    return {
        w: ViewRows(c.name, c.sources, c.agent_catalog, shape, *inside[w], *outside[w])
        for w in weights
    }


def lexical_logits(v: ViewRows, cal: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The lexical calibration ``cal``'s confidence and scope logits of ``v``'s requests
    and out-of-scope requests, as ``_decide._confidence`` reads them."""
    from agentroute._calibrate import MAX_LOGIT
    from fit_defaults import capped, logit

    models = cal.large if cal.large_catalogs.applies(*v.shape) else cal.general

    def conf(rows: Any) -> np.ndarray:
        return np.clip(logit(rows, models.confidence), _LOGIT_LOW, MAX_LOGIT)

    def scope(rows: Any) -> np.ndarray:
        return np.clip(
            logit(capped(rows, models.scope_max_agents), models.scope), _LOGIT_LOW, -_LOGIT_LOW
        )

    return conf(v.labelled), scope(v.labelled), conf(v.oos), scope(v.oos)


def fit_shift(train: Sequence[ViewRows], cal: Any) -> dict[str, float]:
    """``SemanticConfig``'s ``confidence_*`` and ``scope_*``: two logistic regressions over
    the lexical calibration ``cal``'s logit and the view's inputs, on ``train`` (each
    catalog weighted equally, as ``fit_defaults`` fits the lexical models).

    * confidence: P(the fused leader is right) from ``logit(confidence)``, top, z, agree,
      on every training catalog's labelled requests;
    * scope: labelled (1) against out-of-scope requests (0) from ``logit(scope)``, top, z,
      on the agent catalogs only (each catalog's two sets weighted equally), as the
      lexical scope model."""
    from fit_defaults import _logistic

    xs, ys, ws, sx, sy, sw = [], [], [], [], [], []
    for v in train:
        lc, ls, _, os_ = lexical_logits(v, cal)
        n = lc.size
        if n:
            xs.append(np.column_stack([lc, v.sem]))
            ys.append(v.labelled.right)
            ws.append(np.full(n, 1.0 / n))
        m = os_.size
        if v.agent_catalog and n and m:
            sx += [np.column_stack([ls, v.sem[:, :2]]), np.column_stack([os_, v.oos_sem[:, :2]])]
            sy += [np.ones(n, bool), np.zeros(m, bool)]
            sw += [np.full(n, 1.0 / n), np.full(m, 1.0 / m)]
    c0, cw = _logistic(np.vstack(xs), np.concatenate(ys), np.concatenate(ws))
    s0, swt = _logistic(np.vstack(sx), np.concatenate(sy), np.concatenate(sw))
    out = {"confidence_intercept": c0, "confidence_scale": cw[0]}
    out |= {f"confidence_{k}": x for k, x in zip(SHIFT_INPUTS, cw[1:], strict=True)}
    out |= {"scope_intercept": s0, "scope_scale": swt[0]}
    out |= {f"scope_{k}": x for k, x in zip(SCOPE_SHIFT_INPUTS, swt[1:], strict=True)}
    return {k: round(float(x), 4) for k, x in out.items()}


def semantic_config(
    weights: dict[str, float],
    alone: dict[str, float] | None = None,
    shift: dict[str, float] | None = None,
) -> Any:
    from agentroute._semantic import SemanticConfig

    d = SemanticConfig()
    return SemanticConfig(
        weight_long=weights.get("long", d.weight_long),
        weight_examples=weights.get("examples", d.weight_examples),
        weight_short=weights.get("short", d.weight_short),
        **(alone or {}),
        **(shift or {}),
    )


class TrainingViews:
    """The training catalogs routed with the view, per weight, computed when first asked
    (a catalog's rows at every weight asked so far are kept; its index is not)."""

    def __init__(
        self,
        catalogs: Sequence[Catalog],
        train: Sequence[Matrices],
        encoder: Any,
        oos: Sequence[str],
    ) -> None:
        self._catalogs = {c.name: c for c in catalogs}
        self._shape = {m.name: m.shape for m in train}
        self._encoder = encoder
        self._oos = oos
        self._memo: dict[tuple[str, float], ViewRows] = {}

    def prepare(self, weights: Sequence[dict[str, float]]) -> None:
        """Route every catalog once at every weight its shape takes in ``weights``."""
        for name, c in self._catalogs.items():
            wanted = sorted({w[self._shape[name]] for w in weights if self._shape[name] in w})
            missing = [w for w in wanted if (name, w) not in self._memo]
            if missing:
                for w, v in view_rows(c, self._encoder, self._oos, missing).items():
                    self._memo[(name, w)] = v

    def rows(self, names: Sequence[str], weights: dict[str, float]) -> list[ViewRows]:
        self.prepare([weights])
        return [
            self._memo[(n, weights[self._shape[n]])] for n in names if self._shape[n] in weights
        ]


def loco_semantic(
    root: Path,
    shared: Path,
    encoder: Any,
    config_for: Callable[[Catalog], tuple[Any, set[str]]] | None = None,
) -> Callable[[Catalog], tuple[Any, dict[str, float]]]:
    """Per reported catalog, the ``SemanticConfig`` chosen without its sources. With
    ``config_for`` (``fit_defaults.loco_configs``: the lexical calibration fitted without
    the same sources), the view's shift of confidence and scope too (:func:`fit_shift`, on
    the training catalogs routed with the weights chosen for that catalog)."""
    from fit_defaults import fitting_oos, training_catalogs

    oos = fitting_oos(shared)
    catalogs = training_catalogs(root, shared)
    train = [matrices(c, encoder, oos) for c in catalogs]
    views = TrainingViews(catalogs, train, encoder, oos) if config_for is not None else None
    if views is not None:  # the weights of a single held-out source, routed in one pass each
        singles = {s for m in train for s in m.sources}
        views.prepare([choose([m for m in train if s not in m.sources]) for s in sorted(singles)])
    memo: dict[frozenset[str], tuple[Any, dict[str, float]]] = {}

    def semantic_for(c: Catalog) -> tuple[Any, dict[str, float]]:
        key = frozenset(c.sources)
        if key not in memo:
            kept = [m for m in train if not (m.sources & key)]
            weights = choose(kept)
            alone = fit_alone(kept)
            shift: dict[str, float] = {}
            if views is not None and config_for is not None:
                cal = config_for(c)[0].calibration
                shift = fit_shift(views.rows([m.name for m in kept], weights), cal)
            memo[key] = (semantic_config(weights, alone, shift), {**weights, **alone, **shift})
        return memo[key]

    return semantic_for


def main(argv: Sequence[str] | None = None) -> int:
    from fit_defaults import fitting_oos, training_catalogs

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    ap.add_argument("--encoder", required=True, metavar="PATH")
    ap.add_argument("--encoder-cache", type=Path, default=None, metavar="DIR")
    ap.add_argument("--exclude", nargs="*", default=[], metavar="SOURCE")
    ap.add_argument(
        "--variants",
        action="store_true",
        help="also report held-out top-1 of the fusions tried on the description-only "
        "catalogs and intent datasets (VARIANTS)",
    )
    ap.add_argument(
        "--shift",
        action="store_true",
        help="also fit the view's shift of confidence and scope (SemanticConfig.confidence_* "
        "and scope_*) at the shipped weights, on the shipped calibration",
    )
    args = ap.parse_args(argv)
    shared = args.shared.resolve()
    encoder = CachedEncoder(args.encoder, args.encoder_cache)
    oos = fitting_oos(shared)
    with tempfile.TemporaryDirectory(prefix="agentroute-sem-") as tmp:
        root = Path(tmp)
        strip_examples(shared, root, (*COLLECTIONS, *UNLABELLED))
        kept = [c for c in training_catalogs(root, shared) if not (c.sources & set(args.exclude))]
        train = [matrices(c, encoder, oos) for c in kept]
        shift: dict[str, float] | None = None
        if args.shift:
            from agentroute._calibrate import shipped
            from agentroute._semantic import SemanticConfig

            d = SemanticConfig()
            weights = {
                "long": d.weight_long,
                "examples": d.weight_examples,
                "short": d.weight_short,
            }
            views = TrainingViews(kept, train, encoder, oos)
            shift = fit_shift(views.rows([m.name for m in train], weights), shipped())
        report = []
        if args.variants:
            report = [
                matrices(c, encoder)
                for c in [
                    *(description_only(load_collection(root, shared, s)) for s in COLLECTIONS),
                    *(intent_catalog(shared, d, limit=600) for d in INTENTS),
                ]
            ]
    print("| catalog | shape | " + " | ".join(f"w={w}" for w in GRID) + " |")
    print("| --- | --- |" + " ---: |" * len(GRID))
    for m in train:
        cells = " | ".join(f"{top1(m, w):.3f}" for w in GRID)
        print(f"| {m.name} | {m.shape} | {cells} |")
    print(f"\nchosen: {choose(train)}")
    print(f"view alone (requests sharing no catalog word): {fit_alone(train)}")
    if shift is not None:
        print(f"shift of confidence and scope (shipped weights and calibration): {shift}")
    if report:
        variants(train, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
