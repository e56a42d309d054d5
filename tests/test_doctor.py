"""`agentroute doctor`: one line per finding, each problem with its fix; exit 1 on a problem."""

from __future__ import annotations

import json
import os
import shlex
import sys
import time
from pathlib import Path

import pytest

from agentroute import _cli as cli
from agentroute._doctor import STALE_CACHE_SECONDS, diagnose, prune, stale_files


def _project(tmp_path: Path, command: str | None) -> Path:
    project = tmp_path / "project"
    agents = project / ".claude" / "agents"
    agents.mkdir(parents=True)
    (agents / "helm-fixer.md").write_text(
        "---\nname: helm-fixer\ndescription: Fixes Helm charts and Kubernetes pods that crash "
        "after an upgrade.\n---\n",
        encoding="utf-8",
    )
    (agents / "sql-tuner.md").write_text(
        "---\nname: sql-tuner\ndescription: Tunes slow PostgreSQL queries, indexes and query "
        "plans.\n---\n",
        encoding="utf-8",
    )
    user = tmp_path / "home" / ".claude" / "agents"
    user.mkdir(parents=True)
    (user / "sql-tuner.md").write_text(
        "---\nname: sql-tuner\ndescription: Tunes MySQL.\n---\n", encoding="utf-8"
    )
    if command is not None:
        hooks = {"hooks": [{"type": "command", "command": command, "timeout": 10}]}
        (project / ".claude" / "settings.json").write_text(
            json.dumps({"hooks": {"UserPromptSubmit": [hooks]}}), encoding="utf-8"
        )
    return project


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CLAUDE_PROJECT_DIR", raising=False)


def test_a_healthy_setup_has_no_problem(tmp_path: Path) -> None:
    good = f"{shlex.quote(sys.executable)} -m agentroute hook --min-confidence 0.6"
    project = _project(tmp_path, good)
    (project / ".mcp.json").write_text(
        json.dumps({"mcpServers": {"agentroute": {"command": "agentroute", "args": ["mcp"]}}}),
        encoding="utf-8",
    )
    found = diagnose(project, home=tmp_path / "home")
    lines = [str(f) for f in found]
    assert [f for f in found if f.status == "problem"] == [], lines
    text = "\n".join(lines)
    assert f"project: {project.as_posix()}" in text
    assert "agents: 2 project agents in " in text  # the user's sql-tuner is shadowed
    assert "1 name(s) defined in two places, the first wins: 'sql-tuner'" in text
    assert "runs " in text and "mcp: .mcp.json registers 'agentroute'" in text
    assert "description routes to it" in text


@pytest.mark.parametrize(
    ("command", "says"),
    [
        ("agentroute hook --min-confidnce 0.5", "unrecognized arguments: --min-confidnce"),
        ("agentroute hook --agents /missing/agents", "--agents /missing/agents: no such file"),
        ("/no/such/bin/agentroute hook", "'/no/such/bin/agentroute' is not on PATH"),
    ],
)
def test_a_broken_hook_command_is_a_problem_with_its_fix(
    tmp_path: Path, command: str, says: str
) -> None:
    project = _project(tmp_path, command)
    problems = [f for f in diagnose(project, home=tmp_path / "home") if f.status == "problem"]
    assert any(says in f.message and f.fix for f in problems), [str(f) for f in problems]


def test_a_hook_with_the_old_spelling_of_its_bar_gets_a_note(tmp_path: Path) -> None:
    """``hook --min-confidence`` (0.2) still runs; the doctor names its new spelling."""
    old = f"{shlex.quote(sys.executable)} -m agentroute hook --min-confidence 0.6"
    notes = [
        f
        for f in diagnose(_project(tmp_path / "old", old), home=tmp_path / "home")
        if f.topic == "hook" and f.status == "note"
    ]
    assert [f.message.split(": ", 1)[1] for f in notes] == [
        "--min-confidence is deprecated since agentroute 0.3: use --act-at"
    ]
    new = old.replace("--min-confidence", "--act-at")
    found = diagnose(_project(tmp_path / "new", new), home=tmp_path / "home")
    assert not [f for f in found if f.topic == "hook" and f.status != "ok"]


def test_no_hook_and_no_agents_are_problems(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    (empty / ".git").mkdir(parents=True)
    problems = {
        f.topic: f for f in diagnose(empty, home=tmp_path / "home") if f.status == "problem"
    }
    assert "no UserPromptSubmit hook runs agentroute" in problems["hook"].message
    assert '"command": "agentroute hook"' in problems["hook"].fix


def test_stale_cache_files_are_listed_and_pruned(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    folder.mkdir()
    old, fresh, foreign = folder / "index-aa.npz", folder / "index-bb.npz", folder / "notes.txt"
    temp = folder / ".agentroute-x.tmp"
    for p in (old, fresh, foreign, temp):
        p.write_bytes(b"x")
    then = time.time() - STALE_CACHE_SECONDS - 10
    for p in (old, foreign, temp):
        os.utime(p, (then, then))
    assert stale_files(folder) == sorted([old, temp])
    assert prune(folder) == sorted([old, temp])
    assert sorted(p.name for p in folder.iterdir()) == ["index-bb.npz", "notes.txt"]


def test_the_command_exits_1_on_a_problem_and_prints_one_line_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _project(tmp_path, "agentroute hook --min-confidnce 0.5")
    monkeypatch.chdir(project)
    assert cli.main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[-1].endswith("problem(s)")
    assert any(line.startswith("problem hook:") and "Fix:" in line for line in out.splitlines())
    assert cli.main(["doctor", "--json"]) == 1
    rows = json.loads(capsys.readouterr().out)
    assert {r["status"] for r in rows} >= {"ok", "problem"}
