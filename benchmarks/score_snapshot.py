"""Every score and decision agentroute gives, written to a file, so two versions can be compared.

Performance work must not move a single score. This routes every labelled request of every
collection in ``../shared/corpora`` (plus CLINC150 out-of-scope utterances and a few odd
requests) and stores each request's per-agent scores (combined, BM25F, word, char, coverage)
and its decision (agent, status, confidence, reason, candidates, top terms)::

    python benchmarks/score_snapshot.py write /tmp/before.npz     # on the old code
    python benchmarks/score_snapshot.py write /tmp/after.npz      # on the new code
    python benchmarks/score_snapshot.py compare /tmp/before.npz /tmp/after.npz
    python benchmarks/score_snapshot.py write /tmp/cached.npz --cache /tmp/c   # through the cache

``compare`` prints the largest absolute difference of each score array and how many decisions
differ; it exits 1 when a score moves by more than ``--tolerance`` (1e-9) or any decision
differs. A decision is the same when its agent, status, alternatives (the decision's own, and
the candidates' names in order) and team are, and its confidence, group confidence and candidate
scores are within ``--tolerance``: that is
the promise a batch keeps (``route_many`` computes each view for the whole batch at once, not
the same bits). The wording (reason, top terms, matched triggers) is compared too and reported,
but only ``--exact`` fails on it. ``compare`` also checks, within the second file, that the
requests routed one at a time (``route``) got the decisions ``route_many`` gave them.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
ODD = (
    "",
    "help",
    "zxqv blorf wuggle",
    "kubernets deploymnet keeps crashlooping after the helm upgrade",
    "Écris une API REST en Go avec authentification JWT et des tests",
    "def f(x): return x**2 if x > 0 else -x  # is it idiomatic python?",
    "ＫＵＢＥＲＮＥＴＥＳ ﬁx the ﬂaky test — “quoted” ‘words’",
    "a" * 5000,
    "optimise the slow PostgreSQL query " * 200,
)
FIELDS = ("combined", "bm25", "word", "char", "coverage")


# Requests per collection also routed one at a time (``route`` reads other kernels).
SINGLE = 150


def _decision(d: Any) -> dict[str, object]:
    return {
        "agent": d.agent,
        "status": d.status,
        "confidence": d.confidence,
        "reason": d.reason,
        "candidates": [[c.agent, c.score] for c in d.candidates],
        "matched": list(d.matched_triggers),
        "terms": list(d.top_terms),
        "team": [[m.agent, m.part] for m in getattr(d, "team", ())],
        "alternatives": list(getattr(d, "alternatives", ())),
        "group_confidence": getattr(d, "group_confidence", None),
    }


def _route_many(router: Any, texts: list[str]) -> list[Any]:
    """Ten candidates each, on this version (``limit=``) or on 0.1 (``top=``) alike."""
    try:
        return list(router.route_many(texts, limit=10))
    except TypeError:
        return list(router.route_many(texts, top=10))


def _route_singly(router: Any, texts: list[str]) -> list[Any]:
    try:
        return [router.route(t, limit=10) for t in texts]
    except TypeError:
        return [router.route(t, top=10) for t in texts]


def _requests(shared: Path, slug: str, oos: Sequence[str]) -> list[str]:
    path = shared / "corpora" / "labels" / f"{slug}.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [r["request"] for r in rows] + list(oos) + list(ODD)


def _through_cache(catalog: Path, cache: Path) -> Any:
    """The router the hook gets: the catalog's cache written, then read back lazily (each
    block checked when a route reads it)."""
    from agentroute import Router, _pipeline
    from agentroute._router import from_built

    Router.from_path(catalog, cache=cache)
    found = _pipeline.find(catalog)
    slot = _pipeline.cache_slot(found, cache)
    return from_built(_pipeline.read_cached(found, slot, lazy=True))


def write(shared: Path, out: Path, limit: int, cache: Path | None = None) -> None:
    from agentroute import Router
    from agentroute._score import analyze_query, score

    clinc = shared / "datasets" / "clinc150" / "test.jsonl"
    rows = (json.loads(line) for line in clinc.read_text(encoding="utf-8").splitlines() if line)
    oos = [r["text"] for r in rows if r["label"] == "oos"][:200]
    arrays: dict[str, np.ndarray] = {}
    decisions: dict[str, list[dict[str, object]]] = {}
    for labels in sorted((shared / "corpora" / "labels").glob("*.jsonl")):
        slug = labels.stem
        catalog = shared / "corpora" / slug
        router = Router.from_path(catalog) if cache is None else _through_cache(catalog, cache)
        texts = _requests(shared, slug, oos)[:limit]
        s = score(
            router.index, [analyze_query(router.index, t) for t in texts], router.config.weights
        )
        for f in FIELDS:
            arrays[f"{slug}/{f}"] = np.asarray(getattr(s, f), dtype=np.float64)
        # The batch path (SciPy products) for every request, and the one-request path
        # (NumPy kernels) for the first SINGLE: both must stay as they were.
        decisions[slug] = [_decision(d) for d in _route_many(router, texts)]
        decisions[f"{slug}/single"] = [_decision(d) for d in _route_singly(router, texts[:SINGLE])]
        print(f"{slug}: {len(router.agents)} agents, {len(texts)} requests", flush=True)
    arrays["decisions"] = np.frombuffer(json.dumps(decisions).encode(), dtype=np.uint8)
    np.savez_compressed(out, **arrays)


_WORDING = ("reason", "terms", "matched")


def _close(p: float | None, q: float | None, tolerance: float) -> bool:
    return p == q if p is None or q is None else abs(p - q) <= tolerance


def _same(x: dict[str, Any], y: dict[str, Any], tolerance: float) -> bool:
    """Same agent, status, alternatives (the decision's, and the candidates' names in
    order) and team; confidence, group confidence and scores within ``tolerance``. Files
    written before a field existed are compared on the fields both hold."""

    def both(key: str) -> bool:
        return key in x and key in y

    return (
        x["agent"] == y["agent"]
        and x["status"] == y["status"]
        and (not both("team") or x["team"] == y["team"])
        and (not both("alternatives") or x["alternatives"] == y["alternatives"])
        and (
            not both("group_confidence")
            or _close(x["group_confidence"], y["group_confidence"], tolerance)
        )
        and abs(x["confidence"] - y["confidence"]) <= tolerance
        and [c[0] for c in x["candidates"]] == [c[0] for c in y["candidates"]]
        and all(
            abs(p[1] - q[1]) <= tolerance
            for p, q in zip(x["candidates"], y["candidates"], strict=True)
        )
    )


def _worded_alike(x: dict[str, Any], y: dict[str, Any]) -> bool:
    return all(x.get(k) == y.get(k) for k in _WORDING)


def compare(a_path: Path, b_path: Path, tolerance: float, exact: bool = False) -> int:
    a, b = np.load(a_path), np.load(b_path)
    worst = 0.0
    for key in sorted(k for k in a.files if k != "decisions"):
        x, y = a[key], b[key]
        if x.shape != y.shape:
            print(f"{key}: shape {x.shape} vs {y.shape}")
            return 1
        diff = float(np.max(np.abs(x - y))) if x.size else 0.0
        worst = max(worst, diff)
        print(f"{key:60s} max |diff| {diff:.3g}")
    da = json.loads(a["decisions"].tobytes())
    db = json.loads(b["decisions"].tobytes())
    n = changed = worded = 0
    for slug in sorted(da):
        for x, y in zip(da[slug], db[slug], strict=True):
            n += 1
            if not _same(x, y, tolerance):
                changed += 1
                if changed <= 5:
                    print(f"decision differs ({slug}):\n  {x}\n  {y}")
            elif not _worded_alike(x, y):
                worded += 1
                if worded <= 3:
                    print(f"same decision, other wording ({slug}):\n  {x}\n  {y}")
    # Within the second file: route() one at a time against route_many's batch.
    singly = differ = 0
    for slug in sorted(k for k in db if not k.endswith("/single")):
        for x, y in zip(db.get(f"{slug}/single", []), db[slug], strict=False):
            singly += 1
            if not _same(x, y, tolerance):
                differ += 1
                if differ <= 5:
                    print(f"route and route_many differ ({slug}):\n  {x}\n  {y}")
    print(
        f"largest score difference {worst:.3g}; decisions differing: {changed} of {n} "
        f"(tolerance {tolerance:g}); same decision, other wording: {worded}; "
        f"route vs route_many in {b_path.name}: {differ} of {singly} differ"
    )
    ok = worst <= tolerance and changed == 0 and differ == 0
    return 0 if ok and (worded == 0 or not exact) else 1


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("write")
    w.add_argument("out", type=Path)
    w.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    w.add_argument("--limit", type=int, default=100_000, help="requests per collection")
    w.add_argument(
        "--cache",
        type=Path,
        help="route with each catalog's index cache written here and read back (lazily, as "
        "the hook reads it): compare with a file written without it",
    )
    c = sub.add_parser("compare")
    c.add_argument("a", type=Path)
    c.add_argument("b", type=Path)
    c.add_argument("--tolerance", type=float, default=1e-9)
    c.add_argument(
        "--exact", action="store_true", help="fail on any change of wording too (reason, terms)"
    )
    args = ap.parse_args(argv)
    if args.cmd == "write":
        write(args.shared, args.out, args.limit, args.cache)
        return 0
    return compare(args.a, args.b, args.tolerance, args.exact)


if __name__ == "__main__":
    sys.exit(main())
