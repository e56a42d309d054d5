"""A batch multiplied through dense blocks (agentroute._dense) gives the row-by-row sums."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from agentroute._dense import add_dense, worth_dense
from agentroute._score import _kernels, _products_with

SHAPES = st.tuples(st.integers(1, 12), st.integers(1, 9), st.integers(1, 5))


def _matrix(rng: np.random.Generator, rows: int, cols: int, dtype: type) -> sp.csr_matrix:
    dense = rng.random((rows, cols)) * (rng.random((rows, cols)) < 0.6)
    return sp.csr_matrix(dense.astype(dtype))


def _batch(
    rng: np.random.Generator, n_requests: int, width: int, dtype: type, descending: bool
) -> list[tuple[np.ndarray, np.ndarray]]:
    out = []
    for _ in range(n_requests):
        cols = np.flatnonzero(rng.random(width) < 0.5)
        cols = cols[::-1] if descending else cols
        out.append((cols, rng.random(cols.size).astype(dtype)))
    return out


@settings(max_examples=60, deadline=None)
@given(SHAPES, st.integers(0, 2**32 - 1), st.sampled_from([np.float32, np.float64]), st.booleans())
def test_dense_blocks_sum_as_the_row_by_row_product(
    shape: tuple[int, int, int], seed: int, dtype: type, descending: bool
) -> None:
    terms, agents, n_requests = shape
    rng = np.random.default_rng(seed)
    matrix = _matrix(rng, terms, agents, dtype)
    parts = _batch(rng, n_requests, terms, dtype, descending)
    want = _products_with(_kernels(), matrix, parts, dtype)
    indptr = np.cumsum([0, *(c.size for c, _ in parts)])
    cols = np.concatenate([c for c, _ in parts]).astype(np.int64)
    values = np.concatenate([v for _, v in parts])
    for block in (1, agents, 3 * agents, 1 << 22):  # one row a block, a few, all at once
        got = np.zeros((n_requests, agents), dtype=dtype)
        add_dense(
            _kernels(),
            matrix,
            indptr,
            cols,
            values,
            got,
            descending=descending,
            block_entries=block,
        )
        np.testing.assert_array_equal(got, want)


def test_a_long_sum_in_float32_keeps_its_order() -> None:
    """Summed in another order, float32 sums of many terms differ in their last bits:
    the blocks are taken in the order each request stores its columns."""
    rng = np.random.default_rng(7)
    terms, agents = 400, 6
    matrix = sp.csr_matrix(rng.random((terms, agents)).astype(np.float32))
    cols = np.arange(terms)[::-1]
    values = rng.random(terms).astype(np.float32)
    want = _products_with(_kernels(), matrix, [(cols, values)], np.float32)
    got = np.zeros((1, agents), dtype=np.float32)
    indptr = np.array([0, terms])
    add_dense(_kernels(), matrix, indptr, cols, values, got, descending=True, block_entries=agents)
    np.testing.assert_array_equal(got, want)
    wrong = np.zeros((1, agents), dtype=np.float32)
    add_dense(_kernels(), matrix, indptr, cols[::-1].copy(), values[::-1].copy(), wrong)
    assert not np.array_equal(wrong, want)  # the same terms, summed the other way round


def test_dense_is_chosen_for_rows_that_hold_many_agents() -> None:
    full = sp.csr_matrix(np.ones((3, 8)))
    sparse = sp.csr_matrix(np.eye(3, 8))
    assert worth_dense(full, np.array([0, 1, 2]))
    assert not worth_dense(sparse, np.array([0, 1, 2]))
    assert not worth_dense(full, np.zeros(0, dtype=np.int64))
