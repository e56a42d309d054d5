"""The one TF-IDF row and its analysers, checked against scikit-learn (the reference)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import TfidfTransformer, TfidfVectorizer
from sklearn.preprocessing import normalize

from agentroute._tfidf import (
    TOLERANCE,
    NgramTfidf,
    analyzer,
    char_wb_ngrams,
    l2,
    smooth_idf,
    word_ngrams,
)

TEXTS = [
    "Book a table for two at 8pm",
    "what's the weather like in  Paris tomorrow?",
    "I   need to transfer $500 to my savings account",
    "a",
    "",
    "Ünïcode café naïve résumé — done",
    "rate-limiting our gRPC APIs, please",
]


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=60))
def test_analyzers_match_sklearns_own(text: str) -> None:
    word = TfidfVectorizer(ngram_range=(1, 2)).build_analyzer()
    assert analyzer("word", 1, 2)(text) == word(text)
    for lo, hi in ((2, 5), (3, 5)):
        char = TfidfVectorizer(analyzer="char_wb", ngram_range=(lo, hi)).build_analyzer()
        assert analyzer("char_wb", lo, hi)(text) == char(text)
        assert char_wb_ngrams(text.lower(), lo, hi) == char(text)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["a", "bb", "c", "dd d"]), max_size=8), st.integers(1, 4))
def test_word_ngrams_match_sklearns(tokens: list[str], n_max: int) -> None:
    for n_min in range(1, n_max + 1):
        ref = TfidfVectorizer(ngram_range=(n_min, n_max))._word_ngrams(list(tokens))
        assert word_ngrams(tokens, n_min, n_max) == ref


@pytest.mark.parametrize("kind,lo,hi", [("word", 1, 2), ("stem", 1, 2), ("char_wb", 2, 5)])
def test_fast_rows_equal_sklearn_transform(kind: str, lo: int, hi: int) -> None:
    block, x = NgramTfidf.fit(TEXTS, kind, lo, hi)
    queries = [*TEXTS, "transfer the weather", "zzz qqq", "café for two", "two two two for"]
    ref = TfidfVectorizer(analyzer=analyzer(kind, lo, hi), sublinear_tf=True).fit(TEXTS)
    expected = ref.transform(queries).toarray()
    got = block.transform(queries).toarray()
    np.testing.assert_array_equal(got, expected)  # transform's own arithmetic, to the bit
    assert np.abs(block.transform(TEXTS).toarray() - x.toarray()).max() <= TOLERANCE
    assert np.count_nonzero(got) > len(queries)  # the comparison saw real rows


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.integers(1, 50), min_size=1, max_size=40),
    st.sampled_from([np.float32, np.float64]),
)
def test_l2_of_sublinear_row_equals_sklearn(counts: list[int], dtype: type) -> None:
    """One row through TfidfTransformer(sublinear_tf) + normalize: the fast path's bits."""
    n = len(counts)
    rng = np.random.default_rng(n)
    corpus = sp.csr_matrix(rng.integers(0, 3, size=(6, n)).astype(dtype))
    tf = TfidfTransformer(sublinear_tf=True).fit(corpus)
    row = sp.csr_matrix(np.array([counts], dtype=dtype))
    expected = normalize(tf.transform(row)).toarray().ravel()
    idf = np.asarray(tf.idf_, dtype=dtype)
    got = l2(l2((np.log(np.array(counts, dtype=dtype)) + dtype(1.0)) * idf))
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, expected)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.lists(st.integers(0, 3), min_size=5, max_size=5), min_size=1, max_size=12),
    st.sampled_from([np.float32, np.float64]),
)
def test_smooth_idf_equals_sklearns(rows: list[list[int]], dtype: type) -> None:
    counts = sp.csr_matrix(np.array(rows, dtype=dtype))
    expected = TfidfTransformer(sublinear_tf=True).fit(counts).idf_
    df = np.bincount(counts.indices, minlength=counts.shape[1])
    got = smooth_idf(df, counts.shape[0], np.dtype(dtype))
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)
