"""The scorers: every score in [0, 1] and finite, for any text; abstention on off-topic requests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentroute import Router, load_agents
from agentroute.index import Index
from agentroute.score import (
    BATCH_MIN,
    CHAR_CANDIDATES,
    _products_numpy,
    _products_scipy,
    _vectors,
    analyze_query,
    char_candidates,
    char_full,
    char_some,
    score,
)

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


@pytest.fixture(scope="module")
def router() -> Router:
    return Router.from_default()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=80), min_size=1, max_size=4))
def test_every_component_is_in_unit_range_and_finite(texts: list[str]) -> None:
    r = Router.from_default()
    s = score(r.index, [analyze_query(r.index, t) for t in texts], r.config.weights)
    for arr in (s.combined, s.bm25, s.word, s.char, s.trigger, s.coverage):
        assert np.isfinite(arr).all()
        assert (arr >= 0).all() and (arr <= 1).all()


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
@given(st.lists(st.text(max_size=80) | st.sampled_from(REQUESTS), min_size=1, max_size=20))
def test_a_batch_is_scored_bit_for_bit_as_one_request_at_a_time(texts: list[str]) -> None:
    _products_agree(Router.from_default().index, texts)


def test_batched_products_agree_on_a_real_catalog(shared: Path) -> None:
    agents = load_agents(shared / "corpora" / "dl-ezo-claude-code-sub-agents").agents
    index = Router.from_agents(agents).index
    _products_agree(index, [*REQUESTS, "", "zxqv", "write a python web scraper"])


def test_route_many_takes_the_batched_path_and_agrees_with_route(router: Router) -> None:
    texts = [*REQUESTS, *REQUESTS[::-1]]
    assert len(texts) >= BATCH_MIN
    assert router.route_many(texts) == [router.route(t) for t in texts]


@pytest.fixture(scope="module")
def large(shared: Path) -> Router:
    # 202 agents: more than CHAR_CANDIDATES, with n-grams both dense and sparse.
    return Router.from_agents(load_agents(shared / "corpora" / "wshobson-agents").agents)


def test_char_of_some_agents_equals_the_full_product_bit_for_bit(large: Router) -> None:
    index = large.index
    assert (index.char_dense_row >= 0).any() and (index.char_dense_row < 0).any()
    rng = np.random.default_rng(3)
    for text in [*REQUESTS, "kubernetes operator for postgres backups", "a" * 300]:
        v = _vectors(index, analyze_query(index, text))
        full = char_full(index, v)
        for size in (1, CHAR_CANDIDATES, index.n_agents):
            agents = np.sort(rng.choice(index.n_agents, size=size, replace=False))
            np.testing.assert_array_equal(char_some(index, v, agents), full[agents])


def test_char_is_read_for_the_leading_agents_only(large: Router) -> None:
    index = large.index
    texts = ["our kubernetes pods keep crashing after the helm upgrade", "zxqv blorf"]
    s = score(index, [analyze_query(index, t) for t in texts], large.config.weights)
    part = s.bm25 / s.bm25[0].max() + s.word / s.word[0].max()
    agents = char_candidates(index, part[0] / 2)
    assert agents is not None and agents.size == CHAR_CANDIDATES
    assert set(np.flatnonzero(s.char[0])) <= set(agents.tolist())
    # The leading agents are those with the best BM25F + word score.
    assert part[0][agents].min() >= np.delete(part[0], agents).max()
    # A request no agent shares a term with reads every agent's char cosine.
    assert char_candidates(index, part[1] * 0) is None


def test_route_many_equals_route_on_a_large_catalog(large: Router) -> None:
    texts = [*REQUESTS, *[f"{t} please" for t in REQUESTS]]
    assert len(texts) >= BATCH_MIN
    assert large.route_many(texts) == [large.route(t) for t in texts]
