"""What the command line writes to a terminal: colour, escaped controls, a reader that left.

Every subcommand writes through :class:`PipeSafe`, so a name, trigger or reason
read from an agent file cannot clear the screen or set the title, and ``| head``
does not turn a command's own exit status into a traceback. :class:`Paint`
colours a status word, only on a terminal and only when ``NO_COLOR`` is unset.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
from typing import TextIO

from agentroute._text import escape_controls

__all__ = [
    "Paint",
    "PipeSafe",
    "drop_output",
    "escape_unencodable",
    "is_terminal",
    "painter",
    "use_color",
]

_COLORS = {"routed": "32", "ambiguous": "33", "no_match": "31", "error": "31", "warning": "33"}
# The escape sequences Paint writes: the only ones that reach the terminal raw.
_OWN_COLORS = re.compile("(\x1b\\[(?:0|31|32|33)m)")


def is_terminal(stream: TextIO) -> bool:
    """Whether ``stream`` is a terminal (a stream without ``isatty`` is not)."""
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def use_color(stream: TextIO) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    return is_terminal(stream)


class Paint:
    """``paint(text, key)``: ``text`` in the colour of ``key`` (a status or severity)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, key: str) -> str:
        code = _COLORS.get(key)
        return f"\033[{code}m{text}\033[0m" if self.enabled and code else text


def painter(stream: TextIO) -> Paint:
    """The :class:`Paint` for ``stream``: on when :func:`use_color` says so."""
    return Paint(use_color(stream))


def drop_output(stream: TextIO) -> None:
    """Point ``stream``'s file at devnull, so the interpreter's final flush does not
    raise again after the reader went away."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
    except (OSError, ValueError):
        pass


class PipeSafe(io.TextIOBase):
    """stdout that outlives its reader: once the reader has gone (``| head``,
    ``| true``), writes are dropped, so a command still returns its own exit status
    (``route`` exits 1 on no_match even when nobody reads the answer)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.broken = False
        self.colors = use_color(stream)

    def _gone(self) -> None:
        self.broken = True
        drop_output(self._stream)

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


def escape_unencodable() -> None:
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
