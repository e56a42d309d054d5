"""Pure, vectorised scoring: a batch of requests → per-agent scores in [0, 1].

The path is ``analyze_query`` (terms, typo correction) → :func:`score`: the batch's
sparse vectors and their products with the index, once for all the signals; then every
lexical signal (:data:`agentroute._lexical.LEXICAL`: BM25F, word and char TF-IDF,
triggers, coverage) reads them into its matrix, and :func:`score` fuses those with
:class:`Weights` into one score per agent → the router's decision.
"""

from __future__ import annotations

import functools
import math
import sys
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

import numpy as np
from rapidfuzz import fuzz, process

from agentroute._dense import add_dense
from agentroute._index import (
    FUZZY_CUTOFF,
    MAX_TRIGGER_TERMS,
    MIN_FUZZY_LEN,
    Index,
    char_words,
)
from agentroute._lexical import LEXICAL
from agentroute._signal import Batch, LexicalSignal, relative
from agentroute._text import term_surfaces
from agentroute._tfidf import l2, sublinear, word_ngrams
from agentroute._vectorize import batch_products

if TYPE_CHECKING:
    import scipy.sparse as sp

__all__ = [
    "MAX_REQUEST_CHARS",
    "Products",
    "Query",
    "Scores",
    "Weights",
    "analyze_query",
    "matched_triggers",
    "products_of",
    "score",
]

# Only this much of a request is scored: routing needs the gist, and the cap
# bounds the time a hostile 10 MB request can take.
MAX_REQUEST_CHARS = 4_000


@dataclass(frozen=True, slots=True, kw_only=True)
class Weights:
    """How the lexical signals combine; non-negative, normalised to sum to 1.

    One field per fused signal of :data:`agentroute._lexical.LEXICAL`, named after it; a
    signal without a field here is fused at its ``default_weight``.

    Examples
    --------
    >>> Weights(bm25=2, word=1, char=1, trigger=0).normalized()
    Weights(bm25=0.5, word=0.25, char=0.25, trigger=0.0)
    >>> Weights(bm25=2, word=1, char=1).shares()
    {'bm25': 0.5, 'word': 0.25, 'char': 0.25, 'trigger': 0.0}
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
        for f in fields(self):
            value = getattr(self, f.name)
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not math.isfinite(value)
                or value < 0
            ):
                raise ValueError(f"Weights.{f.name} must be a finite number >= 0, got {value!r}")
        if sum(self._weights().values()) <= 0:
            raise ValueError("at least one of the Weights must be positive")

    def _weights(self, signals: Sequence[LexicalSignal] = LEXICAL) -> dict[str, float]:
        """Each fused signal's weight, in the signals' order (unnormalised)."""
        return {
            s.name: float(getattr(self, s.name, s.default_weight))
            for s in signals
            if s.default_weight is not None
        }

    def shares(self, signals: Sequence[LexicalSignal] = LEXICAL) -> dict[str, float]:
        """Each fused signal's weight divided by their sum (what :func:`score` fuses by)."""
        weights = self._weights(signals)
        values = tuple(weights.values())
        total = sum(values)
        if not math.isfinite(total):  # e.g. two weights of 1e308: only the ratios matter
            top = max(values)
            values = tuple(v / top for v in values)
            total = sum(values)
        return {name: v / total for name, v in zip(weights, values, strict=True)}

    def normalized(self) -> Weights:
        shares = self.shares()
        return Weights(**{f.name: shares[f.name] for f in fields(self)})


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


# Unknown words and their corrections (or None), per index: the search over the
# vocabulary is most of a request's analysis, and requests (and a request's parts,
# see agentroute._team) repeat their words. Bounded: a stream of new words empties it.
_CORRECTIONS: weakref.WeakKeyDictionary[Index, dict[str, str | None]] = weakref.WeakKeyDictionary()
_MAX_CORRECTIONS = 1 << 16


def _corrections(index: Index) -> dict[str, str | None]:
    table = _CORRECTIONS.get(index)
    if table is None:
        table = _CORRECTIONS.setdefault(index, {})
    return table


def analyze_query(index: Index, text: str) -> Query:
    """Terms of a request, with unknown words corrected to the index vocabulary.

    Examples
    --------
    >>> from agentroute._build import build_index
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
    cache = _corrections(index)
    pairs = term_surfaces(clipped)
    vocabulary = index.known([t for t, _ in pairs])
    for term, surface in pairs:
        if term not in vocabulary and len(term) >= MIN_FUZZY_LEN and term.isalpha():
            try:  # one read: another thread may empty the table at any moment
                fixed = cache[term]
            except KeyError:
                hit = process.extractOne(
                    term, index.fuzzy_for(len(term)), scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF
                )
                fixed = hit[0] if hit and _plausible_typo(term, hit[0]) else None
                if len(cache) >= _MAX_CORRECTIONS:
                    cache.clear()
                cache[term] = fixed
            if fixed is not None:
                if (surface, fixed) not in corrections:
                    corrections.append((surface, fixed))
                term = fixed
                vocabulary.add(fixed)  # a fuzzy term is a known term
        if term in vocabulary:
            known += 1
        out.append(term)
        surfaces.setdefault(term, surface)
    return Query(clipped, tuple(out), surfaces, tuple(corrections), known)


@dataclass(frozen=True, slots=True, eq=False)
class Scores:
    """Per-request, per-agent scores (rows: requests, columns: agents in index order).

    ``views``: each lexical signal's matrix by its name (``bm25``, ``word``, ``char``,
    ``trigger``, ``coverage``; absolute, each in [0, 1]); ``combined`` fuses them relative
    to the best agent of each request. ``present`` holds, per request, the vocabulary
    columns of its terms and bigrams (ascending); ``matched``, the trigger keys found in
    it (see :func:`matched_triggers`). ``moments``: for a signal read for pre-selected
    agents only (the char view of a very large catalog), per request the mean and spread
    of its values over every agent.
    """

    combined: np.ndarray
    views: dict[str, np.ndarray]
    matched: tuple[tuple[str, ...], ...]
    present: tuple[np.ndarray, ...]
    moments: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def bm25(self) -> np.ndarray:
        return self.views["bm25"]

    @property
    def word(self) -> np.ndarray:
        return self.views["word"]

    @property
    def char(self) -> np.ndarray:
        return self.views["char"]

    @property
    def trigger(self) -> np.ndarray:
        """Zeros unless its weight is positive: the decision reads the best agent's
        triggers alone."""
        return self.views["trigger"]

    @property
    def coverage(self) -> np.ndarray:
        return self.views["coverage"]

    @property
    def char_moments(self) -> np.ndarray | None:
        """Per request, the mean and spread of ``char`` over every agent when the char
        view was read for pre-selected candidates only (see
        IndexConfig.preselect_min_agents), else None."""
        return self.moments.get("char")


def _trigger_keys(index: Index, query: Query) -> tuple[str, ...]:
    """The trigger keys found in a request, sorted (looked up gram by gram: a set
    intersection would walk every trigger of the index)."""
    grams = set(word_ngrams(query.terms, 1, MAX_TRIGGER_TERMS))
    return tuple(sorted(g for g in grams if g in index.triggers))


def matched_triggers(index: Index, keys: Sequence[str], agent: int) -> tuple[str, ...]:
    """Which of a request's trigger ``keys`` belong to ``agent``."""
    return tuple(k for k in keys if agent in index.triggers[k])


# -- the request's vectors ------------------------------------------------------------------
#
# These reproduce, bit for bit, what scikit-learn's CountVectorizer / TfidfTransformer /
# normalize and SciPy's sparse product give (tests/test_index.py compares them on many
# requests): the same operations in the same order, including the order in which each
# row's squares are summed for its L2 norm (see agentroute._tfidf).


def term_counts(index: Index, query: Query) -> tuple[np.ndarray, np.ndarray]:
    """Vocabulary columns (ascending) of a request's terms and bigrams, and their counts."""
    found = index.columns(word_ngrams(query.terms, 1, 2))
    cols, counts = np.unique(found[found >= 0], return_counts=True)
    return cols, counts.astype(np.float64)


def word_vector(
    index: Index, cols: np.ndarray, counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The request's unit TF-IDF vector of unigrams (columns descending, as SciPy leaves
    them after multiplying by the unigram mask)."""
    keep = index.unigram[cols] != 0.0
    c = cols[keep][::-1]
    data = sublinear(counts[keep][::-1], index.word_idf[c])
    # Normalised twice, as before: TfidfTransformer's norm, then normalize().
    return c, l2(l2(data))


def char_vector(index: Index, text: str) -> tuple[np.ndarray, np.ndarray]:
    """The request's unit TF-IDF vector of character n-grams (float32, columns ascending)."""
    parts = index.char_columns(char_words(text))
    if not parts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    c, n = np.unique(np.concatenate(parts), return_counts=True)
    return c, l2(sublinear(n, index.char_idf[c]))


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
    unknown = len(set(q.terms) - index.known(q.terms))
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
        float(np.cumsum(index.coverage_idf(cols))[-1]),
        unknown,
    )


# A batch at least this large is multiplied with SciPy's compiled products (importing
# SciPy costs ~0.1 s once); smaller ones in NumPy until SciPy is loaded (SCIPY_AFTER).
BATCH_MIN = 16


# The character n-gram product is most of a request's arithmetic (~117k index entries at
# 1,000 agents, ~1.1M at 10,000). SciPy's compiled sparse product sums them at ~1-2 ns an
# entry, in the same float32 order as np.add.at (~7 ns). Importing SciPy costs ~0.2 s: a
# process that routes one request (the command line, the hook) keeps NumPy; one that has
# SciPy loaded already (it built an index, or routed a batch), or routes more than this
# many requests one at a time, uses SciPy. Both give the same bits (tests/test_score.py).
SCIPY_AFTER = 8
_singles = 0


def _scipy_loaded() -> bool:
    """Whether SciPy's sparse module is (now) loaded: counts the single requests routed
    without it, and imports it after :data:`SCIPY_AFTER` of them."""
    global _singles
    if "scipy.sparse" not in sys.modules:
        _singles += 1
        if _singles > SCIPY_AFTER:
            import scipy.sparse  # noqa: F401
    return "scipy.sparse" in sys.modules


@functools.cache
def _kernels() -> Any:
    """SciPy's compiled sparse kernels, or None when this SciPy lacks them.

    ``scipy.sparse._sparsetools`` is private: before it is trusted, its products of a
    small fixed matrix (row by row, and through dense blocks) must equal the public
    ``@``'s, bit for bit; a SciPy whose private module moved or changed its signature
    falls back to the public product.
    """
    try:
        import scipy.sparse as sparse
        from scipy.sparse import _sparsetools

        m = sparse.csr_matrix(np.array([[0.5, 0.0, 1.25], [0.0, 2.0, 0.75]], dtype=np.float32))
        probe = [(np.array([1, 0]), np.array([3.0, 0.5], dtype=np.float32))]
        want = (_rows(probe, 2, np.float32) @ m).toarray()
        got = _products_with(_sparsetools, m, probe, np.float32)
        if got.dtype != want.dtype or not np.array_equal(got, want):
            return None
        # The dense blocks' kernel (agentroute._dense), on the same row stored ascending.
        dense = np.zeros((1, 3), dtype=np.float32)
        ptr, cols = np.array([0, 2]), np.array([0, 1])
        add_dense(_sparsetools, m, ptr, cols, np.array([0.5, 3.0], dtype=np.float32), dense)
        if not np.array_equal(dense, want):
            return None
    except Exception:  # any failure means: use the public product
        return None
    return _sparsetools


def _row_products(
    matrix: sp.csr_matrix, parts: Sequence[tuple[np.ndarray, np.ndarray]], dtype: type
) -> np.ndarray:
    """Dense ``len(parts) x matrix.shape[1]``: each part (columns, values) as a sparse row
    times ``matrix``, each row summed in its entries' order.

    These are SciPy's own sums (its ``csr_matmat`` kernel, one request row per call, as
    the product of a requests x columns matrix computes them), without the symbolic pass
    and the sparse result SciPy's ``@`` adds: a request's cost is the index entries its
    columns touch.
    """
    tools = _kernels()
    if tools is None:  # pragma: no cover - the public product, the same sums
        dense: np.ndarray = (_rows(parts, int(matrix.shape[0]), dtype) @ matrix).toarray()
        return dense
    return _products_with(tools, matrix, parts, dtype)


def _products_with(
    tools: Any, matrix: sp.csr_matrix, parts: Sequence[tuple[np.ndarray, np.ndarray]], dtype: type
) -> np.ndarray:
    """:func:`_row_products` through the kernel module ``tools``."""
    n = int(matrix.shape[1])
    out: np.ndarray = np.zeros((len(parts), n), dtype=dtype)
    ip, ix, data = matrix.indptr, matrix.indices, matrix.data
    kind = ip.dtype
    cp, cj = np.zeros(2, dtype=kind), np.empty(n, dtype=kind)
    cx: np.ndarray = np.empty(n, dtype=dtype)
    for r, (cols, values) in enumerate(parts):
        if not cols.size:
            continue
        xp = np.array([0, cols.size], dtype=kind)
        xc = np.ascontiguousarray(cols, dtype=kind)
        xv: np.ndarray = np.ascontiguousarray(values, dtype=dtype)
        tools.csr_matmat(1, n, xp, xc, xv, ip, ix, data, cp, cj, cx)
        k = int(cp[1])
        out[r, cj[:k]] = cx[:k]
    return out


def _char_product_numpy(index: Index, cols: np.ndarray, values: np.ndarray) -> np.ndarray:
    agents, data, lengths = index.chars_t.gather(cols)
    acc = np.zeros(index.n_agents, dtype=np.float32)
    # Float32 sums in request-column order, as SciPy's products accumulate (np.add.at
    # applies repeated indices in order).
    np.add.at(acc, agents, data * np.repeat(values, lengths))
    return acc


def _products_numpy(
    index: Index, vectors: Sequence[_Vectors], chars: bool = True
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
            # One gather of the BM25F rows serves the sums and coverage: the IDF of the
            # request's single terms each agent's text contains (bigram columns add 0).
            agents, values, lengths = index.bm25_t.gather(v.cols)
            bm25[r] = np.bincount(agents, weights=values, minlength=n)
            idf = np.repeat(index.coverage_idf(v.cols), lengths)
            hit[r] = np.bincount(agents, weights=idf, minlength=n)
            agents, values, lengths = index.word_t.gather(v.word_cols)
            word[r] = np.bincount(
                agents, weights=values * np.repeat(v.word_values, lengths), minlength=n
            )
        if chars and v.char_cols.size:
            char[r] = _char_product_numpy(index, v.char_cols, v.char_values)
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
    index: Index, vectors: Sequence[_Vectors], chars: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """What :func:`_products_numpy` gives, bit for bit, with SciPy's compiled products."""
    ones = [(v.cols, np.ones(v.cols.size)) for v in vectors]
    bm25 = _row_products(index.bm25_scipy, ones, np.float64)
    words = [(v.word_cols, v.word_values) for v in vectors]
    word = _row_products(index.word_scipy, words, np.float64)
    idf = [(v.cols, index.coverage_idf(v.cols)) for v in vectors]
    hit = _row_products(index.bm25_pattern, idf, np.float64)
    if not chars:
        return bm25, word, np.zeros_like(bm25), hit
    rows = [(v.char_cols, v.char_values) for v in vectors]
    char = _row_products(index.chars_scipy, rows, np.float32)
    return bm25, word, char.astype(np.float64), hit


@dataclass(frozen=True, slots=True, eq=False)
class Products:
    """A batch's raw products with the index (``bm25``, ``word``, ``char``, ``hit``:
    requests x agents), the IDF each request could reach, its known single terms' IDF,
    its unknown terms, its vocabulary columns and its vectors (None when made for the
    whole batch at once): what :func:`score` reads (see :func:`products`)."""

    raw: dict[str, np.ndarray]
    reach: np.ndarray
    total: np.ndarray
    unknown: np.ndarray
    present: tuple[np.ndarray, ...]
    vectors: Sequence[Any] | None

    def rows(self, start: int, stop: int) -> Products:
        """The products of requests ``start`` to ``stop`` (views, not copies)."""
        vectors = None if self.vectors is None else self.vectors[start:stop]
        return Products(
            {k: v[start:stop] for k, v in self.raw.items()},
            self.reach[start:stop],
            self.total[start:stop],
            self.unknown[start:stop],
            self.present[start:stop],
            vectors,
        )


def products_of(
    index: Index, queries: Sequence[Query], signals: Sequence[LexicalSignal] = LEXICAL
) -> Products:
    """The raw products of ``queries`` with the index, for :func:`score` (``products=``).

    A batch of :data:`BATCH_MIN` requests or more is multiplied in one pass (the same
    sums, see :mod:`agentroute._vectorize`); fewer, one request at a time. A signal that
    reads its product for candidates only (the char view of a very large catalog) is
    left at zeros, and the requests' vectors are kept for it.
    """
    partial = frozenset(s.name for s in signals if s.candidates_only(index))
    chars = "char" not in partial
    if len(queries) >= BATCH_MIN and not partial:
        p = batch_products(index, queries, _kernels())
        raw = {"bm25": p.bm25, "word": p.word, "char": p.char, "hit": p.hit}
        return Products(raw, p.reach, p.total, p.unknown, p.present, None)
    vectors = [_vectors(index, q) for q in queries]
    batch = len(vectors) >= BATCH_MIN
    compute = _products_scipy if batch or _scipy_loaded() else _products_numpy
    bm25, word, char, hit = compute(index, vectors, chars)
    return Products(
        {"bm25": bm25, "word": word, "char": char, "hit": hit},
        np.array([v.reach for v in vectors], dtype=np.float64),
        np.array([v.total for v in vectors], dtype=np.float64),
        np.array([v.unknown for v in vectors], dtype=np.float64),
        tuple(v.cols for v in vectors),
        vectors,
    )


@functools.lru_cache(maxsize=64)
def _shares(weights: Weights, signals: tuple[LexicalSignal, ...]) -> dict[str, float]:
    """:meth:`Weights.shares`, once per weights (a router routes with one); read only."""
    return weights.shares(signals)


def score(
    index: Index,
    queries: Sequence[Query],
    weights: Weights,
    *,
    signals: Sequence[LexicalSignal] = LEXICAL,
    products: Products | None = None,
) -> Scores:
    """Score every agent for every query; every array is in [0, 1] and finite.

    Every lexical signal (:data:`agentroute._lexical.LEXICAL`) reads the batch's shared
    products into its matrix; the fused ones are combined relative to each request's
    best agent: each is divided by its best value for that request before the weighted
    mean, so a signal whose raw values run high (BM25) cannot drown one whose values
    run low (cosines) and no constant has to say how their scales compare.

    A process without SciPy loaded scores a few requests with NumPy alone; a batch of
    :data:`BATCH_MIN` or more, or any request once SciPy is loaded, with SciPy's compiled
    sparse products. Both give the same bits. ``signals``: the lexical signals to read
    and fuse (what a new signal is tried with before it joins ``LEXICAL``).
    ``products``: the requests' raw products, when computed already
    (:func:`products_of`, e.g. for a larger batch, sliced with :meth:`Products.rows`).
    """
    shares = _shares(weights, tuple(signals))
    p = products_of(index, queries, signals) if products is None else products
    matched = tuple(_trigger_keys(index, q) for q in queries)
    batch = Batch(index, queries, p.raw, p.reach, p.total, p.unknown, p.vectors, matched, shares)
    views: dict[str, np.ndarray] = {}
    moments: dict[str, np.ndarray] = {}
    unbounded: list[np.ndarray] = []
    combined: np.ndarray | None = None
    term: np.ndarray | None = None  # one buffer for every signal's weighted term
    for signal in signals:
        view = signal.score(batch)
        views[signal.name] = view.values
        if not view.bounded:
            unbounded.append(view.values)
        if view.moments is not None:
            moments[signal.name] = view.moments
        weight = shares.get(signal.name, 0.0)
        if weight > 0.0:  # a zero weight would add +0.0 to every entry: the same bits
            # weight * relative(values), summed signal after signal, in place: a batch's
            # matrices are megabytes each.
            if combined is None:
                combined = relative(view.values)
                np.multiply(combined, weight, out=combined)
            else:
                term = np.multiply(relative(view.values, term), weight, out=term)
                np.add(combined, term, out=combined)
    if combined is None:  # pragma: no cover - Weights refuses all-zero weights
        combined = np.zeros((len(queries), index.n_agents), dtype=np.float64)
    for arr in (combined, *unbounded):
        # Cosines of non-negative unit vectors lie in [0, 1]; clip float round-off.
        np.clip(arr, 0.0, 1.0, out=arr)
    return Scores(combined, views, matched, p.present, moments)
