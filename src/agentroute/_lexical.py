"""The lexical signals: five views of the index, each a small class (see :mod:`agentroute._signal`).

* :class:`BM25F`: BM25F over name, description, hints and body (see
  :mod:`agentroute._index`), divided by the best score the request could reach;
* :class:`Word`: cosine of sublinear TF-IDF unigram vectors (request vs whole agent);
* :class:`Char`: cosine of character n-gram vectors (morphology, typos); on a very
  large catalog read for the agents that lead on BM25F + word only;
* :class:`Trigger`: the agent's trigger phrases found in the request, weighted by how
  rare each trigger is (kept for the reason; weight 0 by default);
* :class:`Coverage`: the IDF share of the request's terms an agent's text contains
  (not fused; the calibration reads it).

Each names the index arrays it reads (saved by the index cache), its weight and the
calibration inputs it adds; :data:`LEXICAL` lists them in the order they are fused.
Adding one is a class here (or in a module of its own) and a line in :data:`LEXICAL`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from agentroute._index import Index
from agentroute._signal import Batch, LexicalSignal, Stored, View

__all__ = ["BM25F", "LEXICAL", "Char", "Coverage", "Trigger", "Word", "signal_named"]

_AGENTS = "agents"
_TERMS = "feature_names"
_GRAMS = "char_names"


class BM25F:
    """BM25F sums, divided by the best a request could reach: every known term
    saturated, plus its unknown words at the highest IDF (no agent accounts for them)."""

    name: str = "bm25"
    default_weight: float | None = 1.0
    inputs: tuple[str, ...] = ("bm25",)
    stored: tuple[Stored, ...] = (Stored("bm25_t", "matrix", np.float64, _TERMS, _AGENTS),)

    def candidates_only(self, index: Index) -> bool:
        return False

    def score(self, batch: Batch) -> View:
        index = batch.index
        reach = (batch.reach + index.top_idf * batch.unknown) * (index.config.bm25_k1 + 1.0)
        raw = batch.raw["bm25"]
        out = np.divide(raw, reach[:, None], out=np.zeros_like(raw), where=reach[:, None] > 0)
        return View(out)


class Word:
    """Cosine of the request's sublinear TF-IDF unigram vector with each whole agent's."""

    name: str = "word"
    default_weight: float | None = 1.0
    inputs: tuple[str, ...] = ("word", "word_z")
    stored: tuple[Stored, ...] = (
        Stored("word_idf", "vector", np.float64, _TERMS),
        Stored("word_t", "matrix", np.float64, _TERMS, _AGENTS),
    )

    def candidates_only(self, index: Index) -> bool:
        return False

    def score(self, batch: Batch) -> View:
        return View(batch.raw["word"])


# -- large catalogs: the char view for pre-selected candidates --------------------------------
#
# The char view reads every (n-gram, agent) pair of a request's ~200 n-grams: ~1.1M at 10,000
# agents, ~11M at 100,000, too many for an interactive route. From this many agents on, it is
# read only for the ``preselect`` agents that lead on BM25F + word (binary search of each n-gram's
# row for them), and the char scores of the others are 0; their mean and spread, which the
# scope model reads, are estimated: the mean exactly (the request's vector times each
# n-gram's column sum), the spread from the candidates, the others' mean and the variance of
# an evenly spaced sample of the others (_SPREAD_SAMPLE agents, read with the candidates;
# before it, the others' own variance was left out and 188 of 200 decisions at 50,000 agents,
# 186 of 200 at 100,000, equalled the exact view's; with it, 200 of 200 at 100,000,
# benchmarks/build_memory.py --agreement). The search
# costs about the same whatever the catalog; the exact product grows with it. Measured on a
# loaded 2-core machine: at 10,000 agents 24 ms pre-selected against 15-17 ms exact, at
# 20,000 about even, so the threshold sits above both (decisions at 20,000 agents with it
# lowered: 200 of 200 equal to exact, benchmarks/speed.py). Below it (every labelled
# catalog, and 10,000 and 20,000 agents) scoring is exact, as before. Both numbers are
# IndexConfig fields (preselect_min_agents, preselect).
_SPREAD_SAMPLE = 2_000


def char_candidates(
    index: Index, cols: np.ndarray, values: np.ndarray, candidates: np.ndarray
) -> np.ndarray:
    """float32 char cosines for ``candidates`` (ascending agent ids): the same bits as the
    full product gives them (the same products, summed in the same order)."""
    # Through the matrix's own method, not its arrays: one mapped from the cache reads
    # (and checks) only these rows, and decodes the values of these columns only.
    acc: np.ndarray = index.chars_t.weighted_columns(cols, values, candidates)
    return acc


def _candidates_and_sample(
    index: Index, cols: np.ndarray, values: np.ndarray, candidates: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The char cosines of ``candidates`` (ascending; bit for bit the full product's) and
    of an evenly spaced sample of the other agents (:data:`_SPREAD_SAMPLE` positions, the
    same for every request), read in one pass over the request's n-gram rows (``cols``,
    ``values``: its char vector). The sample's variance is what the spread of a
    pre-selected view misses when it puts every other agent at their mean."""
    n = index.n_agents
    sample = np.arange(0, n, max(1, n // _SPREAD_SAMPLE), dtype=np.int64)
    both = np.union1d(candidates, sample)
    found = char_candidates(index, cols, values, both)
    chosen = np.isin(both, candidates)
    return found[chosen], found[~chosen]


class Char:
    """Cosine of the request's character n-gram TF-IDF vector with each agent's (name,
    description and the head of the body)."""

    name: str = "char"
    default_weight: float | None = 1.0
    inputs: tuple[str, ...] = ("char", "char_z")
    stored: tuple[Stored, ...] = (
        Stored(_GRAMS, "vocabulary"),
        Stored("char_idf", "vector", np.float32, _GRAMS),
        Stored("chars_t", "matrix", np.float32, _GRAMS, _AGENTS),
        Stored("char_sums", "vector", np.float64, _GRAMS),
    )
    #: The views whose lead picks the candidates on a large catalog.
    lead = ("bm25", "word")

    def candidates_only(self, index: Index) -> bool:
        return index.n_agents >= index.config.preselect_min_agents

    def score(self, batch: Batch) -> View:
        if not self.candidates_only(batch.index):
            return View(batch.raw["char"])
        index, vectors = batch.index, batch.vectors
        if vectors is None:
            raise ValueError("the char view of a pre-selected catalog needs the request vectors")
        n = index.n_agents
        char = np.zeros((len(vectors), n), dtype=np.float64)
        moments = np.zeros((len(vectors), 2), dtype=np.float64)
        lead = batch.lead(self.lead)
        k = min(index.config.preselect, n)
        for r, v in enumerate(vectors):
            if not v.char_cols.size:
                continue
            candidates = np.sort(np.argpartition(-lead[r], k - 1)[:k])
            exact, others = _candidates_and_sample(index, v.char_cols, v.char_values, candidates)
            char[r, candidates] = exact
            mean = float(v.char_values.astype(np.float64) @ index.char_sums[v.char_cols]) / n
            rest = n - k
            rest_mean = (mean * n - float(exact.sum(dtype=np.float64))) / rest if rest else mean
            spread = float(((exact - mean) ** 2).sum()) + rest * (rest_mean - mean) ** 2
            if others.size > 1:  # the others' own variance, from the sample
                spread += rest * float(others.astype(np.float64).var())
            moments[r] = (mean, math.sqrt(max(spread, 0.0) / n))
        return View(char, moments)


class Trigger:
    """The agent's trigger phrases the request holds, rarer ones and phrases of several
    words weighing more; computed only when its weight is positive (else zeros: the
    decision reads the best agent's triggers alone, from :attr:`Batch.matched`)."""

    name: str = "trigger"
    default_weight: float | None = 0.0
    inputs: tuple[str, ...] = ()
    stored: tuple[Stored, ...] = ()  # the trigger table travels in the cache's payload

    def candidates_only(self, index: Index) -> bool:
        return False

    def score(self, batch: Batch) -> View:
        index = batch.index
        raw = np.zeros((len(batch.queries), index.n_agents), dtype=np.float64)
        if batch.weights.get(self.name, 0.0) <= 0:
            return View(raw, bounded=True)
        for r, keys in enumerate(batch.matched):
            for key in keys:
                # A phrase of several words is stronger evidence than a single word.
                weight = index.trigger_weight[key] * (1.0 + 0.5 * key.count(" "))
                for agent in index.triggers[key]:
                    raw[r, agent] += weight
        out: np.ndarray = -np.expm1(-raw)  # in [0, 1) for raw >= 0
        return View(out, bounded=True)


class Coverage:
    """The IDF share of the request's single terms each agent's text contains, its
    unknown words counted at the highest IDF (reads BM25F's pattern: no arrays of its own)."""

    name: str = "coverage"
    default_weight: float | None = None
    inputs: tuple[str, ...] = ("coverage",)
    stored: tuple[Stored, ...] = ()

    def candidates_only(self, index: Index) -> bool:
        return False

    def score(self, batch: Batch) -> View:
        hit = batch.raw["hit"]
        total = batch.total + batch.index.top_idf * batch.unknown
        out = np.divide(hit, total[:, None], out=np.zeros_like(hit), where=total[:, None] > 0)
        np.clip(out, 0.0, 1.0, out=out)
        return View(out, bounded=True)


#: The lexical signals, in the order they are fused (the order of ``Weights``' fields).
LEXICAL: tuple[LexicalSignal, ...] = (BM25F(), Word(), Char(), Trigger(), Coverage())


def signal_named(name: str, signals: Sequence[LexicalSignal] = LEXICAL) -> LexicalSignal:
    """The signal called ``name``.

    >>> signal_named("char").inputs
    ('char', 'char_z')
    """
    for s in signals:
        if s.name == name:
            return s
    raise KeyError(f"no lexical signal named {name!r}; known: {', '.join(s.name for s in signals)}")
