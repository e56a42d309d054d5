"""The ``agentroute`` command line; :func:`main` returns the exit status.

Subcommands: ``route``, ``agents``, ``eval``, ``lint``, ``hook``, ``mcp`` and
``doctor``. Only what a subcommand needs is imported when it runs, so ``agentroute
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
import json
import logging
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO, cast

from agentroute._text import escape_controls

if TYPE_CHECKING:
    from agentroute._evaluate import Labels
    from agentroute._router import Router
    from agentroute._spec import Decision

__all__ = ["main"]

EXIT_OK = 0
EXIT_NO_MATCH = 1
EXIT_FINDINGS = 1
EXIT_USAGE = 2

_EXIT_TEXT = (
    "exit status: 0 success, 1 a negative answer (route: no agent fits; lint: errors "
    "found; eval: below --fail-under), 2 usage or input error."
)
_COLORS = {"routed": "32", "ambiguous": "33", "no_match": "31", "error": "31", "warning": "33"}
# The escape sequences _Paint writes: the only ones that reach the terminal raw.
_OWN_COLORS = re.compile("(\x1b\\[(?:0|31|32|33)m)")


class _UsageError(Exception):
    """A bad argument combination found after parsing (one line, exit 2)."""


class _PipeSafe(io.TextIOBase):
    """stdout that outlives its reader: once the reader has gone (``| head``,
    ``| true``), writes are dropped, so a command still returns its own exit status
    (``route`` exits 1 on no_match even when nobody reads the answer)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.broken = False
        self.colors = _use_color(stream)

    def _gone(self) -> None:
        self.broken = True
        # Point stdout at devnull so the interpreter's final flush does not raise again.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
        except (OSError, ValueError):
            pass

    def write(self, text: str) -> int:
        """Write ``text`` with its terminal controls escaped: names, triggers, reasons
        and paths come from agent files, and must not clear the screen, set the
        title or conceal what follows. Only agentroute's own colours pass, and only
        when colour is on (a forged colour can change a word's colour, not hide it)."""
        if self.colors:
            parts = _OWN_COLORS.split(text)
            safe = "".join(p if i % 2 else escape_controls(p) for i, p in enumerate(parts))
        else:
            safe = escape_controls(text)
        if not self.broken:
            try:
                self._stream.write(safe)
            except BrokenPipeError:
                self._gone()
        return len(text)

    def flush(self) -> None:
        if not self.broken:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._gone()

    def isatty(self) -> bool:
        return bool(self._stream.isatty())


def _use_color(stream: TextIO) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _painter(stream: TextIO) -> _Paint:
    return _Paint(_use_color(stream))


class _Paint:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, key: str) -> str:
        code = _COLORS.get(key)
        return f"\033[{code}m{text}\033[0m" if self.enabled and code else text


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


def _load(
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
        if not _use_progress(sys.stderr):
            return Router.from_path(where, strict=strict, cache=cache, encoder=encoder)
        from agentroute._progress import ProgressBar

        # Drawn only while an index is being built, never when it comes from the cache.
        with ProgressBar("indexing agents") as bar:
            return Router.from_path(
                where, strict=strict, cache=cache, progress=bar, encoder=encoder
            )
    except EncoderError as exc:
        raise _UsageError(f"--encoder: {exc}") from None


def _use_progress(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


# -- route ------------------------------------------------------------------------------
def _count_lines(path: str) -> int:
    with open(path, "rb") as fh:
        return sum(block.count(b"\n") for block in iter(lambda: fh.read(1 << 20), b""))


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # the output does not exist yet
        return False


def _stdin_is(path: str) -> bool:
    """Whether stdin is the file ``path`` (``--input - --output F < F``)."""
    try:
        return os.path.samestat(os.fstat(sys.stdin.fileno()), os.stat(path))
    except (OSError, ValueError, AttributeError):  # no such output, or no real stdin
        return False


def _route_file(args: argparse.Namespace, out: TextIO) -> int:
    """``route --input FILE.jsonl [--output FILE.jsonl] [--jobs N]``."""
    from agentroute._batch import replacing, route_file

    if args.request is not None:
        raise _UsageError("give either a REQUEST or --input, not both")
    if args.jobs is not None and args.jobs < 1:
        raise _UsageError("--jobs must be at least 1")
    router = _load(args.agents, strict=args.strict, cache=not args.no_cache, encoder=args.encoder)
    reading_stdin = args.input == "-"
    writing_stdout = args.output in (None, "-")
    if not writing_stdout and (
        _stdin_is(args.output) if reading_stdin else _same_file(args.input, args.output)
    ):
        raise _UsageError(
            f"--output {args.output} is the --input file: write the answers elsewhere"
        )
    try:
        # A line that is not UTF-8 is answered with an error naming it (as on stdin),
        # not the end of the run: undecodable bytes arrive as lone surrogates.
        source = (
            sys.stdin
            if reading_stdin
            else open(args.input, encoding="utf-8", errors="surrogateescape")  # noqa: SIM115
        )
    except OSError as exc:
        raise _UsageError(f"cannot read {args.input}: {exc.strerror or exc}") from None
    from agentroute._progress import ProgressBar

    bar = ProgressBar("routing")
    total = _count_lines(args.input) if bar.enabled and not reading_stdin else 0
    with contextlib.ExitStack() as stack:
        if not reading_stdin:
            stack.callback(source.close)
        try:
            # Answers go to a temporary file renamed over --output when complete.
            sink = out if writing_stdout else stack.enter_context(replacing(args.output))
        except OSError as exc:
            raise _UsageError(f"cannot write {args.output}: {exc.strerror or exc}") from None
        try:
            with bar:
                report = route_file(
                    router,
                    source,
                    sink,
                    limit=args.limit,
                    jobs=args.jobs or 1,
                    progress=(lambda done: bar(done, max(total, done))) if bar.enabled else None,
                )
        except UnicodeDecodeError as exc:
            raise _UsageError(f"{args.input}: not UTF-8 text ({exc.reason})") from None
    if report.errors:
        sys.stderr.write(
            f"agentroute: {report.errors} line(s) of {args.input} could not be routed "
            f"(first: {report.first_error}); each is answered with an 'error'\n"
        )
        return EXIT_USAGE
    return EXIT_OK


def _explain(args: argparse.Namespace, out: TextIO) -> int:
    """``route --explain AGENT REQUEST``: where AGENT stands and what keeps it from the top."""
    if args.request in (None, "-") or args.input is not None:
        raise _UsageError("--explain AGENT needs one REQUEST (not stdin or --input)")
    router = _load(args.agents, strict=args.strict, cache=not args.no_cache)
    e = router.explain(args.request, args.explain)
    if args.json:
        out.write(json.dumps(e.to_dict(), ensure_ascii=False) + "\n")
        return EXIT_OK
    out.write(f"{e.agent}\trank {e.rank} of {e.n_agents}\t{e.score:.3f}\n{e.summary}\n")
    out.write(f"  {'view':<9} {e.agent[:24]:>24} {e.top[:24]:>24}\n")
    for (view, mine), (_, top) in zip(e.views, e.top_views, strict=True):
        out.write(f"  {view:<9} {mine:>24.3f} {top:>24.3f}\n")
    out.write(f"  {'fused':<9} {e.score:>24.3f} {e.top_score:>24.3f}\n")
    for label, items in (
        ("matched terms", e.matched_terms),
        ("missing terms", e.missing_terms),
        ("matched triggers", e.matched_triggers),
    ):
        out.write(f"{label}: {', '.join(items) if items else '-'}\n")
    for item, strength in e.not_for:
        out.write(f"not for: {item} (match {strength:.2f})\n")
    d = e.decision
    out.write(f"decision: {d.agent or '-'} ({d.status}, confidence {d.confidence:.2f})\n")
    return EXIT_OK


def _who(d: Decision) -> str:
    """The agent, and its alternatives: ``postgres-pro (or database-optimizer)``."""
    if d.agent is None:
        return "-"
    return f"{d.agent} (or {', '.join(d.alternatives)})" if d.alternatives else d.agent


def _how_sure(d: Decision) -> str:
    """The confidence, and the group's when it differs: ``0.48 (group 0.86)``."""
    if d.alternatives:
        return f"{d.confidence:.2f} (group {d.group_confidence:.2f})"
    return f"{d.confidence:.2f}"


def _cmd_route(args: argparse.Namespace, out: TextIO) -> int:
    if args.explain is not None:
        return _explain(args, out)
    if args.input is not None:
        return _route_file(args, out)
    if args.output is not None or args.jobs is not None:
        raise _UsageError("--output and --jobs go with --input FILE")
    from_stdin = args.request is None or args.request == "-"
    if from_stdin and args.request is None and sys.stdin.isatty():
        raise _UsageError("give a REQUEST, or pipe requests on stdin (one per line)")
    router = _load(args.agents, strict=args.strict, cache=not args.no_cache, encoder=args.encoder)
    paint = _painter(out)
    if not from_stdin:
        d = router.route(args.request, limit=args.limit)
        if args.json:
            out.write(json.dumps(d.to_dict(), ensure_ascii=False) + "\n")
        else:
            status = paint(d.status, d.status)
            out.write(f"{_who(d)}\t{status}\t{_how_sure(d)}\n{d.reason}\n")
            for i, c in enumerate(d.candidates, 1):
                same = f"  (= {', '.join(c.copies)})" if c.copies else ""
                out.write(f"  {i}. {c.agent}  {c.score:.3f}{same}\n")
            if len(d.team) > 1:
                # The lead is the agent for the whole request (at its confidence), the
                # others follow by their confidence for their own part.
                out.write(f"team of {len(d.team)}, lead first, then by confidence:\n")
                for k, m in enumerate(d.team):
                    role = "lead  " if k == 0 else "member"
                    alts = f" (or {', '.join(m.alternatives)})" if m.alternatives else ""
                    out.write(f"  - {role} {m.agent}{alts}  {m.score:.2f}  {m.part}\n")
        return EXIT_NO_MATCH if d.status == "no_match" else EXIT_OK

    # One request per line; blank lines are skipped. Lines are routed in batches
    # (faster than one by one) and answered in input order.
    batch: list[str] = []

    def flush() -> None:
        if getattr(out, "broken", False):  # nobody reads the answers any more
            raise BrokenPipeError
        for d in router.route_many(batch, limit=args.limit):
            if args.json:
                out.write(json.dumps(d.to_dict(), ensure_ascii=False) + "\n")
            else:
                status = paint(d.status, d.status)
                out.write(f"{_who(d)}\t{status}\t{_how_sure(d)}\t{d.request}\n")
        out.flush()
        batch.clear()

    for line in sys.stdin:
        text = line.rstrip("\r\n")
        if text.strip():
            batch.append(text)
        if len(batch) >= 256:
            flush()
    if batch:
        flush()
    return EXIT_OK


# -- agents -----------------------------------------------------------------------------
def _cmd_agents(args: argparse.Namespace, out: TextIO) -> int:
    router = _load([*args.paths, *(args.agents or [])], cache=not args.no_cache)
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


# -- eval -------------------------------------------------------------------------------
def _read_labels(path: str) -> Labels:
    from agentroute._evaluate import read_labels

    try:
        return read_labels(path)
    except FileNotFoundError:
        raise _UsageError(f"{path}: no such labels file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise _UsageError(f"{path}: cannot read: {exc}") from None


# Distinct labels remembered while counting, to name the unknown ones (bounded memory).
_MAX_DISTINCT_LABELS = 100_000


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
    except FileNotFoundError:
        raise _UsageError(f"{path}: no such labels file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise _UsageError(f"{path}: cannot read: {exc}") from None


def _cmd_eval(args: argparse.Namespace, out: TextIO) -> int:
    from agentroute._evaluate import Tally, iter_labels
    from agentroute._progress import ProgressBar

    # The labels file is read twice, line by line: once to refuse a bad line before any
    # work, once to route in batches. Neither keeps the requests: a labels file of any
    # size is evaluated in the memory of its catalog.
    named: dict[str, set[str]] = {}
    total = _count_labels(args.labels, named)
    if not total:
        raise _UsageError(f"{args.labels}: no labelled requests")
    router = _load(args.agents, cache=not args.no_cache, encoder=args.encoder)
    # A label the catalog lacks is a mistake unless its rows accept an agent it has.
    known = set(router.index.names)
    unknown = sorted(lab for lab, more in named.items() if lab not in known and not more & known)
    if unknown:
        shown = ", ".join(unknown[:10]) + (
            f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
        )
        raise _UsageError(
            f"{args.labels}: {len(unknown)} label(s) name no agent of the catalog: {shown} "
            "(is --agents the catalog these labels were written for?)"
        )
    if args.fit is not None:
        train = _read_labels(args.fit)
        try:
            router.fit(train.texts, train.labels)
        except ValueError as exc:
            raise _UsageError(f"{args.fit}: {exc}") from None
    tally = Tally(args.limit, args.min_confidence)
    batch: list[tuple[str, str | None, tuple[str, ...]]] = []

    def flush() -> None:
        # MRR reads ten candidates whatever top-k accuracy looks at (as Router.evaluate).
        decisions = router.route_many([t for t, _, _ in batch], limit=max(args.limit, 10))
        for d, (_, label, more) in zip(decisions, batch, strict=True):
            tally.add(d, label, frozenset() if label is None else frozenset({label, *more}))
        batch.clear()

    with ProgressBar("eval") as bar:
        try:
            for row in iter_labels(args.labels):
                batch.append(row)
                if len(batch) == 256:
                    flush()
                    bar(tally.n, total)
            if batch:
                flush()
                bar(tally.n, total)
        except (OSError, UnicodeDecodeError) as exc:  # changed since it was checked
            raise _UsageError(f"{args.labels}: cannot read: {exc}") from None
    report = tally.report()
    if args.json:
        out.write(json.dumps(report.to_dict(), ensure_ascii=False) + "\n")
    else:
        out.write(report.format(confusions=args.confusions, agents=args.confusions) + "\n")
    if args.fail_under is not None and report.accuracy < args.fail_under:
        return EXIT_FINDINGS
    return EXIT_OK


# -- lint -------------------------------------------------------------------------------
def _cmd_lint(args: argparse.Namespace, out: TextIO) -> int:
    from agentroute._lint import lint
    from agentroute._progress import ProgressBar

    labels = None if args.labels is None else _read_labels(args.labels)
    router = _load([*args.paths, *(args.agents or [])], cache=not args.no_cache)
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
        out.write(report.format(limit=None if args.all else 20, paint=_painter(out)) + "\n")
    failing = (*report.errors, *report.warnings) if args.strict else report.errors
    return EXIT_FINDINGS if failing else EXIT_OK


# -- hook -------------------------------------------------------------------------------
def _cmd_hook(args: argparse.Namespace, out: TextIO) -> int:
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
                min_confidence=args.min_confidence,
                cache=not args.no_cache,
            )
        )
    except Exception:  # never block the user's prompt
        if args.debug:
            logging.getLogger(__name__).exception("hook failed")
    return EXIT_OK


# -- doctor -----------------------------------------------------------------------------
def hook_arguments_problem(arguments: Sequence[str]) -> str:
    """Why ``agentroute hook ARGUMENTS`` would be refused ("" when it would run)."""
    said = io.StringIO()
    try:
        with contextlib.redirect_stderr(said):
            args = _parser().parse_args(["hook", *arguments])
    except SystemExit as exc:
        if exc.code == 0:
            return ""
        lines = [line for line in said.getvalue().splitlines() if line.strip()]
        return lines[-1].split("error: ", 1)[-1] if lines else "its arguments are refused"
    missing = [p for p in args.agents or [] if not Path(p).exists()]
    return f"--agents {missing[0]}: no such file or folder" if missing else ""


def _cmd_doctor(args: argparse.Namespace, out: TextIO) -> int:
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


# -- mcp --------------------------------------------------------------------------------
def _cmd_mcp(args: argparse.Namespace, out: TextIO) -> int:
    try:
        from agentroute import _mcp

        _mcp.server_class()
    except ImportError as exc:
        raise _UsageError(str(exc)) from None
    # Never the sample catalog: a client would be told to delegate to agents it lacks.
    paths = [Path(p) for p in args.agents] if args.agents else None
    _mcp.serve(paths, cache=not args.no_cache, encoder=args.encoder)
    return EXIT_OK


# -- parser -----------------------------------------------------------------------------
def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {text!r}")
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _add_cache_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--no-cache",
        action="store_true",
        help="build the index afresh and leave the on-disk cache alone (the cache lives in "
        "$AGENTROUTE_CACHE_DIR, else $XDG_CACHE_HOME/agentroute, else ~/.cache/agentroute, "
        "and is reused while the agent files' contents are unchanged)",
    )


def _add_encoder_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--encoder",
        metavar="MODEL",
        default=None,
        help="add the semantic view: a folder holding a sentence-transformers or model2vec "
        "model, or a model name in the local Hugging Face cache (nothing is downloaded; "
        "needs pip install 'agentroute[semantic]')",
    )


_DEFAULT_CATALOG = (
    "the Claude Code agents and skills of this project and of the user (.claude/agents, "
    ".claude/skills, ~/.claude/agents, ~/.claude/skills), else the embedded sample catalog"
)


def _add_agents_option(p: argparse.ArgumentParser, default: str) -> None:
    p.add_argument(
        "--agents",
        action="append",
        metavar="PATH",
        help=f"agent file, folder or catalog (repeatable); default: {default}",
    )


def _parser() -> argparse.ArgumentParser:
    from agentroute._version import __version__

    fmt = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="agentroute",
        description="Decide which specialist agent should handle a request.",
        epilog=_EXIT_TEXT + " Colour only on a terminal and when NO_COLOR is unset.",
    )
    parser.add_argument("-V", "--version", action="version", version=f"agentroute {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    route = sub.add_parser(
        "route",
        help="route a request (or stdin, one per line)",
        formatter_class=fmt,
        description="Route a request to the best agent.\n\n"
        "With REQUEST '-' or absent (and stdin not a terminal), route every line of stdin;\n"
        "blank lines are skipped and answers come in input order, one line each.",
        epilog="exit status: 0 routed or ambiguous, 1 no agent fits (a single REQUEST only;\n"
        "stdin mode exits 0 once every line is answered), 2 usage or input error.",
    )
    route.add_argument(
        "request", nargs="?", metavar="REQUEST", help="the request text; '-' or absent: read stdin"
    )
    _add_agents_option(route, _DEFAULT_CATALOG)
    route.add_argument(
        "--limit",
        "--top",
        dest="limit",
        type=_positive,
        default=3,
        help="candidates to show (default 3; --top is its 0.1 spelling)",
    )
    route.add_argument(
        "--json",
        action="store_true",
        help="print JSON (JSON Lines, one object per request, for stdin)",
    )
    route.add_argument("--strict", action="store_true", help="fail on any file that needs recovery")
    route.add_argument(
        "--input",
        metavar="FILE.jsonl",
        help="route every line of a JSON Lines file ('-': stdin): an object with 'request'"
        " (and an optional 'id', copied to the answer) or a string; streamed in constant"
        " memory, answers in input order",
    )
    route.add_argument(
        "--output", metavar="FILE.jsonl", help="where --input's answers go (default stdout)"
    )
    route.add_argument(
        "--explain",
        metavar="AGENT",
        help="why not AGENT? where it ranks for REQUEST, its score in each view, the words "
        "its text has and lacks, any not-for penalty, and what stands between it and the top",
    )
    route.add_argument(
        "--jobs",
        type=int,
        metavar="N",
        help="worker processes for --input (default 1); the output does not depend on N",
    )
    _add_cache_option(route)
    _add_encoder_option(route)
    route.set_defaults(func=_cmd_route)

    agents = sub.add_parser(
        "agents",
        help="list the agents loaded and the diagnostics",
        description="Show what was loaded: names, triggers, diagnostics.",
        epilog="exit status: 0 success, 2 usage or input error.",
    )
    agents.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="agent files, folders or catalogs (the same as --agents PATH)",
    )
    _add_agents_option(agents, _DEFAULT_CATALOG)
    agents.add_argument("--json", action="store_true", help="print JSON")
    agents.add_argument(
        "-v", "--verbose", action="store_true", help="also show informational diagnostics"
    )
    _add_cache_option(agents)
    agents.set_defaults(func=_cmd_agents)

    ev = sub.add_parser(
        "eval",
        help="measure routing on a labels file",
        formatter_class=fmt,
        description="Route every labelled request and report accuracy, top-k accuracy, MRR,\n"
        "calibration error (ECE), abstention, the weakest agents and the worst confusions.\n\n"
        'LABELS is JSON Lines: {"request": "...", "agent": "name" or null,\n'
        '"also_correct": ["other-name", ...]} (null: no agent should take it).',
        epilog="exit status: 0 success, 1 accuracy below --fail-under, 2 usage or input error.",
    )
    ev.add_argument("labels", metavar="LABELS.jsonl", help="the labelled requests")
    _add_agents_option(ev, _DEFAULT_CATALOG)
    ev.add_argument(
        "--limit",
        "-k",
        dest="limit",
        type=_positive,
        default=3,
        help="k of top-k accuracy (default 3; -k is its 0.1 spelling)",
    )
    ev.add_argument(
        "--min-confidence",
        type=_fraction,
        default=None,
        metavar="X",
        help="also report coverage and precision when only answers of confidence >= X are "
        "acted on (what a hook does; it uses 0.7), and list the requests misrouted at X",
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
        type=_fraction,
        metavar="ACC",
        help="exit 1 when accuracy is below ACC (for CI)",
    )
    ev.add_argument("--json", action="store_true", help="print the report as JSON")
    ev.add_argument(
        "--fit",
        metavar="TRAIN.jsonl",
        help="learn from these labelled requests (same format) before evaluating",
    )
    _add_cache_option(ev)
    _add_encoder_option(ev)
    ev.set_defaults(func=_cmd_eval)

    li = sub.add_parser(
        "lint",
        help="find what makes a catalog route badly",
        formatter_class=fmt,
        description="Check a catalog for agents requests cannot tell apart (near-copy, overlap),\n"
        "weak descriptions (empty, short, generic), triggers shared by many agents,\n"
        "duplicate names, skipped or repaired files and, with --labels, agents that no\n"
        "labelled request reaches.\n\n"
        "Errors (requests will be misrouted): near-copy, duplicate-name, skipped-file,\n"
        "empty-description, unreachable. Everything else is a warning.",
        epilog="exit status: 0 no errors (warnings allowed), 1 errors found (or any finding\n"
        "with --strict), 2 usage or input error.",
    )
    li.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="agent files, folders or catalogs (the same as --agents PATH)",
    )
    _add_agents_option(li, _DEFAULT_CATALOG)
    li.add_argument("--labels", metavar="FILE", help="labels JSONL for the reachability checks")
    li.add_argument(
        "--overlap",
        type=_fraction,
        default=0.5,
        metavar="COS",
        help="description similarity for an overlap warning (default 0.5)",
    )
    li.add_argument(
        "--near-copy",
        type=_fraction,
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
    _add_cache_option(li)
    li.set_defaults(func=_cmd_lint)

    hk = sub.add_parser(
        "hook",
        help="Claude Code UserPromptSubmit hook: suggest a subagent or skill",
        formatter_class=fmt,
        description="Read a Claude Code UserPromptSubmit hook input (JSON) on stdin, route its\n"
        "prompt against the project's ($CLAUDE_PROJECT_DIR, else found up from cwd) and\n"
        "the user's .claude/agents and .claude/skills, and when one clearly fits, print\n"
        "the JSON that adds a note suggesting it. Print nothing when unsure or on any\n"
        "error. A large catalog without a cache is indexed in the background while the\n"
        "hook prints nothing, so it always answers within Claude Code's timeout.",
        epilog="exit status: always 0 (an exit status of 2 would block the prompt).",
    )
    _add_agents_option(hk, "the project's and the user's .claude/agents and .claude/skills")
    hk.add_argument(
        "--min-confidence",
        type=_fraction,
        default=0.7,
        metavar="P",
        help="suggest only at or above this confidence (default 0.7)",
    )
    hk.add_argument("--debug", action="store_true", help="log what happens to stderr")
    _add_cache_option(hk)
    hk.set_defaults(func=_cmd_hook)

    dr = sub.add_parser(
        "doctor",
        help="check the Claude Code setup: agents, cache, hook, MCP, a sample routing",
        formatter_class=fmt,
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
    _add_cache_option(dr)
    dr.set_defaults(func=_cmd_doctor)

    mc = sub.add_parser(
        "mcp",
        help="MCP server over stdio: route and list_agents tools",
        formatter_class=fmt,
        description="Serve the Model Context Protocol on stdin/stdout with two tools: route\n"
        "(arguments request, optional limit; returns the decision as JSON) and list_agents.\n"
        "Needs the mcp extra: pip install 'agentroute[mcp]'. In Claude Code:\n"
        "  claude mcp add agentroute -- agentroute mcp",
        epilog="exit status: 0 when the client closes the connection, 2 usage error "
        "(e.g. the mcp package is missing).",
    )
    _add_agents_option(mc, _DEFAULT_CATALOG)
    _add_cache_option(mc)
    _add_encoder_option(mc)
    mc.set_defaults(func=_cmd_mcp)
    return parser


def _escape_unencodable() -> None:
    """Write what the streams' encoding cannot hold as backslash escapes instead of failing.

    File names are bytes: one that is not UTF-8 reaches Python as lone surrogates
    (``bad\\xffname.md`` → ``'bad\\udcffname.md'``), which a strict UTF-8 stream refuses
    halfway through the output. Escaped, a JSON reader gets the same string back.
    """
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            # A closed or detached stream refuses; it then keeps its own setting.
            with contextlib.suppress(ValueError, OSError):
                reconfigure(errors="backslashreplace")


def _hook_misconfigured(usage_error: str) -> None:
    """Print the hook's one-time note about a command line argparse refused."""
    lines = [line for line in usage_error.splitlines() if line.strip()]
    problem = lines[-1].split("error: ", 1)[-1] if lines else "its command line was refused"
    try:
        from agentroute._hook import misconfigured

        sys.stdout.write(misconfigured(problem))
        sys.stdout.flush()
    except Exception:  # never block the prompt
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    is_hook = bool(args_list) and args_list[0] == "hook"
    parser = _parser()
    said = io.StringIO()
    try:
        with contextlib.redirect_stderr(said) if is_hook else contextlib.nullcontext():
            args = parser.parse_args(args_list)
    except SystemExit as exc:
        if is_hook:  # a misconfigured hook must not block the prompt either...
            sys.stderr.write(said.getvalue())
            if exc.code != 0:  # ...nor stay silent forever: Claude Code shows systemMessage
                _hook_misconfigured(said.getvalue())
            return EXIT_OK
        return EXIT_OK if exc.code == 0 else EXIT_USAGE
    from agentroute._errors import AgentrouteError

    _escape_unencodable()
    out = _PipeSafe(sys.stdout)
    try:
        code: int = args.func(args, cast("TextIO", out))
        out.flush()
    except (AgentrouteError, _UsageError, ValueError) as exc:
        sys.stderr.write(escape_controls(f"agentroute {args.command}: error: {exc}") + "\n")
        return EXIT_USAGE
    except BrokenPipeError:
        # The reader went away (e.g. `| head`); point stdout at devnull so the
        # interpreter's final flush does not raise again.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return EXIT_OK
    except KeyboardInterrupt:
        sys.stderr.write("\n")
        return 130
    return code


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
