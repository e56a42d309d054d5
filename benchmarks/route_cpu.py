"""CPU time of ``route`` and ``route_many`` per request on real collections: two versions compared.

``speed.py`` times wall-clock latency, which a loaded machine (other jobs on two cores) moves by
2-4x between runs of the same code. A refactor that must not slow routing is better judged by
the CPU time the routing process itself spends (``time.process_time``), the best of several
passes, with the two versions run alternately::

    PYTHONPATH=/path/to/old/src python benchmarks/route_cpu.py      # the old code
    PYTHONPATH=src python benchmarks/route_cpu.py                   # the new code
    (repeat both, alternating; compare the ratios)

It routes the first ``--requests`` labelled requests of each collection (full agent files,
examples included: what a user's install holds) one at a time and as one batch.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
COLLECTIONS = ("wshobson-agents", "davila7-claude-code-templates")


def measure(shared: Path, slug: str, requests: int, passes: int) -> dict[str, float]:
    from agentroute import Router

    labels = shared / "corpora" / "labels" / f"{slug}.jsonl"
    lines = labels.read_text(encoding="utf-8").splitlines()
    texts = [json.loads(line)["request"] for line in lines if line.strip()][:requests]
    router = Router.from_path(shared / "corpora" / slug)
    router.route_many(texts[:20])  # warm: SciPy loaded, tables filled
    for t in texts[:20]:
        router.route(t)
    single = many = float("inf")
    for _ in range(passes):
        start = time.process_time()
        for t in texts:
            router.route(t)
        single = min(single, time.process_time() - start)
        start = time.process_time()
        router.route_many(texts)
        many = min(many, time.process_time() - start)
    return {"route_ms": 1e3 * single / len(texts), "route_many_ms": 1e3 * many / len(texts)}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--passes", type=int, default=5)
    parser.add_argument("--collections", default=",".join(COLLECTIONS))
    args = parser.parse_args(argv)
    import agentroute

    print(
        f"agentroute from {Path(agentroute.__file__).parent}; {args.requests} requests, "
        f"best of {args.passes} passes, CPU ms per request"
    )
    for slug in args.collections.split(","):
        got = measure(args.shared, slug, args.requests, args.passes)
        print(f"  {slug:40s} route {got['route_ms']:.3f}  route_many {got['route_many_ms']:.3f}")


if __name__ == "__main__":
    main()
