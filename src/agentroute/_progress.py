"""Progress: the callback long work reports through, and a stderr bar that is one.

Long work (building a large index, evaluating thousands of labelled requests,
linting a large catalog) reports progress through a plain callable
``(done, total) -> None`` (:data:`Progress`), so the library never decides where
output goes; the command line passes a :class:`ProgressBar`, which draws only
when stderr is a terminal.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

__all__ = ["Progress", "ProgressBar"]

#: What long work calls as it advances: ``progress(done, total)``.
Progress = Callable[[int, int], None]

# Redraw at most this often: a bar that redraws per item costs more than the work.
_MIN_INTERVAL = 0.1
_WIDTH = 28


class ProgressBar:
    """``(done, total)`` callback drawing ``label [#####.....] 40% 400/1000`` on one line.

    Disabled (every call a no-op) unless ``stream`` is a terminal, so piping or
    redirecting stderr never fills a log with carriage returns.

    Examples
    --------
    >>> import io
    >>> bar = ProgressBar("eval", stream=io.StringIO())   # not a terminal: silent
    >>> bar(5, 10); bar.close()
    >>> bar.enabled
    False
    """

    def __init__(
        self, label: str, *, stream: TextIO | None = None, enabled: bool | None = None
    ) -> None:
        self.label = label
        self.stream = sys.stderr if stream is None else stream
        if enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            enabled = bool(isatty and isatty())
        self.enabled = enabled
        self._last = 0.0
        self._drawn = False

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if done < total and now - self._last < _MIN_INTERVAL:
            return
        self._last = now
        frac = 0.0 if total <= 0 else min(1.0, done / total)
        filled = int(frac * _WIDTH)
        bar = "#" * filled + "." * (_WIDTH - filled)
        self.stream.write(f"\r{self.label} [{bar}] {frac:4.0%} {done}/{total}")
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        """Erase the bar so the next output starts on a clean line."""
        if self.enabled and self._drawn:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self._drawn = False

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
