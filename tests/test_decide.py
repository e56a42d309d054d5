"""The decision policy: status, ambiguity, copies, thresholds and the reason, for both paths."""

from __future__ import annotations

import pytest

from agentroute import AgentSpec, Candidate, Router, RouterConfig
from agentroute._decide import _Evidence, _verdict


def test_ambiguous_names_both_agents() -> None:
    near = [
        AgentSpec("alpha", "Writes Terraform modules for cloud networks."),
        # Same description, a different body: two agents, not copies of one.
        AgentSpec("beta", "Writes Terraform modules for the cloud networks.", body="x"),
    ]
    d = Router.from_agents(near).route("write terraform modules for our cloud network")
    assert d.status == "ambiguous"
    assert d.agent in ("alpha", "beta")
    assert "alpha" in d.reason and "beta" in d.reason


def test_identical_copies_are_named_but_not_rivals() -> None:
    """Collections ship one agent under several names; a copy is as right as the leader."""
    copies = [
        AgentSpec("ops-terraform", "Writes Terraform modules for cloud networks.", body="B"),
        AgentSpec("infra-terraform", "Writes Terraform modules for cloud networks.", body="B"),
        AgentSpec("dns", "Manages DNS zones and records.", body="C"),
    ]
    d = Router.from_agents(copies).route("write terraform modules for our cloud network")
    assert d.status == "routed"
    assert d.agent in ("infra-terraform", "ops-terraform")
    twin = "ops-terraform" if d.agent == "infra-terraform" else "infra-terraform"
    assert f"Identical copies: {twin}" in d.reason
    assert "Runner-up dns" in d.reason


def test_raising_min_confidence_never_turns_abstention_into_a_match(router: Router) -> None:
    texts = ["write a helm chart", "good database of chess openings", "docs", "test"]
    # "test" routes with confidence ~0.78: (0.7, 0.9) makes it abstain by confidence at the
    # higher threshold only, the case the property is about.
    pairs = [(0.1, 0.5), (0.3, 0.9), (0.0, 1.0), (0.7, 0.9), (0.5, 0.8)]
    declined_by_confidence = 0
    for low, high in pairs:
        lo = router.with_config(RouterConfig(min_confidence=low)).route_many(texts)
        hi = router.with_config(RouterConfig(min_confidence=high)).route_many(texts)
        for a, b in zip(lo, hi, strict=True):
            if a.status == "no_match":
                assert b.status == "no_match"
            elif b.status == "no_match":
                assert a.confidence < high, (a, b)
                assert f"below the {high:.2f} threshold" in b.reason, b.reason
                declined_by_confidence += 1
    assert declined_by_confidence > 0


# -- the one verdict both paths share ----------------------------------------------------------
def _evidence(**kw: object) -> _Evidence:
    base: dict[str, object] = {
        "text": "write terraform modules",
        "candidates": (Candidate(agent="alpha", score=0.9), Candidate(agent="beta", score=0.5)),
        "confidence": 0.8,
        "name": "alpha",
        "score": 0.9,
        "runner": "beta",
        "runner_score": 0.5,
        "why": "strongest terms 'terraform'",
    }
    return _Evidence(**{**base, **kw})  # type: ignore[arg-type]


def test_a_decline_is_a_no_match_whatever_the_scores() -> None:
    d = _verdict(RouterConfig(), _evidence(decline="the request is empty."))
    assert (d.agent, d.status, d.reason) == (
        None,
        "no_match",
        "No agent fits: the request is empty.",
    )
    assert d.confidence == 0.8 and d.candidates[0].agent == "alpha"


def test_a_clear_lead_is_routed_with_the_runner_up_and_its_margin() -> None:
    d = _verdict(RouterConfig(), _evidence())
    assert (d.agent, d.status) == ("alpha", "routed")
    assert d.reason == (
        "Routed to alpha (confidence 0.80): strongest terms 'terraform'. "
        "Runner-up beta scored 0.50 (margin 0.40)."
    )


@pytest.mark.parametrize(("margin", "status"), [(0.05, "routed"), (0.5, "ambiguous")])
def test_the_ambiguity_margin_is_a_share_of_the_best_score(margin: float, status: str) -> None:
    d = _verdict(RouterConfig(ambiguity_margin=margin), _evidence())
    assert d.status == status
    if status == "ambiguous":
        assert d.reason.startswith("Ambiguous between alpha (0.90) and beta (0.50)")
        assert d.agent == "alpha"  # a caller may still act on the best candidate


def test_learned_decisions_say_where_their_scores_come_from() -> None:
    src = "learned from labelled requests"
    routed = _verdict(RouterConfig(), _evidence(source=src))
    assert routed.reason.startswith(f"Routed to alpha (confidence 0.80, {src}): ")
    tied = _verdict(RouterConfig(ambiguity_margin=0.5), _evidence(source=src))
    assert f"of the best score ({src}); alpha leads on" in tied.reason


def test_copies_of_the_leader_are_named_in_the_reason() -> None:
    d = _verdict(RouterConfig(), _evidence(copies=("alpha-copy",)))
    assert "Identical copies: alpha-copy." in d.reason


@pytest.mark.parametrize(
    ("request_text", "said"),
    [
        ("Напиши тесты для модуля оплаты", "no words of this catalog's language"),
        ("Écris une API REST en Go avec des tests", "not in this catalog's language"),
    ],
)
def test_a_request_in_another_language_is_declined_saying_so(
    router: Router, request_text: str, said: str
) -> None:
    d = router.route(request_text)
    assert d.status == "no_match"
    assert said in d.reason
    # An English off-topic request is not mistaken for another language.
    assert "language" not in router.route("book a table for two tonight").reason
