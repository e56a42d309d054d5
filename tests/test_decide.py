"""The decision policy: status, ambiguity, copies, thresholds and the reason, for both paths."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentroute import AgentSpec, Candidate, Decision, Router, RouterConfig
from agentroute._decide import _Evidence, _ranked, _ranked_rows, _verdict
from conftest import catalog_words, default_router


def test_ambiguous_names_both_agents() -> None:
    """Without alternatives (``max_alternatives=0``) two agents doing one job are a tie."""
    near = [
        AgentSpec("alpha", "Writes Terraform modules for cloud networks."),
        # Same description, a different body: two agents, not copies of one.
        AgentSpec("beta", "Writes Terraform modules for the cloud networks.", body="x"),
    ]
    config = RouterConfig(max_alternatives=0)
    d = Router.from_agents(near, config=config).route(
        "write terraform modules for our cloud network"
    )
    assert d.status == "ambiguous"
    assert d.agent in ("alpha", "beta")
    assert "alpha" in d.reason and "beta" in d.reason
    assert d.alternatives == () and d.group_confidence == d.confidence


def test_near_equivalents_are_a_group_not_a_tie() -> None:
    """Two agents doing one job answer together: routed, the other as an alternative,
    and the group's confidence above the agent's own."""
    near = [
        AgentSpec("alpha", "Writes Terraform modules for cloud networks."),
        AgentSpec("beta", "Writes Terraform modules for the cloud networks.", body="x"),
        AgentSpec("dns", "Manages DNS zones and records.", body="C"),
    ]
    router = Router.from_agents(near)
    assert router.similar("alpha") == ("beta",) and router.similar("dns") == ()
    d = router.route("write terraform modules for our cloud network")
    assert d.status == "routed"
    other = "beta" if d.agent == "alpha" else "alpha"
    assert d.alternatives == (other,)
    assert d.group_confidence > d.confidence
    assert f"(or {other})" in d.reason and "does the same job" in d.reason
    assert d.to_dict()["alternatives"] == [other]


def test_a_group_model_reads_the_twins_of_the_leader() -> None:
    """A data file's group model may name ``twin_mass`` / ``twin_count``
    (``_similar.twin_inputs``): the decision fills them, so the group confidence moves
    with them (before: they stayed 0 whatever the model said)."""
    import dataclasses

    from agentroute import Calibration, Logistic

    near = [
        AgentSpec("alpha", "Writes Terraform modules for cloud networks."),
        AgentSpec("beta", "Writes Terraform modules for the cloud networks.", body="x"),
        AgentSpec("dns", "Manages DNS zones and records.", body="C"),
    ]
    text = "write terraform modules for our cloud network"
    got = []
    for extra in ({}, {"twin_count": 3.0}, {"twin_mass": 3.0}):
        model = Logistic(intercept=0.5, coefficients={"top_logit": 1.0, **extra})
        cal = dataclasses.replace(Calibration(), group=model)
        d = Router.from_agents(near, config=RouterConfig(calibration=cal)).route(text)
        assert d.alternatives and d.agent is not None
        got.append(d.group_confidence)
    assert got[1] > got[0] and got[2] > got[0]


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
    # The known-word rule is off by default (issue 15): the French request names
    # 'API', 'REST', 'Go' and 'tests' and may reach the Go agent; with the rule on,
    # the refusal says why.
    strict = router.with_config(RouterConfig(min_known_share=0.5))
    d = strict.route(request_text)
    assert d.status == "no_match"
    assert said in d.reason
    # An English off-topic request is not mistaken for another language.
    assert "language" not in router.route("book a table for two tonight").reason


# -- issue 15: every refusal rule is a config field, obeyed by every router ------------------
TEXTS = (
    "write a helm chart for our api",
    "good database of chess openings",
    "docs",
    "test",
    "find recent papers on RAG",
    "book a table for two tonight",
    "will it rain in paris tomorrow",
    "our kubernetes pods keep crashing after the helm upgrade",
    "review this pull request for security holes",
    "",
)


def _templated() -> tuple[list[str], list[str | None]]:
    kinds = {
        "restaurant": (
            ["book", "reserve", "hold", "get us"],
            ["a table", "a booth", "seats"],
            ["for two tonight", "at the bistro", "for six at eight"],
        ),
        "weather": (
            ["what's", "tell me", "check"],
            ["the forecast", "the weather", "the rain"],
            ["for tomorrow", "in paris", "this weekend", "outside now"],
        ),
        "music": (
            ["play", "put on", "queue"],
            ["some jazz", "my playlist", "the next song"],
            ["loudly", "in the kitchen", "on shuffle", "please"],
        ),
    }
    texts: list[str] = []
    labels: list[str | None] = []
    for label, (verbs, things, tails) in kinds.items():
        for v in verbs:
            for t in things:
                for tail in tails:
                    texts.append(f"{v} {t} {tail}")
                    labels.append(label)
    for oos in (
        "tell me a joke about cats",
        "what is the meaning of life",
        "how tall is mount everest",
        "translate hello into german",
    ):
        texts.append(oos)
        labels.append(None)
    return texts, labels


@functools.cache
def fitted() -> Router:
    """A router whose decisions come from the classifier (enough labelled requests)."""
    texts, labels = _templated()
    return Router.from_examples(texts, labels)


@functools.cache
def rescaled(default: Router) -> Router:
    """The default catalog after a calibration-only fit (too few labels for a classifier)."""
    texts = ["write a helm chart", "our pods keep crashing", "review my pull request"]
    tops = [d.agent for d in default.route_many(texts)]
    return default.with_config(default.config).fit(texts, tops)


def routers(default: Router) -> list[tuple[str, Router]]:
    return [("catalog", default), ("fitted", fitted()), ("rescaled", rescaled(default))]


thresholds = st.tuples(
    st.floats(0.0, 1.0, allow_nan=False), st.floats(0.0, 1.0, allow_nan=False)
).map(sorted)


@settings(max_examples=40, deadline=None)
@given(conf=thresholds, scope=thresholds, extra=st.text(max_size=40))
def test_raising_thresholds_never_turns_a_no_match_into_an_answer(
    router: Router, conf: list[float], scope: list[float], extra: str
) -> None:
    texts = [*TEXTS, extra]
    for kind, base in routers(router):
        lo = base.with_config(RouterConfig(min_confidence=conf[0], min_scope=scope[0])).route_many(
            texts
        )
        for hi_cfg in (
            RouterConfig(min_confidence=conf[1], min_scope=scope[0]),
            RouterConfig(min_confidence=conf[0], min_scope=scope[1]),
            RouterConfig(min_confidence=conf[1], min_scope=scope[1]),
        ):
            hi = base.with_config(hi_cfg).route_many(texts)
            for a, b in zip(lo, hi, strict=True):
                if a.status == "no_match":
                    assert b.status == "no_match", (kind, hi_cfg, a, b)


@pytest.mark.parametrize("kind", ["fitted", "rescaled"])
def test_a_fitted_router_obeys_min_confidence_and_min_scope(router: Router, kind: str) -> None:
    base = dict(routers(router))[kind]
    texts = [*TEXTS, "book a table for two tonight", "play some jazz please"]
    answered = [d for d in base.route_many(texts) if d.status != "no_match"]
    assert answered, "the fitted router answers some of these requests"
    strict = base.with_config(RouterConfig(min_confidence=0.99)).route_many(texts)
    for d in strict:
        assert d.status == "no_match" or d.confidence >= 0.99, d
    assert any("below the 0.99 threshold" in d.reason for d in strict), strict
    # in-scope probability below 1.0 on every catalog size (scope_min_agents=0)
    closed = base.with_config(RouterConfig(min_scope=1.0, scope_min_agents=0)).route_many(texts)
    newly = [
        c
        for d, c in zip(base.route_many(texts), closed, strict=True)
        if d.status != "no_match" and c.status == "no_match"
    ]
    assert newly, closed
    assert all("in-scope probability" in d.reason for d in newly)


def test_every_refusal_rule_is_a_config_field(router: Router) -> None:
    text = "find recent papers on RAG about chess openings"
    # With every rule off and no thresholds, a request with any known word is answered.
    open_cfg = RouterConfig(
        min_confidence=0.0, min_scope=0.0, min_known_share=0.0, trigger_rescue=0
    )
    assert router.with_config(open_cfg).route(text).status != "no_match"
    strict = RouterConfig(min_confidence=0.0, min_scope=0.0, min_known_share=1.0, trigger_rescue=0)
    d = router.with_config(strict).route(text)
    assert d.status == "no_match"
    assert "known" in d.reason


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("min_known_share", 1.5),
        ("min_known_share", True),
        ("trigger_rescue_scope", -0.1),
        ("scope_min_agents", -1),
        ("scope_min_agents", 2.5),
        ("trigger_rescue", True),
    ],
)
def test_config_rejects_bad_values(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=f"RouterConfig.{field}"):
        RouterConfig(**{field: value})  # type: ignore[arg-type]


FOUR = (
    ("researcher", "Finds and summarises recent research papers, articles and sources on a topic."),
    ("coder", "Writes and fixes Python code, scripts and tests."),
    ("writer", "Drafts blog posts, emails and documentation in a clear style."),
    ("data-analyst", "Analyses spreadsheets and CSV data and builds charts."),
)


@pytest.mark.parametrize(
    ("text", "agent"),
    [
        ("find recent papers on RAG", "researcher"),
        ("fix the failing test in my python script", "coder"),
        ("draft a blog post about our launch", "writer"),
        ("make a chart from this csv file", "data-analyst"),
    ],
)
def test_a_four_agent_catalog_answers_its_obvious_requests(text: str, agent: str) -> None:
    """Issue 15: the known-word share refused "find recent papers on RAG" (1 of 4 known)."""
    router = Router.from_agents(AgentSpec(name=n, description=d) for n, d in FOUR)
    d = router.route(text)
    assert (d.status, d.agent) == ("routed", agent), d.reason


def test_a_rust_request_is_not_confidently_sent_to_another_language(router: Router) -> None:
    """Issue 15: the sample catalog has no Rust agent; python-developer took this at 0.88."""
    d = router.route("write idiomatic rust with tokio")
    assert d.status == "no_match" or d.confidence < 0.7, d


def test_the_borrow_checker_reaches_a_rust_agent(corpora: Path) -> None:
    """Issue 15: got no_match on a catalog whose top two were rust-engineer and rust-pro."""
    router = Router.from_path(
        [
            corpora / "wshobson-agents" / "systems-programming",
            corpora / "voltagent-awesome-claude-code-subagents" / "02-language-specialists",
        ]
    )
    d = router.route("the Rust borrow checker complains about this lifetime")
    assert d.status != "no_match" and d.agent in ("rust-engineer", "rust-pro"), d.reason


def test_identical_copies_are_listed_once_with_the_others_named() -> None:
    body = "Writes Terraform modules for cloud networks."
    agents = [
        AgentSpec(name="ops-terraform", description=body, body="B"),
        AgentSpec(name="infra-terraform", description=body, body="B"),
        AgentSpec(name="net-terraform", description=body, body="B"),
        AgentSpec(name="dns", description="Manages DNS zones and records.", body="C"),
        AgentSpec(name="cdn", description="Configures CDN caching for cloud networks.", body="D"),
    ]
    d = Router.from_agents(agents).route("write terraform modules for our cloud network", limit=3)
    names = [c.agent for c in d.candidates]
    assert (
        len(names) == 3
        and len(set(names) & {"ops-terraform", "infra-terraform", "net-terraform"}) == 1
    )
    first = d.candidates[0]
    assert set(first.copies) | {first.agent} == {
        "ops-terraform",
        "infra-terraform",
        "net-terraform",
    }
    assert all(c.copies == () for c in d.candidates[1:])
    assert {"dns", "cdn"} == set(names[1:])


@settings(max_examples=60, deadline=None)
@given(
    st.integers(2, 6),
    st.integers(1, 400),
    st.integers(1, 30),
    st.sampled_from([(0.0, 0.5, 1.0), (0.25, 0.5), tuple(np.linspace(0, 1, 50).tolist())]),
    st.randoms(use_true_random=False),
)
def test_a_batch_is_ranked_as_each_row_alone(
    rows: int, n: int, k: int, values: tuple[float, ...], rnd: object
) -> None:
    """Sorted or partitioned for the whole batch: the heads _ranked gives row by row,
    ties (frequent here) by position."""
    rng = np.random.default_rng(rnd.randrange(1 << 30))  # type: ignore[attr-defined]
    combined = rng.choice(np.array(values), size=(rows, n))
    for got, row in zip(_ranked_rows(combined, k), combined, strict=True):
        assert got.tolist() == _ranked(row, k).tolist()


def test_decision_checks_its_group() -> None:
    base = dict(request="r", agent="a", status="routed", confidence=0.5, reason="")
    assert Decision(**base).group_confidence == 0.5  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least the confidence"):
        Decision(**base, alternatives=("b",), group_confidence=0.4)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="must equal the confidence"):
        Decision(**base, group_confidence=0.9)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="must not name the agent itself"):
        Decision(**base, alternatives=("a",), group_confidence=0.9)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="sequence of agent names"):
        Decision(**base, alternatives="b", group_confidence=0.9)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        Decision(**base, alternatives=("b",), group_confidence=1.5)  # type: ignore[arg-type]
    none = dict(base, agent=None, status="no_match")
    with pytest.raises(ValueError, match="empty when no agent is chosen"):
        Decision(**none, alternatives=("b",), group_confidence=0.9)  # type: ignore[arg-type]


def test_max_alternatives_zero_turns_groups_off() -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from test_similar import TWINS

    request = "our kubernetes pods keep crashing after the helm upgrade"
    on = Router.from_agents(TWINS).route(request)
    off = Router.from_agents(TWINS, config=RouterConfig(max_alternatives=0)).route(request)
    assert on.alternatives and not off.alternatives
    assert on.agent == off.agent and on.confidence == off.confidence
    assert on.team[0].alternatives == on.alternatives
    with pytest.raises(ValueError, match="max_alternatives"):
        RouterConfig(max_alternatives=-1)


# -- a batch and its parts: one pass of the products, decided a slice at a time -------------

_TEAM_TEXTS = [
    "our kubernetes pods keep crashing after the helm upgrade",
    "Build the orders API, then write integration tests for it",
    "1. profile the slow query\n2. add a dashboard for it",
    "postgress queries are slow",
    "",
    "review my pull request and deploy it to production",
]


def _count_products(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of rows of each products pass ``route_state`` makes from now on."""
    import agentroute._decide as decide

    calls: list[int] = []
    real = decide.products_of

    def counted(index: object, queries: list[object]) -> object:
        calls.append(len(queries))
        return real(index, queries)  # type: ignore[arg-type]

    monkeypatch.setattr(decide, "products_of", counted)
    return calls


def test_a_batch_and_its_clause_parts_are_multiplied_in_one_pass(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The clause parts a batch's teams read are scored with its requests: one products
    pass over requests and parts (each index row a batch reads is laid out once), where
    the parts used to be a second batch with products of its own."""
    import agentroute._decide as decide
    from agentroute._team import parts_to_route

    state = Router.from_default()._state
    texts = _TEAM_TEXTS * 3
    calls = _count_products(monkeypatch)
    decisions = decide.route_state(state, texts, 5)
    parts = list(dict.fromkeys(parts_to_route(texts, state.config.teams)))
    assert len(parts) >= 4
    assert calls == [len(texts) + len(parts)]
    assert any(len(d.team) > 1 for d in decisions)


def test_products_in_chunks_and_decisions_in_slices_decide_as_a_whole() -> None:
    """The products computed a few requests at a time, and decided a few at a time, give
    the decisions of the whole batch at once (each request is scored on its own)."""
    from agentroute._decide import route_state
    from agentroute._score import BATCH_MIN

    state = Router.from_default()._state
    texts = _TEAM_TEXTS * 7
    assert len(texts) > 2 * BATCH_MIN
    whole = route_state(state, texts, 5, max_scores=1 << 40, max_products=1 << 40)
    sliced = route_state(state, texts, 5, max_scores=1, max_products=1)
    for a, b in zip(whole, sliced, strict=True):
        assert (a.agent, a.status, a.alternatives, a.reason) == (
            b.agent,
            b.status,
            b.alternatives,
            b.reason,
        )
        assert abs(a.confidence - b.confidence) <= 1e-9
        assert [(c.agent, c.score) for c in a.candidates] == [
            (c.agent, c.score) for c in b.candidates
        ]
        assert [(m.agent, m.part) for m in a.team] == [(m.agent, m.part) for m in b.team]


def test_a_single_request_scores_its_clause_parts_only_when_its_team_asks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``route`` of one request pays for its parts only when the team stage reads them: a
    declined request with two clauses is scored alone (a batch scores parts up front)."""
    import agentroute._decide as decide
    from agentroute._team import parts_to_route

    state = Router.from_default()._state
    text = "bake sourdough bread, then knit a woollen scarf for winter"
    assert parts_to_route([text], state.config.teams)  # it has clause parts
    calls = _count_products(monkeypatch)
    (d,) = decide.route_state(state, [text], 5)
    assert d.status == "no_match"
    assert calls == [1]
    (alone,) = Router.from_default().route_many([text, "x"])[:1]
    assert (alone.agent, alone.status, alone.team) == (d.agent, d.status, d.team)


def test_reasons_are_built_only_for_the_decisions_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    # Issue 20: the reason (its strongest terms) is built for the agent a decision shows,
    # not for every candidate, and never for a team's parts (read for their agent only).
    import agentroute._decide as decide

    calls: list[int] = []
    real = decide._top_terms

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(decide, "_top_terms", counted)
    router = Router.from_default()
    d = router.route(
        "add rate limiting to our gRPC gateway and then write the API docs for it", limit=5
    )
    assert len(d.team) == 2 and len(d.candidates) == 5
    assert len(calls) == 1
    calls.clear()
    router.route_many(["fix the helm chart", "write unit tests"], limit=5)
    assert len(calls) == 2


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.lists(st.deferred(lambda: st.sampled_from(catalog_words())), max_size=7).map(" ".join),
        min_size=1,
        max_size=6,
    )
)
def test_a_decision_read_for_a_part_is_the_worded_one_without_its_words(
    texts: list[str],
) -> None:
    """A part's decision (explain=False: no reason worded, no top terms) is the whole
    request's decision in everything the team stage reads: agent, status, confidence,
    candidates, alternatives and group confidence; a declined request's reason is
    worded only when explained."""
    from agentroute._decide import _decide_slice
    from agentroute._score import analyze_query, products_of

    state = default_router()._state
    queries = [analyze_query(state.index, t) for t in texts]
    made = products_of(state.index, queries)
    worded = _decide_slice(state, texts, queries, made, 5, True, None)
    bare = _decide_slice(state, texts, queries, made, 5, False, None)
    for a, b in zip(worded, bare, strict=True):
        assert (a.agent, a.status, a.confidence, a.candidates, a.alternatives) == (
            b.agent,
            b.status,
            b.confidence,
            b.candidates,
            b.alternatives,
        )
        assert a.group_confidence == b.group_confidence
        assert b.top_terms == ()
        if a.agent is None:
            assert a.reason.startswith("No agent fits: ") and len(a.reason) > 15
