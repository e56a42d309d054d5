"""Confidence and scope: what the scores of one request say about the decision.

:class:`Calibration` turns :class:`Signals` (read from a request's scores over
the whole catalog by :func:`signals`) into two probabilities: that the top
candidate is right, and that the request is meant for this catalog at all.
The shipped constants are printed by ``benchmarks/fit_defaults.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from agentroute._score import Query, Scores

__all__ = ["Calibration", "Signals", "signals"]


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


@dataclass(frozen=True, slots=True, kw_only=True)
class Calibration:
    """Maps the evidence for the top candidate to probabilities.

    Every input is measured *against the catalog's own scores for the request*
    (or is a share), so that the same coefficients transfer between catalogs of
    36 or 423 agents and of short or 45 KB prompts.

    ``confidence = sigmoid(intercept + margin·m + softmax_05·p05 + softmax_10·p10
    + near_10·n10 + near_20·n20)`` is the probability that the top candidate is
    right, given that the request is meant for this catalog. ``m`` is the fused
    margin to the best agent scoring differently from the top one (an exact tie
    is no rival; copies under other names score a little apart and do count:
    the decision's status, not this margin, sets copies aside); ``pT`` the top
    agent's share of ``softmax(fused / T)`` over the whole catalog (it falls as
    more agents crowd the top, which is what makes a 423-agent catalog harder
    than a 36-agent one); ``nD`` the log of how many agents score within ``D``
    of the top.

    ``scope = sigmoid(scope_intercept + scope_known·k + scope_coverage·v +
    scope_bm25·b + scope_word·w + scope_char·c + scope_word_z·wz +
    scope_char_z·cz)`` is the probability that the request belongs to the
    catalog at all (vs. CLINC150 out-of-scope utterances): ``k`` the share of the
    request's terms the catalog knows, ``v`` the IDF share of them the top agent's
    text contains, ``b``/``w``/``c`` its absolute BM25F, word- and char-cosine
    scores and ``wz``/``cz`` the cosines as z-scores over the catalog.

    The defaults are printed by ``python benchmarks/fit_defaults.py``: logistic
    regressions on the development collections (wshobson, dl-ezo, voltagent,
    examples removed, each collection weighted equally; CLINC150 ``oos`` val
    utterances as out-of-scope), deterministic.
    """

    intercept: float = 3.249
    margin: float = 2.122
    softmax_05: float = -4.209
    softmax_10: float = 1.567
    near_10: float = -0.361
    near_20: float = -0.857
    scope_intercept: float = -8.998
    scope_known: float = 6.726
    scope_coverage: float = 1.143
    scope_bm25: float = -6.692
    scope_word: float = 23.572
    scope_char: float = 27.920
    scope_word_z: float = -0.152
    scope_char_z: float = -0.176

    def __call__(
        self, margin: float, softmax_05: float, softmax_10: float, near_10: float, near_20: float
    ) -> float:
        """Probability that the top candidate is right (for an in-scope request)."""
        return _sigmoid(
            self.intercept
            + self.margin * margin
            + self.softmax_05 * softmax_05
            + self.softmax_10 * softmax_10
            + self.near_10 * near_10
            + self.near_20 * near_20
        )

    def scope(
        self,
        known: float,
        coverage: float,
        bm25: float,
        word: float,
        char: float,
        word_z: float,
        char_z: float,
    ) -> float:
        """Probability that the request is for this catalog at all."""
        return _sigmoid(
            self.scope_intercept
            + self.scope_known * known
            + self.scope_coverage * coverage
            + self.scope_bm25 * bm25
            + self.scope_word * word
            + self.scope_char * char
            + self.scope_word_z * word_z
            + self.scope_char_z * char_z
        )


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

    def confidence(self, cal: Calibration) -> float:
        return cal(self.margin, self.softmax_05, self.softmax_10, self.near_10, self.near_20)

    def scope(self, cal: Calibration) -> float:
        return cal.scope(
            self.known, self.coverage, self.bm25, self.word, self.char, self.word_z, self.char_z
        )


def _zscore(values: np.ndarray, j: int) -> float:
    sd = float(values.std())
    return 0.0 if sd <= 1e-12 else float((values[j] - values.mean()) / sd)


def signals(combined: np.ndarray, scores: Scores, row: int, best: int, query: Query) -> Signals:
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
        char_z=_zscore(char, best),
    )
