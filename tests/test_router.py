"""The public routing API: what a Decision promises, for any request and any file order."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import agentroute
from agentroute import AgentSpec, Router
from agentroute._score import BATCH_MIN
from conftest import assert_sound, default_router, with_catalog_words

SAMPLE = agentroute.default_catalog_path()


def test_the_readme_request_routes_to_the_go_backend_agent(router: Router) -> None:
    d = router.route("add rate limiting to our gRPC gateway")
    assert d.agent == "go-backend-engineer"
    assert d.status == "routed"
    assert "grpc" in d.reason.lower()
    assert "runner-up" in d.reason.lower()


def test_typos_still_match_trigger_words(router: Router) -> None:
    d = router.route("my kubernets cluster will not schedule pods")
    assert d.agent == "kubernetes-operator"
    assert "'kubernets' read as 'kubernetes'" in d.reason
    d = router.route("postgress query plan is slow")
    assert d.agent == "database-admin"


@pytest.mark.parametrize("request_text", ["", "   \n\t ", "zzzz qqqq xxxyyy", "🙂🙂🙂"])
def test_empty_and_unknown_requests_get_no_match_not_an_exception(
    router: Router, request_text: str
) -> None:
    d = router.route(request_text)
    assert_sound(d, router)
    assert d.status == "no_match"
    assert d.agent is None
    assert d.reason.startswith("No agent fits")


def test_a_one_megabyte_request_gets_a_decision(router: Router) -> None:
    d = router.route("kubernetes helm " * 70_000)
    assert_sound(d, router)
    assert d.agent == "kubernetes-operator"


def test_route_many_gives_the_same_answers_as_route(router: Router) -> None:
    texts = [
        "write a helm chart",
        "",
        "audit login for sql injection",
        "bake bread",
        "fine-tune an llm on our tickets",
        "speed up github actions",
    ]
    # Three rounds cross BATCH_MIN, so the one-product SciPy path is compared with
    # the NumPy path route() takes for a single request, not with itself.
    batch = texts * 3
    assert len(batch) >= BATCH_MIN
    assert router.route_many(batch) == [router.route(t) for t in batch]


def test_limit_bounds_the_candidates(router: Router) -> None:
    assert len(router.route("docker release", limit=2).candidates) == 2
    assert len(router.route("docker release", limit=500).candidates) == len(router.agents)
    with pytest.raises(ValueError, match="limit must be a positive integer"):
        router.route("x", limit=0)


def test_the_0_1_keyword_top_still_works_with_a_warning(router: Router) -> None:
    with pytest.warns(DeprecationWarning, match="'top' is deprecated .* use 'limit'"):
        old = router.route("docker release", top=2)  # type: ignore[call-arg]
    assert old == router.route("docker release", limit=2)
    with pytest.raises(TypeError, match="not both"):
        router.route("x", top=2, limit=2)  # type: ignore[call-arg]


def test_the_request_texts_are_requests_everywhere(router: Router) -> None:
    """fit and evaluate name their texts ``requests`` as route_many does; the 0.2 keyword
    ``texts=`` still works, with a warning naming the release."""
    texts = ["our kubernetes pods keep crashing", "bake a cake"]
    labels = ["kubernetes-operator", None]
    report = router.evaluate(requests=texts, labels=labels)
    with pytest.warns(DeprecationWarning, match="'texts' is deprecated since agentroute 0.3"):
        old = router.evaluate(texts=texts, labels=labels)  # type: ignore[call-arg]
    assert old == report
    with pytest.raises(ValueError, match="requests and labels must have the same length"):
        router.evaluate(texts, labels[:1])
    fitted = Router(router.agents).fit(requests=texts, labels=labels)
    with pytest.warns(DeprecationWarning, match="'texts' is deprecated since agentroute 0.3"):
        again = Router(router.agents).fit(texts=texts, labels=labels)  # type: ignore[call-arg]
    assert again.route_many(texts) == fitted.route_many(texts)


def test_from_examples_names_its_requests_requests() -> None:
    """``Router.from_examples(requests=...)``; the 0.2 keyword ``texts=`` still works, with
    a warning naming the release."""
    requests = [
        "book a table for two",
        "reserve a restaurant tonight",
        "table for four",
        "what's the weather tomorrow",
        "will it rain today",
        "is it sunny in paris",
    ]
    labels = ["restaurant"] * 3 + ["weather"] * 3
    new = Router.from_examples(requests=requests, labels=labels)
    with pytest.warns(DeprecationWarning, match="'texts' is deprecated since agentroute 0.3"):
        old = Router.from_examples(texts=requests, labels=labels)  # type: ignore[call-arg]
    assert old.route_many(requests) == new.route_many(requests)


def test_the_bar_evaluate_acts_at_is_act_at(router: Router) -> None:
    """``act_at`` is where a caller acts, not the router's abstain bar (``min_confidence``
    of RouterConfig); the 0.2 keyword ``min_confidence=`` still works, with a warning."""
    texts = ["our kubernetes pods keep crashing", "bake a cake"]
    labels = ["kubernetes-operator", None]
    report = router.evaluate(texts, labels, act_at=0.5)
    assert report.at_confidence is not None and report.at_confidence.threshold == 0.5
    with pytest.warns(DeprecationWarning, match="'min_confidence' is deprecated since .* 0.3"):
        old = router.evaluate(texts, labels, min_confidence=0.5)  # type: ignore[call-arg]
    assert old == report
    with pytest.raises(TypeError, match="give act_at= or its old name min_confidence="):
        router.evaluate(texts, labels, act_at=0.5, min_confidence=0.5)  # type: ignore[call-arg]


def test_non_string_request_is_a_type_error_naming_the_position(router: Router) -> None:
    with pytest.raises(TypeError, match=r"requests\[1\] must be a str"):
        router.route_many(["ok", 3])  # type: ignore[list-item]


def test_file_order_does_not_change_any_answer(tmp_path: Path) -> None:
    files = sorted(SAMPLE.glob("*.md"))
    forward = tmp_path / "a"
    backward = tmp_path / "b"
    forward.mkdir()
    backward.mkdir()
    for i, f in enumerate(files):
        shutil.copy(f, forward / f"{i:02d}-{f.name}")
        shutil.copy(f, backward / f"{len(files) - i:02d}-{f.name}")
    texts = ["helm chart", "sql index", "react component", "a/b test", "docker image release"]
    r1 = Router.from_path(forward)
    r2 = Router.from_path(list(reversed(sorted(backward.glob("*.md")))))
    assert [a.name for a in r1.agents] == [a.name for a in r2.agents]
    for t in texts:
        d1, d2 = r1.route(t), r2.route(t)
        assert (d1.agent, d1.status, d1.confidence, d1.candidates) == (
            d2.agent,
            d2.status,
            d2.confidence,
            d2.candidates,
        )


def test_any_text_gets_a_sound_decision() -> None:
    router = default_router()
    statuses: list[str] = []

    @settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(with_catalog_words(st.text(max_size=300)))
    def check(text: str) -> None:
        d = router.route(text)
        assert_sound(d, router, text)
        assert router.route(text) == d  # deterministic
        statuses.append(d.status)

    check()
    # Worth something only if the candidate and agent checks ran: many requests matched.
    assert sum(s != "no_match" for s in statuses) >= len(statuses) // 5, statuses


def test_from_path_accepts_a_list_of_files_and_folders(tmp_path: Path) -> None:
    files = sorted(SAMPLE.glob("*.md"))
    r = Router.from_path([files[0], files[1], SAMPLE])
    assert len(r.agents) == len(files)


def test_router_records_expose_name_description_triggers_path(router: Router) -> None:
    k8s = next(a for a in router.agents if a.name == "kubernetes-operator")
    assert "helm" in k8s.triggers
    assert k8s.path and k8s.path.endswith("kubernetes-operator.md")
    assert k8s.examples  # from the "Example requests" list
    assert router.diagnostics == ()


def test_from_agents_accepts_mappings_read_like_catalog_entries() -> None:
    router = Router.from_agents(
        [
            {"name": "sql", "description": "Tunes SQL. Triggers on postgres, indexes."},
            {"name": "css", "descripton": "Fixes CSS layout."},
            AgentSpec("go", "Writes Go services."),
        ]
    )
    sql = next(a for a in router.agents if a.name == "sql")
    assert "postgres" in sql.triggers
    assert router.route("add postgres indexes").agent == "sql"
    [typo] = [d for d in router.diagnostics if d.kind == "unknown-field"]
    assert typo.path == "agents[1]" and "did you mean 'description'" in typo.message


def test_from_agents_refuses_what_it_cannot_read() -> None:
    with pytest.raises(TypeError, match=r"agents\[0\] must be an AgentSpec or a mapping, got str"):
        Router.from_agents(["sql"])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="two agents are named 'sql'"):
        Router.from_agents([AgentSpec("sql", "a"), {"name": "sql", "description": "b"}])


def test_agent_returns_the_record_of_a_name_or_none(router: Router) -> None:
    for a in router.agents:
        assert router.agent(a.name) == a
    assert router.agent("no-such-agent") is None
    assert router.agent("") is None
    assert router.agent(router.route("zxqv blorf").agent) is None


def test_a_batch_decided_a_slice_at_a_time_decides_as_a_whole() -> None:
    """route_many decides a large batch in slices of about CHUNK_SCORES scores (the
    matrices of a slice stay in the processor's cache): each request is decided alike."""
    from agentroute._decide import route_state
    from agentroute._router import decide_in_chunks

    state = default_router()._state
    texts = [
        "our kubernetes pods keep crashing after the helm upgrade",
        "Build the orders API, then write integration tests for it",
        "postgress queries are slow",
        "",
        "zxqv",
        "review my pull request and deploy it to production",
    ] * 7
    whole = route_state(state, texts, 5)
    sliced = decide_in_chunks(state, texts, 5, max_scores=1)  # BATCH_MIN requests a slice
    assert len(texts) > 2 * BATCH_MIN
    for a, b in zip(whole, sliced, strict=True):
        assert (a.agent, a.status, a.alternatives) == (b.agent, b.status, b.alternatives)
        assert abs(a.confidence - b.confidence) <= 1e-9
        assert [(c.agent, c.score) for c in a.candidates] == [
            (c.agent, c.score) for c in b.candidates
        ]
        assert [(m.agent, m.part) for m in a.team] == [(m.agent, m.part) for m in b.team]
