"""The scorers: every score in [0, 1] and finite, for any text; abstention on off-topic requests."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentroute import Router, RouterConfig, Weights, load_agents
from agentroute._index import Index
from agentroute._score import (
    BATCH_MIN,
    _char_product_numpy,
    _products_numpy,
    _products_scipy,
    _row_products,
    _rows,
    _vectors,
    analyze_query,
    score,
)
from conftest import default_router, with_catalog_words

REQUESTS = (
    "our kubernetes pods keep crashing after the helm upgrade",
    "audit login for sql injection",
    "speed up github actions",
    "fine-tune an llm on our tickets",
    "postgress queries are slow",
    "bake bread",
    "",
    "Écris une API REST en Go",
    "help",
)


TEXT = with_catalog_words(st.text(max_size=80))


def test_every_component_is_in_unit_range_and_finite() -> None:
    r = default_router()
    scored: list[bool] = []

    @settings(max_examples=60, deadline=None)
    @given(st.lists(TEXT, min_size=1, max_size=4))
    def check(texts: list[str]) -> None:
        s = score(r.index, [analyze_query(r.index, t) for t in texts], r.config.weights)
        for arr in (s.combined, s.bm25, s.word, s.char, s.trigger, s.coverage):
            assert np.isfinite(arr).all()
            assert (arr >= 0).all() and (arr <= 1).all()
        scored.append(bool((s.bm25 > 0).any() and (s.word > 0).any()))

    check()
    # Zeros are trivially in range: many batches must have scored some agent.
    assert sum(scored) >= len(scored) // 5, sum(scored)


def test_a_request_about_something_else_is_not_routed(router: Router) -> None:
    d = router.route("what's a good database of chess openings")
    assert d.status == "no_match"
    assert d.agent is None


def test_confidence_is_a_probability_and_higher_for_a_clear_request(router: Router) -> None:
    clear = router.route("our kubernetes pods keep crashing after the helm upgrade")
    vague = router.route("make it better")
    assert 0.0 <= vague.confidence <= clear.confidence <= 1.0


def _products_agree(index: Index, texts: list[str]) -> None:
    vectors = [_vectors(index, analyze_query(index, t)) for t in texts]
    for v in vectors:
        # The NumPy char kernel (processes without SciPy) and SciPy's mat-vec: same bits.
        fast = _row_products(index.chars_scipy, [(v.char_cols, v.char_values)], np.float32)[0]
        assert fast.dtype == np.float32
        np.testing.assert_array_equal(fast, _char_product_numpy(index, v.char_cols, v.char_values))
    for one, many in zip(
        _products_numpy(index, vectors), _products_scipy(index, vectors), strict=True
    ):
        np.testing.assert_array_equal(one, many)


@settings(max_examples=40, deadline=None)
@given(st.lists(TEXT | st.sampled_from(REQUESTS), min_size=1, max_size=20))
def test_a_batch_is_scored_bit_for_bit_as_one_request_at_a_time(texts: list[str]) -> None:
    _products_agree(default_router().index, texts)


def test_batched_products_agree_on_a_real_catalog(shared: Path) -> None:
    agents = load_agents(shared / "corpora" / "dl-ezo-claude-code-sub-agents").agents
    index = Router.from_agents(agents).index
    _products_agree(index, [*REQUESTS, "", "zxqv", "write a python web scraper"])


def test_row_products_equal_scipys_sparse_product(shared: Path) -> None:
    """The compiled kernel called row by row gives the bits of SciPy's ``@``."""
    agents = load_agents(shared / "corpora" / "dl-ezo-claude-code-sub-agents").agents
    index = Router.from_agents(agents).index
    vectors = [_vectors(index, analyze_query(index, t)) for t in [*REQUESTS, "zxqv"]]
    for matrix, parts, dtype in (
        (index.chars_scipy, [(v.char_cols, v.char_values) for v in vectors], np.float32),
        (index.word_scipy, [(v.word_cols, v.word_values) for v in vectors], np.float64),
    ):
        mine = _row_products(matrix, parts, dtype)
        theirs = (_rows(parts, matrix.shape[0], dtype) @ matrix).toarray()
        assert mine.dtype == dtype
        assert mine.any()
        np.testing.assert_array_equal(mine, theirs)


def test_private_kernels_are_trusted_only_when_they_match_the_public_product(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SciPy's private kernel module is probed once; one that moved, changed its
    signature or sums differently falls back to the public ``@`` (same results)."""
    import scipy.sparse as sparse
    from scipy.sparse import _sparsetools

    from agentroute import _score

    matrix = sparse.csr_matrix(np.array([[1.0, 0.0, 2.0], [0.5, 3.0, 0.0]]))
    parts = [(np.array([0, 1]), np.array([2.0, 1.0])), (np.array([], dtype=int), np.array([]))]
    want = (_rows(parts, 2, np.float64) @ matrix).toarray()
    _score._kernels.cache_clear()
    assert _score._kernels() is _sparsetools  # this SciPy's kernel is the one used
    np.testing.assert_array_equal(_row_products(matrix, parts, np.float64), want)

    class Moved:
        def csr_matmat(self, *args: object) -> None:
            raise TypeError("csr_matmat() takes 12 arguments")

    class Wrong:
        def csr_matmat(self, *args: object) -> None:
            _sparsetools.csr_matmat(*args)
            args[-1][0] += 1  # type: ignore[index]

    for fake in (Moved(), Wrong()):
        monkeypatch.setattr(sparse, "_sparsetools", fake)
        monkeypatch.setitem(sys.modules, "scipy.sparse._sparsetools", fake)
        _score._kernels.cache_clear()
        assert _score._kernels() is None
        np.testing.assert_array_equal(_row_products(matrix, parts, np.float64), want)
    monkeypatch.undo()
    _score._kernels.cache_clear()
    assert _score._kernels() is _sparsetools


def test_route_many_takes_the_batched_path_and_agrees_with_route(router: Router) -> None:
    texts = [*REQUESTS, *REQUESTS[::-1]]
    assert len(texts) >= BATCH_MIN
    assert router.route_many(texts) == [router.route(t) for t in texts]


def test_short_real_words_are_not_read_as_other_words() -> None:
    """'bread' is one letter from 'read', but a deletion in a five-letter word is no typo."""
    from agentroute import AgentSpec, Router
    from agentroute._score import analyze_query

    router = Router.from_agents(
        [AgentSpec("reader", "Read and summarise documents"), AgentSpec("k8s", "Kubernetes ops")]
    )
    q = analyze_query(router.index, "bake some bread")
    assert q.corrections == ()
    q = analyze_query(router.index, "my kubernets cluster")
    assert ("kubernets", "kubernetes") in q.corrections


def test_preselected_char_scores_are_exact_for_the_candidates(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Above PRESELECT_MIN_AGENTS the char view is read for the leaders only: their char
    scores keep their bits, the others are 0, and the mean over every agent is exact."""
    import agentroute._score as scoring

    router = default_router()
    index = router.index
    texts = [*REQUESTS[:6], "kubernetes helm chart for postgres"]
    queries = [analyze_query(index, t) for t in texts]
    exact = score(index, queries, router.config.weights)
    assert exact.char_moments is None
    monkeypatch.setattr(scoring, "PRESELECT_MIN_AGENTS", 1)
    monkeypatch.setattr(scoring, "PRESELECT", 4)
    for batch in (queries[:1], queries * 3):  # one request (NumPy) and a batch (SciPy)
        pre = score(index, batch, router.config.weights)
        assert pre.char_moments is not None
        for r in range(len(batch)):
            full = exact.char[r % len(queries)]
            kept = np.flatnonzero(pre.char[r])
            assert kept.size <= 4
            np.testing.assert_array_equal(pre.char[r, kept], full[kept])
            assert pre.char_moments[r, 0] == pytest.approx(full.mean(), rel=1e-6)
            assert 0.0 <= pre.char_moments[r, 1] <= full.std() * (1 + 1e-6)
            np.testing.assert_array_equal(pre.bm25[r], exact.bm25[r % len(queries)])
    assert any(np.count_nonzero(exact.char[r]) > 4 for r in range(len(queries)))


def test_huge_weights_normalise_by_their_ratios() -> None:
    # Their sum overflows to infinity; dividing by it made every weight 0 or NaN.
    w = Weights(bm25=1e308, word=1e308, char=1, trigger=0).normalized()
    assert (w.bm25, w.word, w.trigger) == (0.5, 0.5, 0.0) and 0 <= w.char < 1e-300
    router = default_router().with_config(RouterConfig(weights=Weights(bm25=1e308, word=1e308)))
    d = router.route("our kubernetes pods keep crashing after the helm upgrade")
    assert d.agent == "kubernetes-operator" and 0.0 <= d.confidence <= 1.0
