"""Confidence and scope: what the scores of one request say about the decision.

:class:`Calibration` turns :class:`Signals` (read from a request's scores over
the whole catalog by :func:`signals`) into two probabilities: that the top
candidate is right, and that the request is meant for this catalog at all.
The shipped constants are printed by ``benchmarks/fit_defaults.py``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np

from agentroute._index import Index
from agentroute._score import Query, Scores

__all__ = [
    "CONFIDENCE_INPUTS",
    "MAX_LOGIT",
    "SCOPE_INPUTS",
    "Calibration",
    "Signals",
    "batch_signals",
    "catalog_shape",
    "signals",
]


# Lexical evidence is never certainty: the confidence logit is capped here, so a
# decision's confidence stays below 0.999 however its inputs line up.
MAX_LOGIT = 6.9


def _sigmoid(z: float) -> float:
    if z != z:  # NaN: min/max below would turn it into certainty
        return 0.0
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


# The inputs each model reads, in the order :class:`Calibration` lists their
# coefficients (confidence: the coefficient named as the input; scope:
# ``scope_`` + the input).
CONFIDENCE_INPUTS = (
    "margin",
    "softmax_05",
    "softmax_10",
    "near_10",
    "near_20",
    "known",
    "coverage",
    "bm25",
    "word",
    "char",
    "log_agents",
    "log_terms",
)
SCOPE_INPUTS = (
    "known",
    "coverage",
    "bm25",
    "word",
    "char",
    "word_z",
    "char_z",
    "log_agents",
    "log_terms",
    "unknown",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Calibration:
    """Maps the evidence for the top candidate to probabilities.

    Every input is measured *against the catalog's own scores for the request*
    (or is a share), or describes the catalog's shape, so that one set of
    coefficients transfers between catalogs of 4 or 800 agents and of
    one-sentence descriptions or 45 KB prompts.

    ``confidence = sigmoid(min(intercept + Σ coefficient·input, MAX_LOGIT))``
    over :data:`CONFIDENCE_INPUTS` (``MAX_LOGIT`` = 6.9: never above 0.999) is
    the probability that the top candidate is right, given that the request is
    meant for this catalog. ``margin`` is the fused margin to the best agent
    scoring differently from the top one;
    ``softmax_T`` the top agent's share of ``softmax(fused / T)`` over the whole
    catalog (it falls as more agents crowd the top); ``near_D`` the log of how
    many agents score within ``D`` of the top; ``known`` the share of the
    request's terms the catalog knows; ``coverage`` the IDF share of them the top
    agent's text contains; ``bm25``/``word``/``char`` its absolute BM25F, word-
    and char-cosine scores; ``log_agents`` the log of the number of agents and
    ``log_terms`` the log of the mean number of distinct terms per agent (long
    prompts or one-sentence descriptions).

    ``scope = sigmoid(scope_intercept + Σ scope_coefficient·input)`` over
    :data:`SCOPE_INPUTS` is the probability that the request belongs to the
    catalog at all; ``word_z``/``char_z`` are the top agent's cosines as
    z-scores over the catalog and ``unknown`` the log of one plus the number of
    request terms no agent uses.

    Large full-text catalogs get coefficients of their own, the ``large_``
    fields (same inputs, same formulas): a catalog of at least
    ``large_min_agents`` agents whose texts average at least
    ``exp(large_min_log_terms) - 1`` distinct terms (:meth:`is_large`; full
    prompts, not one-line descriptions). One logistic over every kind of catalog
    can shift the intercept by catalog shape but not the slopes, and gave crowded
    collections and their unions the slopes of small and intent catalogs; under
    leave-one-catalog-out the separate set raises precision at confidence 0.7
    and out-of-scope abstention on the large collections and unions (README,
    "Generalisation protocol"). The ``large_`` set is fitted on full-text
    catalogs of 30+ agents and applied from ``large_min_agents`` (50) up:
    applied to a 36-agent collection it lost precision there.

    The defaults are printed by ``python benchmarks/fit_defaults.py``: logistic
    regressions, each catalog weighted equally. The general set: labelled
    collections (examples removed), the same cut to name + description, small
    subsets of them and intent datasets as catalogs. The ``large_`` set: the
    large full-text collections and every pair of them installed together. Out-
    of-scope requests from CLINC150 ``oos`` train/val and the package's own
    bank. ``benchmarks/accuracy.py --loco`` measures them on catalogs left out
    of the fit.
    """

    intercept: float = -2.557
    margin: float = 3.19
    softmax_05: float = -1.472
    softmax_10: float = 0.454
    near_10: float = 0.154
    near_20: float = -0.569
    known: float = 2.201
    coverage: float = 1.34
    bm25: float = -2.699
    word: float = 4.437
    char: float = 0.818
    log_agents: float = -0.291
    log_terms: float = 0.308
    scope_intercept: float = -15.406
    scope_known: float = 14.776
    scope_coverage: float = 0.03
    scope_bm25: float = 3.112
    scope_word: float = 8.259
    scope_char: float = 10.889
    scope_word_z: float = -0.348
    scope_char_z: float = 0.123
    scope_log_agents: float = -0.081
    scope_log_terms: float = -0.062
    scope_unknown: float = 4.801

    # Large full-text catalogs (see the docstring): their own coefficients.
    large_min_agents: float = 50.0
    large_min_log_terms: float = 5.0
    large_intercept: float = 7.675
    large_margin: float = 2.584
    large_softmax_05: float = -4.053
    large_softmax_10: float = 2.336
    large_near_10: float = 0.215
    large_near_20: float = -0.979
    large_known: float = -0.732
    large_coverage: float = 0.564
    large_bm25: float = 0.248
    large_word: float = 1.29
    large_char: float = -3.784
    large_log_agents: float = 0.197
    large_log_terms: float = -0.873
    large_scope_intercept: float = -21.009
    large_scope_known: float = 13.562
    large_scope_coverage: float = 1.897
    large_scope_bm25: float = -2.896
    large_scope_word: float = 13.844
    large_scope_char: float = 16.474
    large_scope_word_z: float = -0.309
    large_scope_char_z: float = 0.044
    large_scope_log_agents: float = -0.562
    large_scope_log_terms: float = 1.338
    large_scope_unknown: float = 2.92

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"Calibration.{f.name} must be a number, got {value!r}")
            if not math.isfinite(value):
                raise ValueError(f"Calibration.{f.name} must be finite, got {value!r}")

    def __call__(
        self,
        margin: float,
        softmax_05: float,
        softmax_10: float,
        near_10: float,
        near_20: float,
        known: float = 0.0,
        coverage: float = 0.0,
        bm25: float = 0.0,
        word: float = 0.0,
        char: float = 0.0,
        log_agents: float = 0.0,
        log_terms: float = 0.0,
    ) -> float:
        """Probability that the top candidate is right (for an in-scope request)."""
        values = (
            margin,
            softmax_05,
            softmax_10,
            near_10,
            near_20,
            known,
            coverage,
            bm25,
            word,
            char,
            log_agents,
            log_terms,
        )
        pre = self._prefix(log_agents, log_terms)
        z = getattr(self, pre + "intercept")
        for name, value in zip(CONFIDENCE_INPUTS, values, strict=True):
            z += getattr(self, pre + name) * value
        return _sigmoid(min(z, MAX_LOGIT))

    def scope(
        self,
        known: float,
        coverage: float,
        bm25: float,
        word: float,
        char: float,
        word_z: float,
        char_z: float,
        log_agents: float = 0.0,
        log_terms: float = 0.0,
        unknown: float = 0.0,
    ) -> float:
        """Probability that the request is for this catalog at all."""
        values = (known, coverage, bm25, word, char, word_z, char_z, log_agents, log_terms, unknown)
        pre = self._prefix(log_agents, log_terms) + "scope_"
        z = getattr(self, pre + "intercept")
        for name, value in zip(SCOPE_INPUTS, values, strict=True):
            z += getattr(self, pre + name) * value
        return _sigmoid(z)

    def is_large(self, log_agents: float, log_terms: float) -> bool:
        """Whether a catalog of this shape (:func:`catalog_shape`) uses the ``large_``
        coefficients: at least ``large_min_agents`` agents whose texts average at
        least ``exp(large_min_log_terms) - 1`` distinct terms (full prompts, not
        one-line descriptions).

        >>> cal = Calibration()
        >>> cal.is_large(math.log(202), 6.7), cal.is_large(math.log(202), 3.9)
        (True, False)
        >>> cal.is_large(math.log(36), 6.7)
        False
        """
        return (
            log_agents >= math.log(max(1.0, self.large_min_agents)) - 1e-9
            and log_terms >= self.large_min_log_terms
        )

    def _prefix(self, log_agents: float, log_terms: float) -> str:
        return "large_" if self.is_large(log_agents, log_terms) else ""


@dataclass(frozen=True, slots=True)
class Signals:
    """What :class:`Calibration` reads for one request (see its docstring)."""

    margin: float
    softmax_05: float
    softmax_10: float
    near_10: float
    near_20: float
    known: float
    coverage: float
    bm25: float
    word: float
    char: float
    word_z: float
    char_z: float
    log_agents: float = 0.0
    log_terms: float = 0.0
    unknown: float = 0.0

    def confidence(self, cal: Calibration) -> float:
        return cal(*(getattr(self, n) for n in CONFIDENCE_INPUTS))

    def scope(self, cal: Calibration) -> float:
        return cal.scope(*(getattr(self, n) for n in SCOPE_INPUTS))


def catalog_shape(index: Index) -> tuple[float, float]:
    """``(log_agents, log_terms)``: log of the number of agents and of the mean
    number of distinct terms (and bigrams) per agent."""
    n = max(1, index.n_agents)
    return math.log(n), math.log1p(index.bm25_t.data.size / n)


def _zscore(values: np.ndarray, j: int) -> float:
    sd = float(values.std())
    return 0.0 if sd <= 1e-12 else float((values[j] - values.mean()) / sd)


def _zscore_of(value: float, mean: float, sd: float) -> float:
    return 0.0 if sd <= 1e-12 else (value - mean) / sd


def signals(
    combined: np.ndarray,
    scores: Scores,
    row: int,
    best: int,
    query: Query,
    shape: tuple[float, float] = (0.0, 0.0),
) -> Signals:
    """The calibration inputs for request ``row`` whose top agent is ``best``.

    ``combined`` is the request's fused row as the router ranks it (rounded).
    A few vector operations over the catalog: no sort.
    """
    s1 = float(combined[best])
    below = combined[combined < s1 - 1e-6]
    rival = float(below.max()) if below.size else 0.0
    gap = combined - s1  # <= 0
    word, char = scores.word[row], scores.char[row]
    return Signals(
        margin=s1 - rival,
        softmax_05=float(1.0 / np.exp(gap / 0.05).sum()),
        softmax_10=float(1.0 / np.exp(gap / 0.10).sum()),
        near_10=math.log(int(np.count_nonzero(gap >= -0.10))),
        near_20=math.log(int(np.count_nonzero(gap >= -0.20))),
        known=query.known_terms / max(1, len(query.terms)),
        coverage=float(scores.coverage[row, best]),
        bm25=float(scores.bm25[row, best]),
        word=float(word[best]),
        char=float(char[best]),
        word_z=_zscore(word, best),
        char_z=_zscore(char, best)
        if scores.char_moments is None
        else _zscore_of(float(char[best]), *scores.char_moments[row]),
        log_agents=shape[0],
        log_terms=shape[1],
        unknown=math.log1p(max(0, len(query.terms) - query.known_terms)),
    )


def _zscores(values: np.ndarray, best: np.ndarray) -> np.ndarray:
    """:func:`_zscore` of each row of ``values`` at its column ``best``."""
    sd = values.std(axis=1)
    mean = values.mean(axis=1)
    at = values[np.arange(values.shape[0]), best]
    out: np.ndarray = np.divide(at - mean, sd, out=np.zeros_like(sd), where=sd > 1e-12)
    return out


def batch_signals(
    combined: np.ndarray,
    scores: Scores,
    best: np.ndarray,
    queries: Sequence[Query],
    shape: tuple[float, float] = (0.0, 0.0),
) -> list[Signals]:
    """:func:`signals` of every row of a batch at once (row ``r``'s top agent is
    ``best[r]``): the same reductions, over the batch's matrices."""
    rows = np.arange(combined.shape[0])
    s1 = combined[rows, best]
    rival = np.where(combined < (s1 - 1e-6)[:, None], combined, -1.0).max(axis=1)
    rival = np.maximum(rival, 0.0)  # no agent below the best: 0, as signals() says
    gap = combined - s1[:, None]
    soft_05 = 1.0 / np.exp(gap / 0.05).sum(axis=1)
    soft_10 = 1.0 / np.exp(gap / 0.10).sum(axis=1)
    near_10 = np.count_nonzero(gap >= -0.10, axis=1).tolist()
    near_20 = np.count_nonzero(gap >= -0.20, axis=1).tolist()
    word_z = _zscores(scores.word, best)
    if scores.char_moments is None:
        char_z = _zscores(scores.char, best)
    else:
        mean, sd = scores.char_moments[:, 0], scores.char_moments[:, 1]
        at = scores.char[rows, best]
        char_z = np.divide(at - mean, sd, out=np.zeros_like(sd), where=sd > 1e-12)
    out: list[Signals] = []
    for r, q in enumerate(queries):
        j = int(best[r])
        out.append(
            Signals(
                margin=float(s1[r] - rival[r]),
                softmax_05=float(soft_05[r]),
                softmax_10=float(soft_10[r]),
                near_10=math.log(near_10[r]),
                near_20=math.log(near_20[r]),
                known=q.known_terms / max(1, len(q.terms)),
                coverage=float(scores.coverage[r, j]),
                bm25=float(scores.bm25[r, j]),
                word=float(scores.word[r, j]),
                char=float(scores.char[r, j]),
                word_z=float(word_z[r]),
                char_z=float(char_z[r]),
                log_agents=shape[0],
                log_terms=shape[1],
                unknown=math.log1p(max(0, len(q.terms) - q.known_terms)),
            )
        )
    return out
