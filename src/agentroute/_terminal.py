"""The terminal side of the command line: colour, escaped output, a reader that left.

Everything agentroute prints about agent files (names, triggers, reasons, paths)
is untrusted text: :class:`PipeSafe` escapes its terminal controls, and lets
only agentroute's own colours (:class:`Paint`) through, only on a terminal.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
from typing import TextIO

from agentroute._text import escape_controls

__all__ = ["Paint", "PipeSafe", "escape_unencodable", "painter", "use_color"]

COLORS = {"routed": "32", "ambiguous": "33", "no_match": "31", "error": "31", "warning": "33"}
# The escape sequences Paint writes: the only ones that reach the terminal raw.
OWN_COLORS = re.compile("(\x1b\\[(?:0|31|32|33)m)")


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
            parts = OWN_COLORS.split(text)
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


def use_color(stream: TextIO) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def painter(stream: TextIO) -> Paint:
    return Paint(use_color(stream))


class Paint:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, key: str) -> str:
        code = COLORS.get(key)
        return f"\033[{code}m{text}\033[0m" if self.enabled and code else text


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
