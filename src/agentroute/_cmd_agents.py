"""``agentroute agents``: the agents loaded, their triggers and the diagnostics."""

from __future__ import annotations

import argparse
import json
from typing import TextIO

from agentroute._cmd import EXIT_OK, add_cache_option, add_catalog_arguments, load_router

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Declare ``agents`` and its options."""
    agents = sub.add_parser(
        "agents",
        help="list the agents loaded and the diagnostics",
        description="Show what was loaded: names, triggers, diagnostics.",
        epilog="exit status: 0 success, 2 usage or input error.",
    )
    add_catalog_arguments(agents)
    agents.add_argument("--json", action="store_true", help="print JSON")
    agents.add_argument(
        "-v", "--verbose", action="store_true", help="also show informational diagnostics"
    )
    add_cache_option(agents)
    agents.set_defaults(func=run)


def run(args: argparse.Namespace, out: TextIO) -> int:
    """List the catalog's agents and diagnostics on ``out``; the exit status."""
    router = load_router([*args.paths, *(args.agents or [])], cache=not args.no_cache)
    if args.json:
        payload = {
            "agents": [
                {
                    "name": a.name,
                    "path": a.path,
                    "triggers": list(a.triggers),
                    "examples": len(a.examples),
                    "model": a.model,
                    "similar": list(router.similar(a.name)),
                }
                for a in router.agents
            ],
            "diagnostics": [
                {"path": d.path, "kind": d.kind, "severity": d.severity, "message": d.message}
                for d in router.diagnostics
            ],
        }
        out.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
        return EXIT_OK
    for a in router.agents:
        triggers = ", ".join(a.triggers[:8]) + (" …" if len(a.triggers) > 8 else "")
        out.write(f"{a.name}\t{triggers}\n")
    out.write(f"\n{len(router.agents)} agent(s), {len(router.diagnostics)} diagnostic(s)\n")
    for diag in router.diagnostics:
        if diag.severity != "info" or args.verbose:
            out.write(f"  {diag}\n")
    return EXIT_OK
