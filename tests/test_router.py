"""The public routing API: what a Decision promises, for any request and any file order."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import agentroute
from agentroute import AgentSpec, CatalogError, Router, RouterConfig
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
    assert router.route_many(texts) == [router.route(t) for t in texts]


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


def test_non_string_request_is_a_type_error_naming_the_position(router: Router) -> None:
    with pytest.raises(TypeError, match=r"requests\[1\] must be a str"):
        router.route_many(["ok", 3])  # type: ignore[list-item]


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


def test_missing_path_is_a_catalog_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="nope: no such file or folder"):
        Router.from_path(tmp_path / "nope")


def test_folder_without_agents_is_a_catalog_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(CatalogError, match="no agent could be loaded"):
        Router.from_path(tmp_path)


def test_router_records_expose_name_description_triggers_path(router: Router) -> None:
    k8s = next(a for a in router.agents if a.name == "kubernetes-operator")
    assert "helm" in k8s.triggers
    assert k8s.path and k8s.path.endswith("kubernetes-operator.md")
    assert k8s.examples  # from the "Example requests" list
    assert router.diagnostics == ()


def test_claude_code_agents_and_skills_are_found(tmp_path: Path) -> None:
    project, home = tmp_path / "proj", tmp_path / "home"
    (project / ".claude" / "agents").mkdir(parents=True)
    (home / ".claude" / "skills" / "pdf-tools").mkdir(parents=True)
    (project / ".claude" / "agents" / "reviewer.md").write_text(
        "---\nname: reviewer\ndescription: Reviews pull requests.\n---\n"
    )
    (home / ".claude" / "skills" / "pdf-tools" / "SKILL.md").write_text(
        "---\ndescription: Fill and merge PDF forms.\n---\n# PDF tools\n"
    )
    paths = agentroute.claude_code_paths(project=project, home=home)
    assert paths == (project / ".claude" / "agents", home / ".claude" / "skills")
    r = Router.from_path(list(paths))
    assert sorted(a.name for a in r.agents) == ["pdf-tools", "reviewer"]
    assert r.route("merge these pdf forms").agent == "pdf-tools"


def test_yaml_and_json_catalogs_load(tmp_path: Path) -> None:
    (tmp_path / "agents.yaml").write_text(
        "agents:\n  - name: sql\n    description: Tunes SQL queries.\n"
        "    triggers: [postgres, index]\n  - name: css\n    description: Styles pages.\n"
    )
    (tmp_path / "more.json").write_text(
        '[{"name": "docs", "description": "Writes documentation.", '
        '"examples": ["rewrite the README"]}]'
    )
    r = Router.from_path([tmp_path / "agents.yaml", tmp_path / "more.json"])
    assert [a.name for a in r.agents] == ["css", "docs", "sql"]
    assert r.route("rewrite the readme please").agent == "docs"
    assert r.route("postgres index is missing").agent == "sql"
