"""Finding and reading catalogs: paths, Claude Code folders, YAML/JSON catalogs, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

import agentroute
from agentroute import CatalogError, CatalogNotFoundError, Router, load_agents


def test_missing_path_is_a_catalog_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="nope: no such file or folder"):
        Router.from_path(tmp_path / "nope")


def test_folder_without_agents_is_a_catalog_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(CatalogError, match="no agent could be loaded"):
        Router.from_path(tmp_path)


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


def test_claude_codes_precedence_decides_which_of_two_namesakes_is_used(tmp_path: Path) -> None:
    # Subagents: the project's wins. Skills: the user's (personal) wins, as Claude Code
    # documents; a skill and a subagent of one name are both kept.
    project, home = tmp_path / "proj", tmp_path / "home"

    def put(base: Path, rel: str, description: str) -> None:
        f = base / ".claude" / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        name = f.parent.name if f.name == "SKILL.md" else f.stem
        f.write_text(f"---\nname: {name}\ndescription: {description}\n---\n")

    put(project, "agents/reviewer.md", "Project reviewer.")
    put(home, "agents/reviewer.md", "User reviewer.")
    put(project, "skills/pdf/SKILL.md", "Project pdf skill.")
    put(home, "skills/pdf/SKILL.md", "Personal pdf skill.")
    put(home, "skills/reviewer/SKILL.md", "A reviewer skill.")
    paths = agentroute.claude_code_paths(project=project, home=home)
    assert paths == (
        project / ".claude" / "agents",
        home / ".claude" / "agents",
        home / ".claude" / "skills",
        project / ".claude" / "skills",
    )
    result = load_agents(paths)
    got = {(a.declared_name, a.description) for a in result.agents}
    assert got == {
        ("reviewer", "Project reviewer."),
        ("pdf", "Personal pdf skill."),
        ("reviewer", "A reviewer skill."),
    }
    shadowed = sorted(d.path for d in result.diagnostics if d.kind == "shadowed")
    assert [Path(p).parts[-4:] for p in shadowed] == [
        ("home", ".claude", "agents", "reviewer.md"),
        (".claude", "skills", "pdf", "SKILL.md"),
    ]


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


def test_a_missing_path_is_also_a_file_not_found_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nope: no such file or folder") as caught:
        load_agents(tmp_path / "nope")
    assert isinstance(caught.value, CatalogNotFoundError)
    assert isinstance(caught.value, CatalogError)  # 0.1 callers catch this


def test_the_sample_catalog_loads_sorted_and_clean() -> None:
    result = load_agents(agentroute.default_catalog_path())
    names = [a.name for a in result.agents]
    assert len(names) == 12 and names == sorted(names)
    assert result.diagnostics == ()


def test_a_catalog_error_carries_the_diagnostics_that_explain_it(tmp_path: Path) -> None:
    bad = tmp_path / "agents.yaml"
    bad.write_text("agents:\n  - name: a\n    description: x\n  - name: [b\n    description: y\n")
    with pytest.raises(CatalogError, match=r"(?s)agents\.yaml.*invalid-catalog.*at line 5") as info:
        Router.from_path(bad)
    [diag] = info.value.diagnostics
    assert diag.kind == "invalid-catalog" and "line 5, column" in diag.message


def test_the_walk_finds_what_os_walk_finds_each_file_once(tmp_path: Path) -> None:
    """The walk lists each folder once (links and status from the listing): the files and
    their order are those of a plain ``os.walk``, a link inside the catalog read once."""
    import os

    from agentroute._fs import discover

    root = tmp_path / "agents"
    for folder in ("", "b", "a/deep", ".hidden"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    for name in ("z.md", "b/y.md", "a/x.md", "a/deep/w.md", ".hidden/v.md", "a/.dot.md"):
        (root / name).write_text(f"---\nname: {Path(name).stem}\ndescription: d\n---\n")
    (root / "b" / "alias.md").symlink_to(root / "z.md")
    (root / "linked").symlink_to(root / "a", target_is_directory=True)
    files, _ = discover(root)
    expected = sorted(
        Path(d, f).as_posix()
        for d, dirs, names in os.walk(root)
        if "/." not in d[len(str(root)) :]
        for f in names
        if not f.startswith(".") and f != "z.md"  # the link to it comes first, and wins
    )
    assert [shown for _, shown in files] == expected
    assert len({p.resolve() for p, _ in files}) == len(files)
