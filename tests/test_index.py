"""The NumPy-only query path against the scikit-learn / SciPy reference, bit for bit.

The reference (``tests/test_build.py``) is how the scorer computed everything before the
index was stored as plain arrays (``TfidfVectorizer``, ``CountVectorizer``, SciPy products).
The fast path must reproduce it exactly: same values, not merely close ones, so routing
quality cannot drift with a performance change.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import example, given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz, process
from sklearn.preprocessing import normalize as l2_rows

import test_build
from agentroute import Router
from agentroute._build import build_index
from agentroute._decide import _ranked
from agentroute._index import Csr, Index, Strings
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
from agentroute._tfidf import word_ngrams
from conftest import with_catalog_words
from test_build import Reference

# The index and its scikit-learn reference, built once for both files.
pair = test_build.pair

# Free text alone almost never holds a word the index knows (500 samples: none), which left
# the word-vector comparison comparing empty arrays; catalog words are mixed in.
TEXT = with_catalog_words(
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=300)
    | st.from_regex(r"[A-Za-z ,.\-]{0,120}", fullmatch=True)
)


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
    k1 = index.config.bm25_k1
    reach = (np.asarray(present @ index.idf).ravel() + top * unknown) * (k1 + 1.0)
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
