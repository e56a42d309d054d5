"""The char matrix as counts and norms gives back every float32 value to the bit, or is not used."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentroute import Router
from agentroute._build import build_index
from agentroute._counts import BIG, decode, encode, tf_table
from agentroute._index import Csr
from agentroute._router import default_catalog_path
from agentroute._spec import AgentSpec


def _decoded(t: Csr, idf: np.ndarray) -> np.ndarray:
    coded = encode(t, idf)
    assert coded is not None
    assert coded.codes.dtype == np.uint8 and coded.codes.shape == t.data.shape
    rows = np.repeat(np.arange(t.shape[0]), np.diff(t.indptr))
    big = (coded.big_keys, coded.big_counts, coded.width)
    return decode(coded.codes, rows, t.indices.astype(np.int64), idf, coded.norms, big)


def test_the_sample_catalog_comes_back_to_the_bit() -> None:
    index = Router.from_path(default_catalog_path()).index
    got = _decoded(index.chars_t, index.char_idf)
    assert got.dtype == np.float32
    assert np.array_equal(got.view(np.uint32), index.chars_t.data.view(np.uint32))


def test_counts_above_a_byte_go_through_their_table() -> None:
    agents = [
        AgentSpec("echo", "Repeats words.", body="banana " * 700),
        AgentSpec("other", "Slices fruit and bakes bread."),
    ]
    index = build_index(agents)
    coded = encode(index.chars_t, index.char_idf)
    assert coded is not None and coded.big_keys.size > 0
    assert int(coded.big_counts.min()) >= BIG
    got = _decoded(index.chars_t, index.char_idf)
    assert np.array_equal(got.view(np.uint32), index.chars_t.data.view(np.uint32))


@settings(max_examples=20, deadline=None)
@given(
    st.lists(
        st.text(alphabet="abcdefgh xyz", min_size=1, max_size=80).filter(str.strip),
        min_size=1,
        max_size=6,
        unique=True,
    )
)
def test_any_catalog_comes_back_to_the_bit(descriptions: list[str]) -> None:
    agents = [AgentSpec(f"agent-{i}", d) for i, d in enumerate(descriptions)]
    try:
        index = build_index(agents)
    except ValueError:  # nothing to index
        return
    got = _decoded(index.chars_t, index.char_idf)
    assert np.array_equal(got.view(np.uint32), index.chars_t.data.view(np.uint32))


def test_values_that_are_not_counts_are_not_encoded() -> None:
    index = Router.from_path(default_catalog_path()).index
    t = index.chars_t
    noisy = Csr((t.data * np.float32(1.0001)).astype(np.float32), t.indices, t.indptr, t.shape)
    assert encode(noisy, index.char_idf) is None
    assert (
        encode(Csr(t.data.astype(np.float64), t.indices, t.indptr, t.shape), index.char_idf) is None
    )


def test_a_large_count_missing_from_its_table_is_refused() -> None:
    index = build_index([AgentSpec("echo", "Repeats words.", body="banana " * 700)])
    coded = encode(index.chars_t, index.char_idf)
    assert coded is not None
    t = index.chars_t
    rows = np.repeat(np.arange(t.shape[0]), np.diff(t.indptr))
    empty = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint16), coded.width)
    with pytest.raises(ValueError, match="large count is missing"):
        decode(coded.codes, rows, t.indices.astype(np.int64), index.char_idf, coded.norms, empty)


def test_the_tf_table_is_scikit_learns() -> None:
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import TfidfTransformer

    counts = np.arange(1, 300, dtype=np.float32)
    x = sp.csr_matrix(counts.reshape(1, -1))
    t = TfidfTransformer(sublinear_tf=True, use_idf=False, norm=None).fit(x)
    assert np.array_equal(t.transform(x).toarray().ravel(), tf_table(300)[1:])
