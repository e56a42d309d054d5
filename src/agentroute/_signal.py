"""What a scoring signal is, and how the router fuses the signals into one score.

A signal is one module: what it keeps from the agents (saved in the index cache, or by
:meth:`Router.save`), how it scores a batch of requests into a requests x agents matrix
in [0, 1], and the calibration inputs it adds. Two kinds:

* a :class:`LexicalSignal` (BM25F, word and char TF-IDF, coverage, triggers:
  :mod:`agentroute._lexical`) reads the index's arrays, which
  :func:`agentroute._build.build_index` fits over one shared vocabulary and the index
  cache stores (each signal names its arrays: :class:`Stored`). They score a batch
  together (:class:`Batch`): the request's terms are found and its sparse vectors
  multiplied with the index once for all of them, and a signal may read what the
  others computed (the char view of a very large catalog is read only for the agents
  that lead on BM25F + word). :func:`agentroute._score.score` fuses them, relative to
  each request's best agent, at their :class:`~agentroute._score.Weights`;
* a :class:`Signal` holds arrays of its own (today the semantic view,
  :mod:`agentroute._semantic`): it scores the raw texts, a saved router stores its
  arrays, and :func:`fuse` mixes it onto the lexical score, in the order the router
  lists them. A router with no such signal routes exactly as the lexical score says.

Adding a lexical signal that reads the index's arrays is a class in a module and its line
in :data:`agentroute._lexical.LEXICAL`; the fusion, the weights, the scores a decision
reads and the index cache iterate over that tuple. One that needs arrays of its own adds
them to :class:`~agentroute._index.Index` and :func:`~agentroute._build.build_index` too
(the views share one counting pass over the agents); the cache stores them by the
signal's :class:`Stored` description.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

import numpy as np

if TYPE_CHECKING:
    from agentroute._index import Index
    from agentroute._score import Query

__all__ = [
    "SAVED_SIGNALS",
    "Batch",
    "LexicalSignal",
    "Signal",
    "Stored",
    "View",
    "fuse",
    "relative",
    "stretch",
]


class Signal(Protocol):
    """A scoring view with arrays of its own (see the module docstring)."""

    @property
    def name(self) -> str:
        """Names the view in saved routers and reasons; its saved arrays start with it."""
        ...

    @property
    def inputs(self) -> tuple[str, ...]:
        """The calibration inputs it adds, in order."""
        ...

    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays built from the agents, as a saved router stores them (each name
        starting with ``name`` and an underscore)."""
        ...

    def record(self) -> dict[str, str]:
        """What a saved router notes beside the arrays: what made them (an encoder's
        label and identity), so that loading can tell whether they still fit."""
        ...

    def score(self, texts: Sequence[str]) -> np.ndarray:
        """``len(texts) x agents`` scores in [0, 1], one batch."""
        ...


#: The signals with arrays of their own a router file can hold, by name (its records sit
#: under these keys of the file's ``meta``, its arrays are named after them).
SAVED_SIGNALS = ("semantic",)


@dataclass(frozen=True, slots=True)
class Stored:
    """An array a lexical signal reads from the index: the :class:`~agentroute._index.Index`
    attribute ``name``, a ``"vector"``, a ``"matrix"`` (:class:`~agentroute._index.Csr`) or
    a ``"vocabulary"`` (:class:`~agentroute._index.Strings`). ``dtype`` is the float type
    of its values (vectors, matrices); ``rows`` and ``cols`` name its dimensions:
    ``"agents"`` or the name of a vocabulary (a vector has ``rows`` only). The index
    cache saves and checks it by this description."""

    name: str
    kind: Literal["vector", "matrix", "vocabulary"]
    dtype: Any = None
    rows: str = "agents"
    cols: str = "agents"


@dataclass(frozen=True, slots=True)
class View:
    """What a lexical signal gives for a batch: ``values`` (requests x agents, absolute,
    in [0, 1] up to float round-off, which the fusion clips after fusing, unless
    ``bounded`` says they lie in [0, 1] exactly) and, when it read only some agents of each
    request, ``moments``: per request, the mean and spread its values would have over every
    agent (what a z-score over the catalog reads), else None."""

    values: np.ndarray
    moments: np.ndarray | None = None
    bounded: bool = False


@dataclass(frozen=True, slots=True, eq=False)
class Batch:
    """What the lexical signals read for a batch of requests, computed once for all.

    ``raw``: the products of the requests' vectors with the index, by name (``bm25``:
    BM25F sums; ``word``: word cosines; ``char``: char cosines, zeros when a signal
    reads them for candidates only; ``hit``: the IDF of the request's terms each
    agent's text holds). ``reach``, ``total``, ``unknown``: per request, the IDF of its
    known terms and bigrams, of its known single terms, and how many distinct terms the
    index does not know. ``vectors``: the requests' sparse vectors when they were made
    one by one (a signal that reads candidates only needs them), else None.
    ``matched``: the trigger keys each request holds. ``weights``: each fused signal's
    normalised weight.
    """

    index: Index
    queries: Sequence[Query]
    raw: Mapping[str, np.ndarray]
    reach: np.ndarray
    total: np.ndarray
    unknown: np.ndarray
    vectors: Sequence[Any] | None
    matched: tuple[tuple[str, ...], ...]
    weights: Mapping[str, float]

    def lead(self, names: Sequence[str]) -> np.ndarray:
        """The fused score of the raw products ``names`` alone, at their weights: which
        agents lead before a costlier view is read."""
        out = np.zeros((len(self.queries), self.index.n_agents), dtype=np.float64)
        for name in names:
            out = out + self.weights.get(name, 0.0) * relative(self.raw[name])
        return out


class LexicalSignal(Protocol):
    """A view of the index that scores a :class:`Batch` (see the module docstring)."""

    #: Its matrix in :class:`~agentroute._score.Scores`, and its weight's name.
    name: str
    #: Its weight when :class:`~agentroute._score.Weights` has no field of its name;
    #: None: not fused (read by the calibration only).
    default_weight: float | None
    #: The calibration inputs it adds (fields of :class:`agentroute._calibrate.Signals`).
    inputs: tuple[str, ...]
    #: The index arrays it reads (the index cache stores them).
    stored: tuple[Stored, ...]

    def candidates_only(self, index: Index) -> bool:
        """Whether it reads ``index`` for pre-selected agents only: then its product is
        not computed for the whole batch (``Batch.raw`` holds zeros)."""
        ...

    def score(self, batch: Batch) -> View:
        """Its scores for every request of ``batch``."""
        ...


def relative(raw: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Each row divided by its best agent's value (0 where no agent scores); written into
    ``out`` (an array of ``raw``'s shape and dtype) when given, else into a new array.

    >>> relative(np.array([[0.5, 0.25], [0.0, 0.0]])).tolist()
    [[1.0, 0.5], [0.0, 0.0]]
    """
    top = raw.max(axis=1, keepdims=True) if raw.shape[1] else np.zeros((raw.shape[0], 1))
    if out is None:
        out = np.zeros_like(raw)
    else:
        out.fill(0.0)
    np.divide(raw, top, out=out, where=top > 0)
    return out


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
