"""Routing at scale: JSON Lines files in constant memory, worker processes, Dask.

Three ways to route millions of logged requests, one function underneath,
:func:`route_records`, a pure function of a router and a batch of requests:

* :func:`route_file` streams a JSON Lines file through a router (``agentroute
  route --input FILE --output FILE``): it reads and writes a chunk at a time, so
  memory stays flat however long the file; ``jobs`` worker processes route chunks
  side by side, and answers are written in input order, so the output is the same
  whatever ``jobs`` is;
* :func:`route_bag` and :func:`route_frame` map it over the partitions of a Dask
  bag or dataframe (the ``dask`` extra): the router goes into the task graph once,
  so each worker receives it once, not once per partition.

Each input line is a JSON object with the request under ``"request"`` and,
optionally, an ``"id"`` that is copied to the answer, or a bare JSON string (a UTF-8
byte-order mark before line 1 is ignored). The key ``"text"`` of 0.2 is still read
for one release: such a line is routed, and :class:`BatchReport` counts it, as it
counts refused lines (the command line says so on stderr). A line that is not
one of these is answered with an ``"error"`` naming its line number; the lines
around it are routed as usual. That includes a line nested too deep for the JSON
reader, and one whose ``"id"`` is a number the answer could not write back as JSON
(``1e400``, ``NaN``): every answer line is strict JSON.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import os
import re
import secrets
import stat
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from agentroute._deprecated import replaced
from agentroute._spec import Decision

if TYPE_CHECKING:
    from agentroute._router import Router

__all__ = [
    "BatchReport",
    "decision_record",
    "route_bag",
    "route_file",
    "route_frame",
    "route_records",
]

#: Lines per chunk: large enough that ``route_many``'s batch products pay off, small
#: enough that a chunk's decisions take little memory.
CHUNK = 1_000


@replaced("agentroute.decision_record(d)", "d.to_dict()")
def decision_record(d: Decision) -> dict[str, Any]:
    """Deprecated since 0.3: :meth:`Decision.to_dict`, the one JSON form of a decision
    (this gave it without ``team`` and ``copies``)."""
    return d.to_dict()


def route_records(
    router: Router, requests: Iterable[str], *, limit: int = 5
) -> list[dict[str, Any]]:
    """Route a batch and return each decision as :meth:`Decision.to_dict` gives it (the
    ``--json`` form: with ``team``).

    The unit of work of every batch path here (and of Ray's ``map_batches`` or Spark's
    ``mapInPandas``, see docs/batch.md): a pure function of the router and the batch.
    """
    return [d.to_dict() for d in router.route_many(list(requests), limit=limit)]


# -- JSON Lines files --------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchReport:
    """What :func:`route_file` did: lines answered, lines refused, and the first refusal;
    lines that gave the request under the deprecated key ``"text"``, and the first."""

    routed: int
    errors: int
    first_error: str | None
    deprecated: int = 0
    first_deprecated: str | None = None


# What undecodable input bytes become when a file is read with "surrogateescape".
_UNDECODED = re.compile("[\udc80-\udcff]")


def _no_constant(name: str) -> Any:
    # json.loads reads NaN, Infinity and -Infinity, which no strict JSON reader accepts.
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400: a float cannot hold it, and json.dumps says "Infinity"
        raise ValueError(f"the number {text[:40]} is too large for a float")
    return value


# What a line whose request is under 0.2's second key is told (read for one release).
_TEXT_KEY = "the key 'text' is deprecated since agentroute 0.3: use 'request'"


def _parse(line: str, number: int) -> tuple[Any, str | None, str | None, str | None]:
    """``(id, request, error, note)`` of one input line; the note names a deprecated key."""
    if _UNDECODED.search(line):
        return None, None, f"line {number}: not UTF-8 text", None
    try:
        value = json.loads(line, parse_constant=_no_constant, parse_float=_finite)
    except ValueError as exc:
        return None, None, f"line {number}: not JSON ({exc})", None
    except RecursionError:  # 100,000 "[": nested deeper than the reader's stack
        return None, None, f"line {number}: not JSON (nested too deep)", None
    if isinstance(value, str):
        return None, value, None, None
    if isinstance(value, dict):
        # "request", when present, wins over "text", as it always did.
        if "request" not in value and isinstance(value.get("text"), str):
            return value.get("id"), value["text"], None, f"line {number}: {_TEXT_KEY}"
        text = value.get("request")
        if isinstance(text, str):
            return value.get("id"), text, None, None
        return value.get("id"), None, f"line {number}: no 'request' text", None
    return None, None, f"line {number}: expected an object or a string", None


#: One chunk's answer lines, its errors and its notes on deprecated keys.
_Answer = tuple[list[str], list[str], list[str]]


def _route_chunk(router: Router, lines: Sequence[tuple[int, str]], limit: int) -> _Answer:
    """Answer a chunk of numbered input lines: one JSON line each, in order, the errors
    among them and the notes on deprecated keys."""
    parsed = [_parse(text, number) for number, text in lines]
    notes = [p[3] for p in parsed if p[3] is not None]
    requests = [p[1] for p in parsed if p[1] is not None]
    records = iter(route_records(router, requests, limit=limit)) if requests else iter(())
    out: list[str] = []
    errors: list[str] = []
    for (number, _), (ident, _request, error, _note) in zip(lines, parsed, strict=True):
        record: dict[str, Any]
        if error is not None:
            record = {"line": number, "error": error}
            errors.append(error)
        else:
            record = next(records)
        if ident is not None:
            record = {"id": ident, **record}
        try:
            out.append(json.dumps(record, ensure_ascii=False, allow_nan=False))
        except (ValueError, RecursionError):  # an id nested too deep to write back
            error = f"line {number}: 'id' is nested too deep to write back"
            out.append(json.dumps({"line": number, "error": error}, ensure_ascii=False))
            if record.get("error") is None:
                errors.append(error)
    return out, errors, notes


_WORKER_ROUTER: Router | None = None


def _init_worker(router: Router) -> None:
    global _WORKER_ROUTER
    _WORKER_ROUTER = router


def _work(args: tuple[Sequence[tuple[int, str]], int]) -> _Answer:
    assert _WORKER_ROUTER is not None
    return _route_chunk(_WORKER_ROUTER, *args)


def _chunks(source: Iterable[str], size: int) -> Iterator[list[tuple[int, str]]]:
    chunk: list[tuple[int, str]] = []
    for number, line in enumerate(source, 1):
        if number == 1:  # Windows tools start UTF-8 files with a byte-order mark
            line = line.removeprefix("\ufeff")
        if line.strip():
            chunk.append((number, line))
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@dataclass(slots=True)
class _Tally:
    """What :func:`route_file` has answered so far, chunk by chunk."""

    routed: int = 0
    errors: int = 0
    first_error: str | None = None
    deprecated: int = 0
    first_deprecated: str | None = None

    def add(self, answer: _Answer) -> None:
        lines, refused, noted = answer
        self.routed += len(lines) - len(refused)
        self.errors += len(refused)
        if refused and self.first_error is None:
            self.first_error = refused[0]
        self.deprecated += len(noted)
        if noted and self.first_deprecated is None:
            self.first_deprecated = noted[0]

    def report(self) -> BatchReport:
        return BatchReport(
            routed=self.routed,
            errors=self.errors,
            first_error=self.first_error,
            deprecated=self.deprecated,
            first_deprecated=self.first_deprecated,
        )


def route_file(
    router: Router,
    source: IO[str],
    sink: IO[str],
    *,
    limit: int = 5,
    jobs: int = 1,
    chunk: int = CHUNK,
    progress: Callable[[int], None] | None = None,
) -> BatchReport:
    """Route every line of ``source`` (JSON Lines) and write one answer a line to ``sink``.

    Parameters
    ----------
    router : Router
    source, sink : text streams
        Read and written a chunk at a time: memory does not grow with the file.
    limit : int, keyword-only
        Candidates per answer.
    jobs : int, keyword-only
        Worker processes at most (1: route in this process). No more start than
        there are CPUs or chunks to route: two lines never start a pool. Each
        receives the router once; answers keep the input order, so the output does
        not depend on ``jobs``.
    chunk : int, keyword-only
        Lines per unit of work.
    progress : callable, keyword-only
        Called with the number of lines answered so far, after each chunk.
    """
    if jobs < 1 or chunk < 1:
        raise ValueError(f"jobs and chunk must be positive, got jobs={jobs!r}, chunk={chunk!r}")
    tally = _Tally()

    def write(answer: _Answer) -> None:
        sink.write("".join(f"{line}\n" for line in answer[0]))
        tally.add(answer)
        if progress is not None:
            progress(tally.routed + tally.errors)

    work = ((c, limit) for c in _chunks(source, chunk))
    # The first chunks are read before any worker starts, so a short file never pays
    # for (or holds the memory of) workers it has no work for.
    ahead = list(itertools.islice(work, min(jobs, os.cpu_count() or 1)))
    workers = len(ahead)
    if workers <= 1:
        for args in itertools.chain(ahead, work):
            write(_route_chunk(router, *args))
        return tally.report()

    import multiprocessing

    with multiprocessing.get_context().Pool(workers, _init_worker, (router,)) as pool:
        # A bounded window of chunks in flight: reading never runs ahead of writing by
        # more than 2 chunks a worker, whatever the file's length.
        pending: deque[Any] = deque()
        for args in itertools.chain(ahead, work):
            pending.append(pool.apply_async(_work, (args,)))
            if len(pending) >= 2 * workers:
                write(pending.popleft().get())
        while pending:
            write(pending.popleft().get())
    return tally.report()


@contextlib.contextmanager
def replacing(path: str) -> Iterator[IO[str]]:
    """A text stream whose contents replace the file ``path`` only once it is complete.

    Written to a temporary file beside the target (its real path, when ``path`` is a
    link) and renamed over it on success: an interrupted run leaves the old file (or
    none), never a valid-looking partial one. A target that exists and is not a
    regular file (``/dev/null``, a FIFO) is written directly: it cannot be renamed
    over. Lone surrogates in a request (a JSON ``"\\ud800"`` escape) are written as
    the escape again, so the output reads back to the same text.
    """
    target = os.path.realpath(path)
    try:
        special = not stat.S_ISREG(os.stat(target).st_mode)
    except FileNotFoundError:
        special = False
    if special:
        with open(target, "w", encoding="utf-8", errors="backslashreplace") as direct:
            yield direct
        return
    folder, name = os.path.split(target)
    tmp = os.path.join(folder, f".{name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    # 0o666 less the umask, as open() would have created the file itself.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as fh:
            yield fh
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


# -- Dask --------------------------------------------------------------------------------


def _shipped(router: Router) -> Any:
    """The router as partitions receive it: with a ``distributed`` client, scattered
    to the workers once (a large router inside the graph would travel with every
    graph sent, with "Sending large graph" warnings); else one delayed object every
    partition depends on."""
    try:
        from distributed import get_client

        client = get_client()
    except (ImportError, ValueError):  # no distributed, or no client: the local scheduler
        from dask.delayed import delayed

        return delayed(router, pure=True, traverse=False)
    return client.scatter(router, broadcast=True, hash=False)  # type: ignore[no-untyped-call]


def _partition(requests: Iterable[Any], router: Router, limit: int) -> list[dict[str, Any]]:
    return route_records(router, [str(r) for r in requests], limit=limit)


def route_bag(bag: Any, router: Router, *, limit: int = 5) -> Any:
    """A Dask bag of requests → a bag of decision records (:meth:`Decision.to_dict`), in order.

    The router is shipped once (scattered to each worker when a ``distributed`` client
    is running, else a single task every partition depends on), not once per
    partition. Needs the ``dask`` extra.
    """
    return bag.map_partitions(_partition, _shipped(router), limit)


_FRAME_COLUMNS = ("agent", "alternatives", "status", "confidence", "group_confidence", "reason")
_FLOAT_COLUMNS = ("confidence", "group_confidence")


def _frame_partition(frame: Any, router: Router, column: str, limit: int) -> Any:
    import pandas as pd

    records = route_records(router, [str(t) for t in frame[column]], limit=limit)
    out = frame.copy()
    for name in _FRAME_COLUMNS:
        values = [r[name] for r in records]
        # object, not pandas' inferred string dtype, so a None agent stays None (not NaN).
        dtype = float if name in _FLOAT_COLUMNS else object
        out[name] = pd.Series(values, index=frame.index, dtype=dtype)
    return out


def route_frame(frame: Any, router: Router, *, column: str = "request", limit: int = 5) -> Any:
    """A Dask dataframe with a text ``column`` → the same dataframe with ``agent`` (None
    when no agent fits), ``alternatives``, ``status``, ``confidence``,
    ``group_confidence`` and ``reason`` columns added (the input's columns and index
    kept; an input column of one of those names is replaced). Needs the ``dask`` extra."""
    import pandas as pd

    meta = frame._meta.copy()
    for name in _FRAME_COLUMNS:
        meta[name] = pd.Series(dtype=float if name in _FLOAT_COLUMNS else object)
    return frame.map_partitions(_frame_partition, _shipped(router), column, limit, meta=meta)
