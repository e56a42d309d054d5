"""Hostile requests: always a Decision, confidence finite in [0, 1) and never 1.0, bounded time."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentroute import Decision, Router
from conftest import assert_sound, default_router, with_catalog_words

SECONDS = 10.0


def _check(decision: Decision, request: str) -> None:
    assert_sound(decision, default_router(), request)


HOSTILE_REQUESTS = {
    "empty": "",
    "whitespace": " \t\n\r\x0b\x0c\u00a0\u2028\u3000" * 100,
    "10 MB": "kubernetes pods crash " * (10 * 1024 * 1024 // 22),
    "NUL and control characters": "fix\x00 the\x01\x07\x1b[2J kubernetes\x7f\x9b pods\x00" * 50,
    "right-to-left": "\u202eإصلاح قاعدة البيانات postgres \u05e2\u05d1\u05e8\u05d9\u05ea\u202c",
    "emoji": "🚀🔥 deploy my 🐳 docker image to ☸️ kubernetes 👩‍💻" * 20,
    "regex metacharacters": r".*+?[](){}|\^$ (a+)+$ \d\w\s [^]] (?=x) \1 *python*",
    "only punctuation": "!?.,;:'\"-_/\\" * 1000,
    "lone surrogates": "\ud800 python \udfff",
    "one long word": "k" * 1_000_000,
    # Long blank runs between clauses made the team splitter backtrack cubically
    # (1,000 spaces: 12 s; found by review).
    "blank runs between clauses": "fix the kubernetes deployment"
    + " " * 100_000
    + "then write the tests"
    + "\t" * 5_000
    + "and\u00a0" * 2_000,
}


@pytest.mark.parametrize("name", list(HOSTILE_REQUESTS))
def test_hostile_request_gets_a_decision(router: Router, name: str) -> None:
    request = HOSTILE_REQUESTS[name]
    start = time.perf_counter()
    decision = router.route(request)
    (many,) = router.route_many([request])
    assert time.perf_counter() - start < SECONDS
    _check(decision, request)
    assert many == decision


def test_empty_and_blank_requests_match_nothing(router: Router) -> None:
    for request in ("", "   ", "\n\t"):
        d = router.route(request)
        assert (d.agent, d.status, d.confidence) == (None, "no_match", 0.0)
        # No ranking exists for an empty request: listing the first names of the
        # catalog at 0.000 (what 0.2 did) reads as if they were candidates.
        assert d.candidates == ()
        assert router.route_many([request])[0] == d


def test_any_unicode_text_gets_a_sound_decision() -> None:
    router = default_router()
    matched: list[bool] = []

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        with_catalog_words(
            st.text(alphabet=st.characters(codec=None, categories=None), max_size=300)
        )
    )
    def check(text: str) -> None:
        d = router.route(text)
        _check(d, text)
        matched.append(d.status != "no_match")

    check()
    # The candidate and agent checks ran: catalog words made many requests match.
    assert sum(matched) >= len(matched) // 5, sum(matched)


def test_keyword_stuffing_routes_to_the_stuffed_agent_never_with_certainty(
    router: Router,
) -> None:
    """Each agent's trigger words repeated 10,000 times: that agent (or none), confidence < 1."""
    for agent in router.agents:
        words = " ".join(agent.triggers[:3])
        request = " ".join([words] * 10_000)
        start = time.perf_counter()
        d = router.route(request)
        assert time.perf_counter() - start < SECONDS
        _check(d, request)
        assert d.agent in (agent.name, None), (agent.name, d)


def test_stuffing_another_agents_words_onto_a_request_is_not_certain(router: Router) -> None:
    """A genuine request buried under 10,000 copies of another agent's words."""
    genuine = "write pytest fixtures for my django models"
    for agent in router.agents:
        stuffed = genuine + " " + " ".join([agent.triggers[0]] * 10_000)
        d = router.route(stuffed)
        _check(d, stuffed)  # confidence below the default calibration's ceiling
