"""The scorers: every score in [0, 1] and finite, for any text; abstention on off-topic requests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from agentroute import Router, RouterConfig, Weights, load_agents
from agentroute._index import Index
from agentroute._score import (
    BATCH_MIN,
    _products_numpy,
    _products_scipy,
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


def test_huge_weights_normalise_by_their_ratios() -> None:
    # Their sum overflows to infinity; dividing by it made every weight 0 or NaN.
    w = Weights(bm25=1e308, word=1e308, char=1, trigger=0).normalized()
    assert (w.bm25, w.word, w.trigger) == (0.5, 0.5, 0.0) and 0 <= w.char < 1e-300
    router = default_router().with_config(RouterConfig(weights=Weights(bm25=1e308, word=1e308)))
    d = router.route("our kubernetes pods keep crashing after the helm upgrade")
    assert d.agent == "kubernetes-operator" and 0.0 <= d.confidence <= 1.0
