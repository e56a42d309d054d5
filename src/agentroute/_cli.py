"""The ``agentroute`` command line; :func:`main` returns the exit status.

Subcommands: ``route``, ``agents``, ``eval``, ``lint``, ``hook``, ``mcp`` and
``doctor``, each in its own module (``_cmd_route``, ...: its parser beside its
command). Only what a subcommand needs is imported when it runs, so ``agentroute
route`` does not pay for the linter, the hook or the progress bar.

Exit status (every subcommand):

* 0: success (``route``: routed or ambiguous);
* 1: a negative answer: ``route`` found no agent for the request, ``lint``
  found errors, ``eval`` scored below ``--fail-under``;
* 2: a usage or input error (bad option, missing file, unreadable labels),
  reported as one line on stderr (for a catalog that loaded nothing, followed by
  the diagnostics that say why, one per line).

``hook`` always exits 0 and prints nothing on error, so it can never block a
Claude Code prompt.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
from collections.abc import Sequence
from typing import TextIO, cast

from agentroute import (
    _cmd_agents,
    _cmd_doctor,
    _cmd_eval,
    _cmd_hook,
    _cmd_lint,
    _cmd_mcp,
    _cmd_route,
)
from agentroute._cmd import EXIT_OK, EXIT_USAGE, UsageError
from agentroute._terminal import PipeSafe, drop_output, escape_unencodable
from agentroute._text import escape_controls

__all__ = ["main"]

_EXIT_TEXT = (
    "exit status: 0 success, 1 a negative answer (route: no agent fits; lint: errors "
    "found; eval: below --fail-under), 2 usage or input error."
)

# In the order `agentroute --help` lists them.
_COMMANDS = (_cmd_route, _cmd_agents, _cmd_eval, _cmd_lint, _cmd_hook, _cmd_doctor, _cmd_mcp)


def _parser() -> argparse.ArgumentParser:
    from agentroute._version import __version__

    parser = argparse.ArgumentParser(
        prog="agentroute",
        description="Decide which specialist agent should handle a request.",
        epilog=_EXIT_TEXT + " Colour only on a terminal and when NO_COLOR is unset.",
    )
    parser.add_argument("-V", "--version", action="version", version=f"agentroute {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in _COMMANDS:
        command.add_parser(sub)
    return parser


def _parse(args_list: list[str]) -> argparse.Namespace | int:
    """The parsed arguments, or the exit status when argparse stopped (help, an error).

    A misconfigured hook must not block the prompt (it exits 0) nor stay silent
    forever: Claude Code shows its ``systemMessage``.
    """
    is_hook = bool(args_list) and args_list[0] == "hook"
    said = io.StringIO()
    try:
        with contextlib.redirect_stderr(said) if is_hook else contextlib.nullcontext():
            return _parser().parse_args(args_list)
    except SystemExit as exc:
        if is_hook:
            sys.stderr.write(said.getvalue())
            if exc.code != 0:
                _cmd_hook.refused(said.getvalue())
            return EXIT_OK
        return EXIT_OK if exc.code == 0 else EXIT_USAGE


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    args = _parse(list(sys.argv[1:] if argv is None else argv))
    if isinstance(args, int):
        return args
    from agentroute._errors import AgentrouteError

    escape_unencodable()
    out = PipeSafe(sys.stdout)
    try:
        code: int = args.func(args, cast("TextIO", out))
        out.flush()
    except (AgentrouteError, UsageError, ValueError) as exc:
        sys.stderr.write(escape_controls(f"agentroute {args.command}: error: {exc}") + "\n")
        return EXIT_USAGE
    except BrokenPipeError:
        # The reader went away (e.g. `| head`).
        drop_output(sys.stdout)
        return EXIT_OK
    except KeyboardInterrupt:
        sys.stderr.write("\n")
        return 130
    return code


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
