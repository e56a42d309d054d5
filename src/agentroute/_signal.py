"""What a scoring signal is, and how the router fuses the optional ones with the lexical score.

A signal is one module: it builds its arrays from the agents once (kept with the router and
saved by :meth:`Router.save`), scores a batch of requests into a requests x agents matrix in
[0, 1], and names the calibration inputs it adds. The lexical views (BM25F, word and char
TF-IDF, coverage, triggers: :mod:`agentroute._score`) are fused first, as before; every
further signal (today the semantic view, :mod:`agentroute._semantic`) is fused onto that
score by :func:`fuse`, in the order the router lists them. A router with no further signal
routes exactly as the lexical score alone says.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

__all__ = ["Signal", "fuse", "stretch"]


class Signal(Protocol):
    """A scoring view of the catalog (see the module docstring)."""

    #: Names the view in saved routers and reasons.
    name: str
    #: The calibration inputs it adds, in order.
    inputs: tuple[str, ...]

    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays built from the agents, as a saved router stores them."""
        ...

    def score(self, texts: Sequence[str]) -> np.ndarray:
        """``len(texts) x agents`` scores in [0, 1], one batch."""
        ...


def stretch(raw: np.ndarray) -> np.ndarray:
    """Each row mapped so its best agent is 1 and the catalog's mean agent is 0 (clipped).

    A cosine view gives every agent something (0.1-0.3 for unrelated texts); the lexical
    fused score gives most agents 0 and the best 1. Stretching puts both on that scale, so
    a fused margin, and the calibration reading it, mean what they meant.

    >>> stretch(np.array([[0.2, 0.4, 0.6]])).tolist()
    [[0.0, 0.0, 1.0]]
    """
    mean = raw.mean(axis=1, keepdims=True)
    top = raw.max(axis=1, keepdims=True)
    span = top - mean
    out: np.ndarray = np.divide(raw - mean, span, out=np.zeros_like(raw), where=span > 1e-12)
    np.clip(out, 0.0, 1.0, out=out)
    return out


def fuse(combined: np.ndarray, views: Sequence[tuple[float, np.ndarray]]) -> np.ndarray:
    """The lexical fused score with each further view mixed in at its weight:
    ``(1 - w) * combined + w * stretch(view)``, view after view. No view: ``combined``
    itself (the same array, bit for bit)."""
    out = combined
    for weight, raw in views:
        if weight <= 0.0:
            continue
        out = (1.0 - weight) * out + weight * stretch(raw)
    return out
