"""The cache's coded matrices: packed codes when they give every value back, else floats;
IDF vectors computed again to the bit."""

from __future__ import annotations

import numpy as np
import pytest

from agentroute import Router, _coded
from agentroute._index import Index
from agentroute._router import default_catalog_path


@pytest.fixture(scope="module")
def index() -> Index:
    return Router.from_path(default_catalog_path()).index


def test_each_matrix_is_packed_with_its_per_agent_numbers(index: Index) -> None:
    arrays, kinds = _coded.coded_arrays(index)
    assert kinds == {"bm25_t": "levels", "word_t": "counts", "chars_t": "counts"}
    for name, kind in kinds.items():
        assert set(arrays) >= _coded.stored_names(name, kind)
        assert f"{name}.data" not in arrays
    assert arrays["bm25_level_ptr"].shape == (index.n_agents + 1,)


def test_a_matrix_codes_cannot_give_back_is_stored_as_floats(
    index: Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_coded, "encode_levels", lambda t, idf: None)
    arrays, kinds = _coded.coded_arrays(index)
    assert kinds["bm25_t"] == "float"
    assert arrays["bm25_t.data"] is index.bm25_t.data
    assert "bm25_levels" not in arrays


def test_the_idf_vectors_are_computed_again_to_the_bit(index: Index) -> None:
    assert _coded.computed_vectors(index) == ["idf", "word_idf"]
    df = np.diff(index.bm25_t.indptr.astype(np.int64))
    assert _coded.bm25_idf(df, index.n_agents).tobytes() == index.idf.tobytes()


def test_per_agent_numbers_out_of_range_are_refused(index: Index) -> None:
    arrays, _ = _coded.coded_arrays(index)
    vectors = {"idf": index.idf, "word_idf": index.word_idf, "char_idf": index.char_idf}
    n = index.n_agents
    bad = dict(arrays, **vectors, char_norms=np.full(n, 0.5))
    with pytest.raises(ValueError, match="'char_norms' is malformed"):
        _coded.decoder("chars_t", bad, n, 1e4)
    levels = arrays["bm25_levels"].copy()
    levels[0] = np.nan
    with pytest.raises(ValueError, match="levels of 'bm25_t' are malformed"):
        _coded.decoder("bm25_t", dict(arrays, **vectors, bm25_levels=levels), n, 1e4)
