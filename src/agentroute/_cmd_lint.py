"""``agentroute lint``: what makes a catalog route badly."""

from __future__ import annotations

import argparse
import json
from typing import TextIO

from agentroute._cmd import (
    EXIT_FINDINGS,
    EXIT_OK,
    add_cache_option,
    add_catalog_arguments,
    fraction,
    load_router,
    read_labels,
)
from agentroute._terminal import painter

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Declare ``lint`` and its options (the defaults spelled out, so that declaring
    them does not import the linter)."""
    li = sub.add_parser(
        "lint",
        help="find what makes a catalog route badly",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Check a catalog for agents requests cannot tell apart (near-copy, overlap),\n"
        "weak descriptions (empty, short, generic), triggers shared by many agents,\n"
        "duplicate names, skipped or repaired files and, with --labels, agents that no\n"
        "labelled request reaches.\n\n"
        "Errors (requests will be misrouted): near-copy, duplicate-name, skipped-file,\n"
        "empty-description, unreachable. Everything else is a warning.",
        epilog="exit status: 0 no errors (warnings allowed), 1 errors found (or any finding\n"
        "with --strict), 2 usage or input error.",
    )
    add_catalog_arguments(li)
    li.add_argument("--labels", metavar="FILE", help="labels JSONL for the reachability checks")
    li.add_argument(
        "--overlap",
        type=fraction,
        default=0.5,
        metavar="COS",
        help="description similarity for an overlap warning (default 0.5)",
    )
    li.add_argument(
        "--near-copy",
        type=fraction,
        default=0.8,
        metavar="COS",
        help="description similarity for a near-copy error (default 0.8)",
    )
    li.add_argument(
        "--min-words",
        type=int,
        default=12,
        metavar="N",
        help="shorter descriptions get a warning (default 12)",
    )
    li.add_argument("--all", action="store_true", help="list every finding (default: 20 per kind)")
    li.add_argument("--strict", action="store_true", help="exit 1 on warnings too")
    li.add_argument("--json", action="store_true", help="print the findings as JSON")
    add_cache_option(li)
    li.set_defaults(func=run)


def run(args: argparse.Namespace, out: TextIO) -> int:
    """Lint the catalog and write the findings to ``out``; the exit status."""
    from agentroute._lint import lint
    from agentroute._progress import ProgressBar

    labels = None if args.labels is None else read_labels(args.labels)
    router = load_router([*args.paths, *(args.agents or [])], cache=not args.no_cache)
    with ProgressBar("lint") as bar:
        report = lint(
            router,
            labels=labels,
            overlap=args.overlap,
            near_copy=args.near_copy,
            min_words=args.min_words,
            progress=bar,
        )
    if args.json:
        out.write(json.dumps(report.to_dict(), ensure_ascii=False) + "\n")
    else:
        out.write(report.format(limit=None if args.all else 20, paint=painter(out)) + "\n")
    failing = (*report.errors, *report.warnings) if args.strict else report.errors
    return EXIT_FINDINGS if failing else EXIT_OK
