"""A batch of requests → its sparse vectors and its products with the index, in one pass.

:func:`agentroute._score.score` reads, per request, the vocabulary columns of its terms
and bigrams, its unit TF-IDF vector of unigrams, its unit vector of character n-grams
and a few IDF sums; then one product per view (BM25F, word, char, coverage) with the
index. One request at a time, that is a dozen small NumPy calls and four kernel calls
each; a batch of hundreds pays the Python overhead hundreds of times. Here the whole
batch is one array per quantity: every request's columns are found in one look-up,
counted by one sort of (request, column) keys, weighted and normalised with
``np.bincount`` by request, and multiplied with the index in one call of SciPy's
compiled sparse product per view (a few thousand rows at a time, so the result's
buffer stays bounded).

The arithmetic is the one-request path's, in the same order: each request's entries
sit in the order that path gives them (columns ascending; the unigram vector
descending), its squares are summed one after another in double precision as
``np.cumsum`` sums them, and the product sums each request row in its stored order.
The promise to the caller is the same decisions and scores within 1e-9
(``tests/test_vectorize.py``); on this NumPy and SciPy the results are the same bits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain
from typing import TYPE_CHECKING, Any

import numpy as np

from agentroute._dense import DENSE_SHARE, add_dense, worth_dense
from agentroute._index import Index, char_words
from agentroute._tfidf import sublinear, word_ngrams

if TYPE_CHECKING:
    import scipy.sparse as sp

    from agentroute._score import Query

__all__ = ["RESULT_ENTRIES", "BatchProducts", "batch_products", "char_rows"]

# Entries of the product's result buffer (rows of the batch × agents) computed per kernel
# call: 4M float64 values are 32 MB, whatever the catalog or the batch.
RESULT_ENTRIES = 1 << 22


@dataclass(frozen=True, slots=True, eq=False)
class BatchProducts:
    """The raw products of a batch (rows: requests, columns: agents) and what the
    scorer reads besides them."""

    bm25: np.ndarray  # BM25F sums (float64)
    word: np.ndarray  # word cosines (float64)
    char: np.ndarray  # char cosines (float32 sums, as float64)
    hit: np.ndarray  # covered IDF (float64)
    reach: np.ndarray  # per request, the IDF of its known terms and bigrams
    total: np.ndarray  # per request, the IDF of its known single terms
    unknown: np.ndarray  # per request, distinct terms the index does not know
    present: tuple[np.ndarray, ...]  # per request, its vocabulary columns (ascending)


def _row_ids(lengths: Sequence[int]) -> np.ndarray:
    return np.repeat(np.arange(len(lengths), dtype=np.int64), np.asarray(lengths, dtype=np.int64))


def _counted(rows: np.ndarray, cols: np.ndarray, width: int) -> tuple[np.ndarray, ...]:
    """Distinct (row, column) pairs, sorted by row then column, and their counts."""
    keys, counts = np.unique(rows * width + cols, return_counts=True)
    return keys // width, keys % width, counts


def _indptr(rows: np.ndarray, n_rows: int) -> np.ndarray:
    out = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_rows), out=out[1:])
    return out


def _unit(rows: np.ndarray, data: np.ndarray, n_rows: int) -> np.ndarray:
    """Each row of ``data`` divided by its L2 norm: :func:`agentroute._tfidf.l2` row by
    row (squares in the data's precision, summed in order in double precision)."""
    squares = (data * data).astype(np.float64)
    total = np.bincount(rows, weights=squares, minlength=n_rows)
    norm = np.sqrt(total)[rows]
    safe = np.where(norm > 0.0, norm, 1.0)
    out: np.ndarray = np.where(norm > 0.0, data.astype(np.float64) / safe, data).astype(data.dtype)
    return out


def _product(
    tools: Any,
    matrix: sp.csr_matrix,
    indptr: np.ndarray,
    cols: np.ndarray,
    values: np.ndarray,
    dtype: type,
    max_entries: int,
    descending: bool = False,
    dense_share: float = DENSE_SHARE,
) -> np.ndarray:
    """Dense ``requests × agents``: the batch's rows times ``matrix`` with the compiled
    kernel (each row summed in its stored order, as the one-row path sums it), as many
    rows a call as ``max_entries`` result entries hold; through dense blocks of the rows
    read (:mod:`agentroute._dense`) when those hold ``dense_share`` of the agents or more
    on average. ``descending``: each request's columns are stored descending (else
    ascending)."""
    n_rows, n = indptr.size - 1, int(matrix.shape[1])
    out: np.ndarray = np.zeros((n_rows, n), dtype=dtype)
    if n_rows == 0 or n == 0 or cols.size == 0:
        return out
    if worth_dense(matrix, cols, dense_share):
        add_dense(tools, matrix, indptr, cols, values, out, descending=descending)
        return out
    ip, ix, data = matrix.indptr, matrix.indices, matrix.data
    kind = ip.dtype
    step = max(1, max_entries // n)
    for start in range(0, n_rows, step):
        stop = min(n_rows, start + step)
        a, b = int(indptr[start]), int(indptr[stop])
        if a == b:
            continue
        rows = stop - start
        xp = (indptr[start : stop + 1] - a).astype(kind)
        xc = np.ascontiguousarray(cols[a:b], dtype=kind)
        xv: np.ndarray = np.ascontiguousarray(values[a:b], dtype=dtype)
        cp = np.zeros(rows + 1, dtype=kind)
        cj = np.empty(rows * n, dtype=kind)
        cx: np.ndarray = np.empty(rows * n, dtype=dtype)
        tools.csr_matmat(rows, n, xp, xc, xv, ip, ix, data, cp, cj, cx)
        k = int(cp[-1])
        which = np.repeat(np.arange(start, stop), np.diff(cp).astype(np.int64))
        out[which, cj[:k]] = cx[:k]
    return out


def _public_product(
    matrix: sp.csr_matrix, indptr: np.ndarray, cols: np.ndarray, values: np.ndarray, dtype: type
) -> np.ndarray:  # pragma: no cover - only when SciPy's private kernels moved
    import scipy.sparse as sparse

    rows = sparse.csr_matrix(
        (values.astype(dtype), cols.astype(np.int32), indptr),
        shape=(indptr.size - 1, int(matrix.shape[0])),
    )
    dense: np.ndarray = (rows @ matrix).toarray()
    return dense


def batch_products(
    index: Index,
    queries: Sequence[Query],
    tools: Any,
    *,
    chars: bool = True,
    max_entries: int = RESULT_ENTRIES,
    dense_share: float = DENSE_SHARE,
) -> BatchProducts:
    """The products of every request of ``queries`` with the index's four views.

    ``tools``: SciPy's kernel module (see :func:`agentroute._score._kernels`), or None
    for SciPy's public product. ``chars=False`` leaves the char view at zero (the
    caller reads it for pre-selected agents only). ``max_entries`` bounds the result
    buffer of one kernel call (rows × agents); a view whose rows the batch reads hold
    ``dense_share`` of the agents or more on average is read through dense blocks
    (:mod:`agentroute._dense`; the same sums).
    """
    nq = len(queries)
    grams = [word_ngrams(q.terms, 1, 2) for q in queries]
    found = index.columns(list(chain.from_iterable(grams)))
    rows = _row_ids([len(g) for g in grams])
    # Unknown distinct terms: the unigrams lead each request's grams.
    unknown = np.zeros(nq, dtype=np.float64)
    at = 0
    for k, (q, g) in enumerate(zip(queries, grams, strict=True)):
        mine = found[at : at + len(q.terms)].tolist()
        unknown[k] = len({t for t, j in zip(q.terms, mine, strict=True) if j < 0})
        at += len(g)
    keep = found >= 0
    width = max(1, len(index.feature_names))
    r, c, counts = _counted(rows[keep], found[keep], width)
    present = tuple(np.split(c, np.cumsum(np.bincount(r, minlength=nq))[:-1]))
    indptr = _indptr(r, nq)
    idf = index.idf[c]
    cover = index.coverage_idf(c)
    reach = np.bincount(r, weights=idf, minlength=nq)
    total = np.bincount(r, weights=cover, minlength=nq)

    # The unigram vector: columns descending within each request (the one-row path's
    # order), normalised twice as TfidfTransformer then normalize() do.
    uni = index.unigram[c] != 0.0
    wr, wc, wn = r[uni], c[uni], counts[uni].astype(np.float64)
    order = np.lexsort((-wc, wr))
    wr, wc, wn = wr[order], wc[order], wn[order]
    wv = _unit(wr, _unit(wr, sublinear(wn, index.word_idf[wc]), nq), nq)

    if tools is None:  # pragma: no cover - SciPy's private kernels moved

        def product(
            m: Any, p: np.ndarray, cc: np.ndarray, v: np.ndarray, dt: type, down: bool = False
        ) -> np.ndarray:
            return _public_product(m, p, cc, v, dt)
    else:

        def product(
            m: Any, p: np.ndarray, cc: np.ndarray, v: np.ndarray, dt: type, down: bool = False
        ) -> np.ndarray:
            return _product(tools, m, p, cc, v, dt, max_entries, down, dense_share)

    bm25 = product(index.bm25_scipy, indptr, c, np.ones(c.size), np.float64)
    hit = product(index.bm25_pattern, indptr, c, cover, np.float64)
    word = product(index.word_scipy, _indptr(wr, nq), wc, wv, np.float64, True)
    if chars:
        char = product(index.chars_scipy, *char_rows(index, queries), np.float32)
    else:
        char = np.zeros((nq, index.n_agents), dtype=np.float32)
    return BatchProducts(bm25, word, char.astype(np.float64), hit, reach, total, unknown, present)


def char_rows(index: Index, queries: Sequence[Query]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The batch's unit char n-gram vectors (float32, columns ascending) as CSR arrays."""
    nq = len(queries)
    parts = [index.char_columns(char_words(q.text)) for q in queries]
    lengths = [sum(p.size for p in ps) for ps in parts]
    flat = [p for ps in parts for p in ps]
    cols = np.concatenate(flat) if flat else np.zeros(0, dtype=np.int64)
    width = max(1, len(index.char_names))
    r, c, counts = _counted(_row_ids(lengths), cols.astype(np.int64), width)
    values = _unit(r, sublinear(counts, index.char_idf[c]), nq)
    return _indptr(r, nq), c, values
