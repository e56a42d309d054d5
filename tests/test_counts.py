"""Counts and norms, and BM25F levels, give back every value to the bit, or are not used."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentroute import Router
from agentroute._build import build_counted, build_index
from agentroute._counts import (
    decode,
    decode_levels,
    encode,
    encode_levels,
    tf_table,
)
from agentroute._index import Csr, Index
from agentroute._router import default_catalog_path
from agentroute._spec import AgentSpec


def _rows(t: Csr) -> np.ndarray:
    return np.repeat(np.arange(t.shape[0]), np.diff(t.indptr))


def _decoded(t: Csr, idf: np.ndarray) -> np.ndarray:
    coded = encode(t, idf)
    assert coded is not None
    assert coded.counts.dtype == np.uint16 and coded.counts.shape == t.data.shape
    return decode(coded.counts, _rows(t), t.indices.astype(np.int64), idf, coded.norms)


def _levels(t: Csr, idf: np.ndarray) -> np.ndarray:
    coded = encode_levels(t, idf)
    assert coded is not None
    assert coded.codes.dtype == np.uint16 and coded.codes.shape == t.data.shape
    agents = t.indices.astype(np.int64)
    return decode_levels(coded.codes, _rows(t), agents, idf, coded.levels, coded.ptr)


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.tobytes() == b.tobytes()


def _check(index: Index) -> None:
    assert _same(_decoded(index.chars_t, index.char_idf), index.chars_t.data)
    assert _same(_decoded(index.word_t, index.word_idf), index.word_t.data)
    assert _same(_levels(index.bm25_t, index.idf), index.bm25_t.data)


def test_the_sample_catalog_comes_back_to_the_bit() -> None:
    _check(Router.from_path(default_catalog_path()).index)


def test_counts_above_a_byte_come_back() -> None:
    agents = [
        AgentSpec("echo", "Repeats words.", body="banana " * 700),
        AgentSpec("other", "Slices fruit and bakes bread."),
    ]
    index = build_index(agents)
    coded = encode(index.chars_t, index.char_idf)
    assert coded is not None and int(coded.counts.max()) > 255
    _check(index)


# A small catalog's descriptions: a few distinct, non-blank texts of a few letters.
_DESCRIPTIONS = st.lists(
    st.text(alphabet="abcdefgh xyz", min_size=1, max_size=80).filter(str.strip),
    min_size=1,
    max_size=6,
    unique=True,
)


@settings(max_examples=20, deadline=None)
@given(_DESCRIPTIONS)
def test_any_catalog_comes_back_to_the_bit(descriptions: list[str]) -> None:
    """Every value back to the bit, or no codes at all (an agent whose every term occurs
    more than once has no count of 1 to scale by: its matrix is stored as floats)."""
    agents = [AgentSpec(f"agent-{i}", d, body=d * 3) for i, d in enumerate(descriptions)]
    try:
        index = build_index(agents)
    except ValueError:  # nothing to index
        return
    rows = {name: _rows(getattr(index, name)) for name in ("chars_t", "word_t", "bm25_t")}
    for name, idf in (("chars_t", index.char_idf), ("word_t", index.word_idf)):
        t = getattr(index, name)
        counted = encode(t, idf)
        if counted is not None:
            agents_of = t.indices.astype(np.int64)
            got = decode(counted.counts, rows[name], agents_of, idf, counted.norms)
            assert _same(got, t.data)
    levels = encode_levels(index.bm25_t, index.idf)
    if levels is not None:
        t = index.bm25_t
        agents_of = t.indices.astype(np.int64)
        got = decode_levels(
            levels.codes, rows["bm25_t"], agents_of, index.idf, levels.levels, levels.ptr
        )
        assert _same(got, t.data)


def test_values_that_are_not_counts_are_not_encoded() -> None:
    index = Router.from_path(default_catalog_path()).index
    t = index.chars_t
    noisy = Csr((t.data * np.float32(1.0001)).astype(np.float32), t.indices, t.indptr, t.shape)
    assert encode(noisy, index.char_idf) is None
    assert (
        encode(Csr(t.data.astype(np.float64), t.indices, t.indptr, t.shape), index.char_idf) is None
    )


def test_values_that_are_not_levels_times_idf_are_not_encoded() -> None:
    index = Router.from_path(default_catalog_path()).index
    t = index.bm25_t
    assert (
        encode_levels(Csr(t.data.astype(np.float32), t.indices, t.indptr, t.shape), index.idf)
        is None
    )
    wild = Csr(t.data * (1.0 + 1e-3 * np.arange(t.data.size)), t.indices, t.indptr, t.shape)
    coded = encode_levels(wild, index.idf)  # each value its own level: still exact
    if coded is not None:
        agents = t.indices.astype(np.int64)
        got = decode_levels(coded.codes, _rows(t), agents, index.idf, coded.levels, coded.ptr)
        assert _same(got, wild.data)


def test_codes_out_of_range_are_refused() -> None:
    index = Router.from_path(default_catalog_path()).index
    t = index.bm25_t
    coded = encode_levels(t, index.idf)
    assert coded is not None
    agents, rows = t.indices.astype(np.int64), _rows(t)
    with pytest.raises(ValueError, match="level code out of range"):
        decode_levels(coded.codes + 1000, rows, agents, index.idf, coded.levels, coded.ptr)
    counted = encode(index.chars_t, index.char_idf)
    assert counted is not None
    c = index.chars_t
    crow, cagent = _rows(c), c.indices.astype(np.int64)
    with pytest.raises(ValueError, match="count out of range"):
        decode(np.zeros_like(counted.counts), crow, cagent, index.char_idf, counted.norms)
    with pytest.raises(ValueError, match="norm out of range"):
        decode(counted.counts, crow, cagent, index.char_idf, counted.norms * 0)


def test_the_tf_table_is_scikit_learns() -> None:
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import TfidfTransformer

    for dtype in (np.float32, np.float64):
        counts = np.arange(1, 300, dtype=dtype)
        x = sp.csr_matrix(counts.reshape(1, -1))
        t = TfidfTransformer(sublinear_tf=True, use_idf=False, norm=None).fit(x)
        assert np.array_equal(t.transform(x).toarray().ravel(), tf_table(300, dtype)[1:])


def _sample_agents() -> list[AgentSpec]:
    from agentroute import load_agents

    return list(load_agents(default_catalog_path()).agents)


def test_counts_the_build_keeps_are_the_ones_recovered() -> None:
    """``build_counted`` gives the writer its own counts, explicitly, beside the same
    index: the same counts and norms (so the same bytes written) as recovering them from
    the weights, as often as they are asked for."""
    counted = build_counted(_sample_agents())
    plain = build_index(_sample_agents())
    assert sorted(counted.counts) == ["chars_t", "word_t"]
    for name, vector in (("chars_t", "char_idf"), ("word_t", "word_idf")):
        kept = counted.counts[name]
        assert kept.dtype == np.uint16 and kept.shape == getattr(plain, name).data.shape
        recovered = encode(getattr(plain, name), getattr(plain, vector))
        assert recovered is not None
        for _ in range(2):  # nothing is taken: the second write gets what the first did
            handed = encode(getattr(counted.index, name), getattr(plain, vector), kept)
            assert handed is not None
            assert handed.counts.tobytes() == recovered.counts.tobytes()
            assert handed.norms.tobytes() == recovered.norms.tobytes()


@settings(max_examples=20, deadline=None)
@given(_DESCRIPTIONS)
def test_kept_counts_give_every_value_back(descriptions: list[str]) -> None:
    """With the build's own counts there is nothing to recover: the char and word
    matrices of any catalog are coded, every value back to the bit."""
    agents = [AgentSpec(f"agent-{i}", d, body=d * 3) for i, d in enumerate(descriptions)]
    try:
        counted = build_counted(agents)
    except ValueError:  # nothing to index
        return
    index = counted.index
    for name, idf in (("chars_t", index.char_idf), ("word_t", index.word_idf)):
        t = getattr(index, name)
        coded = encode(t, idf, counted.counts[name])
        assert coded is not None
        got = decode(coded.counts, _rows(t), t.indices.astype(np.int64), idf, coded.norms)
        assert _same(got, t.data)


def test_kept_counts_that_do_not_give_the_values_back_are_not_used() -> None:
    index = build_index(_sample_agents())
    t = index.chars_t
    wrong = np.ones(t.nnz, dtype=np.uint16) + 1  # wrong counts: checked, refused
    assert encode(t, index.char_idf, wrong) is None
    with pytest.raises(ValueError, match=r"one per entry"):
        encode(t, index.char_idf, np.ones(3, dtype=np.uint16))
    with pytest.raises(ValueError, match=r"uint16 values, one per entry"):
        encode(t, index.char_idf, np.ones(t.nnz, dtype=np.int64))
