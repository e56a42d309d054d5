"""Word and character n-gram TF-IDF for one request at a time, without scikit-learn's overhead.

The learned classifier (:mod:`agentroute._learn`) reads requests through two
sublinear TF-IDF blocks. scikit-learn's ``TfidfVectorizer`` fits them, but its
``transform`` spends 2-3 ms validating input for a single request, ten times
the arithmetic. :class:`NgramTfidf` holds only what a fitted vectorizer learned
(vocabulary, idf) and computes the same row in plain Python + NumPy; the
analysers here are used for fitting too, so the two paths cannot disagree
(``tests/test_learn.py`` checks them against ``TfidfVectorizer.transform``).

The catalog index (:mod:`agentroute._index`) has its own fast path, laid out for
bit-parity with SciPy; this one serves the classifier's three analysers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from agentroute._text import stem, tokens

__all__ = ["NgramTfidf", "analyzer", "char_wb_ngrams", "word_ngrams"]

KINDS = ("word", "stem", "char_wb")
_TOKEN = re.compile(r"(?u)\b\w\w+\b")
_SPACES = re.compile(r"\s\s+")


def word_ngrams(text: str, n_min: int = 1, n_max: int = 2, *, stemmed: bool = False) -> list[str]:
    """Word n-grams: scikit-learn's default tokens (2+ word characters, lower case), or
    agentroute's tokens with its light stemmer (``stemmed=True``; stop words kept:
    "what is" and "how do" tell intents apart)."""
    words = [stem(t) for t in tokens(text)] if stemmed else _TOKEN.findall(text.lower())
    if n_min == 1 and n_max == 1:
        return words
    out = list(words) if n_min == 1 else []
    for n in range(max(2, n_min), n_max + 1):
        out += [" ".join(words[i : i + n]) for i in range(len(words) - n + 1)]
    return out


def char_wb_ngrams(text: str, n_min: int = 2, n_max: int = 5) -> list[str]:
    """Character n-grams inside space-padded words (scikit-learn's ``char_wb``)."""
    out: list[str] = []
    for word in _SPACES.sub(" ", text.lower()).split():
        w = f" {word} "
        size = len(w)
        for n in range(n_min, n_max + 1):
            if size <= n:
                out.append(w)  # a short word counts once, whatever n
                break
            out += [w[i : i + n] for i in range(size - n + 1)]
    return out


def analyzer(kind: str, n_min: int, n_max: int) -> _Analyzer:
    if kind not in KINDS:
        raise ValueError(f"analyzer kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if not 1 <= n_min <= n_max:
        raise ValueError(f"n-gram range must satisfy 1 <= min <= max, got ({n_min}, {n_max})")
    return _Analyzer(kind, n_min, n_max)


@dataclass(frozen=True, slots=True)
class _Analyzer:
    """A picklable, comparable analyser (a plain function of the text)."""

    kind: str
    n_min: int
    n_max: int

    def __call__(self, text: str) -> list[str]:
        if self.kind == "word":
            return word_ngrams(text, self.n_min, self.n_max)
        if self.kind == "stem":
            return word_ngrams(text, self.n_min, self.n_max, stemmed=True)
        return char_wb_ngrams(text, self.n_min, self.n_max)


@dataclass(frozen=True, eq=False)
class NgramTfidf:
    """A fitted sublinear, L2-normalised TF-IDF block.

    Attributes
    ----------
    kind : {"word", "stem", "char_wb"}
    n_min, n_max : int
        The n-gram range.
    terms : tuple of str
        The vocabulary, in column order.
    idf : numpy.ndarray
        Inverse document frequency per column (float64, smoothed as scikit-learn does).
    """

    kind: str
    n_min: int
    n_max: int
    terms: tuple[str, ...]
    idf: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "_analyze", analyzer(self.kind, self.n_min, self.n_max))
        object.__setattr__(self, "_vocab", {t: i for i, t in enumerate(self.terms)})

    @classmethod
    def fit(
        cls, texts: Sequence[str], kind: str, n_min: int, n_max: int
    ) -> tuple[NgramTfidf, sp.csr_matrix]:
        """Fit on ``texts``; returns the block and the texts' rows (float64 CSR)."""
        vec = TfidfVectorizer(analyzer=analyzer(kind, n_min, n_max), sublinear_tf=True)
        x = vec.fit_transform(texts)
        terms = tuple(str(t) for t in vec.get_feature_names_out())
        return cls(kind, n_min, n_max, terms, np.asarray(vec.idf_, dtype=np.float64)), x.tocsr()

    @property
    def n_features(self) -> int:
        return len(self.terms)

    def row(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """One text's non-zero columns (sorted) and values, as ``transform([text])`` gives."""
        vocab: dict[str, int] = self._vocab  # type: ignore[attr-defined]
        counts: dict[int, int] = {}
        for gram in self._analyze(text):  # type: ignore[attr-defined]
            j = vocab.get(gram)
            if j is not None:
                counts[j] = counts.get(j, 0) + 1
        if not counts:
            return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.float64)
        cols = np.fromiter(sorted(counts), dtype=np.intp, count=len(counts))
        tf = np.fromiter((counts[j] for j in cols), dtype=np.float64, count=len(counts))
        val = (np.log(tf) + 1.0) * self.idf[cols]
        return cols, val / np.sqrt(val @ val)

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Rows for many texts (CSR, float64): the same numbers as :meth:`row`."""
        indptr = [0]
        cols: list[np.ndarray] = []
        vals: list[np.ndarray] = []
        for text in texts:
            c, v = self.row(text)
            cols.append(c)
            vals.append(v)
            indptr.append(indptr[-1] + len(c))
        return sp.csr_matrix(
            (
                np.concatenate(vals) if vals else np.empty(0),
                np.concatenate(cols) if cols else np.empty(0, dtype=np.intp),
                np.asarray(indptr),
            ),
            shape=(len(texts), self.n_features),
        )
