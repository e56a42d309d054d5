"""The build (``_build.py``) against the scikit-learn / SciPy reference, bit for bit.

The reference below is how the scorer computed everything before the index was stored as
plain arrays (``TfidfVectorizer``, ``CountVectorizer``, SciPy products). The build must
reproduce it exactly: same values, not merely close ones, so routing quality cannot drift
with a performance change. ``tests/test_index.py`` checks the query-time reads against it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer, TfidfVectorizer
from sklearn.preprocessing import normalize as l2_rows

from agentroute import Router, load_agents
from agentroute._build import _EXACT_BELOW, _analyze, _square_sums, build_counted, build_index
from agentroute._index import (
    MAX_BODY_CHARS,
    MAX_CHAR_BODY,
    Csr,
    Index,
    Strings,
    _hints,
    _name_words,
)
from agentroute._router import default_catalog_path
from agentroute._spec import AgentSpec
from agentroute._text import normalize


class Reference:
    """The scikit-learn / SciPy computation the fast path replaced."""

    def __init__(self, agents: tuple[AgentSpec, ...]) -> None:
        ordered = sorted(agents, key=lambda a: a.name)
        fields = {
            "name": [_analyze(_name_words(a)) for a in ordered],
            "description": [_analyze(a.description) for a in ordered],
            "hints": [_analyze(_hints(a)) for a in ordered],
            "body": [_analyze(a.body[:MAX_BODY_CHARS]) for a in ordered],
        }
        self.counter = CountVectorizer(analyzer=lambda d: d, dtype=np.float64)
        self.counter.fit([ts for f in fields.values() for ts in f])
        counts = {f: self.counter.transform(ts).tocsr() for f, ts in fields.items()}
        self.counts = counts
        everything = counts["name"] + counts["description"] + counts["hints"] + counts["body"]
        names = self.counter.get_feature_names_out()
        self.unigram = np.array([" " not in t for t in names], dtype=np.float64)
        self.word_transformer = TfidfTransformer(sublinear_tf=True)
        self.word = self.word_transformer.fit_transform(everything @ sp.diags(self.unigram)).tocsr()
        head_counts = counts["name"] + counts["description"] + counts["hints"]
        self.head = l2_rows(TfidfTransformer(sublinear_tf=True).fit_transform(head_counts)).tocsr()
        self.char_vectorizer = TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=(3, 5),
            preprocessor=normalize,
            lowercase=False,
            sublinear_tf=True,
            dtype=np.float32,
        )
        docs = [f"{_name_words(a)}\n{a.description}\n{a.body[:MAX_CHAR_BODY]}" for a in ordered]
        self.chars = self.char_vectorizer.fit_transform(docs).tocsr()
        self.present = (everything > 0).astype(np.float64).tocsc()


def dense(m: Index, name: str) -> np.ndarray:
    return np.asarray(getattr(m, name).to_scipy().todense())


@pytest.fixture(scope="session")
def pair() -> tuple[Index, Reference]:
    agents = load_agents(default_catalog_path()).agents
    return Router.from_agents(agents).index, Reference(agents)


def test_the_fitted_matrices_are_identical(pair: tuple[Index, Reference]) -> None:
    index, ref = pair
    assert tuple(index.feature_names) == tuple(ref.counter.get_feature_names_out())
    assert tuple(index.char_names) == tuple(ref.char_vectorizer.get_feature_names_out())
    np.testing.assert_array_equal(index.char_idf, ref.char_vectorizer.idf_)
    np.testing.assert_array_equal(index.word_idf, ref.word_transformer.idf_)
    np.testing.assert_array_equal(dense(index, "chars_t"), ref.chars.T.todense())
    np.testing.assert_array_equal(dense(index, "word_t"), ref.word.T.todense())
    np.testing.assert_array_equal(dense(index, "head_rows"), ref.head.todense())
    # The BM25 pattern doubles as "term occurs in the agent's text" for coverage.
    bm25 = index.bm25_t.to_scipy()
    np.testing.assert_array_equal((bm25 != 0).todense(), ref.present.T.todense() != 0)


def test_shared_collection_matrices_match(shared: Path) -> None:
    # A real, messy catalog (duplicates, CRLF, long bodies): same bits as the reference.
    agents = load_agents(shared / "corpora" / "dl-ezo-claude-code-sub-agents").agents
    index, ref = Router.from_agents(agents).index, Reference(agents)
    np.testing.assert_array_equal(dense(index, "chars_t"), ref.chars.T.todense())
    np.testing.assert_array_equal(dense(index, "word_t"), ref.word.T.todense())


def assert_same_index(a: Index, b: Index) -> None:
    """Every field of two indexes equal: arrays in dtype, shape and every value."""
    for field in dataclasses.fields(Index):
        x, y = getattr(a, field.name), getattr(b, field.name)
        if isinstance(x, np.ndarray):
            parts = [(x, y)]
        elif isinstance(x, Csr):
            assert x.shape == y.shape, field.name
            parts = [(getattr(x, p), getattr(y, p)) for p in ("data", "indices", "indptr")]
        elif isinstance(x, Strings):
            assert len(x.keys) == len(y.keys), field.name
            parts = [*zip(x.keys, y.keys, strict=True), *zip(x.positions, y.positions, strict=True)]
        else:
            assert x == y, field.name
            continue
        for u, v in parts:
            assert u.dtype == v.dtype, field.name
            np.testing.assert_array_equal(u, v, err_msg=field.name)


def build_in_slices(agents: Sequence[AgentSpec], size: int) -> Index:
    return build_index(agents, slice_agents=size)


def test_counting_in_slices_builds_the_same_index_on_real_catalogs(corpora: Path) -> None:
    # Two real collections in one catalog: repeated names, not-for sections, long bodies.
    agents = [
        *load_agents(corpora / "dl-ezo-claude-code-sub-agents").agents,
        *load_agents(default_catalog_path()).agents,
    ]
    unique = list({a.name: a for a in agents}.values())
    whole = build_in_slices(unique, len(unique))
    assert_same_index(build_in_slices(unique, 7), whole)
    assert_same_index(build_in_slices(unique, 1), whole)


WORDS = st.sampled_from(["sql", "query", "tuning", "kubernetes", "pod", "é", "aaaa", "go", "x"])


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.lists(WORDS, max_size=6), st.lists(WORDS | st.text(max_size=8), max_size=30)),
        min_size=1,
        max_size=9,
    ),
    st.integers(1, 4),
)
def test_counting_in_slices_builds_the_same_index_on_synthetic_catalogs(
    texts: list[tuple[list[str], list[str]]], size: int
) -> None:
    """Words first seen in a later slice, words repeated across slices, empty agents."""
    agents = [
        AgentSpec(f"agent-{i}", " ".join(d), body=" ".join(b), triggers=tuple(d[:2]))
        for i, (d, b) in enumerate(texts)
    ]
    try:
        whole = build_index(agents)
    except ValueError as empty:
        with pytest.raises(ValueError, match="no agent has a word to index"):
            build_index(agents, slice_agents=size)
        assert "no agent has a word to index" in str(empty)
        return
    sliced = build_index(agents, slice_agents=size)
    assert_same_index(sliced, whole)


@pytest.mark.parametrize("size", [1, 5, 10_000])
def test_char_sums_are_each_rows_sum_added_in_stored_order(size: int) -> None:
    """Each n-gram's column sum (pre-selection's exact mean) is added while the slices are
    placed: the same bits as one bincount over the finished rows, whatever the slices."""
    index = build_index(load_agents(default_catalog_path()).agents, slice_agents=size)
    m = index.chars_t
    rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr.astype(np.int64)))
    expected = np.bincount(rows, weights=m.data, minlength=m.shape[0])
    assert index.char_sums.dtype == np.float64
    np.testing.assert_array_equal(index.char_sums, expected)


def test_the_build_progress_counts_each_agent_once() -> None:
    # Issue 22: the bar read 2,372/2,372 for 1,186 agent files (two passes over the text).
    agents = load_agents(default_catalog_path()).agents
    seen: list[tuple[int, int]] = []
    build_index(agents, progress=lambda done, total: seen.append((done, total)))
    assert {total for _, total in seen} == {len(agents)}
    assert seen[-1] == (len(agents), len(agents))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_the_index_config_is_passed_in_and_kept(tmp_path: Path) -> None:
    """BM25F weights and constants come from the IndexConfig the index is built with (not
    module globals), the index keeps it, and a saved router rebuilds with it."""
    from agentroute import IndexConfig

    agents = load_agents(default_catalog_path()).agents
    plain = build_index(agents)
    config = IndexConfig(body_weight=0.0, bm25_b=0.3)
    changed = build_index(agents, config=config)
    assert plain.config == IndexConfig() and changed.config == config
    assert not np.array_equal(plain.bm25_t.data, changed.bm25_t.data)
    router = Router(agents, index_config=config)
    router.save(tmp_path / "router.npz")
    again = Router.load(tmp_path / "router.npz")
    assert again.index.config == config
    np.testing.assert_array_equal(again.index.bm25_t.data, changed.bm25_t.data)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"bm25_b": 1.5}, r"IndexConfig\.bm25_b must be a finite number in \[0, 1\], got 1\.5"),
        ({"name_weight": -1}, r"IndexConfig\.name_weight must be a finite number >= 0, got -1"),
        ({"preselect": 0}, r"IndexConfig\.preselect must be an integer >= 1, got 0"),
        (
            {"name_weight": 0, "description_weight": 0, "hints_weight": 0, "body_weight": 0},
            "at least one of IndexConfig's field weights must be positive",
        ),
    ],
)
def test_bad_index_settings_are_refused_by_name(change: dict[str, object], message: str) -> None:
    from agentroute import IndexConfig

    with pytest.raises(ValueError, match=message):
        IndexConfig(**change)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"slice_agents must be an integer >= 1, got 0"):
        build_index([AgentSpec("a", "b")], slice_agents=0)


def test_counts_beyond_uint16_keep_their_value() -> None:
    """A slice keeps its n-gram counts as uint16 where they fit; one description repeating
    a word 70,000 times does not fit and must weigh what scikit-learn says."""
    agents = [
        AgentSpec("loud", " ".join(["kubernetes"] * 70_000)),
        AgentSpec("quiet", "Tunes slow sql queries and kubernetes pods."),
    ]
    index, ref = build_index(agents, slice_agents=1), Reference(tuple(agents))
    np.testing.assert_array_equal(dense(index, "chars_t"), ref.chars.T.todense())
    np.testing.assert_array_equal(index.char_idf, ref.char_vectorizer.idf_)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 50), st.floats(1.0, 3.0e4, width=32)),
        min_size=1,
        max_size=60,
        unique_by=lambda e: (e[0], e[1]),
    ),
    st.randoms(use_true_random=False),
)
def test_row_norms_have_the_bits_of_a_sum_in_first_seen_order(
    entries: list[tuple[int, int, float]], rng: object
) -> None:
    """The char rows are left in the sparse product's order: each row's sum of float32
    squares must still be scikit-learn's, added in first-seen order (by ``cols``), both
    where the sum is exact in any order and, past the bound, where it is added again."""
    rng.shuffle(entries)  # type: ignore[attr-defined]
    rows = np.array([e[0] for e in entries], dtype=np.int64)
    cols = np.array([e[1] for e in entries], dtype=np.int32)
    squares = np.array([e[2] for e in entries], dtype=np.float32) ** 2
    expected = np.zeros(4)
    for k in np.lexsort((cols, rows)).tolist():  # each row in first-seen order, one by one
        expected[rows[k]] += np.float64(squares[k])
    for bound in (_EXACT_BELOW, 0.0):  # 0.0: every row re-added in order
        got = _square_sums(rows, cols, squares, 4, exact_below=bound)
        assert got.tobytes() == expected.tobytes()


def test_keeping_the_counts_for_the_cache_builds_the_same_index() -> None:
    agents = load_agents(default_catalog_path()).agents
    assert_same_index(build_counted(agents, slice_agents=3).index, build_index(agents))
