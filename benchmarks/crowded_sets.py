"""Where the labelled agent is on crowded catalogs, and whether the shown set holds it (issue 21).

    python benchmarks/crowded_sets.py [--shared PATH] [--json PATH] [--quick]

Routes every labelled request of the protocol's crowded catalogs (``_protocol``: the pairs of
labelled collections, all of them, all nine, the project + user installs; examples stripped)
with the default configuration and counts, per catalog (strict labels, as ``accuracy.py``):

* ``top1``, ``top3``: the labelled agent (or an ``also_correct`` one) first, among the first three;
* ``set_right``: among the agent and its ``Decision.alternatives`` (the shown set), whatever the
  confidence;
* ``top3_not_shown``: among the first three but not in the shown set, and of those how many are
  near-equivalents of the top agent (``Router.similar``) left out by the margin
  (``RouterConfig.alternative_margin``) or the limit;
* ``with_alternatives`` and the mean size of the shown set.

Nothing here is fitted or calibrated: the ranking and the alternatives do not read the
calibration, so the figures are the same under leave-one-catalog-out.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _protocol import (  # noqa: E402
    COLLECTIONS,
    UNLABELLED,
    Catalog,
    protocol_catalogs,
    strip_examples,
)
from _report import table, write_json  # noqa: E402


def measure(c: Catalog) -> dict[str, Any]:
    import agentroute

    router = agentroute.Router.from_agents(c.records)
    decisions = router.route_many(list(c.requests), limit=3)
    gold = c.router_gold()
    n = max(1, len(decisions))
    top1 = top3 = shown = missed = similar = alts = size = 0
    for d, right in zip(decisions, gold, strict=True):
        names = [k.agent for k in d.candidates]
        head = names[0] if names else None
        alternatives = tuple(getattr(d, "alternatives", ()))
        the_set = [x for x in (head, *alternatives) if x is not None]
        in3 = any(x in right for x in names[:3])
        in_set = any(x in right for x in the_set)
        top1 += bool(head in right)
        top3 += in3
        shown += in_set
        alts += bool(alternatives)
        size += len(the_set)
        if in3 and not in_set:
            missed += 1
            twins = set(router.similar(head)) if head is not None else set()
            similar += any(x in right and x in twins for x in names[:3])
    return {
        "agents": c.n_agents,
        "requests": len(decisions),
        "top1": top1 / n,
        "top3": top3 / n,
        "set_right": shown / n,
        "top3_not_shown": missed / n,
        "top3_not_shown_near_equivalent": similar / n,
        "with_alternatives": alts / n,
        "mean_set": size / n,
    }


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    ap.add_argument("--quick", action="store_true", help="the --quick crowded catalogs only")
    args = ap.parse_args(argv)
    shared = args.shared.resolve()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="agentroute-sets-") as tmp:
        root = Path(tmp)
        strip_examples(shared, root, (*COLLECTIONS, *UNLABELLED))
        for c in protocol_catalogs(root, shared, quick=args.quick):
            if c.kind in ("union", "install"):
                results[c.name] = measure(c)
                print(f"  {c.name}", file=sys.stderr, flush=True)
    keys = ["top1", "top3", "set_right", "top3_not_shown", "top3_not_shown_near_equivalent"]
    rows = [
        [
            name,
            str(r["agents"]),
            *(f"{r[k]:.3f}" for k in keys),
            f"{r['with_alternatives']:.3f}",
            f"{r['mean_set']:.2f}",
        ]
        for name, r in results.items()
    ]
    head = ["catalog", "agents", *keys, "with alternatives", "mean set"]
    print(table(head, rows))
    if args.json is not None:
        write_json(args.json, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
