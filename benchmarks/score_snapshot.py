"""Every score and decision agentroute gives, written to a file, so two versions can be compared.

Performance work must not move a single score. This routes every labelled request of every
collection in ``../shared/corpora`` (plus CLINC150 out-of-scope utterances and a few odd
requests) and stores each request's per-agent scores (combined, BM25F, word, char, coverage)
and its decision (agent, status, confidence, reason, candidates, top terms)::

    python benchmarks/score_snapshot.py write /tmp/before.npz     # on the old code
    python benchmarks/score_snapshot.py write /tmp/after.npz      # on the new code
    python benchmarks/score_snapshot.py compare /tmp/before.npz /tmp/after.npz

``compare`` prints the largest absolute difference of each score array and how many decisions
differ in any field; it exits 1 when a score moves by more than ``--tolerance`` (1e-9) or any
decision differs.
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


def _route_many(router: Any, texts: list[str]) -> list[Any]:
    """Ten candidates each, on this version (``limit=``) or on 0.1 (``top=``) alike."""
    try:
        return list(router.route_many(texts, limit=10))
    except TypeError:
        return list(router.route_many(texts, top=10))


def _requests(shared: Path, slug: str, oos: Sequence[str]) -> list[str]:
    path = shared / "corpora" / "labels" / f"{slug}.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [r["request"] for r in rows] + list(oos) + list(ODD)


def write(shared: Path, out: Path, limit: int) -> None:
    from agentroute import Router
    from agentroute._score import analyze_query, score

    clinc = shared / "datasets" / "clinc150" / "test.jsonl"
    rows = (json.loads(line) for line in clinc.read_text(encoding="utf-8").splitlines() if line)
    oos = [r["text"] for r in rows if r["label"] == "oos"][:200]
    arrays: dict[str, np.ndarray] = {}
    decisions: dict[str, list[dict[str, object]]] = {}
    for labels in sorted((shared / "corpora" / "labels").glob("*.jsonl")):
        slug = labels.stem
        router = Router.from_path(shared / "corpora" / slug)
        texts = _requests(shared, slug, oos)[:limit]
        s = score(
            router.index, [analyze_query(router.index, t) for t in texts], router.config.weights
        )
        for f in FIELDS:
            arrays[f"{slug}/{f}"] = np.asarray(getattr(s, f), dtype=np.float64)
        decisions[slug] = [
            {
                "agent": d.agent,
                "status": d.status,
                "confidence": d.confidence,
                "reason": d.reason,
                "candidates": [[c.agent, c.score] for c in d.candidates],
                "matched": list(d.matched_triggers),
                "terms": list(d.top_terms),
            }
            for d in _route_many(router, texts)
        ]
        print(f"{slug}: {len(router.agents)} agents, {len(texts)} requests", flush=True)
    arrays["decisions"] = np.frombuffer(json.dumps(decisions).encode(), dtype=np.uint8)
    np.savez_compressed(out, **arrays)


def compare(a_path: Path, b_path: Path, tolerance: float) -> int:
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
    n = changed = 0
    for slug in sorted(da):
        for x, y in zip(da[slug], db[slug], strict=True):
            n += 1
            # Confidence and candidate scores are floats: equal to 1e-9, every other field exact.
            same = (
                {k: v for k, v in x.items() if k not in ("confidence", "candidates")}
                == {k: v for k, v in y.items() if k not in ("confidence", "candidates")}
                and abs(x["confidence"] - y["confidence"]) <= tolerance
                and [c[0] for c in x["candidates"]] == [c[0] for c in y["candidates"]]
                and all(
                    abs(p[1] - q[1]) <= tolerance
                    for p, q in zip(x["candidates"], y["candidates"], strict=True)
                )
            )
            if not same:
                changed += 1
                if changed <= 5:
                    print(f"decision differs ({slug}):\n  {x}\n  {y}")
    print(f"largest score difference {worst:.3g}; decisions differing: {changed} of {n}")
    return 0 if worst <= tolerance and changed == 0 else 1


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("write")
    w.add_argument("out", type=Path)
    w.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    w.add_argument("--limit", type=int, default=100_000, help="requests per collection")
    c = sub.add_parser("compare")
    c.add_argument("a", type=Path)
    c.add_argument("b", type=Path)
    c.add_argument("--tolerance", type=float, default=1e-9)
    args = ap.parse_args(argv)
    if args.cmd == "write":
        write(args.shared, args.out, args.limit)
        return 0
    return compare(args.a, args.b, args.tolerance)


if __name__ == "__main__":
    sys.exit(main())
