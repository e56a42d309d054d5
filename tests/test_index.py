"""The NumPy-only index and query path against the scikit-learn / SciPy reference, bit for bit.

The reference below is how the scorer computed everything before the index was stored as
plain arrays (``TfidfVectorizer``, ``CountVectorizer``, SciPy products). The fast path
must reproduce it exactly: same values, not merely close ones, so routing quality cannot
drift with a performance change.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import example, given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz, process
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer, TfidfVectorizer
from sklearn.preprocessing import normalize as l2_rows

from agentroute import Router, load_agents
from agentroute._decide import _ranked
from agentroute._index import (
    BM25_K1,
    MAX_BODY_CHARS,
    MAX_CHAR_BODY,
    Csr,
    Index,
    Strings,
    _analyze,
    _hints,
    _name_words,
    build_index,
)
from agentroute._router import default_catalog_path
from agentroute._score import (
    Weights,
    analyze_query,
    char_vector,
    score,
    term_counts,
    word_vector,
)
from agentroute._spec import AgentSpec
from agentroute._text import normalize
from agentroute._tfidf import word_ngrams
from conftest import with_catalog_words

# Free text alone almost never holds a word the index knows (500 samples: none), which left
# the word-vector comparison comparing empty arrays; catalog words are mixed in.
TEXT = with_catalog_words(
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=300)
    | st.from_regex(r"[A-Za-z ,.\-]{0,120}", fullmatch=True)
)


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


@pytest.fixture(scope="module")
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


def assert_request_vectors_match(index: Index, ref: Reference, text: str) -> int:
    """The fast char and word vectors of ``text`` equal sklearn's; returns the word entries."""
    cols, values = char_vector(index, text)
    expected = ref.char_vectorizer.transform([text])
    np.testing.assert_array_equal(cols, expected.indices)
    np.testing.assert_array_equal(values, expected.data)
    assert values.dtype == expected.data.dtype

    q = analyze_query(index, text)
    cols, counts = term_counts(index, q)
    grams = ref.counter.transform([word_ngrams(q.terms, 1, 2)])
    np.testing.assert_array_equal(cols, grams.indices)
    uni = sp.csr_matrix(grams, dtype=np.float64) @ sp.diags(ref.unigram)
    qw = l2_rows(ref.word_transformer.transform(uni))
    wc, wv = word_vector(index, cols, counts)
    np.testing.assert_array_equal(wc, qw.indices)
    np.testing.assert_array_equal(wv, qw.data)
    return len(wc)


def test_request_vectors_equal_sklearn_transform(pair: tuple[Index, Reference]) -> None:
    index, ref = pair
    sizes: list[int] = []

    @settings(max_examples=200, deadline=None)
    @given(text=TEXT)
    def check(text: str) -> None:
        sizes.append(assert_request_vectors_match(index, ref, text))

    check()
    # Empty word vectors are trivially equal: many requests must have had known words.
    assert sum(n > 0 for n in sizes) >= len(sizes) // 5, sizes


@pytest.mark.parametrize(
    "text",
    [
        "our kubernetes pods keep crashing after the helm upgrade",
        "Postgres QUERY plans, indexes & replication-lag!",
        "write pytest fixtures for the flaky e2e tests",
    ],
)
def test_known_words_give_equal_nonempty_word_vectors(
    pair: tuple[Index, Reference], text: str
) -> None:
    index, ref = pair
    assert assert_request_vectors_match(index, ref, text) >= 3


def reference_scores(index: Index, ref: Reference, texts: list[str]) -> dict[str, np.ndarray]:
    """The old score() products, by SciPy."""
    queries = [analyze_query(index, t) for t in texts]
    counts = sp.csr_matrix(
        ref.counter.transform([word_ngrams(q.terms, 1, 2) for q in queries]), dtype=np.float64
    )
    present = counts.copy()
    present.data[:] = 1.0
    uni = counts @ sp.diags(ref.unigram)
    qw = l2_rows(ref.word_transformer.transform(uni))
    qc = ref.char_vectorizer.transform([q.text for q in queries])
    bm25 = index.bm25_t.to_scipy()
    idf = index.idf * ref.unigram
    unknown = np.array(
        [len(set(q.terms) - set(ref.counter.get_feature_names_out())) for q in queries], dtype=float
    )
    top = float(index.idf.max())
    reach = (np.asarray(present @ index.idf).ravel() + top * unknown) * (BM25_K1 + 1.0)
    raw = np.asarray((present @ bm25).todense())
    total = np.asarray(present @ idf).ravel() + top * unknown
    hit = np.asarray((present @ sp.diags(idf) @ ref.present.T).todense())
    return {
        "bm25": np.divide(raw, reach[:, None], out=np.zeros_like(raw), where=reach[:, None] > 0),
        "coverage": np.divide(
            hit, total[:, None], out=np.zeros_like(hit), where=total[:, None] > 0
        ),
        "word": np.asarray((qw @ ref.word.T).todense(), dtype=np.float64),
        "char": np.asarray((qc @ ref.chars.T).todense(), dtype=np.float64),
    }


@settings(max_examples=40, deadline=None)
@given(texts=st.lists(TEXT, min_size=1, max_size=4))
@example(texts=["AWS:CUTT:EXAMPL"])
def test_scores_equal_the_scipy_products(pair: tuple[Index, Reference], texts: list[str]) -> None:
    index, ref = pair
    fixed = [*texts, "our kubernetes pods keep crashing after the helm upgrade"]
    got = score(index, [analyze_query(index, t) for t in fixed], Weights())
    want = reference_scores(index, ref, fixed)
    np.testing.assert_array_equal(np.clip(want["word"], 0, 1), got.word)
    np.testing.assert_array_equal(np.clip(want["char"], 0, 1), got.char)
    np.testing.assert_array_equal(np.clip(want["bm25"], 0, 1), got.bm25)
    # Coverage is a share of IDF sums whose terms the scorer adds in ascending column
    # order and the reference in SciPy's: the two may differ in the last bit
    # (["AWS:CUTT:EXAMPL"]: 0.9999999999999998 against 1.0).
    np.testing.assert_allclose(got.coverage, np.clip(want["coverage"], 0, 1), rtol=0, atol=1e-12)


def test_the_ranking_shortcut_equals_a_full_sort() -> None:
    rng = np.random.default_rng(5)
    for n in (3, 300, 5000):
        for _ in range(20):
            values = np.round(rng.choice([0.0, 0.25, 0.5, 1.0], n) * rng.random(n) ** 4, 2)
            for k in (1, 2, 5, 10):
                k = min(k, n)
                full = np.lexsort((np.arange(n), -values))[:k]
                np.testing.assert_array_equal(_ranked(values, k), full)


def test_fuzzy_candidates_by_length_pick_what_the_full_list_picks(
    pair: tuple[Index, Reference],
) -> None:
    index, _ = pair
    words = [t[:-1] + "x" for t in index.fuzzy_terms] + ["kubernets", "postgress", "helmm"]
    for w in words:
        full = process.extractOne(w, index.fuzzy_terms, scorer=fuzz.ratio, score_cutoff=85.0)
        fast = process.extractOne(w, index.fuzzy_for(len(w)), scorer=fuzz.ratio, score_cutoff=85.0)
        assert (full and full[0]) == (fast and fast[0])


def test_shared_collection_matrices_match(shared: Path) -> None:
    # A real, messy catalog (duplicates, CRLF, long bodies): same bits as the reference.
    agents = load_agents(shared / "corpora" / "dl-ezo-claude-code-sub-agents").agents
    index, ref = Router.from_agents(agents).index, Reference(agents)
    np.testing.assert_array_equal(dense(index, "chars_t"), ref.chars.T.todense())
    np.testing.assert_array_equal(dense(index, "word_t"), ref.word.T.todense())


@settings(max_examples=80, deadline=None)
@given(
    st.sets(st.text(st.characters(exclude_categories=()), min_size=1, max_size=6), max_size=30),
    st.lists(st.text(st.characters(exclude_categories=()), max_size=7), max_size=10),
)
def test_the_vocabulary_arrays_find_what_a_dictionary_finds(
    words: set[str], probes: list[str]
) -> None:
    """NUL, lone surrogates, any order: ``Strings`` answers as ``{word: column}`` would."""
    ordered = sorted(words)
    vocabulary = Strings.from_sorted(ordered)
    table = {w: i for i, w in enumerate(ordered)}
    asked = [*probes, *ordered[:5], "a\x00", "\x00", "\ud800"]
    assert vocabulary.find(asked).tolist() == [table.get(p, -1) for p in asked]
    assert list(vocabulary) == ordered


def test_remembered_columns_survive_a_full_table(monkeypatch: pytest.MonkeyPatch) -> None:
    import agentroute._index as indexing

    index = Router.from_path(default_catalog_path()).index
    monkeypatch.setattr(indexing, "_MAX_REMEMBERED_WORDS", 4)
    first = index.columns(["kubernetes", "helm", "zzz"])
    again = index.columns(["helm", "pods", "crash", "kubernetes", "sql"])  # overflows: cleared
    assert first[:2].tolist() == again[[3, 0]].tolist() and first[2] == -1
    assert (again[[0, 3]] >= 0).all()


@given(st.lists(st.text(alphabet="abcdé xyz", min_size=1, max_size=8), min_size=1, max_size=40))
def test_column_look_ups_agree_with_a_dictionary(words: list[str]) -> None:
    # The hook looks terms up by binary search (no dict to build); every term and n-gram
    # must get the column a dictionary of the names would give.
    idx = build_index([AgentSpec("a", " ".join(words)), AgentSpec("b", "sql query tuning")])
    names, chars = list(idx.feature_names), list(idx.char_names)
    vocab = {t: i for i, t in enumerate(names)}
    char_vocab = {g: i for i, g in enumerate(chars)}
    probes = [*names, *words, "zzz", "", "sql query"]
    assert [idx.column(t) for t in probes] == [vocab.get(t) for t in probes]
    grams = [*chars, " zz", "q"]
    # As Index.char_columns looks them up.
    found = idx.char_names.find(grams).tolist()
    assert [j if j >= 0 else None for j in found] == [char_vocab.get(g) for g in grams]
    assert [idx.knows(t) for t in probes] == [" " not in t and t in vocab for t in probes]


@given(
    st.lists(st.text(min_size=1, max_size=40), min_size=1, max_size=60, unique=True),
    st.lists(st.text(max_size=40), max_size=30),
)
@settings(max_examples=60, deadline=None)
def test_strings_answer_the_same_by_binary_search_and_by_dictionary(
    vocab: list[str], probes: list[str]
) -> None:
    """A long-lived process switches to one dictionary: it must find exactly what the search did."""
    from agentroute._index import _DICT_AFTER, Strings

    values = sorted(vocab)
    asked = [*values, *probes]
    strings = Strings.from_sorted(values)
    by_search = strings.find(asked).tolist()
    assert [by_search[i] for i in range(len(values))] == list(range(len(values)))
    named = [strings[i] for i in range(len(values))]  # by binary search
    for _ in range(_DICT_AFTER):
        strings.find(["warm-up"])
    assert strings._table is not None  # the switch happened
    assert strings.find(asked).tolist() == by_search
    # Names come from the list the dictionary filled, and are the same strings.
    fresh = Strings.from_sorted(values)
    for _ in range(_DICT_AFTER + 1):
        fresh.find(["warm-up"])
    assert fresh._names is not None and not fresh._named
    assert [fresh[i] for i in range(len(values))] == named == values
    with pytest.raises(IndexError):
        fresh[len(values)]


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


def build_in_slices(
    agents: Sequence[AgentSpec], size: int, monkeypatch: pytest.MonkeyPatch
) -> Index:
    import agentroute._index as indexing

    with monkeypatch.context() as m:
        m.setattr(indexing, "SLICE_AGENTS", size)
        return build_index(agents)


def test_counting_in_slices_builds_the_same_index_on_real_catalogs(
    corpora: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two real collections in one catalog: repeated names, not-for sections, long bodies.
    agents = [
        *load_agents(corpora / "dl-ezo-claude-code-sub-agents").agents,
        *load_agents(default_catalog_path()).agents,
    ]
    unique = list({a.name: a for a in agents}.values())
    whole = build_in_slices(unique, len(unique), monkeypatch)
    assert_same_index(build_in_slices(unique, 7, monkeypatch), whole)
    assert_same_index(build_in_slices(unique, 1, monkeypatch), whole)


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
    import agentroute._index as indexing

    agents = [
        AgentSpec(f"agent-{i}", " ".join(d), body=" ".join(b), triggers=tuple(d[:2]))
        for i, (d, b) in enumerate(texts)
    ]
    saved = indexing.SLICE_AGENTS
    try:
        whole = build_index(agents)
    except ValueError as empty:
        with pytest.raises(ValueError, match="no agent has a word to index"):
            indexing.SLICE_AGENTS = size
            build_index(agents)
        assert "no agent has a word to index" in str(empty)
        return
    finally:
        indexing.SLICE_AGENTS = saved
    try:
        indexing.SLICE_AGENTS = size
        sliced = build_index(agents)
    finally:
        indexing.SLICE_AGENTS = saved
    assert_same_index(sliced, whole)


@given(st.lists(st.integers(0, 6), max_size=40), st.integers(1, 9))
def test_row_sums_in_chunks_equal_one_bincount(lengths: list[int], entries: int) -> None:
    from agentroute._index import _row_sums

    indptr = np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)]).astype(np.int32)
    rng = np.random.default_rng(len(lengths))
    data = rng.random(int(indptr[-1])).astype(np.float32)
    matrix = Csr(data, np.zeros(data.size, dtype=np.uint16), indptr, (len(lengths), 1))
    rows = np.repeat(np.arange(len(lengths)), lengths)
    expected = np.bincount(rows, weights=data, minlength=len(lengths))
    np.testing.assert_array_equal(_row_sums(matrix, entries), expected)


def test_the_build_progress_counts_each_agent_once() -> None:
    # Issue 22: the bar read 2,372/2,372 for 1,186 agent files (two passes over the text).
    agents = load_agents(default_catalog_path()).agents
    seen: list[tuple[int, int]] = []
    build_index(agents, progress=lambda done, total: seen.append((done, total)))
    assert {total for _, total in seen} == {len(agents)}
    assert seen[-1] == (len(agents), len(agents))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_positions_find_every_stored_entry_and_nothing_else(data: st.DataObject) -> None:
    """Csr.positions (all pairs' binary searches at once) against a search per pair."""
    dense = data.draw(
        st.lists(
            st.lists(st.sampled_from([0.0, 0.0, 1.5, 2.0]), min_size=7, max_size=7),
            min_size=1,
            max_size=6,
        )
    )
    m = Csr.from_scipy(sp.csr_matrix(np.array(dense)))
    rows = np.array(
        data.draw(st.lists(st.integers(0, len(dense) - 1), max_size=30)), dtype=np.int64
    )
    cols = np.array(
        data.draw(st.lists(st.integers(0, 6), min_size=rows.size, max_size=rows.size)),
        dtype=np.int64,
    )
    at = m.positions(rows, cols)
    assert m.positions(rows, cols, max_gather=0).tolist() == at.tolist()  # the search
    for k, (r, c) in enumerate(zip(rows.tolist(), cols.tolist(), strict=True)):
        row = m.indices[m.indptr[r] : m.indptr[r + 1]].tolist()
        assert at[k] == (int(m.indptr[r]) + row.index(c) if c in row else -1)
    assert m.pairs(rows, cols).tolist() == [dense[r][c] for r, c in zip(rows, cols, strict=True)]
