"""The decline rules, in order, and the words of their reasons (``agentroute._decline``)."""

from __future__ import annotations

from dataclasses import replace

from agentroute._decide import RouterConfig
from agentroute._decline import (
    DECLINE_RULES,
    NO_KNOWN_WORDS,
    Case,
    evidence_phrase,
    no_catalog_words,
    quote,
)
from agentroute._score import Query


def _case(**changes: object) -> Case:
    query = Query(text="deploy the cluster", terms=("deploy", "cluster"), known_terms=2)
    base = Case(
        config=RouterConfig(min_known_share=0.5, min_scope=0.4, min_confidence=0.3),
        n_agents=10,
        text=query.text,
        query=query,
        known=1.0,
        scope=0.9,
        confidence=0.8,
        group=None,
        matched=(),
        name="k8s",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def _reason(case: Case) -> str | None:
    rule = next((r for r in DECLINE_RULES if r.declines(case)), None)
    return None if rule is None else rule.reason(case, "strongest terms 'cluster'")


def test_a_confident_in_scope_request_is_not_declined() -> None:
    assert _reason(_case()) is None


def test_the_first_rule_that_declines_gives_the_reason() -> None:
    # All three rules decline; the unknown words are said, not the low confidence.
    reason = _reason(_case(known=0.1, scope=0.1, confidence=0.1))
    assert reason is not None and reason.startswith("most of the request's words appear")
    reason = _reason(_case(scope=0.1, confidence=0.1))
    assert reason is not None and reason.startswith("the request reads as outside this catalog")
    reason = _reason(_case(confidence=0.1))
    assert reason == (
        "the best candidate, k8s, has confidence 0.10, below the 0.30 threshold "
        "(weak evidence: strongest terms 'cluster')."
    )


def test_the_group_confidence_decides_when_the_leader_has_alternatives() -> None:
    assert _reason(_case(confidence=0.1, group=0.6)) is None
    assert _reason(_case(confidence=0.6, group=0.1)) is not None


def test_two_matched_triggers_keep_a_low_scope_request_in() -> None:
    assert _reason(_case(scope=0.35, matched=("kubernetes", "helm"))) is None
    assert _reason(_case(scope=0.35, matched=("kubernetes",))) is not None
    # A small catalog is not judged on scope at all.
    assert _reason(_case(scope=0.1, n_agents=2)) is None


def test_the_words_of_a_reason() -> None:
    assert quote(["a", "b"]) == "'a', 'b'"
    query = Query(text="x", terms=("x",), corrections=(("kubernets", "kubernetes"),))
    assert evidence_phrase(["helm"], ["chart"], query) == (
        "matched triggers 'helm'; strongest terms 'chart'; ('kubernets' read as 'kubernetes')"
    )
    assert evidence_phrase([], [], Query(text="x", terms=())) == "similar wording"
    assert no_catalog_words("zzz qqq") == NO_KNOWN_WORDS
