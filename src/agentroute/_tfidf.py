"""The one TF-IDF: n-gram analysers and the sublinear, L2-normalised row of one text.

scikit-learn fits every TF-IDF agentroute uses (the catalog index in
:mod:`agentroute._index`, the learned classifier in :mod:`agentroute._learn`). Its
``transform`` spends milliseconds validating input for a single request, and
importing it costs ~0.7 s, which a command-line call or a hook cannot pay to route
one request. So a request's row is computed here, by the same arithmetic
scikit-learn uses, in the same order, to the bit:

* :func:`word_ngrams` and :func:`char_wb_ngrams` are scikit-learn's ``_word_ngrams``
  and ``char_wb`` analysers (``CountVectorizer.build_analyzer``); they are the
  analysers of every fit too, so fit and route cannot disagree;
* :func:`sublinear` is ``TfidfTransformer(sublinear_tf=True)``'s ``(1 + log tf)·idf``;
* :func:`l2` is ``sklearn.preprocessing.normalize`` of one row: the squares summed in
  stored order in double precision, each value divided in double precision.

``tests/test_tfidf.py`` checks the fast path against scikit-learn (the pattern
rapidfuzz uses: a fast implementation and a reference, compared on generated
input) with one tolerance, :data:`TOLERANCE`: the rows equal ``transform``'s bit for
bit; ``fit_transform`` sums a row's squares in another order (the order n-grams were
first seen), a few units in the last place away.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING, Any

import numpy as np

from agentroute._text import stem, tokens

if TYPE_CHECKING:
    import scipy.sparse as sp

__all__ = [
    "KINDS",
    "TOLERANCE",
    "NgramTfidf",
    "analyzer",
    "char_wb_ngrams",
    "l2",
    "smooth_idf",
    "sublinear",
    "word_ngrams",
]

#: How far a fast row may stray from scikit-learn's (absolute): ``transform`` gives the same
#: bits; ``fit_transform`` sums squares in first-seen order, a few units in the last place.
TOLERANCE = 1e-15

KINDS = ("word", "stem", "char_wb")
# scikit-learn's default token pattern.
_TOKEN = re.compile(r"(?u)\b\w\w+\b")


def word_ngrams(tokens: Sequence[str], n_min: int = 1, n_max: int = 2) -> list[str]:
    """The contiguous n-grams of ``tokens``, ``n_min`` to ``n_max`` long, joined by a space:
    every unigram, then every bigram, and so on (scikit-learn's ``_word_ngrams``).

    Examples
    --------
    >>> word_ngrams(["rate", "limit", "grpc"])
    ['rate', 'limit', 'grpc', 'rate limit', 'limit grpc']
    """
    ws = list(tokens)
    out = list(ws) if n_min <= 1 else []
    if n_min <= 2 <= n_max:
        out += [f"{a} {b}" for a, b in pairwise(ws)]
    for n in range(max(3, n_min), n_max + 1):
        out += [" ".join(ws[i : i + n]) for i in range(len(ws) - n + 1)]
    return out


def char_wb_ngrams(text: str, n_min: int, n_max: int) -> list[str]:
    """Character n-grams inside space-padded words (scikit-learn's ``char_wb``), of text
    already lower-cased as the caller wants it.

    Examples
    --------
    >>> char_wb_ngrams("go", 3, 5)
    [' go', 'go ', ' go ']
    """
    out: list[str] = []
    for word in text.split():
        w = f" {word} "
        size = len(w)
        for n in range(n_min, n_max + 1):
            if size <= n:
                out.append(w)  # a short word counts once, whatever n
                break
            out += [w[i : i + n] for i in range(size - n + 1)]
    return out


def smooth_idf(df: np.ndarray, n_docs: int, dtype: np.dtype[Any]) -> np.ndarray:
    """``TfidfTransformer``'s smoothed IDF, ``log((1 + n) / (1 + df)) + 1``, computed in
    ``dtype`` in scikit-learn's order of operations (so to the bit; ``tests/test_tfidf.py``).

    Examples
    --------
    >>> smooth_idf(np.array([1, 3]), 3, np.dtype(np.float64)).round(4).tolist()
    [1.6931, 1.0]
    """
    freq = df.astype(dtype)
    freq += 1.0
    idf = np.full_like(freq, fill_value=n_docs + 1, dtype=dtype)
    idf /= freq
    np.log(idf, out=idf)
    idf += 1.0
    return idf


def sublinear(counts: np.ndarray, idf: np.ndarray) -> np.ndarray:
    """``(1 + log tf)·idf`` in the precision of ``idf`` (``counts`` are term frequencies)."""
    data = counts.astype(idf.dtype)
    np.log(data, out=data)
    data += 1.0
    data *= idf
    return data


def l2(data: np.ndarray) -> np.ndarray:
    """``sklearn.preprocessing.normalize`` of one row: squares (in the data's precision)
    summed in order in double precision; each value divided in double precision.

    Examples
    --------
    >>> l2(np.array([3.0, 4.0])).tolist()
    [0.6, 0.8]
    """
    if data.size == 0:
        return data
    total = float(np.cumsum(data * data, dtype=np.float64)[-1])
    if total == 0.0:
        return data
    out: np.ndarray = (data.astype(np.float64) / math.sqrt(total)).astype(data.dtype)
    return out


def analyzer(kind: str, n_min: int, n_max: int) -> _Analyzer:
    """The analyser of a classifier block: ``word`` (scikit-learn's default tokens),
    ``stem`` (agentroute's tokens, lightly stemmed, stop words kept: "what is" and
    "how do" tell intents apart) or ``char_wb``."""
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
            return word_ngrams(_TOKEN.findall(text.lower()), self.n_min, self.n_max)
        if self.kind == "stem":
            return word_ngrams([stem(t) for t in tokens(text)], self.n_min, self.n_max)
        return char_wb_ngrams(text.lower(), self.n_min, self.n_max)


@dataclass(frozen=True, eq=False)
class NgramTfidf:
    """A fitted sublinear, L2-normalised TF-IDF block (the learned classifier's features).

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
        from sklearn.feature_extraction.text import TfidfVectorizer

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
        return cols, l2(sublinear(tf, self.idf[cols]))

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Rows for many texts (CSR, float64): the same numbers as :meth:`row`."""
        import scipy.sparse as sp

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
