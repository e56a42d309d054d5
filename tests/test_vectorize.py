"""A batch is scored in one pass (agentroute._vectorize): the same products and decisions
as its requests routed one at a time, scores within 1e-9."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from agentroute import Decision, Router, load_agents
from agentroute._dense import DENSE_SHARE
from agentroute._index import Index
from agentroute._score import BATCH_MIN, _kernels, _products_numpy, _vectors, analyze_query
from agentroute._vectorize import batch_products
from conftest import default_router, with_catalog_words

TOLERANCE = 1e-9
TEXT = with_catalog_words(st.text(max_size=80))
REQUESTS = (
    "our kubernetes pods keep crashing after the helm upgrade",
    "Build the orders API, then write integration tests for it",
    "audit login for sql injection; also speed up github actions",
    "postgress queries are slow",
    "",
    "zxqv",
    "Écris une API REST en Go",
)


def assert_same_decision(a: Decision, b: Decision) -> None:
    """The promise of a batch: agent, status, alternatives, candidates and team the same;
    scores and confidences within :data:`TOLERANCE`."""
    assert (a.request, a.agent, a.status) == (b.request, b.agent, b.status)
    assert a.alternatives == b.alternatives
    assert abs(a.confidence - b.confidence) <= TOLERANCE
    assert abs(a.group_confidence - b.group_confidence) <= TOLERANCE
    assert [c.agent for c in a.candidates] == [c.agent for c in b.candidates]
    for x, y in zip(a.candidates, b.candidates, strict=True):
        assert abs(x.score - y.score) <= TOLERANCE
    assert [(m.agent, m.part) for m in a.team] == [(m.agent, m.part) for m in b.team]


def _products_agree(index: Index, texts: list[str], dense_share: float = DENSE_SHARE) -> None:
    queries = [analyze_query(index, t) for t in texts]
    vectors = [_vectors(index, q) for q in queries]
    bm25, word, char, hit = _products_numpy(index, vectors)
    batch = batch_products(index, queries, _kernels(), dense_share=dense_share)
    for mine, one in ((batch.bm25, bm25), (batch.word, word), (batch.char, char), (batch.hit, hit)):
        assert mine.shape == one.shape
        np.testing.assert_allclose(mine, one, rtol=0, atol=TOLERANCE)
    np.testing.assert_allclose(batch.reach, [v.reach for v in vectors], rtol=0, atol=TOLERANCE)
    np.testing.assert_allclose(batch.total, [v.total for v in vectors], rtol=0, atol=TOLERANCE)
    assert batch.unknown.tolist() == [v.unknown for v in vectors]
    for cols, v in zip(batch.present, vectors, strict=True):
        assert cols.tolist() == v.cols.tolist()


@settings(max_examples=40, deadline=None)
@given(
    st.lists(TEXT | st.sampled_from(REQUESTS), min_size=1, max_size=24),
    st.sampled_from([DENSE_SHARE, 0.0, 2.0]),  # as shipped, every view dense, none dense
)
def test_a_batch_has_the_products_of_its_requests_one_at_a_time(
    texts: list[str], dense_share: float
) -> None:
    _products_agree(default_router().index, texts, dense_share)


@settings(max_examples=25, deadline=None)
@given(st.lists(TEXT | st.sampled_from(REQUESTS), min_size=BATCH_MIN, max_size=40))
def test_route_many_decides_as_a_loop_of_route(texts: list[str]) -> None:
    router = default_router()
    for a, b in zip(router.route_many(texts), [router.route(t) for t in texts], strict=True):
        assert_same_decision(a, b)


def test_a_real_catalog_batch_decides_as_a_loop(shared: Path) -> None:
    """A collection with not-for items, copies and multi-part requests (teams)."""
    agents = load_agents(shared / "corpora" / "davila7-claude-code-templates").agents
    router = Router.from_agents(agents)
    texts = [*REQUESTS, "write a python web scraper and then deploy it on kubernetes"] * 3
    assert len(texts) >= BATCH_MIN
    _products_agree(router.index, texts)
    for a, b in zip(router.route_many(texts), [router.route(t) for t in texts], strict=True):
        assert_same_decision(a, b)


def test_rows_beyond_one_kernel_call_are_scored_alike() -> None:
    """A batch larger than the result buffer is multiplied a slice of rows at a time."""
    index = default_router().index
    queries = [analyze_query(index, t) for t in [*REQUESTS, "write a helm chart"] * 3]
    whole = batch_products(index, queries, _kernels())
    sliced = batch_products(index, queries, _kernels(), max_entries=2 * index.n_agents)
    for a, b in ((whole.bm25, sliced.bm25), (whole.char, sliced.char), (whole.word, sliced.word)):
        assert a.any()
        np.testing.assert_array_equal(a, b)
