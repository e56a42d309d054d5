"""Building and writing an index without NumPy's transparent huge page hint.

NumPy asks the kernel for transparent huge pages (``madvise(MADV_HUGEPAGE)``) for the
data of every array of 4 MB or more. Where the kernel's THP ``defrag`` setting is
``madvise`` (a common distribution default), a page fault in such an array may first
compact memory, synchronously, in the kernel. An index build allocates and frees many
arrays of tens of megabytes (a slice's n-gram counts, their weights, their places), each
freshly mapped: at 10,000 agents a third of the build's CPU time was the kernel's
(15.8 of 42.9 s; 3.5 of 29.5 s without the hint, the user time the same,
``benchmarks/README.md``). The hint only asks for a page size; every value computed is
the same either way.

The hint is process-wide (NumPy's ``_set_madvise_hugepage``), so :func:`small_pages`
turns it off while a build or a cache write runs and puts back what it found when the
last one running ends (builds in several threads share one count); where NumPy has no
such switch it does nothing.

>>> with small_pages():
...     pass
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["small_pages"]


def _switch() -> Callable[[bool], bool] | None:
    """NumPy's switch of the hint (private, so looked up, never assumed)."""
    import importlib

    try:
        multiarray = importlib.import_module("numpy._core.multiarray")
    except ImportError:  # pragma: no cover - NumPy 1.x
        multiarray = importlib.import_module("numpy.core.multiarray")
    found = getattr(multiarray, "_set_madvise_hugepage", None)
    return found if callable(found) else None


class _Hint:
    """How many builds or writes run with the hint off, and the setting to put back."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = 0
        self.before = True
        self.switch: Callable[[bool], bool] | None = None  # the first one's, put back by the last

    def enter(self) -> None:
        with self.lock:
            if self.running == 0:
                self.switch = _switch()
                if self.switch is not None:
                    self.before = bool(self.switch(False))
            self.running += 1

    def leave(self) -> None:
        with self.lock:
            self.running -= 1
            if self.running == 0 and self.switch is not None:
                self.switch(self.before)
                self.switch = None


# One per process, as the setting it guards is.
_HINT = _Hint()


@contextmanager
def small_pages() -> Iterator[None]:
    """Run the block with NumPy's huge page hint off (see the module docstring)."""
    _HINT.enter()
    try:
        yield
    finally:
        _HINT.leave()
