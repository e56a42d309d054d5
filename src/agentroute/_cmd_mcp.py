"""``agentroute mcp``: the MCP server on stdin/stdout."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

from agentroute._cmd import (
    EXIT_OK,
    UsageError,
    add_agents_option,
    add_cache_option,
    add_encoder_option,
)

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Declare ``mcp`` and its options."""
    mc = sub.add_parser(
        "mcp",
        help="MCP server over stdio: route and list_agents tools",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Serve the Model Context Protocol on stdin/stdout with two tools: route\n"
        "(arguments request, optional limit; returns the decision as JSON) and list_agents.\n"
        "Needs the mcp extra: pip install 'agentroute[mcp]'. In Claude Code:\n"
        "  claude mcp add agentroute -- agentroute mcp",
        epilog="exit status: 0 when the client closes the connection, 2 usage error "
        "(e.g. the mcp package is missing).",
    )
    add_agents_option(mc)
    add_cache_option(mc)
    add_encoder_option(mc)
    mc.set_defaults(func=run)


def run(args: argparse.Namespace, out: TextIO) -> int:
    """Serve until the client closes the connection."""
    try:
        from agentroute import _mcp

        _mcp.server_class()
    except ImportError as exc:
        raise UsageError(str(exc)) from None
    # Never the sample catalog: a client would be told to delegate to agents it lacks.
    paths = [Path(p) for p in args.agents] if args.agents else None
    _mcp.serve(paths, cache=not args.no_cache, encoder=args.encoder)
    return EXIT_OK
