"""What every subcommand shares: exit statuses, option types, the common options, the catalog.

Each ``_cmd_*`` module holds one subcommand: ``add_parser(subparsers)`` declares it
and ``run(args, out)`` runs it; :mod:`agentroute._cli` assembles them. Only what a
subcommand needs is imported when it runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from agentroute._terminal import is_terminal

if TYPE_CHECKING:
    from agentroute._evaluate import Labels
    from agentroute._router import Router

__all__ = [
    "DEFAULT_CATALOG",
    "EXIT_FINDINGS",
    "EXIT_NO_MATCH",
    "EXIT_OK",
    "EXIT_USAGE",
    "OldSpelling",
    "UsageError",
    "add_agents_option",
    "add_cache_option",
    "add_catalog_arguments",
    "add_encoder_option",
    "catalog_paths",
    "fraction",
    "load_router",
    "positive",
    "read_labels",
    "unreadable_labels",
]

EXIT_OK = 0
EXIT_NO_MATCH = 1
EXIT_FINDINGS = 1
EXIT_USAGE = 2


class UsageError(Exception):
    """A bad argument combination found after parsing (one line, exit 2)."""


class OldSpelling(argparse.Action):
    """Store an option's value, and say on stderr when it came under a deprecated
    spelling (every spelling after the first is an old one): ``--min-confidence`` of
    0.2 still works, and tells its user the new name."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        if option_string is not None and option_string != self.option_strings[0]:
            sys.stderr.write(
                f"{parser.prog}: {option_string} is deprecated since agentroute 0.3: "
                f"use {self.option_strings[0]}\n"
            )
        setattr(namespace, self.dest, values)


# -- option types and common options ----------------------------------------------------
def fraction(text: str) -> float:
    """An option value in [0, 1]."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {text!r}")
    return value


def positive(text: str) -> int:
    """An option value that is a positive integer."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def add_cache_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--no-cache",
        action="store_true",
        help="build the index afresh and leave the on-disk cache alone (the cache lives in "
        "$AGENTROUTE_CACHE_DIR, else $XDG_CACHE_HOME/agentroute, else ~/.cache/agentroute, "
        "and is reused while the agent files' contents are unchanged)",
    )


def add_encoder_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--encoder",
        metavar="MODEL",
        default=None,
        help="add the semantic view: a folder holding a sentence-transformers or model2vec "
        "model, or a model name in the local Hugging Face cache (nothing is downloaded; "
        "needs pip install 'agentroute[semantic]')",
    )


DEFAULT_CATALOG = (
    "the Claude Code agents and skills of this project and of the user (.claude/agents, "
    ".claude/skills, ~/.claude/agents, ~/.claude/skills), else the embedded sample catalog"
)


def add_agents_option(p: argparse.ArgumentParser, default: str = DEFAULT_CATALOG) -> None:
    p.add_argument(
        "--agents",
        action="append",
        metavar="PATH",
        help=f"agent file, folder or catalog (repeatable); default: {default}",
    )


def add_catalog_arguments(p: argparse.ArgumentParser) -> None:
    """``PATH ...`` and ``--agents PATH``: the two ways ``agents`` and ``lint`` are given
    a catalog."""
    p.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="agent files, folders or catalogs (the same as --agents PATH)",
    )
    add_agents_option(p)


# -- the catalog ------------------------------------------------------------------------
def catalog_paths(paths: Sequence[str] | None, *, note: TextIO | None = None) -> list[Path]:
    """What a subcommand routes against: ``paths`` when given; else, inside a Claude
    Code project, the project's and the user's agents and skills (saying so on
    ``note``); else the sample catalog shipped with the package."""
    if paths:
        return [Path(p) for p in paths]
    from agentroute._claude import claude_code_paths, project_root
    from agentroute._router import default_catalog_path

    project = project_root()
    found = claude_code_paths(project=project)
    home = Path.home()

    def shown(p: Path) -> str:
        return "~/" + p.relative_to(home).as_posix() if p.is_relative_to(home) else p.as_posix()

    if not found:
        if note is not None:
            # Said loudly: these agents are a demo, not the user's (issue 22).
            looked = ", ".join(
                shown(base / ".claude" / sub)
                for base in (project, home)
                for sub in ("agents", "skills")
            )
            note.write(
                f"agentroute: WARNING: no agents found (looked in {looked}); routing against "
                "the SAMPLE catalog shipped with agentroute, for trying it out: its agents "
                "are not yours. Give --agents PATH.\n"
            )
        return [default_catalog_path()]
    if note is not None:
        note.write(
            f"agentroute: using the Claude Code agents and skills in "
            f"{', '.join(shown(p) for p in found)} (give --agents PATH to choose)\n"
        )
    return list(found)


def load_router(
    paths: Sequence[str] | None,
    *,
    strict: bool = False,
    cache: bool = True,
    encoder: str | None = None,
) -> Router:
    """The router for ``paths`` (see :func:`catalog_paths`); the index is cached on disk
    unless ``--no-cache``; ``--encoder`` adds the semantic view."""
    from agentroute._errors import EncoderError
    from agentroute._router import Router

    where = catalog_paths(paths, note=sys.stderr)
    try:
        if not is_terminal(sys.stderr):
            return Router.from_path(where, strict=strict, cache=cache, encoder=encoder)
        from agentroute._progress import ProgressBar

        # Drawn only while an index is being built, never when it comes from the cache.
        with ProgressBar("indexing agents") as bar:
            return Router.from_path(
                where, strict=strict, cache=cache, progress=bar, encoder=encoder
            )
    except EncoderError as exc:
        raise UsageError(f"--encoder: {exc}") from None


# -- labels files -----------------------------------------------------------------------
def unreadable_labels(path: str, exc: Exception) -> UsageError:
    """The one-line error for a labels file that is missing or cannot be read."""
    if isinstance(exc, FileNotFoundError):
        return UsageError(f"{path}: no such labels file")
    return UsageError(f"{path}: cannot read: {exc}")


def read_labels(path: str) -> Labels:
    """The labels file ``path`` (``eval --fit``, ``lint --labels``), or a one-line error."""
    from agentroute._evaluate import read_labels as read

    try:
        return read(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise unreadable_labels(path, exc) from None
