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

import functools
import math
import sys
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from rapidfuzz import fuzz, process

from agentroute._index import (
    FUZZY_CUTOFF,
    MAX_TRIGGER_TERMS,
    MIN_FUZZY_LEN,
    Index,
    char_words,
)
from agentroute._text import term_surfaces
from agentroute._tfidf import l2, sublinear, word_ngrams
from agentroute._vectorize import batch_products

if TYPE_CHECKING:
    import scipy.sparse as sp

__all__ = [
    "MAX_REQUEST_CHARS",
    "Query",
    "Scores",
    "Weights",
    "analyze_query",
    "matched_triggers",
    "score",
]

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

    ``bm25``, ``word``, ``char``, ``trigger`` and ``coverage`` are absolute (each in
    [0, 1]); ``combined`` fuses them relative to the best agent of each request.
    ``present`` holds, per request, the vocabulary columns of its terms and bigrams
    (ascending); ``matched``, the trigger keys found in it (see :func:`matched_triggers`).
    ``trigger`` is computed only when its weight is positive (else zeros): the
    decision reads the best agent's triggers alone.
    """

    combined: np.ndarray
    bm25: np.ndarray
    word: np.ndarray
    char: np.ndarray
    trigger: np.ndarray
    coverage: np.ndarray
    matched: tuple[tuple[str, ...], ...]
    present: tuple[np.ndarray, ...]
    # Per request, the mean and spread of ``char`` over every agent when the char view
    # was read for pre-selected candidates only (see IndexConfig.preselect_min_agents), else None.
    char_moments: np.ndarray | None = None


def _trigger_keys(index: Index, query: Query) -> tuple[str, ...]:
    """The trigger keys found in a request, sorted (looked up gram by gram: a set
    intersection would walk every trigger of the index)."""
    grams = set(word_ngrams(query.terms, 1, MAX_TRIGGER_TERMS))
    return tuple(sorted(g for g in grams if g in index.triggers))


def matched_triggers(index: Index, keys: Sequence[str], agent: int) -> tuple[str, ...]:
    """Which of a request's trigger ``keys`` belong to ``agent``."""
    return tuple(k for k in keys if agent in index.triggers[k])


def _trigger_scores(index: Index, matched: Sequence[Sequence[str]]) -> np.ndarray:
    raw = np.zeros((len(matched), index.n_agents), dtype=np.float64)
    for r, keys in enumerate(matched):
        for key in keys:
            # A phrase of several words is stronger evidence than a single word.
            weight = index.trigger_weight[key] * (1.0 + 0.5 * key.count(" "))
            for agent in index.triggers[key]:
                raw[r, agent] += weight
    out: np.ndarray = -np.expm1(-raw)
    return out


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

    ``scipy.sparse._sparsetools`` is private: before it is trusted, its product of a
    small fixed matrix must equal the public ``@``'s, bit for bit; a SciPy whose
    private module moved or changed its signature falls back to the public product.
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


# -- large catalogs: the char view for pre-selected candidates --------------------------------
#
# The char view reads every (n-gram, agent) pair of a request's ~200 n-grams: ~1.1M at 10,000
# agents, ~11M at 100,000, too many for an interactive route. From this many agents on, it is
# read only for the ``preselect`` agents that lead on BM25F + word (binary search of each n-gram's
# row for them), and the char scores of the others are 0; their mean and spread, which the
# scope model reads, are estimated: the mean exactly (the request's vector times each
# n-gram's column sum), the spread from the candidates and the others' mean. The search
# costs about the same whatever the catalog; the exact product grows with it. Measured on a
# loaded 2-core machine: at 10,000 agents 24 ms pre-selected against 15-17 ms exact, at
# 20,000 about even, so the threshold sits above both (decisions at 20,000 agents with it
# lowered: 200 of 200 equal to exact, benchmarks/speed.py). Below it (every labelled
# catalog, and 10,000 and 20,000 agents) scoring is exact, as before. Both numbers are
# IndexConfig fields (preselect_min_agents, preselect).


def _char_candidates(
    index: Index, cols: np.ndarray, values: np.ndarray, candidates: np.ndarray
) -> np.ndarray:
    """float32 char cosines for ``candidates`` (ascending agent ids): the same bits as the
    full product gives them (the same products, summed in the same order)."""
    # Through gather, not the arrays: a matrix mapped from the cache reads (and checks)
    # only these rows.
    agents, data, lengths = index.chars_t.gather(cols)
    acc = np.zeros(candidates.size, dtype=np.float32)
    wanted = candidates.astype(agents.dtype)
    ends = np.cumsum(lengths)
    for a, b, q in zip((ends - lengths).tolist(), ends.tolist(), values, strict=True):
        if a == b:
            continue
        row = agents[a:b]
        at = np.minimum(np.searchsorted(row, wanted), b - a - 1)
        found = np.where(row[at] == wanted, data[a:b][at], np.float32(0.0))
        acc += found * q
    return acc


def _preselected_char(
    index: Index, vectors: Sequence[_Vectors], bm25: np.ndarray, word: np.ndarray, w: Weights
) -> tuple[np.ndarray, np.ndarray]:
    n = index.n_agents
    char = np.zeros((len(vectors), n), dtype=np.float64)
    moments = np.zeros((len(vectors), 2), dtype=np.float64)
    lead = w.bm25 * _relative(bm25) + w.word * _relative(word)
    k = min(index.config.preselect, n)
    for r, v in enumerate(vectors):
        if not v.char_cols.size:
            continue
        candidates = np.sort(np.argpartition(-lead[r], k - 1)[:k])
        exact = _char_candidates(index, v.char_cols, v.char_values, candidates)
        char[r, candidates] = exact
        mean = float(v.char_values.astype(np.float64) @ index.char_sums[v.char_cols]) / n
        rest = n - k
        rest_mean = (mean * n - float(exact.sum(dtype=np.float64))) / rest if rest else mean
        spread = float(((exact - mean) ** 2).sum()) + rest * (rest_mean - mean) ** 2
        moments[r] = (mean, math.sqrt(max(spread, 0.0) / n))
    return char, moments


def score(index: Index, queries: Sequence[Query], weights: Weights) -> Scores:
    """Score every agent for every query; every array is in [0, 1] and finite.

    The components are fused relative to each request's best agent: each is
    divided by its best value for that request before the weighted mean, so a
    component whose raw values run high (BM25) cannot drown one whose values
    run low (cosines) and no constant has to say how their scales compare.

    A process without SciPy loaded scores a few requests with NumPy alone; a batch of
    :data:`BATCH_MIN` or more, or any request once SciPy is loaded, with SciPy's compiled
    sparse products. Both give the same bits.
    """
    w = weights.normalized()
    preselect = index.n_agents >= index.config.preselect_min_agents
    moments: np.ndarray | None = None
    if len(queries) >= BATCH_MIN and not preselect:
        # A batch: one pass over all its requests (the same sums, see _vectorize).
        p = batch_products(index, queries, _kernels())
        bm25, word, char, hit = p.bm25, p.word, p.char, p.hit
        unknown, reach, known_idf, present = p.unknown, p.reach, p.total, p.present
    else:
        vectors = [_vectors(index, q) for q in queries]
        batch = len(vectors) >= BATCH_MIN
        products = _products_scipy if batch or _scipy_loaded() else _products_numpy
        bm25, word, char, hit = products(index, vectors, not preselect)
        if preselect:
            char, moments = _preselected_char(index, vectors, bm25, word, w)
        unknown = np.array([v.unknown for v in vectors], dtype=np.float64)
        reach = np.array([v.reach for v in vectors], dtype=np.float64)
        known_idf = np.array([v.total for v in vectors], dtype=np.float64)
        present = tuple(v.cols for v in vectors)
    top_idf = index.top_idf
    # The best BM25 a request could reach: every known term saturated, plus the
    # unknown words at the highest IDF (no agent accounts for them).
    reach = (reach + top_idf * unknown) * (index.config.bm25_k1 + 1.0)
    bm25 = np.divide(bm25, reach[:, None], out=np.zeros_like(bm25), where=reach[:, None] > 0)
    matched = tuple(_trigger_keys(index, q) for q in queries)
    if w.trigger > 0:
        trigger = _trigger_scores(index, matched)
    else:
        trigger = np.zeros((len(queries), index.n_agents), dtype=np.float64)
    total = known_idf + top_idf * unknown
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
    return Scores(combined, bm25, word, char, trigger, coverage, matched, present, moments)
