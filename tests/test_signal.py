"""The signal protocol's helpers: relative and stretched rows, the lead of some views, fusion."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from agentroute._signal import fuse, relative, stretch

ROWS = arrays(
    np.float64,
    st.tuples(st.integers(1, 4), st.integers(1, 6)),
    elements=st.floats(0.0, 50.0, allow_nan=False),
)


@given(ROWS)
def test_relative_rows_lie_in_unit_range_with_their_best_at_one(raw: np.ndarray) -> None:
    out = relative(raw)
    assert ((out >= 0) & (out <= 1)).all()
    for r in range(raw.shape[0]):
        if raw[r].max() > 0:
            assert out[r].max() == 1.0
        else:
            assert not out[r].any()


@given(ROWS)
def test_stretched_rows_lie_in_unit_range(raw: np.ndarray) -> None:
    out = stretch(raw)
    assert ((out >= 0) & (out <= 1)).all()


def test_fuse_without_a_view_is_the_same_array() -> None:
    combined = np.array([[0.2, 1.0]])
    assert fuse(combined, []) is combined
    assert fuse(combined, [(0.0, np.array([[1.0, 0.0]]))]) is combined
    assert fuse(combined, [(1.0, np.array([[1.0, 0.0]]))]).tolist() == [[1.0, 0.0]]


def test_lead_fuses_the_named_raw_products_at_their_weights() -> None:
    from agentroute._build import build_index
    from agentroute._score import analyze_query, products_of
    from agentroute._signal import Batch
    from agentroute._spec import AgentSpec

    index = build_index(
        [AgentSpec("db", "PostgreSQL query tuning"), AgentSpec("web", "React components")]
    )
    queries = [analyze_query(index, "slow postgres query in react")]
    p = products_of(index, queries)
    raw = p.raw
    weights = {"bm25": 0.75, "word": 0.25}
    batch = Batch(index, queries, raw, p.reach, p.total, p.unknown, p.vectors, ((),), weights)
    want = 0.75 * relative(raw["bm25"]) + 0.25 * relative(raw["word"])
    assert np.array_equal(batch.lead(("bm25", "word")), want)
