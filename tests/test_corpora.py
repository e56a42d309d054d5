"""Every real file under ``../shared`` loads; the two seed files load right.

Skipped with a message when ``../shared`` is not beside the clone.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from agentroute import AgentSpec, Router, load_agents

COLLECTIONS = [
    "0xfurai-claude-code-subagents",
    "dang-hai-tran-antigravity-kit",
    "davila7-claude-code-templates",
    "dl-ezo-claude-code-sub-agents",
    "lerianstudio-ring",
    "lst97-claude-code-sub-agents",
    "vijaythecoder-awesome-claude-agents",
    "voltagent-awesome-claude-code-subagents",
    "wshobson-agents",
]


def manifest_files(corpora: Path, slug: str) -> list[str]:
    rows = (corpora / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines()
    return sorted(
        row.split("\t")[0] for row in rows[1:] if row.split("\t")[0].startswith(slug + "/")
    )


@pytest.mark.parametrize("slug", COLLECTIONS)
def test_every_file_of_a_collection_loads_into_a_record(corpora: Path, slug: str) -> None:
    result = load_agents(corpora / slug)
    expected = manifest_files(corpora, slug)
    loaded = sorted(Path(a.path or "").relative_to(corpora).as_posix() for a in result.agents)
    assert loaded == expected, "files in MANIFEST.tsv that did not load"
    assert not [d for d in result.diagnostics if d.severity == "error"]
    for agent in result.agents:
        assert agent.name.strip()
        assert agent.description.strip(), f"{agent.path}: empty description"
        assert "<example>" not in agent.description
        assert "\\n" not in agent.description


def test_collections_keep_their_declared_quirks(corpora: Path) -> None:
    """Counts from SOURCES.md: what was broken upstream is reported, not hidden."""
    kinds: Counter[tuple[str, str]] = Counter()
    for slug in COLLECTIONS:
        for d in load_agents(corpora / slug).diagnostics:
            kinds[(slug, d.kind)] += 1
    assert kinds[("dl-ezo-claude-code-sub-agents", "invalid-yaml")] == 36
    assert kinds[("voltagent-awesome-claude-code-subagents", "invalid-yaml")] >= 8
    assert kinds[("davila7-claude-code-templates", "invalid-yaml")] >= 22
    assert kinds[("davila7-claude-code-templates", "no-front-matter")] == 5
    # SOURCES.md lists 10 names in two category folders "…"; counting every clash gives 14.
    assert kinds[("davila7-claude-code-templates", "duplicate-name")] == 14
    assert kinds[("davila7-claude-code-templates", "crlf")] == 1
    assert kinds[("davila7-claude-code-templates", "no-extension")] == 1
    assert kinds[("0xfurai-claude-code-subagents", "indented-front-matter")] == 1


def test_davila7_tools_star_is_a_wildcard(corpora: Path) -> None:
    agents = load_agents(corpora / "davila7-claude-code-templates").agents
    assert sum(1 for a in agents if a.tools == ("*",)) == 2


def test_dl_ezo_examples_come_out_of_the_description(corpora: Path) -> None:
    agents = load_agents(corpora / "dl-ezo-claude-code-sub-agents").agents
    api = next(a for a in agents if a.name == "api-designer")
    assert api.description.startswith("PROACTIVELY USE this agent when you need to design")
    assert any("managing books in my library system" in e for e in api.examples)
    assert all("assistant:" not in e for a in agents for e in a.examples)


def test_antigravity_triggers_and_folded_skills(corpora: Path) -> None:
    agents = {a.name: a for a in load_agents(corpora / "dang-hai-tran-antigravity-kit").agents}
    with_triggers = [a for a in agents.values() if len(a.triggers) > len(a.name.split("-"))]
    assert len(with_triggers) >= 21
    skills = load_agents(corpora / "dang-hai-tran-antigravity-kit" / "skills").agents
    assert len(skills) == 90
    assert all(a.path and a.path.endswith("SKILL.md") for a in skills)


def seed(seeds: Path, name: str) -> AgentSpec:
    result = load_agents(seeds / name)
    assert len(result.agents) == 1
    return result.agents[0]


def test_one_line_seed_backend_engineer_golang(seeds: Path) -> None:
    agent = seed(seeds, "backend-engineer-golang.md")
    assert agent.name == "backend-engineer-golang"
    assert agent.description == (
        "Senior Backend Engineer specialized in Go for high-demand financial systems. "
        "Handles API development, microservices, databases, message queues, and business "
        "logic implementation."
    )
    assert agent.model == "opus"
    lines = agent.body.split("\n")
    for heading in (
        "# Backend Engineer Golang",
        "## What This Agent Does",
        "## When to Use This Agent",
        "### Business Logic",
    ):
        assert heading in lines, heading
    assert "output_schema" not in agent.description


def test_mojibake_seed_backend_specialist(seeds: Path) -> None:
    result = load_agents(seeds / "backend-specialist.md")
    agent = result.agents[0]
    assert agent.name == "backend-specialist"
    words = [
        "backend",
        "server",
        "api",
        "endpoint",
        "database",
        "auth",
        "go",
        "golang",
        "microservices",
        "distributed",
        "grpc",
    ]
    assert list(agent.triggers[:11]) == words
    assert agent.skills[:3] == ("golang-pro", "go-concurrency-patterns", "backend-architect")
    assert len(agent.skills) == 16
    assert agent.tools == ("Read", "Grep", "Glob", "Bash", "Edit", "Write")
    assert agent.model == "inherit"
    assert "🛑" in agent.body and "—" in agent.body and "├──" in agent.body
    for mangled in ("ðŸ", "â€", "â”", "â†"):
        assert mangled not in agent.body
    assert "mojibake" in {d.kind for d in result.diagnostics}


@pytest.mark.parametrize(
    ("request_text", "expected", "evidence"),
    [
        (
            "reconcile transaction balances with double-entry accounting",
            "backend-engineer-golang",
            "accounting",
        ),
        (
            "set up WorkOS SSO with SAML for our enterprise tenants",
            "backend-engineer-golang",
            "workos",
        ),
        ("build a Node.js or Python backend with an MCP server", "backend-specialist", "mcp"),
        (
            "which grpc microservices framework should our distributed backend use",
            "backend-specialist",
            "microservices",
        ),
    ],
)
def test_seed_requests_reach_the_right_seed_with_a_reason(
    seeds: Path, request_text: str, expected: str, evidence: str
) -> None:
    router = Router.from_path(seeds)
    d = router.route(request_text)
    assert d.agent == expected, d.reason
    assert evidence in d.reason.lower()
