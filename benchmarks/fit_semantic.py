"""Choose how much the semantic view counts (``SemanticConfig`` weights), per catalog shape.

    python benchmarks/fit_semantic.py --encoder PATH [--encoder-cache DIR] [--exclude SOURCE ...]

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

from _protocol import COLLECTIONS, Catalog, strip_examples  # noqa: E402

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


def matrices(c: Catalog, encoder: Any) -> Matrices:
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
    return Matrices(
        c.name,
        c.sources,
        shape_of(router),
        sc.combined,
        cosines,
        index.names,
        tuple(c.router_gold()),
    )


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


def semantic_config(weights: dict[str, float]) -> Any:
    from agentroute._semantic import SemanticConfig

    d = SemanticConfig()
    return SemanticConfig(
        weight_long=weights.get("long", d.weight_long),
        weight_examples=weights.get("examples", d.weight_examples),
        weight_short=weights.get("short", d.weight_short),
    )


def loco_semantic(
    root: Path, shared: Path, encoder: Any
) -> Callable[[Catalog], tuple[Any, dict[str, float]]]:
    """Per reported catalog, the ``SemanticConfig`` chosen without its sources."""
    from fit_defaults import training_catalogs

    train = [matrices(c, encoder) for c in training_catalogs(root, shared)]
    memo: dict[frozenset[str], tuple[Any, dict[str, float]]] = {}

    def semantic_for(c: Catalog) -> tuple[Any, dict[str, float]]:
        key = frozenset(c.sources)
        if key not in memo:
            weights = choose([m for m in train if not (m.sources & key)])
            memo[key] = (semantic_config(weights), weights)
        return memo[key]

    return semantic_for


def main(argv: Sequence[str] | None = None) -> int:
    from fit_defaults import training_catalogs

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    ap.add_argument("--encoder", required=True, metavar="PATH")
    ap.add_argument("--encoder-cache", type=Path, default=None, metavar="DIR")
    ap.add_argument("--exclude", nargs="*", default=[], metavar="SOURCE")
    args = ap.parse_args(argv)
    shared = args.shared.resolve()
    encoder = CachedEncoder(args.encoder, args.encoder_cache)
    with tempfile.TemporaryDirectory(prefix="agentroute-sem-") as tmp:
        root = Path(tmp)
        strip_examples(shared, root, COLLECTIONS)
        train = [
            matrices(c, encoder)
            for c in training_catalogs(root, shared)
            if not (c.sources & set(args.exclude))
        ]
    print("| catalog | shape | " + " | ".join(f"w={w}" for w in GRID) + " |")
    print("| --- | --- |" + " ---: |" * len(GRID))
    for m in train:
        cells = " | ".join(f"{top1(m, w):.3f}" for w in GRID)
        print(f"| {m.name} | {m.shape} | {cells} |")
    print(f"\nchosen: {choose(train)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
