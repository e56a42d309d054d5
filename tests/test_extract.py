"""Reading what agents say they do NOT do, who does it instead, and whom they work with.

Golden files: real excerpts of the corpora and both seeds (one lost its newlines, one is
mojibake), each loaded as a file, against ``tests/data/boundaries/golden.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentroute import load_agents
from agentroute._extract import boundaries, description_not_for
from agentroute._index import indexed_body
from agentroute._spec import AgentSpec

DATA = Path(__file__).resolve().parent / "data" / "boundaries"
GOLDEN = json.loads((DATA / "golden.json").read_text("utf-8"))


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_specimens(name: str) -> None:
    res = load_agents(str(DATA / name))
    assert len(res.agents) == 1, res.diagnostics
    agent = res.agents[0]
    want = GOLDEN[name]
    assert agent.name == want["name"]
    assert list(agent.not_for) == want["not_for"]
    assert [list(r) for r in agent.redirects] == want["redirects"]
    assert list(agent.collaborators) == want["collaborators"]
    assert sorted({d.kind for d in res.diagnostics}) == want["diagnostics"]


def test_every_specimen_is_in_the_golden_file() -> None:
    assert sorted(p.name for p in DATA.glob("*.md")) == sorted(GOLDEN)


def test_both_seeds_load_right() -> None:
    golang = load_agents(str(DATA / "seed_golang_one_line.md")).agents[0]
    # The one-line file is split back into lines: the section's five items, each redirected.
    assert len(golang.not_for) == 5
    assert ("Docker/Kubernetes configuration", "DevOps Engineer") in golang.redirects
    specialist = load_agents(str(DATA / "seed_backend_mojibake.md")).agents[0]
    assert "\u00e2\u20ac" not in specialist.body  # the mojibake was repaired
    assert "test-engineer" in specialist.collaborators


def test_not_for_sections_are_not_indexed_as_evidence() -> None:
    golang = load_agents(str(DATA / "seed_golang_one_line.md")).agents[0]
    assert "Kubernetes" in golang.body
    kept = indexed_body(golang)
    assert "Kubernetes" not in kept and "use DevOps Engineer" not in kept
    assert "## When to Use This Agent" in kept
    # An agent without not-for items is indexed from its whole body, unchanged.
    plain = AgentSpec("plain", body="## Do\n- things\n## Out of Scope\n[Exclusions]\n")
    assert indexed_body(plain) == plain.body


def test_sections_in_code_fences_are_not_read() -> None:
    body = "## Template\n```\n## Out of Scope\n- Kubernetes clusters (use ops)\n```\n"
    assert boundaries(body).not_for == ()


def test_limitations_count_only_items_that_defer() -> None:
    body = (
        "## Limitations\n- Cannot run code\n"
        "- **Code correctness**: Defer to `code-reviewer` for behaviour.\n"
    )
    b = boundaries(body)
    assert b.not_for == ("Code correctness",)
    assert b.redirects == (("Code correctness", "code-reviewer"),)


@pytest.mark.parametrize(
    ("item", "text", "who"),
    [
        ("- Frontend work (use Frontend Engineer)", "Frontend work", ["Frontend Engineer"]),
        (
            "- Backend API development → use backend-engineer",
            "Backend API development",
            ["backend-engineer"],
        ),
        ("- qa-analyst - Testing strategy", "Testing strategy", ["qa-analyst"]),
        ("- App code (use `a-dev`, `b-dev`, or `c-dev`)", "App code", ["a-dev", "b-dev", "c-dev"]),
        ("- For legal interpretations", "legal interpretations", []),
    ],
)
def test_redirect_forms(item: str, text: str, who: list[str]) -> None:
    b = boundaries(f"## What This Agent Does NOT Handle\n{item}\n")
    assert b.not_for == (text,)
    assert [w for _, w in b.redirects] == who


def test_generic_items_are_dropped() -> None:
    body = "## Do not use this skill when\n- The task is unrelated to java pro\n"
    assert boundaries(body).not_for == ()


def test_description_not_for_sentences_leave_the_description() -> None:
    kept, items, redirects = description_not_for(
        "Builds Go services. Not for frontend work (use ui-engineer). Fast."
    )
    assert kept == "Builds Go services. Fast."
    assert items == ["frontend work"]
    assert redirects == [("frontend work", "ui-engineer")]


def test_loaded_description_drops_not_for(tmp_path: Path) -> None:
    f = tmp_path / "go.md"
    f.write_text(
        "---\nname: go\ndescription: Go services. Not for Kubernetes configuration.\n---\nBody\n",
        "utf-8",
    )
    agent = load_agents(str(f)).agents[0]
    assert agent.description == "Go services."
    assert agent.not_for == ("Kubernetes configuration",)


def test_collaborator_lists_keep_agent_names_only() -> None:
    body = (
        "## Integration with Other Agents\n"
        "- Route work to fullstack-developer or backend-developer in real-world cases\n"
        "- Work with **scrum-master** for ceremonies\n- Read knowledge.md first\n"
    )
    assert boundaries(body).collaborators == (
        "fullstack-developer",
        "backend-developer",
        "scrum-master",
    )


def test_agentspec_checks_the_boundary_fields() -> None:
    spec = AgentSpec("go", not_for=["frontend"], redirects=[["frontend", "ui"]])
    assert spec.not_for == ("frontend",) and spec.redirects == (("frontend", "ui"),)
    with pytest.raises(TypeError, match=r"AgentSpec\.not_for must be a sequence of str"):
        AgentSpec("go", not_for="frontend")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"AgentSpec\.redirects must be a sequence of"):
        AgentSpec("go", redirects=[("frontend",)])  # type: ignore[list-item]
    with pytest.raises(TypeError, match=r"AgentSpec\.collaborators"):
        AgentSpec("go", collaborators=[1])  # type: ignore[list-item]
