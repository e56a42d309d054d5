"""Would shared triggers find near-equivalents that the catalog's other signs miss? (issue 21)

    python benchmarks/crowded_triggers.py [--shared PATH] [--max-holders N] [--show N]

Issue 21 lists "shared triggers" among the signs that two agents do the same job. This loads the
issue's install (wshobson's, voltagent's and 0xfurai's agents as published, one router over the
three folders), takes every agent's triggers (``AgentSpec.triggers``: the "Triggers on" lists, the
description's "use for X, Y" phrases and the name's words), and counts the pairs of agents from
different collections that share triggers held by at most ``--max-holders`` agents (a rarer
trigger says more), split by how many they share, and how many of those pairs
``Router.similar`` already names. The pairs it does not name are printed (``--show`` of each
kind, in a fixed shuffled order) to be judged by hand. Nothing is fitted.
"""

from __future__ import annotations

import argparse
import itertools
import random
from collections import Counter, defaultdict
from pathlib import Path

from agentroute import Router

REPO = Path(__file__).resolve().parent.parent
INSTALL = (
    "wshobson-agents",
    "voltagent-awesome-claude-code-subagents",
    "0xfurai-claude-code-subagents",
)


def collection_of(path: str | None) -> str:
    """The collection (one of ``INSTALL``) an agent file belongs to."""
    return next((slug for slug in INSTALL if path and slug in Path(path).parts), "")


def shared_trigger_pairs(router: Router, max_holders: int) -> Counter[tuple[str, str]]:
    """Per pair of agents from different collections, how many rare triggers they share."""
    folder = {a.name: collection_of(a.path) for a in router.agents}
    holders: defaultdict[str, set[str]] = defaultdict(set)
    for agent in router.agents:
        for t in agent.triggers:
            holders[t.lower()].add(agent.name)
    shared: Counter[tuple[str, str]] = Counter()
    for names in holders.values():
        if len(names) <= max_holders:
            for a, b in itertools.combinations(sorted(names), 2):
                if folder[a] != folder[b]:
                    shared[(a, b)] += 1
    return shared


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    parser.add_argument("--max-holders", type=int, default=8)
    parser.add_argument("--show", type=int, default=30)
    args = parser.parse_args()
    root = args.shared / "corpora"
    router = Router.from_path([str(root / slug) for slug in INSTALL])
    shared = shared_trigger_pairs(router, args.max_holders)
    similar = {a.name: set(router.similar(a.name)) for a in router.agents}
    triggers = {a.name: {t.lower() for t in a.triggers} for a in router.agents}
    print(f"{len(router.agents)} agents; pairs from different collections sharing rare triggers:")
    for label, low, high in (("one", 1, 1), ("two or more", 2, 1 << 30)):
        pairs = sorted(p for p, n in shared.items() if low <= n <= high)
        new = [p for p in pairs if p[1] not in similar[p[0]]]
        print(f"  sharing {label}: {len(pairs)}, already near-equivalents {len(pairs) - len(new)}")
        random.Random(1).shuffle(new)
        for a, b in new[: args.show]:
            print(f"    {a} | {b} | {sorted(triggers[a] & triggers[b])}")


if __name__ == "__main__":
    main()
