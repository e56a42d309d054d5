"""The scorers: every score in [0, 1] and finite, for any text; abstention on off-topic requests."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentroute import Router
from agentroute.score import analyze_query, score


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
