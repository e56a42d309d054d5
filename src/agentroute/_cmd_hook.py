"""``agentroute hook``: the Claude Code ``UserPromptSubmit`` hook on the command line.

The hook never blocks a prompt: it exits 0 whatever happens, and a command line
argparse refuses is said once a day as a ``systemMessage`` (:func:`refused`).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from agentroute._cmd import EXIT_OK, OldSpelling, add_agents_option, add_cache_option, fraction

__all__ = ["add_parser", "hook_arguments_notes", "hook_arguments_problem", "refused", "run"]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Declare ``hook`` and its options (the default bar spelled out, so that declaring
    it does not import the hook)."""
    hk = sub.add_parser(
        "hook",
        help="Claude Code UserPromptSubmit hook: suggest a subagent or skill",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Read a Claude Code UserPromptSubmit hook input (JSON) on stdin, route its\n"
        "prompt against the project's ($CLAUDE_PROJECT_DIR, else found up from cwd) and\n"
        "the user's .claude/agents and .claude/skills, and when one clearly fits, print\n"
        "the JSON that adds a note suggesting it. Print nothing when unsure or on any\n"
        "error. A large catalog without a cache is indexed in the background while the\n"
        "hook prints nothing, so it always answers within Claude Code's timeout.",
        epilog="exit status: always 0 (an exit status of 2 would block the prompt).",
    )
    add_agents_option(hk, "the project's and the user's .claude/agents and .claude/skills")
    hk.add_argument(
        "--act-at",
        "--min-confidence",
        dest="act_at",
        action=OldSpelling,
        type=fraction,
        default=0.5,
        metavar="P",
        help="suggest only when the answer is at least this confident (default 0.5; "
        "--min-confidence is its 0.2 spelling, deprecated)",
    )
    hk.add_argument("--debug", action="store_true", help="log what happens to stderr")
    add_cache_option(hk)
    hk.set_defaults(func=run)


def run(args: argparse.Namespace, out: TextIO) -> int:
    """Answer the hook input on stdin; always 0, whatever happens."""
    try:
        if args.debug:
            logging.basicConfig(
                level=logging.DEBUG,
                stream=sys.stderr,
                format="agentroute hook: %(name)s: %(message)s",
            )
        from agentroute import _hook as hook

        out.write(
            hook.run(
                sys.stdin.read(),
                agents=args.agents,
                act_at=args.act_at,
                cache=not args.no_cache,
            )
        )
    except Exception:  # never block the user's prompt
        if args.debug:
            logging.getLogger(__name__).exception("hook failed")
    return EXIT_OK


def _problem(usage_error: str, otherwise: str) -> str:
    """The last line of argparse's complaint, without its ``prog: error:`` prefix."""
    lines = [line for line in usage_error.splitlines() if line.strip()]
    return lines[-1].split("error: ", 1)[-1] if lines else otherwise


def refused(usage_error: str) -> None:
    """Print the hook's one-time note about a command line argparse refused."""
    problem = _problem(usage_error, "its command line was refused")
    try:
        from agentroute._hook import misconfigured

        sys.stdout.write(misconfigured(problem))
        sys.stdout.flush()
    except Exception:  # never block the prompt
        pass


def _parse_hook(arguments: Sequence[str]) -> tuple[argparse.Namespace | None, str]:
    """``agentroute hook ARGUMENTS`` parsed (None when refused or ``--help``), and
    what argparse said on stderr meanwhile."""
    parser = argparse.ArgumentParser(prog="agentroute")
    add_parser(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    said = io.StringIO()
    try:
        with contextlib.redirect_stderr(said):
            return parser.parse_args(["hook", *arguments]), said.getvalue()
    except SystemExit as exc:
        return None, "" if exc.code == 0 else said.getvalue() or "\n"


def hook_arguments_problem(arguments: Sequence[str]) -> str:
    """Why ``agentroute hook ARGUMENTS`` would be refused ("" when it would run)."""
    args, said = _parse_hook(arguments)
    if args is None:
        return _problem(said, "its arguments are refused") if said else ""
    missing = [p for p in args.agents or [] if not Path(p).exists()]
    return f"--agents {missing[0]}: no such file or folder" if missing else ""


def hook_arguments_notes(arguments: Sequence[str]) -> list[str]:
    """What ``agentroute hook ARGUMENTS`` would say while running anyway: a deprecated
    spelling (``--min-confidence``), without its ``prog:`` prefix."""
    args, said = _parse_hook(arguments)
    if args is None:
        return []
    return [line.split(": ", 1)[-1] for line in said.splitlines() if line.strip()]
