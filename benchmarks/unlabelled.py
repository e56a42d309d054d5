"""Hand-written requests for the collections that ship no labels (issue 3).

    python benchmarks/unlabelled.py [--shared PATH]

``benchmarks/data/unlabelled_requests.jsonl`` holds plausible user requests written
independently against ring, 0xfurai, lst97 and antigravity-kit, each with the agent judged
right (``also_correct`` where two agents fit equally). Each collection is loaded whole (it has
no examples to strip) and every request routed; the script prints the share routed (not
``no_match``), top-1 of the ranking and each miss. None of these requests was used to fit
anything.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from _catalogs import DEFAULT_SHARED

HERE = Path(__file__).resolve().parent


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    args = ap.parse_args(argv)
    import agentroute

    rows = [
        json.loads(line)
        for line in (HERE / "data" / "unlabelled_requests.jsonl").read_text().splitlines()
        if line.strip()
    ]
    print(
        "| collection | agents | requests | routed | top-1 | top-1 and routed | mean confidence |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    misses: list[str] = []
    for slug in sorted({r["collection"] for r in rows}):
        mine = [r for r in rows if r["collection"] == slug]
        router = agentroute.Router.from_path(args.shared / "corpora" / slug)
        decisions = router.route_many([r["request"] for r in mine])
        routed = top1 = both = 0
        conf = 0.0
        for r, d in zip(mine, decisions, strict=True):
            gold = {r["agent"], *r.get("also_correct", ())}
            ok = d.candidates[0].agent.split("@")[0] in gold
            routed += d.status != "no_match"
            top1 += ok
            both += ok and d.status != "no_match"
            conf += d.confidence
            if not ok or d.status == "no_match":
                misses.append(
                    f"- {slug}: {r['request']!r} -> {d.candidates[0].agent} ({d.status}, "
                    f"conf {d.confidence:.2f}); judged {r['agent']}"
                )
        n = len(mine)
        print(
            f"| {slug} | {len(router.agents)} | {n} | {routed / n:.2f} | {top1 / n:.2f} | "
            f"{both / n:.2f} | {conf / n:.2f} |"
        )
    print("\nMisses and abstentions:\n" + "\n".join(misses))
    return 0


if __name__ == "__main__":
    sys.exit(main())
