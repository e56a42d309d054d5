"""``agentroute eval``: route a labels file and report how well the catalog routes it."""

from __future__ import annotations

import argparse
import json
from typing import TextIO

from agentroute._cmd import (
    EXIT_FINDINGS,
    EXIT_OK,
    OldSpelling,
    UsageError,
    add_agents_option,
    add_cache_option,
    add_encoder_option,
    fraction,
    load_router,
    positive,
    read_labels,
    unreadable_labels,
)

__all__ = ["add_parser", "run"]

# Distinct labels remembered while counting, to name the unknown ones (bounded memory).
_MAX_DISTINCT_LABELS = 100_000


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Declare ``eval`` and its options."""
    ev = sub.add_parser(
        "eval",
        help="measure routing on a labels file",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Route every labelled request and report accuracy, top-k accuracy, MRR,\n"
        "calibration error (ECE), abstention, the weakest agents and the worst confusions.\n\n"
        'LABELS is JSON Lines: {"request": "...", "agent": "name" or null,\n'
        '"also_correct": ["other-name", ...]} (null: no agent should take it).',
        epilog="exit status: 0 success, 1 accuracy below --fail-under, 2 usage or input error.",
    )
    ev.add_argument("labels", metavar="LABELS.jsonl", help="the labelled requests")
    add_agents_option(ev)
    ev.add_argument(
        "--limit",
        "-k",
        dest="limit",
        type=positive,
        default=3,
        help="k of top-k accuracy (default 3; -k is its 0.1 spelling)",
    )
    ev.add_argument(
        "--act-at",
        "--min-confidence",
        dest="act_at",
        action=OldSpelling,
        type=fraction,
        default=None,
        metavar="X",
        help="also report coverage and precision when only answers of confidence >= X are "
        "acted on (what the hook does: hook --act-at, 0.7 by default), and list the "
        "requests misrouted at X (--min-confidence is its 0.2 spelling, deprecated)",
    )
    ev.add_argument(
        "--confusions",
        type=int,
        default=10,
        metavar="N",
        help="confusions and weakest agents to list (default 10)",
    )
    ev.add_argument(
        "--fail-under",
        type=fraction,
        metavar="ACC",
        help="exit 1 when accuracy is below ACC (for CI)",
    )
    ev.add_argument("--json", action="store_true", help="print the report as JSON")
    ev.add_argument(
        "--fit",
        metavar="TRAIN.jsonl",
        help="learn from these labelled requests (same format) before evaluating",
    )
    add_cache_option(ev)
    add_encoder_option(ev)
    ev.set_defaults(func=run)


def _count_labels(path: str, names: dict[str, set[str]] | None = None) -> int:
    """Check every line of a labels file without keeping any; how many requests it holds.

    ``names``, when given, collects the distinct agent labels (up to a bound), each with
    the agents its rows also accept (``also_correct``).
    """
    from agentroute._evaluate import iter_labels

    try:
        n = 0
        for _, label, more in iter_labels(path):
            n += 1
            if names is None or label is None:
                continue
            if label in names:
                names[label].update(more)
            elif len(names) < _MAX_DISTINCT_LABELS:
                names[label] = set(more)
        return n
    except (OSError, UnicodeDecodeError) as exc:
        raise unreadable_labels(path, exc) from None


def _refuse_unknown(path: str, named: dict[str, set[str]], known: set[str]) -> None:
    """A label the catalog lacks is a mistake unless its rows accept an agent it has."""
    unknown = sorted(lab for lab, more in named.items() if lab not in known and not more & known)
    if unknown:
        shown = ", ".join(unknown[:10]) + (
            f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
        )
        raise UsageError(
            f"{path}: {len(unknown)} label(s) name no agent of the catalog: {shown} "
            "(is --agents the catalog these labels were written for?)"
        )


def run(args: argparse.Namespace, out: TextIO) -> int:
    """Evaluate the catalog on ``args.labels`` and write the report to ``out``."""
    from agentroute._evaluate import evaluate_stream, iter_labels, right_set
    from agentroute._progress import ProgressBar

    # The labels file is read twice, line by line: once to refuse a bad line before any
    # work, once to route in batches. Neither keeps the requests: a labels file of any
    # size is evaluated in the memory of its catalog.
    named: dict[str, set[str]] = {}
    total = _count_labels(args.labels, named)
    if not total:
        raise UsageError(f"{args.labels}: no labelled requests")
    router = load_router(args.agents, cache=not args.no_cache, encoder=args.encoder)
    _refuse_unknown(args.labels, named, set(router.index.names))
    if args.fit is not None:
        train = read_labels(args.fit)
        try:
            router.fit(train.requests, train.labels)
        except ValueError as exc:
            raise UsageError(f"{args.fit}: {exc}") from None
    with ProgressBar("eval") as bar:
        try:
            # The one evaluation loop, as Router.evaluate runs it.
            report = evaluate_stream(
                lambda batch, depth: router.route_many(batch, limit=depth),
                ((t, label, right_set(label, more)) for t, label, more in iter_labels(args.labels)),
                limit=args.limit,
                act_at=args.act_at,
                total=total,
                progress=bar,
            )
        except (OSError, UnicodeDecodeError) as exc:  # changed since it was checked
            raise UsageError(f"{args.labels}: cannot read: {exc}") from None
    if args.json:
        out.write(json.dumps(report.to_dict(), ensure_ascii=False) + "\n")
    else:
        out.write(report.format(confusions=args.confusions, agents=args.confusions) + "\n")
    if args.fail_under is not None and report.accuracy < args.fail_under:
        return EXIT_FINDINGS
    return EXIT_OK
