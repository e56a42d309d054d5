"""A batch's sparse rows times an index matrix, through dense blocks of the rows it reads.

The one-request product (SciPy's ``csr_matmat``, see :mod:`agentroute._vectorize`) reads
each index row a request names, once per request that names it: a batch of 300
requests at 10,000 agents reads ~325 million (n-gram, agent) entries of the char view,
most of them many times over (the common n-grams' rows hold half the agents). Here the
rows the batch names are laid out dense once per batch, a block of them at a time, and
each request adds its weight times the dense row (SciPy's ``csr_matvecs``: a vectorised
``y += a * x`` per (request, row)). A block is read from memory once for the whole
batch, and the additions run over contiguous agents instead of scattered ones.

The sums are the one-request path's, in its order: each request's entries are applied
one after another in the order they are stored (blocks are taken in that order too),
each entry adds ``value * weight`` in the matrix's precision, and the agents a row does
not hold add ``+0.0``, which changes no sum of non-negative values. So the products are
the same bits (``tests/test_dense.py``); the promise to the caller is scores within 1e-9.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import scipy.sparse as sp

__all__ = ["BLOCK_ENTRIES", "DENSE_SHARE", "add_dense", "worth_dense"]

# Entries of one dense block (rows x agents): 4M float32 values are 16 MB, whatever the
# catalog. Measured at 10,000 agents (300 requests, char view): 2^18 entries 0.42-0.55 s,
# 2^20 0.38 s, 2^22 0.29-0.32 s against 0.50-0.67 s row by row (loaded 2-core machine).
BLOCK_ENTRIES = 1 << 22

# The dense form pays for every agent of every (request, row) pair; the sparse form only
# for the entries the rows hold, but ~4-5x more per entry (scattered additions). Dense
# when the rows a batch reads hold at least this share of the agents on average (the char
# view's rows: about half; a request's rarer words: far fewer).
DENSE_SHARE = 0.25


def worth_dense(matrix: sp.csr_matrix, cols: np.ndarray, share: float = DENSE_SHARE) -> bool:
    """Whether the rows ``cols`` (one entry per (request, row) pair) of ``matrix`` hold,
    on average, ``share`` of its columns or more: then :func:`add_dense` reads them."""
    n = int(matrix.shape[1])
    if cols.size == 0 or n == 0:
        return False
    ptr = matrix.indptr
    held = int((ptr[cols + 1] - ptr[cols]).sum(dtype=np.int64))
    return held >= share * cols.size * n


def add_dense(
    tools: Any,
    matrix: sp.csr_matrix,
    indptr: np.ndarray,
    cols: np.ndarray,
    values: np.ndarray,
    out: np.ndarray,
    *,
    descending: bool = False,
    block_entries: int = BLOCK_ENTRIES,
) -> None:
    """Add the batch's rows (CSR ``indptr``, ``cols``, ``values``) times ``matrix`` into
    ``out`` (C-contiguous, requests x agents, the matrix's dtype).

    Each request's columns must be stored ascending (``descending``: descending); the
    blocks of rows are then taken in that order, so every request's entries are added
    in their stored order. ``tools``: SciPy's kernel module (see
    :func:`agentroute._score._kernels`).
    """
    n_rows, n = indptr.size - 1, int(matrix.shape[1])
    if cols.size == 0 or n == 0:
        return
    dtype = out.dtype
    kind = np.dtype(np.int64) if cols.size >= 1 << 31 else np.dtype(np.int32)
    used, local = np.unique(cols, return_inverse=True)
    local = local.reshape(-1)
    rows = np.repeat(np.arange(n_rows, dtype=np.int64), np.diff(indptr).astype(np.int64))
    weights = np.ascontiguousarray(values, dtype=dtype)
    step = max(1, block_entries // n)
    starts = list(range(0, used.size, step))
    if descending:
        starts.reverse()
    block: np.ndarray = np.empty(min(step, used.size) * n, dtype=dtype)
    flat = out.reshape(-1)
    for start in starts:
        stop = min(used.size, start + step)
        mine = (local >= start) & (local < stop)
        if not mine.any():
            continue
        sub_ptr = np.zeros(n_rows + 1, dtype=kind)
        np.cumsum(np.bincount(rows[mine], minlength=n_rows), out=sub_ptr[1:])
        sub_cols = (local[mine] - start).astype(kind)
        dense = block[: (stop - start) * n].reshape(stop - start, n)
        matrix[used[start:stop]].toarray(out=dense)  # zeroes it first
        tools.csr_matvecs(
            n_rows, stop - start, n, sub_ptr, sub_cols, weights[mine], dense.reshape(-1), flat
        )
