"""``agentroute doctor``: the Claude Code setup checked, one line per finding."""

from __future__ import annotations

import argparse
import json
from typing import TextIO

from agentroute._cmd import EXIT_FINDINGS, EXIT_OK, add_cache_option

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Declare ``doctor`` and its options."""
    dr = sub.add_parser(
        "doctor",
        help="check the Claude Code setup: agents, cache, hook, MCP, a sample routing",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="What to run when the hook seems quiet: the project root and the agent and\n"
        "skill folders found (counts by scope, shadowed names), the cache folder (usable,\n"
        "size, stale files), the UserPromptSubmit hook in .claude/settings.json (its\n"
        "command, whether it resolves on PATH and parses), the MCP registration\n"
        "(.mcp.json) and one sample routing. One line per finding, each problem with its fix.",
        epilog="exit status: 0 no problem, 1 a problem found, 2 usage error.",
    )
    dr.add_argument(
        "--prune",
        action="store_true",
        help="first remove stale cache files (index caches unused for 30 days, temporary "
        "files of killed writes, expired markers)",
    )
    dr.add_argument("--json", action="store_true", help="print the findings as JSON")
    add_cache_option(dr)
    dr.set_defaults(func=run)


def run(args: argparse.Namespace, out: TextIO) -> int:
    """Check the setup and write the findings to ``out``; 1 when one is a problem."""
    from agentroute._cache import cache_dir
    from agentroute._doctor import diagnose, prune, report

    if args.prune:
        for path in prune(cache_dir()):
            out.write(f"removed {path}\n")
    findings = diagnose(cache=not args.no_cache)
    if args.json:
        rows = [
            {"status": f.status, "topic": f.topic, "message": f.message, "fix": f.fix}
            for f in findings
        ]
        out.write(json.dumps(rows, ensure_ascii=False) + "\n")
    else:
        out.write(report(findings))
    return EXIT_FINDINGS if any(f.status == "problem" for f in findings) else EXIT_OK
