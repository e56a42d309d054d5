"""``agentroute route``: one request, stdin one per line, a JSON Lines file, or ``--explain``."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from typing import TYPE_CHECKING, TextIO

from agentroute._cmd import (
    EXIT_NO_MATCH,
    EXIT_OK,
    EXIT_USAGE,
    UsageError,
    add_agents_option,
    add_cache_option,
    add_encoder_option,
    load_router,
    positive,
)
from agentroute._terminal import Paint, painter

if TYPE_CHECKING:
    from agentroute._router import Router
    from agentroute._spec import Decision, TeamMember

__all__ = ["add_parser", "run"]

# Lines of stdin routed at once (faster than one by one; answered in input order).
_STDIN_BATCH = 256


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Declare ``route`` and its options."""
    route = sub.add_parser(
        "route",
        help="route a request (or stdin, one per line)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Route a request to the best agent.\n\n"
        "With REQUEST '-' or absent (and stdin not a terminal), route every line of stdin;\n"
        "blank lines are skipped and answers come in input order, one line each.",
        epilog="exit status: 0 routed or ambiguous, 1 no agent fits (a single REQUEST only;\n"
        "stdin mode exits 0 once every line is answered), 2 usage or input error.",
    )
    route.add_argument(
        "request", nargs="?", metavar="REQUEST", help="the request text; '-' or absent: read stdin"
    )
    add_agents_option(route)
    route.add_argument(
        "--limit",
        "--top",
        dest="limit",
        type=positive,
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
    add_cache_option(route)
    add_encoder_option(route)
    route.set_defaults(func=run)


def run(args: argparse.Namespace, out: TextIO) -> int:
    """Route what ``args`` names and write the answers to ``out``; the exit status."""
    if args.explain is not None:
        return _explain(args, out)
    if args.input is not None:
        return _route_file(args, out)
    if args.output is not None or args.jobs is not None:
        raise UsageError("--output and --jobs go with --input FILE")
    from_stdin = args.request is None or args.request == "-"
    if from_stdin and args.request is None and sys.stdin.isatty():
        raise UsageError("give a REQUEST, or pipe requests on stdin (one per line)")
    router = load_router(
        args.agents, strict=args.strict, cache=not args.no_cache, encoder=args.encoder
    )
    if from_stdin:
        return _route_stdin(router, args, out)
    d = router.route(args.request, limit=args.limit)
    if args.json:
        out.write(json.dumps(d.to_dict(), ensure_ascii=False) + "\n")
    else:
        _write_decision(d, out, painter(out))
    return EXIT_NO_MATCH if d.status == "no_match" else EXIT_OK


# -- one request ------------------------------------------------------------------------
def _who(d: Decision) -> str:
    """The agent, and its alternatives: ``postgres-pro (or database-optimizer)``."""
    if d.agent is None:
        return "-"
    return f"{d.agent} (or {', '.join(d.alternatives)})" if d.alternatives else d.agent


def _how_sure(d: Decision | TeamMember) -> str:
    """The confidence, and the group's when it differs: ``0.48 (group 0.86)`` (of a
    decision, or of a team member for its part)."""
    if d.alternatives:
        return f"{d.confidence:.2f} (group {d.group_confidence:.2f})"
    return f"{d.confidence:.2f}"


def _write_decision(d: Decision, out: TextIO, paint: Paint) -> None:
    """The decision, its reason, its candidates and its team, for a reader."""
    out.write(f"{_who(d)}\t{paint(d.status, d.status)}\t{_how_sure(d)}\n{d.reason}\n")
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
            out.write(f"  - {role} {m.agent}{alts}  {_how_sure(m)}  {m.part}\n")


# -- stdin, one request per line --------------------------------------------------------
def _route_stdin(router: Router, args: argparse.Namespace, out: TextIO) -> int:
    """One request per line; blank lines are skipped. Lines are routed in batches
    (faster than one by one) and answered in input order."""
    paint = painter(out)
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
        if len(batch) >= _STDIN_BATCH:
            flush()
    if batch:
        flush()
    return EXIT_OK


# -- --explain AGENT --------------------------------------------------------------------
def _explain(args: argparse.Namespace, out: TextIO) -> int:
    """``route --explain AGENT REQUEST``: where AGENT stands and what keeps it from the top."""
    if args.request in (None, "-") or args.input is not None:
        raise UsageError("--explain AGENT needs one REQUEST (not stdin or --input)")
    router = load_router(args.agents, strict=args.strict, cache=not args.no_cache)
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


# -- --input FILE.jsonl -----------------------------------------------------------------
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


def _open_input(args: argparse.Namespace) -> TextIO:
    """The ``--input`` file (or stdin), refusing an ``--output`` that is the same file."""
    reading_stdin = args.input == "-"
    if args.output not in (None, "-") and (
        _stdin_is(args.output) if reading_stdin else _same_file(args.input, args.output)
    ):
        raise UsageError(f"--output {args.output} is the --input file: write the answers elsewhere")
    if reading_stdin:
        return sys.stdin
    try:
        # A line that is not UTF-8 is answered with an error naming it (as on stdin),
        # not the end of the run: undecodable bytes arrive as lone surrogates.
        return open(args.input, encoding="utf-8", errors="surrogateescape")
    except OSError as exc:
        raise UsageError(f"cannot read {args.input}: {exc.strerror or exc}") from None


def _route_file(args: argparse.Namespace, out: TextIO) -> int:
    """``route --input FILE.jsonl [--output FILE.jsonl] [--jobs N]``."""
    from agentroute._batch import replacing, route_file

    if args.request is not None:
        raise UsageError("give either a REQUEST or --input, not both")
    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    router = load_router(
        args.agents, strict=args.strict, cache=not args.no_cache, encoder=args.encoder
    )
    source = _open_input(args)
    from agentroute._progress import ProgressBar

    bar = ProgressBar("routing")
    total = _count_lines(args.input) if bar.enabled and source is not sys.stdin else 0
    with contextlib.ExitStack() as stack:
        if source is not sys.stdin:
            stack.callback(source.close)
        try:
            # Answers go to a temporary file renamed over --output when complete.
            writing_stdout = args.output in (None, "-")
            sink = out if writing_stdout else stack.enter_context(replacing(args.output))
        except OSError as exc:
            raise UsageError(f"cannot write {args.output}: {exc.strerror or exc}") from None
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
            raise UsageError(f"{args.input}: not UTF-8 text ({exc.reason})") from None
    if report.deprecated:
        sys.stderr.write(
            f"agentroute: {report.deprecated} line(s) of {args.input} were routed but give the "
            f"request under 'text' (first: {report.first_deprecated}); 'text' is read until "
            "agentroute 0.4\n"
        )
    if report.errors:
        sys.stderr.write(
            f"agentroute: {report.errors} line(s) of {args.input} could not be routed "
            f"(first: {report.first_error}); each is answered with an 'error'\n"
        )
        return EXIT_USAGE
    return EXIT_OK
