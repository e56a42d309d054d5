"""Where Claude Code keeps agents and skills: the project, the folders in its order."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentroute import AgentSpec, claude_code_paths
from agentroute._claude import is_skill, project_root


def _folders(base: Path, *subs: str) -> None:
    for sub in subs:
        (base / ".claude" / sub).mkdir(parents=True)


def test_the_folders_come_in_claude_codes_order_of_precedence(tmp_path: Path) -> None:
    project, home = tmp_path / "proj", tmp_path / "home"
    _folders(project, "agents", "skills")
    _folders(home, "agents", "skills")
    assert claude_code_paths(project=project, home=home) == (
        project / ".claude" / "agents",  # a project's subagent wins over the user's
        home / ".claude" / "agents",
        home / ".claude" / "skills",  # the user's skill wins over the project's
        project / ".claude" / "skills",
    )


def test_only_folders_that_exist_are_given(tmp_path: Path) -> None:
    project, home = tmp_path / "proj", tmp_path / "home"
    _folders(home, "skills")
    project.mkdir()
    assert claude_code_paths(project=project, home=home) == (home / ".claude" / "skills",)


def test_the_project_is_the_nearest_folder_with_claude_or_git(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CLAUDE_PROJECT_DIR", raising=False)
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    deep = tmp_path / "repo" / "src" / "pkg"
    deep.mkdir(parents=True)
    assert project_root(deep) == tmp_path / "repo"


def test_claude_project_dir_wins_when_it_names_a_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLAUDE_PROJECT_DIR", str(tmp_path))
    assert project_root(tmp_path / "elsewhere") == tmp_path
    monkeypatch.setenv("CLAUDE_PROJECT_DIR", str(tmp_path / "missing"))
    assert project_root(tmp_path) != tmp_path / "missing"


def test_a_skill_is_a_skill_md_file_wherever_it_sits() -> None:
    assert is_skill(AgentSpec("pdf", path="x/skills/pdf/SKILL.md"))
    assert is_skill(AgentSpec("pdf", path="x/skills/pdf/skill.md"))
    assert not is_skill(AgentSpec("pdf", path="x/agents/pdf.md"))
    assert not is_skill(AgentSpec("pdf"))
