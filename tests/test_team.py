"""Teams: who takes which part of a request that spans specialists."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentroute import Candidate, Decision, Router, TeamConfig, TeamMember
from agentroute._index import Index
from agentroute._score import Query, analyze_query
from agentroute._team import (
    _JOINED,
    _MAY_SENTENCE,
    _MAY_SPLIT,
    _MAY_STRONG,
    _MAY_WEAK,
    _SENTENCE,
    _STRONG,
    _WEAK,
    _clean,
    split_parts,
    team_for,
    uncovered_many,
)
from agentroute._text import terms
from conftest import catalog_words, default_router

TWO = "add rate limiting to our gRPC gateway and then write the API docs for it"
JOINS = ("{a}, then {b}", "{a}; {b}", "{a}. Also, {b}", "1. {a}\n2. {b}", "{a} and then {b}")


def test_a_two_part_request_gets_a_team_of_two(router: Router) -> None:
    d = router.route(TWO)
    assert [m.agent for m in d.team] == ["go-backend-engineer", "technical-writer"]
    assert d.team[0].part == "add rate limiting to our gRPC gateway"
    assert d.team[1].part == "write the API docs for it"
    assert "Team of 2: go-backend-engineer takes 'add rate limiting" in d.reason
    assert all(0.0 <= m.confidence <= 1.0 for m in d.team)


def test_the_issue_example_is_split_between_builder_and_tester(router: Router) -> None:
    d = router.route("Build the orders API in Go, then write integration tests for it")
    assert {m.agent for m in d.team} == {"go-backend-engineer", "test-engineer"}


def test_single_agent_requests_keep_a_team_of_one(router: Router) -> None:
    for text in (
        "our kubernetes pods keep crashing after the helm upgrade",
        "design and implement the payment service in Go",
        "configure Docker and Kubernetes for the service",
    ):
        d = router.route(text)
        assert d.team == (TeamMember(agent=d.agent, part=text, confidence=d.confidence),), text


def test_no_match_has_an_empty_team(router: Router) -> None:
    d = router.route("bake a cake")
    assert d.status == "no_match" and d.team == ()
    assert router.route("").team == ()


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("build the API; write the docs", ["build the API", "write the docs"]),
        ("- profile the query\n- add an index", ["profile the query", "add an index"]),
        (
            "Step 1: profile the slow query\nStep 2: add an index",
            ["profile the slow query", "add an index"],
        ),
        (
            "fix the login bug and then deploy it to staging",
            ["fix the login bug", "deploy it to staging"],
        ),
        (
            "We need RAG. Can you design the pipeline?",
            ["We need RAG. Can you design the pipeline?"],
        ),
        ("build the API and write the tests for it", ["build the API", "write the tests for it"]),
        ("build X and write the tests for X", ["build X and write the tests for X"]),
        ("  ", []),
    ],
)
def test_split_parts(text: str, parts: list[str]) -> None:
    assert split_parts(text) == parts


def test_decision_refuses_a_team_that_does_not_start_with_its_agent() -> None:
    member = TeamMember(agent="b", part="x", confidence=0.5)
    with pytest.raises(ValueError, match="must start with the decision's agent 'a'"):
        Decision(
            request="x", agent="a", status="routed", confidence=0.5, reason="r", team=(member,)
        )
    with pytest.raises(ValueError, match="must be empty when no agent"):
        Decision(
            request="x", agent=None, status="no_match", confidence=0.0, reason="r", team=(member,)
        )
    with pytest.raises(TypeError):
        TeamMember("a", "x", 0.5)  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        member.agent = "c"  # type: ignore[misc]


def test_a_decision_without_a_team_is_a_team_of_one() -> None:
    d = Decision(request=" fix it ", agent="a", status="routed", confidence=0.7, reason="r")
    assert d.team == (TeamMember(agent="a", part="fix it", confidence=0.7),)


_word = st.deferred(lambda: st.sampled_from(catalog_words()))
_clause = st.lists(_word, min_size=1, max_size=6).map(" ".join)
_request = st.one_of(
    _clause,
    st.tuples(st.sampled_from(JOINS), _clause, _clause).map(lambda t: t[0].format(a=t[1], b=t[2])),
    st.text(max_size=60),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_request)
def test_team_invariants(text: str) -> None:
    router = default_router()
    d = router.route(text)
    if d.agent is None:
        assert d.team == ()
    else:
        assert d.team and d.team[0].agent == d.agent
        agents = [m.agent for m in d.team]
        assert len(agents) == len(set(agents))  # members are distinct
        names = {a.name for a in router.agents}
        assert set(agents) <= names
        assert all(0.0 <= m.confidence <= 1.0 and m.part for m in d.team)
    # Deterministic: the same request, alone or in a batch, gets the same team.
    assert router.route(text).team == d.team
    assert router.route_many([text, "write the API docs"])[0].team == d.team


def test_to_dict_carries_the_team(router: Router) -> None:
    data = router.route(TWO).to_dict()
    assert data["team"] == [
        {"agent": m.agent, "part": m.part, "confidence": round(m.confidence, 4)}
        for m in router.route(TWO).team
    ]
    assert router.route("bake a cake").to_dict()["team"] == []


# -- issue 22: defect 6 ---------------------------------------------------------------------
def _catalog(tmp_path: Path, agents: dict[str, str]) -> Router:
    folder = tmp_path
    for name, text in agents.items():
        (folder / f"{name}.md").write_text(
            f"---\nname: {name}\ndescription: {text}\n---\n", encoding="utf-8"
        )
    return Router.from_path(folder)


# Found on the sample catalog among benchmarks/data/fresh_prompts.jsonl (main gave the part
# "test it against the current model" to both ml-engineer and data-scientist).
TWO_OWNERS = (
    "- We have a trained XGBoost model with 92% accuracy. How do we deploy this safely, test it "
    "against the current model, set up monitoring, and enable automatic retraining as new data "
    "arrives\n- Build a React frontend for product catalog with filtering, cart management, and "
    "checkout flow. Need TypeScript, responsive design, and 85% test coverage"
)


def test_one_part_is_never_given_to_two_agents(router: Router) -> None:
    d = router.route(TWO_OWNERS)
    assert len(d.team) >= 2
    parts = [p for m in d.team for p in m.part.split("; ")]
    assert len(parts) == len(set(parts)), d.team


def test_a_task_verb_with_a_pronoun_is_a_part_of_its_own(tmp_path: Path) -> None:
    assert split_parts("write the migration; document it") == ["write the migration", "document it"]
    assert split_parts("fix the migration and then do it") == ["fix the migration and then do it"]
    router = _catalog(
        tmp_path,
        {
            "db-migrator": "Writes database schema migrations for PostgreSQL tables.",
            "doc-writer": "Writes and documents: document code, APIs and changes in READMEs.",
        },
    )
    d = router.route("write the migration; document it")
    assert sorted((m.agent, m.part) for m in d.team) == [
        ("db-migrator", "write the migration"),
        ("doc-writer", "document it"),
    ]


def test_a_coverage_part_is_a_stretch_of_the_request_not_leftover_words(shared: Path) -> None:
    router = Router.from_path(shared / "seeds")
    text = "Write table-driven tests and use testcontainers for the Postgres repository"
    d = router.route(text)
    assert [m.agent for m in d.team] == [d.agent]  # "table testcontainers" was a part
    # On the sample catalog main made "need pipeline data databases run time django users
    # proper" a part of this one (benchmarks/data/fresh_prompts.jsonl).
    leftover = (
        "We need to create an ETL pipeline that ingests daily sales data from our Salesforce, "
        "Shopify, and internal databases into Snowflake. It needs to run every 6 hours and "
        "maintain data quality. Also, we're building a real-time notification system using "
        "Django REST Framework with WebSockets. Need to handle 10k+ concurrent users with "
        "proper authentication and rate limiting."
    )
    for where, request in (
        (router, text),
        (router, "a computer vision pipeline for defects and an NLP classifier for tickets"),
        (default_router(), leftover),
    ):
        for m in where.route(request).team:
            for part in m.part.split("; "):
                assert part in request, (request, m)


def test_the_team_is_the_lead_then_the_others_by_confidence(
    router: Router, capsys: pytest.CaptureFixture[str]
) -> None:
    # Issue 22: the README said "best first" while the lead (the agent for the whole
    # request, at that request's confidence) can be less sure than a member of its part:
    # the order is the lead, then by confidence, and the text output says so.
    from agentroute import _cli as cli
    from agentroute._router import default_catalog_path

    text = "Build the orders API in Go, then write integration tests for it"
    d = router.route(text)
    assert d.team[0].agent == d.agent and len(d.team) == 2
    rest = [m.confidence for m in d.team[1:]]
    assert rest == sorted(rest, reverse=True)
    assert cli.main(["route", text, "--agents", str(default_catalog_path())]) == 0
    out = capsys.readouterr().out
    assert "team of 2, lead first, then by confidence:" in out
    assert f"  - lead   {d.agent}  " in out


def test_the_team_settings_are_the_routers_config(router: Router) -> None:
    """The thresholds come from ``RouterConfig.teams``, passed in, not module globals: a
    member bar above 1 keeps every request a team of one, one part at most does too."""
    from agentroute import RouterConfig, TeamConfig

    assert len(router.route(TWO).team) == 2
    for teams in (TeamConfig(min_part_confidence=1.01), TeamConfig(max_parts=1)):
        strict = Router(router.agents, config=RouterConfig(teams=teams))
        d = strict.route(TWO)
        assert [m.agent for m in d.team] == [d.agent], teams


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"cover_ratio": -0.1}, r"TeamConfig\.cover_ratio must be a finite number >= 0, got -0\.1"),
        ({"max_parts": 0}, r"TeamConfig\.max_parts must be an integer >= 1, got 0"),
        ({"min_part_terms": 2.0}, r"TeamConfig\.min_part_terms must be an integer >= 0, got 2\.0"),
        (
            {"collaborator_ratio": float("nan")},
            r"TeamConfig\.collaborator_ratio must be a finite number",
        ),
    ],
)
def test_bad_team_settings_are_refused_by_name(change: dict[str, object], message: str) -> None:
    from agentroute import TeamConfig

    with pytest.raises(ValueError, match=message):
        TeamConfig(**change)  # type: ignore[arg-type]


def test_runner_ratio_is_gone() -> None:
    """Read by nothing since a part goes to one agent or its group (issue 22): removed
    before any release had it, rather than kept as a knob that does nothing."""
    from agentroute import TeamConfig

    with pytest.raises(TypeError, match="runner_ratio"):
        TeamConfig(runner_ratio=0.95)  # type: ignore[call-arg]


_marks = st.text(alphabet=" abdehnt,;.!?&\n-*1234567890", max_size=40)


@settings(max_examples=300, deadline=None)
@given(st.one_of(_request, _marks, st.text(max_size=80)))
def test_a_request_without_a_clause_mark_is_never_cut(text: str) -> None:
    """The team stage skips the cutting when the quick check finds no mark: it must find
    one in every request that split_parts cuts."""
    if _MAY_SPLIT.search(text) is None:
        assert len(split_parts(text)) <= 1


# Words and the joins the patterns look for, in any case, with the characters that fold
# onto their letters (long s, Kelvin sign), blanks of every kind and the bare marks.
_join_words = st.sampled_from(
    (
        "then",
        "afterwards",
        "after that",
        "also",
        "next",
        "finally",
        "plus",
        "as well as",
        "and",
        "&",
        "Then",
        "THEN",
        "And",
        "Al\u017fo",
        "plu\u017f",
        "ne\u212a\u212at",
        "write",
        "fix",
        "the api",
        "ı",
        "after",
        "as",
    )
)
_blank = st.sampled_from((" ", "  ", "\t", "\n", "\xa0", "\u2003", ""))
_joins = st.lists(
    st.one_of(
        st.tuples(st.sampled_from(("", ",", ";", ".", "!", "?")), _blank, _join_words, _blank).map(
            "".join
        ),
        st.text(alphabet="aefhlnpstx.,;&!? ", max_size=4),
    ),
    max_size=8,
).map("".join)


@settings(max_examples=400, deadline=None)
@given(st.one_of(_joins, _marks, st.text(max_size=60)))
def test_the_quick_checks_find_a_mark_wherever_a_cut_can_fall(text: str) -> None:
    """split_parts skips a pattern's search when its quick check finds nothing: the check
    must match wherever the pattern does (then the parts are the same)."""
    for pattern, check in ((_STRONG, _MAY_STRONG), (_WEAK, _MAY_WEAK), (_SENTENCE, _MAY_SENTENCE)):
        if pattern.search(text) is not None:
            assert check.search(text) is not None, (pattern.pattern, text)


def _uncovered_reference(index: Index, agent: int, q: Query) -> str:
    """The words of ``q`` the agent's text lacks, one term and one row at a time."""
    missing: list[str] = []
    weight = total = 0.0
    for t in dict.fromkeys(q.terms):
        j = index.column(t)
        if j is None:
            continue
        idf = float(index.idf[j])
        total += idf
        lo, hi = int(index.bm25_t.indptr[j]), int(index.bm25_t.indptr[j + 1])
        if agent not in index.bm25_t.indices[lo:hi].tolist():
            missing.append(q.surfaces.get(t, t))
            weight += idf
    team = TeamConfig()
    if (
        len(missing) < team.min_part_terms
        or total <= 0.0
        or weight / total < team.min_uncovered_share
    ):
        return ""
    # The part is the stretch between two joins that lacks most (issue 22), as written.
    best, best_weight = "", 0.0
    for piece in _JOINED.split(q.text):
        lacking = 0
        piece_weight = piece_total = 0.0
        for t in dict.fromkeys(terms(piece)):
            j = index.column(t)
            if j is None:
                continue
            idf = float(index.idf[j])
            piece_total += idf
            lo, hi = int(index.bm25_t.indptr[j]), int(index.bm25_t.indptr[j + 1])
            if agent not in index.bm25_t.indices[lo:hi].tolist():
                lacking += 1
                piece_weight += idf
        if (
            lacking >= TeamConfig().min_part_terms
            and piece_total > 0.0
            and piece_weight / piece_total >= TeamConfig().min_uncovered_share
            and piece_weight > best_weight
        ):
            best, best_weight = _clean(piece), piece_weight
    return best


def test_uncovered_reads_each_request_against_its_own_agent(router: Router) -> None:
    index = router.index
    texts = [
        "a computer vision pipeline for defects and an NLP classifier for tickets",
        "helm chart with terraform and a grafana dashboard",
        "",
    ]
    asks = [(a, analyze_query(index, t)) for a in range(index.n_agents) for t in texts]
    got = uncovered_many(index, asks, TeamConfig())
    assert got == [_uncovered_reference(index, a, q) for a, q in asks]
    assert any(got)


_joined = st.lists(
    st.one_of(
        st.lists(_word, min_size=1, max_size=5).map(" ".join),
        st.sampled_from((", ", " and ", " with ", " & ", " plus ", ",")),
    ),
    min_size=1,
    max_size=9,
).map("".join)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 11), _joined), min_size=1, max_size=6))
def test_uncovered_of_a_batch_is_each_request_read_alone(drawn: list[tuple[int, str]]) -> None:
    """The stretches of a batch are looked up together (every piece of every request in
    one search): each is the one-request, one-row-at-a-time reference's."""
    index = default_router().index
    asks = [(a % index.n_agents, analyze_query(index, t)) for a, t in drawn]
    got = uncovered_many(index, asks, TeamConfig())
    assert got == [_uncovered_reference(index, a, q) for a, q in asks]


def test_team_member_score_is_the_deprecated_name_of_confidence() -> None:
    member = TeamMember(agent="a", part="fix it", confidence=0.7)
    with pytest.warns(DeprecationWarning, match=r"TeamMember\.score .* use TeamMember\.confidence"):
        assert member.score == 0.7
    assert member.to_dict() == {"agent": "a", "part": "fix it", "confidence": 0.7}


def test_a_part_taken_by_a_group_carries_the_groups_confidence() -> None:
    # Issue 21: a part may be taken by a group; its member says how sure the group is,
    # so that a caller (the hook) can act on the group as it does for a whole request.
    lead = Decision(
        request="build the API, then document it",
        agent="api",
        status="routed",
        confidence=0.9,
        reason="",
        candidates=(Candidate(agent="api", score=1.0),),
    )
    build = Decision(
        request="build the API",
        agent="api",
        status="routed",
        confidence=0.9,
        reason="",
        candidates=(Candidate(agent="api", score=1.0),),
    )
    docs = Decision(
        request="document it",
        agent="writer",
        status="routed",
        confidence=0.45,
        reason="",
        candidates=(Candidate(agent="writer", score=1.0), Candidate(agent="docs", score=0.95)),
        alternatives=("docs",),
        group_confidence=0.85,
    )
    team = team_for(
        lead,
        ["build the API", "document it"],
        [build, docs],
        lambda a, b: a == b,
        lambda a: frozenset(),
        TeamConfig(),
        need=0.6,
    )
    assert [m.agent for m in team] == ["api", "writer"]
    writer = team[1]
    assert writer.alternatives == ("docs",) and writer.confidence == 0.45
    assert writer.group_confidence == 0.85
    assert writer.to_dict()["group_confidence"] == 0.85
    assert team[0].group_confidence == team[0].confidence == 0.9


def test_a_team_member_checks_its_group_confidence() -> None:
    with pytest.raises(ValueError, match="at least the confidence"):
        TeamMember(agent="a", part="p", confidence=0.5, alternatives=("b",), group_confidence=0.4)
    with pytest.raises(ValueError, match="no alternatives"):
        TeamMember(agent="a", part="p", confidence=0.5, group_confidence=0.6)
    assert TeamMember(agent="a", part="p", confidence=0.5).group_confidence == 0.5
    assert "group_confidence" not in TeamMember(agent="a", part="p", confidence=0.5).to_dict()


def test_a_group_takes_a_part_in_a_real_catalog() -> None:
    from test_similar import TWINS

    d = Router.from_agents(TWINS).route(
        "style the landing page with css grid, then fix the kubernetes pods crashing "
        "after the helm upgrade"
    )
    member = next(m for m in d.team if m.agent.startswith("kubernetes"))
    assert len(d.team) == 2 and member.alternatives
    assert member.group_confidence > member.confidence
    assert {member.agent, *member.alternatives} == {"kubernetes-expert", "kubernetes-specialist"}
