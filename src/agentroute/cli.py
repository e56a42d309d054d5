"""The ``agentroute`` command line; :func:`main` returns the exit status.

Exit status: 0 routed (or ambiguous), 1 no agent fits, 2 usage or input error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TextIO

from agentroute.errors import AgentrouteError
from agentroute.router import Router, default_catalog_path
from agentroute.spec import Decision

__all__ = ["main"]

EXIT_OK = 0
EXIT_NO_MATCH = 1
EXIT_USAGE = 2


def _decision_json(d: Decision) -> dict[str, object]:
    return {
        "request": d.request,
        "agent": d.agent,
        "status": d.status,
        "confidence": round(d.confidence, 4),
        "reason": d.reason,
        "matched_triggers": list(d.matched_triggers),
        "top_terms": list(d.top_terms),
        "candidates": [{"agent": c.agent, "score": round(c.score, 4)} for c in d.candidates],
    }


def _load(paths: Sequence[str] | None, *, strict: bool = False) -> Router:
    if not paths:
        return Router.from_path(default_catalog_path(), strict=strict)
    return Router.from_path(list(paths), strict=strict)


def _cmd_route(args: argparse.Namespace, out: TextIO) -> int:
    router = _load(args.agents, strict=args.strict)
    d = router.route(args.request, top=args.top)
    if args.json:
        out.write(json.dumps(_decision_json(d), ensure_ascii=False) + "\n")
    else:
        out.write(f"{d.agent or '-'}\t{d.status}\t{d.confidence:.2f}\n{d.reason}\n")
        for i, c in enumerate(d.candidates, 1):
            out.write(f"  {i}. {c.agent}  {c.score:.3f}\n")
    return EXIT_NO_MATCH if d.status == "no_match" else EXIT_OK


def _cmd_agents(args: argparse.Namespace, out: TextIO) -> int:
    router = _load(args.paths)
    if args.json:
        payload = {
            "agents": [
                {"name": a.name, "path": a.path, "triggers": list(a.triggers),
                 "examples": len(a.examples), "model": a.model}
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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agentroute",
        description="Decide which specialist agent should handle a request.",
        epilog="Exit status: 0 routed or ambiguous, 1 no agent fits, 2 usage or input error.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    route = sub.add_parser("route", help="route one request",
                           description="Route a request to the best agent.")
    route.add_argument("request", help="the request text")
    route.add_argument("--agents", action="append", metavar="PATH",
                       help="agent file, folder or catalog (repeatable); default: the "
                            "embedded sample catalog")
    route.add_argument("--top", type=int, default=3, help="candidates to show (default 3)")
    route.add_argument("--json", action="store_true", help="print the decision as JSON")
    route.add_argument("--strict", action="store_true",
                       help="fail on any file that needs recovery")
    route.set_defaults(func=_cmd_route)

    agents = sub.add_parser("agents", help="list the agents loaded and the diagnostics",
                            description="Show what was loaded: names, triggers, diagnostics.")
    agents.add_argument("paths", nargs="*", metavar="PATH",
                        help="agent files, folders or catalogs; default: the embedded catalog")
    agents.add_argument("--json", action="store_true", help="print JSON")
    agents.add_argument("-v", "--verbose", action="store_true",
                        help="also show informational diagnostics")
    agents.set_defaults(func=_cmd_agents)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return EXIT_OK if exc.code == 0 else EXIT_USAGE
    if getattr(args, "top", 1) < 1:
        sys.stderr.write("agentroute: error: --top must be at least 1\n")
        return EXIT_USAGE
    try:
        code: int = args.func(args, sys.stdout)
    except AgentrouteError as exc:
        sys.stderr.write(f"agentroute: error: {exc}\n")
        return EXIT_USAGE
    except BrokenPipeError:
        return EXIT_OK
    return code


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
