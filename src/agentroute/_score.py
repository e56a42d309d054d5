"""Pure, vectorised scorers: request → per-agent scores in [0, 1].

The path is ``analyze_query`` (terms, typo correction) → :func:`score` (every
component for every agent, as matrix products) → the router's decision.

* ``bm25``: BM25F over name, description, hints and body (see
  :mod:`agentroute._index`), divided by the best score the request could reach;
* ``word``: cosine of sublinear TF-IDF unigram vectors (request vs whole agent);
* ``char``: cosine of character n-gram vectors (morphology, typos);
* ``trigger``: the agent's trigger phrases found in the request, weighted by
  how rare each trigger is (kept for the reason; weight 0 by default);
* ``coverage``: the IDF share of the request's terms an agent's text contains.

:func:`score` fuses them with :class:`Weights` into one score per agent.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from rapidfuzz import fuzz, process

from agentroute._index import (
    BM25_K1,
    FUZZY_CUTOFF,
    MAX_TRIGGER_TERMS,
    MIN_FUZZY_LEN,
    Index,
    char_words,
)
from agentroute._text import term_surfaces, word_ngrams

if TYPE_CHECKING:
    import scipy.sparse as sp

__all__ = ["MAX_REQUEST_CHARS", "Query", "Scores", "Weights", "analyze_query", "score"]

# Only this much of a request is scored: routing needs the gist, and the cap
# bounds the time a hostile 10 MB request can take.
MAX_REQUEST_CHARS = 4_000


@dataclass(frozen=True, slots=True, kw_only=True)
class Weights:
    """How the scorers combine; non-negative, normalised to sum to 1.

    Examples
    --------
    >>> Weights(bm25=2, word=1, char=1, trigger=0).normalized()
    Weights(bm25=0.5, word=0.25, char=0.25, trigger=0.0)
    """

    # Equal weights on purpose. On the development collections (wshobson,
    # dl-ezo, voltagent; examples removed) the fusion of the three beats each
    # alone (top-1 mean 0.655 vs 0.578 BM25F, 0.610 TF-IDF, 0.553 char) and
    # tuned weights gained < 0.01: not worth a fitted constant. A trigger
    # bonus lowered top-1 (the name-derived triggers are generic words, and the
    # trigger phrases are already a BM25F field).
    bm25: float = 1.0
    word: float = 1.0
    char: float = 1.0
    trigger: float = 0.0

    def __post_init__(self) -> None:
        for name in ("bm25", "word", "char", "trigger"):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not math.isfinite(value)
                or value < 0
            ):
                raise ValueError(f"Weights.{name} must be a finite number >= 0, got {value!r}")
        if self.bm25 + self.word + self.char + self.trigger <= 0:
            raise ValueError("at least one of the Weights must be positive")

    def normalized(self) -> Weights:
        values: tuple[float, ...] = (self.bm25, self.word, self.char, self.trigger)
        total = sum(values)
        if not math.isfinite(total):  # e.g. two weights of 1e308: only the ratios matter
            top = max(values)
            values = tuple(v / top for v in values)
            total = sum(values)
        bm25, word, char, trigger = (v / total for v in values)
        return Weights(bm25=bm25, word=word, char=char, trigger=trigger)


@dataclass(frozen=True, slots=True)
class Query:
    """A request as the scorers see it."""

    text: str
    terms: tuple[str, ...]
    surfaces: dict[str, str] = field(default_factory=dict)
    corrections: tuple[tuple[str, str], ...] = ()
    known_terms: int = 0


# Short real words sit one letter from other real words ("bread" / "read"); below
# this length only a same-length slip (a wrong or swapped letter) is read as a typo.
MIN_INDEL_LEN = 6


def _plausible_typo(word: str, known: str) -> bool:
    """Whether ``known`` may be what ``word`` meant, beyond rapidfuzz's ratio."""
    return len(word) >= MIN_INDEL_LEN or len(word) == len(known)


def analyze_query(index: Index, text: str) -> Query:
    """Terms of a request, with unknown words corrected to the index vocabulary.

    Examples
    --------
    >>> from agentroute._index import build_index
    >>> from agentroute._spec import AgentSpec
    >>> idx = build_index([AgentSpec("db", "PostgreSQL query tuning")])
    >>> q = analyze_query(idx, "postgress queries are slow")
    >>> q.terms, q.corrections
    (('postgres', 'query', 'slow'), (('postgress', 'postgres'),))
    """
    clipped = text[:MAX_REQUEST_CHARS]
    out: list[str] = []
    surfaces: dict[str, str] = {}
    corrections: list[tuple[str, str]] = []
    known = 0
    cache: dict[str, str | None] = {}
    for term, surface in term_surfaces(clipped):
        if not index.knows(term) and len(term) >= MIN_FUZZY_LEN and term.isalpha():
            if term not in cache:
                hit = process.extractOne(
                    term, index.fuzzy_for(len(term)), scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF
                )
                cache[term] = hit[0] if hit and _plausible_typo(term, hit[0]) else None
            fixed = cache[term]
            if fixed is not None:
                if (surface, fixed) not in corrections:
                    corrections.append((surface, fixed))
                term = fixed
        if index.knows(term):
            known += 1
        out.append(term)
        surfaces.setdefault(term, surface)
    return Query(clipped, tuple(out), surfaces, tuple(corrections), known)


@dataclass(frozen=True, slots=True, eq=False)
class Scores:
    """Per-request, per-agent scores (rows: requests, columns: agents in index order).

    ``bm25``, ``word``, ``char``, ``trigger`` and ``coverage`` are absolute (each in
    [0, 1]); ``combined`` fuses them relative to the best agent of each request.
    ``present`` holds, per request, the vocabulary columns of its terms and bigrams
    (ascending).
    """

    combined: np.ndarray
    bm25: np.ndarray
    word: np.ndarray
    char: np.ndarray
    trigger: np.ndarray
    coverage: np.ndarray
    matched: tuple[dict[int, tuple[str, ...]], ...]
    present: tuple[np.ndarray, ...]


def _trigger_scores(
    index: Index, queries: Sequence[Query]
) -> tuple[np.ndarray, tuple[dict[int, tuple[str, ...]], ...]]:
    raw = np.zeros((len(queries), index.n_agents), dtype=np.float64)
    matched: list[dict[int, tuple[str, ...]]] = []
    for r, q in enumerate(queries):
        grams = set(word_ngrams(q.terms, MAX_TRIGGER_TERMS))
        hits: dict[int, list[str]] = {}
        # Look each gram up (not set & dict: that walks every trigger of the index).
        for key in sorted(g for g in grams if g in index.triggers):
            # A phrase of several words is stronger evidence than a single word.
            weight = index.trigger_weight[key] * (1.0 + 0.5 * key.count(" "))
            for agent in index.triggers[key]:
                raw[r, agent] += weight
                hits.setdefault(agent, []).append(key)
        matched.append({a: tuple(ks) for a, ks in hits.items()})
    return -np.expm1(-raw), tuple(matched)


# -- the request's vectors ------------------------------------------------------------------
#
# These reproduce, bit for bit, what scikit-learn's CountVectorizer / TfidfTransformer /
# normalize and SciPy's sparse product gave the scorer before the index went NumPy-only
# (tests/test_index.py compares them on many requests): the same operations in the same
# order, including the order in which each row's squares are summed for its L2 norm.


def _l2(data: np.ndarray) -> np.ndarray:
    """``sklearn.preprocessing.normalize`` of one row: squares (in the data's precision)
    summed in order in double precision; each value divided in double precision."""
    if data.size == 0:
        return data
    total = float(np.cumsum(data * data, dtype=np.float64)[-1])
    if total == 0.0:
        return data
    out: np.ndarray = (data.astype(np.float64) / math.sqrt(total)).astype(data.dtype)
    return out


def term_counts(index: Index, query: Query) -> tuple[np.ndarray, np.ndarray]:
    """Vocabulary columns (ascending) of a request's terms and bigrams, and their counts."""
    counts: dict[int, int] = {}
    for gram in word_ngrams(query.terms, 2):
        j = index.column(gram)
        if j is not None:
            counts[j] = counts.get(j, 0) + 1
    cols = sorted(counts)
    return (
        np.array(cols, dtype=np.int64),
        np.array([counts[j] for j in cols], dtype=np.float64),
    )


def word_vector(
    index: Index, cols: np.ndarray, counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The request's unit TF-IDF vector of unigrams (columns descending, as SciPy leaves
    them after multiplying by the unigram mask)."""
    keep = index.unigram[cols] != 0.0
    c = cols[keep][::-1]
    data = counts[keep][::-1].copy()
    np.log(data, out=data)
    data += 1.0
    data *= index.word_idf[c]
    # Normalised twice, as before: TfidfTransformer's norm, then normalize().
    return c, _l2(_l2(data))


def char_vector(index: Index, text: str) -> tuple[np.ndarray, np.ndarray]:
    """The request's unit TF-IDF vector of character n-grams (float32, columns ascending)."""
    columns = index.word_char_columns
    parts: list[np.ndarray] = []
    for word in char_words(text):
        cols = columns.get(word)
        if cols is None:
            cols = index.char_columns(word)
        parts.append(cols)
    if not parts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    c, n = np.unique(np.concatenate(parts), return_counts=True)
    data = n.astype(np.float32)
    np.log(data, out=data)
    data += 1.0
    data *= index.char_idf[c]
    return c, _l2(data)


def _relative(raw: np.ndarray) -> np.ndarray:
    """Each row divided by its best agent's value (0 where no agent scores)."""
    top = raw.max(axis=1, keepdims=True) if raw.shape[1] else np.zeros((raw.shape[0], 1))
    out: np.ndarray = np.divide(raw, top, out=np.zeros_like(raw), where=top > 0)
    return out


@dataclass(frozen=True, slots=True)
class _Vectors:
    """One request's vectors: what the products read."""

    cols: np.ndarray  # vocabulary columns of its terms and bigrams, ascending
    word_cols: np.ndarray  # its unit TF-IDF unigram vector (columns descending)
    word_values: np.ndarray
    char_cols: np.ndarray  # its unit char n-gram vector (float32, columns ascending)
    char_values: np.ndarray
    reach: float  # sum of the IDF of its known terms and bigrams
    total: float  # sum of the IDF of its known single terms
    unknown: int  # distinct terms the index does not know


def _vectors(index: Index, q: Query) -> _Vectors:
    cols, counts = term_counts(index, q)
    unknown = len({t for t in q.terms if not index.knows(t)})
    cc, cv = char_vector(index, q.text)
    if not cols.size:
        empty = np.zeros(0, dtype=np.float64)
        return _Vectors(cols, cols, empty, cc, cv, 0.0, 0.0, unknown)
    wc, wv = word_vector(index, cols, counts)
    return _Vectors(
        cols,
        wc,
        wv,
        cc,
        cv,
        float(np.cumsum(index.idf[cols])[-1]),
        float(np.cumsum(index.coverage_idf[cols])[-1]),
        unknown,
    )


# A batch at least this large is multiplied with SciPy in one sparse product per
# component (importing SciPy costs ~0.1 s once); smaller ones row by row in NumPy.
BATCH_MIN = 16


def _products_numpy(
    index: Index, vectors: Sequence[_Vectors]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """BM25F sums, word cosines, char cosines and covered IDF, one request at a time.

    Each product reads only the rows of the request's own terms (the index is
    stored term → agents): its cost is the number of (term, agent) pairs touched.
    """
    n, nq = index.n_agents, len(vectors)
    bm25 = np.zeros((nq, n), dtype=np.float64)
    word = np.zeros((nq, n), dtype=np.float64)
    char = np.zeros((nq, n), dtype=np.float64)
    hit = np.zeros((nq, n), dtype=np.float64)
    for r, v in enumerate(vectors):
        if v.cols.size:
            agents, values, _ = index.bm25_t.gather(v.cols)
            bm25[r] = np.bincount(agents, weights=values, minlength=n)
            agents, values, lengths = index.word_t.gather(v.word_cols)
            word[r] = np.bincount(
                agents, weights=values * np.repeat(v.word_values, lengths), minlength=n
            )
            # Coverage: the IDF of the request's single terms each agent's text contains.
            agents, _, lengths = index.bm25_t.gather(v.word_cols)
            idf = np.repeat(index.coverage_idf[v.word_cols], lengths)
            hit[r] = np.bincount(agents, weights=idf, minlength=n)
        if v.char_cols.size:
            agents, values, lengths = index.chars_t.gather(v.char_cols)
            acc = np.zeros(n, dtype=np.float32)
            # Float32 sums in request-column order, as SciPy's product of two float32
            # matrices accumulates (np.add.at applies repeated indices in order).
            np.add.at(acc, agents, values * np.repeat(v.char_values, lengths))
            char[r] = acc
    return bm25, word, char, hit


def _rows(parts: Sequence[tuple[np.ndarray, np.ndarray]], width: int, dtype: type) -> sp.csr_matrix:
    """Requests × columns, each row's entries in the order given (SciPy's product
    sums a row in its stored order, so the sums equal the row-by-row path's)."""
    import scipy.sparse as sp

    indptr = np.zeros(len(parts) + 1, dtype=np.int64)
    np.cumsum([c.size for c, _ in parts], out=indptr[1:])
    cols = np.concatenate([c for c, _ in parts]) if parts else np.zeros(0, dtype=np.int64)
    data = np.concatenate([d for _, d in parts]) if parts else np.zeros(0, dtype=dtype)
    return sp.csr_matrix(
        (data.astype(dtype, copy=False), cols.astype(np.int32), indptr),
        shape=(len(parts), width),
    )


def _products_scipy(
    index: Index, vectors: Sequence[_Vectors]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """What :func:`_products_numpy` gives, bit for bit, as one sparse product per component."""
    width = len(index.feature_names)
    ones = [(v.cols, np.ones(v.cols.size)) for v in vectors]
    bm25 = (_rows(ones, width, np.float64) @ index.bm25_scipy).toarray()
    words = [(v.word_cols, v.word_values) for v in vectors]
    word = (_rows(words, width, np.float64) @ index.word_scipy).toarray()
    idf = [(v.word_cols, index.coverage_idf[v.word_cols]) for v in vectors]
    hit = (_rows(idf, width, np.float64) @ index.bm25_pattern).toarray()
    chars = [(v.char_cols, v.char_values) for v in vectors]
    char = (_rows(chars, len(index.char_names), np.float32) @ index.chars_scipy).toarray()
    return bm25, word, char.astype(np.float64), hit


def score(index: Index, queries: Sequence[Query], weights: Weights) -> Scores:
    """Score every agent for every query; every array is in [0, 1] and finite.

    The components are fused relative to each request's best agent: each is
    divided by its best value for that request before the weighted mean, so a
    component whose raw values run high (BM25) cannot drown one whose values
    run low (cosines) and no constant has to say how their scales compare.

    One request is scored with NumPy alone; a batch of :data:`BATCH_MIN` or more
    with one SciPy sparse product per component. Both give the same bits.
    """
    w = weights.normalized()
    vectors = [_vectors(index, q) for q in queries]
    products = _products_scipy if len(vectors) >= BATCH_MIN else _products_numpy
    bm25, word, char, hit = products(index, vectors)
    top_idf = index.top_idf
    unknown = np.array([v.unknown for v in vectors], dtype=np.float64)
    # The best BM25 a request could reach: every known term saturated, plus the
    # unknown words at the highest IDF (no agent accounts for them).
    reach = np.array([v.reach for v in vectors], dtype=np.float64)
    reach = (reach + top_idf * unknown) * (BM25_K1 + 1.0)
    bm25 = np.divide(bm25, reach[:, None], out=np.zeros_like(bm25), where=reach[:, None] > 0)
    trigger, matched = _trigger_scores(index, queries)
    total = np.array([v.total for v in vectors], dtype=np.float64) + top_idf * unknown
    coverage = np.divide(hit, total[:, None], out=np.zeros_like(hit), where=total[:, None] > 0)
    np.clip(coverage, 0.0, 1.0, out=coverage)

    combined = (
        w.bm25 * _relative(bm25)
        + w.word * _relative(word)
        + w.char * _relative(char)
        + w.trigger * _relative(trigger)
    )
    for arr in (combined, bm25, word, char):
        # Cosines of non-negative unit vectors lie in [0, 1]; clip float round-off.
        np.clip(arr, 0.0, 1.0, out=arr)
    present = tuple(v.cols for v in vectors)
    return Scores(combined, bm25, word, char, trigger, coverage, matched, present)
