"""Few labels must never hurt (issue 23, item 5): ``Router.fit`` with 1-5 labels per agent.

    python benchmarks/few_labels.py [--shared PATH] [--per-agent 1,2,3,5] [--seeds 3]
                                    [--only davila7 wshobson dl-ezo] [--json PATH]

What a user's own history gives: a few labelled requests per agent. Each collection is
indexed with its example requests stripped (``shared/tools/strip_examples.py``), so the
labelled requests (which come from those example blocks) are new to the router. For each
number ``k`` of labels per agent and each seed, ``k`` requests of every agent that has more
than ``k`` are drawn as the labels, and the rest of those agents' requests are the held-out
test. wshobson repeats one request under several copies of an agent: requests are merged
by text first (their right agents united), and an agent's group is its set of right agents,
so no test request is ever a label under another name.

Four routers, each on the same test requests:

* ``unfitted``: the catalog as indexed;
* ``old fit``: what ``Router.fit`` did before issue 23 (``agentroute._learn.learned_layer``:
  a classifier when the labels allow one, else a Platt rescaling of confidence);
* ``examples``: the labels added to their agents' example requests and indexed, always;
* ``new fit``: ``Router.fit`` today, which compares those on requests it holds out and
  keeps the best (``Router.learned.kind`` says which; counted per kind).

Reported per collection and ``k``, averaged over the seeds: top-1 (the first candidate is
right, abstention ignored) and decided accuracy (the decision names a right agent; an
abstention counts as wrong), and how many labels and test requests a draw has.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _protocol import Catalog, load_collection, strip_examples  # noqa: E402
from _report import table, write_json  # noqa: E402

SLUGS = {
    "davila7": "davila7-claude-code-templates",
    "wshobson": "wshobson-agents",
    "dl-ezo": "dl-ezo-claude-code-sub-agents",
}
VARIANTS = ("unfitted", "old fit", "examples", "new fit")

Pair = tuple[str, frozenset[str]]


def merged(c: Catalog) -> list[Pair]:
    """The catalog's requests, one per text, each with every record name that is right."""
    by_declared: dict[str, set[str]] = defaultdict(set)
    for name, dec in c.declared.items():
        by_declared[dec].add(name)
    out: dict[str, set[str]] = {}
    for text, gold in zip(c.requests, c.gold, strict=True):
        out.setdefault(text, set()).update(n for g in gold for n in by_declared.get(g, ()))
    return sorted((t, frozenset(g)) for t, g in out.items() if g)


def draw(pairs: Sequence[Pair], k: int, seed: int) -> tuple[list[tuple[str, str]], list[Pair]]:
    """``k`` labels from every group of right agents with more than ``k`` requests (labelled
    with the group's first name), and the rest of those groups' requests as the test."""
    groups: dict[frozenset[str], list[str]] = defaultdict(list)
    for text, gold in pairs:
        groups[gold].append(text)
    rng = random.Random(seed)
    train: list[tuple[str, str]] = []
    test: list[Pair] = []
    for gold in sorted(groups, key=sorted):
        texts = sorted(groups[gold])
        if len(texts) <= k:
            continue
        rng.shuffle(texts)
        train += [(t, min(gold)) for t in texts[:k]]
        test += [(t, gold) for t in texts[k:]]
    return train, test


def measure(router: Any, test: Sequence[Pair]) -> tuple[float, float]:
    """(top-1, decided accuracy) on ``test``."""
    decisions = router.route_many([t for t, _ in test], limit=1)
    top = sum(
        bool(d.candidates) and d.candidates[0].agent in g
        for d, (_, g) in zip(decisions, test, strict=True)
    )
    decided = sum(d.agent in g for d, (_, g) in zip(decisions, test, strict=True))
    return top / len(test), decided / len(test)


def run_catalog(c: Catalog, ks: Sequence[int], seeds: int) -> list[dict[str, Any]]:
    from agentroute import Router
    from agentroute._learn import learned_layer

    pairs = merged(c)
    unfitted = Router(c.records)
    rows: list[dict[str, Any]] = []
    for k in ks:
        sums: dict[str, list[tuple[float, float]]] = defaultdict(list)
        kinds: Counter[str] = Counter()
        sizes: list[tuple[int, int]] = []
        fit_seconds: list[float] = []
        for seed in range(seeds):
            train, test = draw(pairs, k, seed)
            if not train or not test:
                continue
            texts = [t for t, _ in train]
            labels: list[str | None] = [a for _, a in train]
            sizes.append((len(train), len(test)))
            state = unfitted._state
            old = learned_layer(state, texts, labels, None, 0.6)
            extra: dict[str, list[str]] = defaultdict(list)
            for t, a in train:
                extra[a].append(t)
            with_examples = [
                replace(a, examples=(*a.examples, *extra.get(a.name, ()))) for a in c.records
            ]
            t0 = time.perf_counter()
            new = Router._from_state(state, ()).fit(texts, labels)  # no second build
            fit_seconds.append(time.perf_counter() - t0)
            assert new.learned is not None
            # What the fit kept; "+ examples": on top of the labels indexed as examples.
            kinds[
                new.learned.kind
                + (" + examples" if new.learned.examples and new.learned.kind != "examples" else "")
            ] += 1
            routers = {
                "unfitted": unfitted,
                "old fit": Router._from_state(replace(state, learned=old), ()),
                "examples": new if new.learned.kind == "examples" else Router(with_examples),
                "new fit": new,
            }
            for name, router in routers.items():
                sums[name].append(measure(router, test))
            print(
                f"  {c.name} k={k} seed={seed}: kept {new.learned.kind} "
                f"{dict(new.learned.validation)}",
                flush=True,
            )
        if not sizes:
            continue
        row: dict[str, Any] = {
            "catalog": c.name,
            "per_agent": k,
            "labels": sum(a for a, _ in sizes) / len(sizes),
            "test": sum(b for _, b in sizes) / len(sizes),
            "seeds": len(sizes),
            "kept": dict(sorted(kinds.items())),
            "fit_seconds": sum(fit_seconds) / len(fit_seconds),
        }
        for name in VARIANTS:
            got = sums[name]
            row[name] = {
                "top1": sum(a for a, _ in got) / len(got),
                "decided": sum(b for _, b in got) / len(got),
            }
        rows.append(row)
        print(render([row]), flush=True)
    return rows


def render(rows: Sequence[dict[str, Any]]) -> str:
    headers = [
        "catalog",
        "k",
        "labels / test",
        *(f"{v} top-1 / decided" for v in VARIANTS),
        "new fit kept",
    ]
    body = [
        [
            r["catalog"],
            str(r["per_agent"]),
            f"{r['labels']:.0f} / {r['test']:.0f}",
            *(f"{r[v]['top1']:.3f} / {r[v]['decided']:.3f}" for v in VARIANTS),
            ", ".join(f"{k} {n}" for k, n in r["kept"].items()),
        ]
        for r in rows
    ]
    return table(headers, body)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    ap.add_argument("--per-agent", default="1,2,3,5", help="labels per agent (default 1,2,3,5)")
    ap.add_argument("--seeds", type=int, default=3, help="draws per k (default 3)")
    ap.add_argument("--only", nargs="*", choices=sorted(SLUGS), default=list(SLUGS))
    ap.add_argument("--json", type=Path, help="write the rows here")
    args = ap.parse_args(argv)
    shared = args.shared.resolve()
    ks = [int(x) for x in args.per_agent.split(",")]
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="agentroute-few-") as tmp:
        root = Path(tmp)
        strip_examples(shared, root, [SLUGS[n] for n in args.only])
        for name in args.only:
            rows += run_catalog(load_collection(root, shared, SLUGS[name]), ks, args.seeds)
    print(f"# python benchmarks/few_labels.py {' '.join(sys.argv[1:] if argv is None else argv)}")
    print(render(rows))
    if args.json is not None:
        write_json(args.json, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
