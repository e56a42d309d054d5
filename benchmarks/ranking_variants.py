"""Ranking changes under the generalisation protocol: chosen on dev catalogs, judged on held-out.

    python benchmarks/ranking_variants.py [--quick] [--json PATH] [--shared PATH]

Each variant changes one thing about how agents are ranked for a request; the figure is
top-1 (the best-scoring agent's declared name is a right one), as ``benchmarks/accuracy.py``
counts it. Variants are either *index* variants (a constant of ``agentroute._index``
changed for the build, then restored) or *fusion* variants (the library's own per-agent
arrays -- ``score`` then the not-for stage, exactly what the router ranks -- combined
differently):

* ``description=1``: BM25F description field weight 1 instead of 2;
* ``description=1,b=0.5``: the same and BM25 length normalisation b = 0.5 instead of 0.75;
* ``+coverage``: the fused score plus 0.5 x the IDF share of the request's terms the agent's
  text contains (``Scores.coverage``; the weight Weights(coverage=1.5) would give);
* ``prf k=10``: pseudo-relevance feedback (neighbour smoothing): plus 0.3 x the cosine of each
  agent's TF-IDF word vector with the mean vector of the 10 best-scoring agents (identical
  copies counted once), divided by its best value;
* ``prf k=sqrt(n)``: the same with k the square root of the catalog's size;
* ``prf head``: ``prf k=10`` on the name + description + hints vectors (no body);
* ``hubness``: minus 0.3 x the agent's mean fused score when every other agent's description
  is routed as a request (identical copies left out): agents that score high for everything
  are pushed down.

Dev catalogs (the constants above were chosen on these): wshobson and dl-ezo, their
description-only copies, 12 seeded subsets of dl-ezo, and the intent datasets with VAL/TRAIN
requests. Held-out catalogs are the protocol's reported ones (``_protocol.protocol_catalogs``).
Each row gives top-1 before -> after, the requests the variant fixed (+) and broke (-), and
a paired bootstrap 95 % interval of the change (1,000 resamples of the requests, seed 0);
a held-out interval wholly below 0 is flagged ``DROP``. Deterministic.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _catalogs import DEFAULT_SHARED
from _protocol import (
    COLLECTIONS,
    INTENTS,
    SHORT,
    Catalog,
    description_only,
    intent_catalog,
    load_collection,
    small_subsets,
    strip_examples,
    union,
)
from _report import write_json

PRF_BETA = 0.3
PRF_K = 10
COVERAGE_BONUS = 0.5
HUB_PENALTY = 0.3
BOOTSTRAP = 1_000

Arrays = dict[str, Any]
Fusion = Callable[[Arrays], np.ndarray]


def _relative(raw: np.ndarray) -> np.ndarray:
    top = raw.max(axis=1, keepdims=True)
    out: np.ndarray = np.divide(raw, top, out=np.zeros_like(raw), where=top > 0)
    return out


def _top_groups(row: np.ndarray, copy_of: np.ndarray, k: int) -> list[int]:
    """The ``k`` best agents of ``row``, each group of identical copies once."""
    seen: set[int] = set()
    out: list[int] = []
    for a in np.argsort(-row, kind="stable").tolist():
        if int(copy_of[a]) in seen:
            continue
        seen.add(int(copy_of[a]))
        out.append(a)
        if len(out) == k:
            break
    return out


def prf(rows_of: str, k_of: Callable[[int], int]) -> Fusion:
    def fuse(x: Arrays) -> np.ndarray:
        base: np.ndarray = x["combined"]
        rows = x[rows_of]
        k = k_of(base.shape[1])
        near = np.zeros_like(base)
        for r, row in enumerate(base):
            top = _top_groups(row, x["copy_of"], k)
            centroid = np.asarray(rows[top].mean(axis=0)).ravel()
            near[r] = rows @ centroid
        return base + PRF_BETA * _relative(near)

    return fuse


FUSIONS: dict[str, Fusion] = {
    "+coverage": lambda x: x["combined"] + COVERAGE_BONUS * x["coverage"],
    "prf k=10": prf("word", lambda n: PRF_K),
    "prf k=sqrt(n)": prf("word", lambda n: round(math.sqrt(n))),
    "prf head": prf("head", lambda n: PRF_K),
    "hubness": lambda x: x["combined"] - HUB_PENALTY * x["hub"],
}
# IndexConfig fields changed from the defaults.
INDEX_VARIANTS: dict[str, dict[str, float]] = {
    "description=1": {"description_weight": 1.0},
    "description=1,b=0.5": {"description_weight": 1.0, "bm25_b": 0.5},
}


def _arrays(c: Catalog, changes: dict[str, float] | None = None) -> tuple[Arrays, list[str]]:
    """What the router ranks (score, then the not-for stage), plus rows for the variants;
    ``changes``: IndexConfig fields to build the index with."""
    from agentroute import IndexConfig, NotForConfig
    from agentroute._build import build_index
    from agentroute._negative import apply_not_for
    from agentroute._score import Weights, analyze_query, score

    index = build_index(list(c.records), config=IndexConfig(**(changes or {})))
    queries = [analyze_query(index, t) for t in c.requests]
    scores = score(index, queries, Weights())
    s = apply_not_for(index, queries, scores, NotForConfig())
    word = index.word_t.to_scipy().T.tocsr()
    copy_of = np.asarray(index.copy_of)
    by_name = {a.name: a for a in c.records}
    pseudo = [analyze_query(index, by_name[n].description or n) for n in index.names]
    cross = score(index, pseudo, Weights()).combined
    cross[copy_of[:, None] == copy_of[None, :]] = np.nan
    hub = np.nan_to_num(np.nanmean(cross, axis=0)) if len(pseudo) > 1 else np.zeros(len(pseudo))
    arrays = {
        "combined": s.combined,
        "coverage": s.coverage,
        "word": word,
        "head": index.head_rows.to_scipy(),
        "copy_of": copy_of,
        "hub": hub,
    }
    return arrays, [c.declared[n] for n in index.names]


def _hits(scores: np.ndarray, names: Sequence[str], c: Catalog) -> np.ndarray:
    best = np.argmax(scores, axis=1)
    return np.array([names[int(a)] in g for a, g in zip(best, c.gold, strict=True)])


def measure(members: Sequence[Catalog]) -> dict[str, np.ndarray]:
    """Per variant, whether each request's top-1 is right (requests of ``members`` pooled)."""
    out: dict[str, list[np.ndarray]] = {}
    for c in members:
        arrays, names = _arrays(c)
        out.setdefault("base", []).append(_hits(arrays["combined"], names, c))
        for key, fuse in FUSIONS.items():
            out.setdefault(key, []).append(_hits(fuse(arrays), names, c))
        for key, changes in INDEX_VARIANTS.items():
            changed, names2 = _arrays(c, changes)
            out.setdefault(key, []).append(_hits(changed["combined"], names2, c))
    return {k: np.concatenate(v) for k, v in out.items()}


def compare(base: np.ndarray, after: np.ndarray) -> dict[str, Any]:
    diff = after.astype(np.float64) - base.astype(np.float64)
    rng = np.random.default_rng(0)
    means = [diff[rng.integers(0, diff.size, diff.size)].mean() for _ in range(BOOTSTRAP)]
    lo, hi = np.percentile(means, [2.5, 97.5])
    return {
        "before": float(base.mean()),
        "after": float(after.mean()),
        "fixed": int((~base & after).sum()),
        "broken": int((base & ~after).sum()),
        "ci95": [round(float(lo), 4), round(float(hi), 4)],
    }


def catalogs(root: Path, shared: Path, quick: bool) -> list[tuple[str, str, list[Catalog]]]:
    """(role, name, member catalogs) for every dev and held-out row."""
    base = {SHORT[s]: load_collection(root, shared, s) for s in COLLECTIONS}
    limit = 600 if quick else 0
    count = 6 if quick else 12
    dev: list[tuple[str, list[Catalog]]] = [
        ("wshobson", [base["wshobson"]]),
        ("dl-ezo", [base["dl-ezo"]]),
        ("wshobson (desc. only)", [description_only(base["wshobson"])]),
        ("dl-ezo (desc. only)", [description_only(base["dl-ezo"])]),
        ("dl-ezo small", small_subsets(base["dl-ezo"], count=count)),
        *(
            (f"{d} (VAL/TRAIN)", [intent_catalog(shared, d, split="fit", limit=limit)])
            for d in INTENTS
        ),
    ]
    held: list[tuple[str, list[Catalog]]] = [
        *((k, [base[k]]) for k in ("davila7", "voltagent", "vijaythecoder")),
        *(
            (f"{k} (desc. only)", [description_only(base[k])])
            for k in ("davila7", "voltagent", "vijaythecoder")
        ),
        ("all collections", [union("all collections", list(base.values()))]),
        (
            "wshobson + voltagent",
            [union("wshobson + voltagent", [base["wshobson"], base["voltagent"]])],
        ),
        ("wshobson small", small_subsets(base["wshobson"], count=count)),
        ("davila7 small", small_subsets(base["davila7"], count=count)),
        *((d, [intent_catalog(shared, d, limit=limit)]) for d in INTENTS),
    ]
    return [("dev", n, m) for n, m in dev] + [("held-out", n, m) for n, m in held]


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    ap.add_argument(
        "--quick",
        action="store_true",
        help="6 subsets per source, at most 600 requests per intent set",
    )
    args = ap.parse_args(argv)
    shared = args.shared.resolve()
    t0 = time.perf_counter()
    results: dict[str, Any] = {"rows": {}}
    with tempfile.TemporaryDirectory(prefix="agentroute-rank-") as tmp:
        root = Path(tmp)
        strip_examples(shared, root, COLLECTIONS)
        for role, name, members in catalogs(root, shared, args.quick):
            hits = measure(members)
            row = {k: compare(hits["base"], v) for k, v in hits.items() if k != "base"}
            results["rows"][name] = {"role": role, "requests": int(hits["base"].size), **row}
            print(f"{role:8s} {name:26s} n={hits['base'].size:5d} top-1 {hits['base'].mean():.3f}")
            for key, r in row.items():
                flag = "  DROP" if role == "held-out" and r["ci95"][1] < 0 else ""
                print(
                    f"    {key:22s} {r['after']:.3f} ({r['after'] - r['before']:+.3f}; "
                    f"+{r['fixed']}/-{r['broken']}; 95% [{r['ci95'][0]:+.3f}, {r['ci95'][1]:+.3f}])"
                    f"{flag}",
                    flush=True,
                )
    results["parameters"] = {
        "command": "python benchmarks/ranking_variants.py "
        + " ".join(sys.argv[1:] if argv is None else argv),
        "prf_beta": PRF_BETA,
        "prf_k": PRF_K,
        "coverage_bonus": COVERAGE_BONUS,
        "hub_penalty": HUB_PENALTY,
        "bootstrap": BOOTSTRAP,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    if args.json is not None:
        write_json(args.json, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
