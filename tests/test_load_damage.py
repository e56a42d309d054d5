"""Golden files: each kind of real-world damage loads into the record it must produce.

The specimens in ``tests/data/damage`` copy the few bytes that matter from the
third-party corpora (see ``../shared/corpora/SOURCES.md``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agentroute import AgentFileError, AgentSpec, Diagnostic, load_agents


def load_one(path: Path) -> tuple[AgentSpec, set[str]]:
    result = load_agents(path)
    assert len(result.agents) == 1, result.diagnostics
    return result.agents[0], {d.kind for d in result.diagnostics}


def test_one_line_file_recovers_fields_and_headings(damage: Path) -> None:
    agent, kinds = load_one(damage / "one_line.md")
    assert agent.name == "go-payments"
    assert agent.description == (
        "Senior engineer for payment services in Go. Handles ledgers and reconciliation."
    )
    assert agent.model == "opus"
    assert "newlines-lost" in kinds
    lines = agent.body.split("\n")
    assert "# Go Payments" in lines
    assert "## When to Use This Agent" in lines
    assert "- Double-entry bookkeeping" in lines
    assert "reconciliation jobs" in agent.triggers


def test_negative_section_does_not_become_triggers(damage: Path) -> None:
    agent, _ = load_one(damage / "one_line.md")
    assert "frontend work" not in agent.triggers


def test_invalid_yaml_with_unquoted_colons_recovers_description_and_examples(
    damage: Path,
) -> None:
    agent, kinds = load_one(damage / "invalid_yaml_colon.md")
    assert "invalid-yaml" in kinds
    assert agent.name == "api-designer"
    assert agent.description.startswith("PROACTIVELY USE this agent when you need to design")
    assert "<example>" not in agent.description
    assert "user:" not in agent.description
    assert agent.examples == ("I need endpoints for managing books: CRUD and search",)


def test_tools_star_is_kept_as_a_wildcard_not_a_yaml_alias(damage: Path) -> None:
    agent, kinds = load_one(damage / "tools_star.md")
    assert agent.tools == ("*",)
    assert agent.model == "sonnet"
    assert "invalid-yaml" in kinds


def test_quoted_triggers_after_triggers_on_colon(damage: Path) -> None:
    agent, _ = load_one(damage / "triggers_on_colon.md")
    for phrase in ("groom backlog", "backlog refinement", "clean up backlog", "refine stories"):
        assert phrase in agent.triggers
    assert agent.tools == ("Read", "Write", "Edit")
    assert agent.examples == ("Groom our Q3 backlog before sprint planning",)


def test_indented_front_matter_is_dedented(damage: Path) -> None:
    agent, kinds = load_one(damage / "indented_front_matter.md")
    assert agent.name == "sqs-expert"
    assert agent.description == "Expertise in Amazon SQS for reliable, scalable message queuing."
    assert agent.model == "claude-sonnet-4-20250514"
    assert agent.body.lstrip().startswith("## Focus Areas")
    assert "indented-front-matter" in kinds


def test_blank_line_after_fence_and_long_closing_fence(damage: Path) -> None:
    agent, kinds = load_one(damage / "long_fence.md")
    assert agent.name == "frontend-developer"
    assert agent.tools == ("LS", "Read")
    assert agent.body.strip() == "# Frontend"
    assert "odd-fence" in kinds


def test_tools_skills_triggers_examples_as_yaml_lists(damage: Path) -> None:
    agent, _ = load_one(damage / "tools_list.md")
    assert agent.tools == ("Read", "Grep")
    assert agent.skills == ("clean-code", "testing-patterns")
    assert {"lint", "style guide", "code review", "pull request", "clean code"} <= set(
        agent.triggers
    )
    assert agent.examples == ("Review my pull request for style problems",)


def test_no_front_matter_takes_name_from_file_and_first_paragraph(damage: Path) -> None:
    agent, kinds = load_one(damage / "no_front_matter.md")
    assert agent.name == "no_front_matter"
    assert agent.description.startswith("Checks every commit message and staged diff")
    assert "no-front-matter" in kinds


def test_mojibake_is_repaired_in_description_and_body(damage: Path) -> None:
    agent, kinds = load_one(damage / "mojibake.md")
    assert "mojibake" in kinds
    assert agent.description == "Backend specialist — Go first. Triggers on backend, grpc."
    assert "## 🛑 CRITICAL: ASK FIRST" in agent.body
    assert "â" not in agent.body and "ð" not in agent.body


def test_bom_and_crlf_are_removed_and_reported_as_info(damage: Path) -> None:
    result = load_agents(damage / "bom_crlf.md")
    agent = result.agents[0]
    assert agent.name == "windows"
    assert "\r" not in agent.body
    assert {(d.kind, d.severity) for d in result.diagnostics} == {("bom", "info"), ("crlf", "info")}


def test_utf16_file_is_decoded(damage: Path) -> None:
    agent, kinds = load_one(damage / "utf16.md")
    assert agent.name == "wide"
    assert agent.description == "Written by a Windows editor in UTF-16."
    assert "utf16" in kinds


def test_duplicate_names_are_renamed_after_their_folder(tmp_path: Path) -> None:
    for folder in ("ops", "legal"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "advisor.md").write_text(
            f"---\nname: advisor\ndescription: Advises on {folder}.\n---\n"
        )
    result = load_agents(tmp_path)
    names = sorted(a.name for a in result.agents)
    assert names == ["advisor", "advisor@ops"]
    renamed = next(a for a in result.agents if a.name == "advisor@ops")
    assert renamed.declared_name == "advisor"
    assert [d.kind for d in result.diagnostics] == ["duplicate-name"]


def test_one_broken_file_never_takes_the_others_down(tmp_path: Path) -> None:
    (tmp_path / "good.md").write_text("---\nname: good\ndescription: Works fine.\n---\n")
    (tmp_path / "empty.md").write_text("")
    (tmp_path / "binary.md").write_bytes(b"\x00\x01\x02\xff" * 100)
    result = load_agents(tmp_path)
    assert [a.name for a in result.agents] == ["good"]
    assert {(Path(d.path).name, d.kind) for d in result.diagnostics} == {
        ("binary.md", "binary"),
        ("empty.md", "empty"),
    }


def test_strict_mode_raises_naming_the_file(damage: Path) -> None:
    with pytest.raises(AgentFileError, match=r"tools_star\.md: invalid-yaml"):
        load_agents(damage / "tools_star.md", strict=True)


def test_strict_mode_accepts_harmless_normalisation(damage: Path) -> None:
    result = load_agents(damage / "bom_crlf.md", strict=True)
    assert result.agents[0].name == "windows"


def test_diagnostics_read_as_one_line() -> None:
    d = Diagnostic("a.md", "invalid-yaml", "fields were recovered", "warning")
    assert str(d) == "a.md: warning: invalid-yaml: fields were recovered"


def test_yaml_catalog_may_be_a_plain_list(tmp_path: Path) -> None:
    (tmp_path / "agents.yaml").write_text(
        "- name: alpha\n  description: Tunes SQL.\n- name: beta\n  description: Styles pages.\n"
    )
    result = load_agents(tmp_path / "agents.yaml")
    assert [a.name for a in result.agents] == ["alpha", "beta"]
    assert not result.diagnostics


def test_large_yaml_catalog_loads_whole(tmp_path: Path) -> None:
    """Catalogs are not front matter: its 256 KiB cap does not apply."""
    entries = "".join(
        f"- name: agent-{i:04d}\n  description: Handles topic number {i} in depth.\n"
        for i in range(6000)
    )
    (tmp_path / "big.yaml").write_text(entries)
    assert len(entries) > 256 * 1024
    assert len(load_agents(tmp_path / "big.yaml").agents) == 6000


def test_invalid_yaml_catalog_is_named_as_yaml(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("agents: [unclosed\n")
    (diag,) = load_agents(tmp_path / "bad.yaml").diagnostics
    assert (diag.kind, diag.severity) == ("invalid-catalog", "error")
    assert "not valid YAML" in diag.message


def test_earlier_paths_keep_a_shared_name(tmp_path: Path) -> None:
    """As in Claude Code, the project's agent wins over the user's of the same name."""
    for where in ("project", "user"):
        (tmp_path / where).mkdir()
        (tmp_path / where / "db.md").write_text(f"---\nname: db\ndescription: {where} db\n---\n")
    first = load_agents([tmp_path / "project", tmp_path / "user"]).agents
    assert {a.name: a.description for a in first}["db"] == "project db"
    second = load_agents([tmp_path / "user", tmp_path / "project"]).agents
    assert {a.name: a.description for a in second}["db"] == "user db"


def _agent(folder: Path, name: str, text: str, file: str | None = None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / (file or f"{name}.md")).write_text(
        f"---\nname: {name}\ndescription: {text}\n---\n", encoding="utf-8"
    )


def test_an_earlier_path_shadows_a_later_agent_of_the_same_name(tmp_path: Path) -> None:
    # Claude Code: a project's agent wins over the user's of the same name; the user's
    # is not renamed into a name Claude Code does not know, it is left out.
    for first, second in (("alpha", "beta"), ("zeta", "beta")):
        _agent(tmp_path / first, "reviewer", f"Reviews code for {first}.")
        _agent(tmp_path / second, "reviewer", f"Reviews code for {second}.")
        result = load_agents([tmp_path / first, tmp_path / second])
        assert [(a.name, a.description) for a in result.agents] == [
            ("reviewer", f"Reviews code for {first}.")
        ]
        [diag] = result.diagnostics
        # The same severity as lint's finding (issue 22): a file of the user's is unused.
        assert diag.kind == "shadowed" and diag.severity == "warning"
        assert diag.path.endswith(f"{second}/reviewer.md")
        assert "also has an agent named 'reviewer'" in diag.message  # not "a agent"


def test_renames_within_one_folder_do_not_depend_on_where_it_is(tmp_path: Path) -> None:
    for top in ("a", "zz"):
        for folder in ("ops", "legal"):
            _agent(tmp_path / top / "catalog" / folder / "team", "advisor", f"Advises {folder}.")
    names = [
        sorted(a.name for a in load_agents(tmp_path / t / "catalog").agents) for t in ("a", "zz")
    ]
    # Qualified by the folder relative to the catalog, never by a folder above it.
    assert names[0] == names[1] == ["advisor", "advisor@ops/team"]


def test_two_files_of_one_folder_with_one_name_are_told_apart_by_file(tmp_path: Path) -> None:
    _agent(tmp_path / "x", "db", "Tunes SQL.", file="one.md")
    _agent(tmp_path / "x", "db", "Tunes Postgres.", file="two.md")
    _agent(tmp_path / "y", "db", "Tunes MySQL.", file="three.md")
    names = sorted(a.name for a in load_agents(tmp_path).agents)
    assert names == ["db", "db@x", "db@y"]


def test_a_skill_and_an_agent_may_share_a_name(tmp_path: Path) -> None:
    _agent(tmp_path / "agents", "pdf", "Edits PDF files.")
    _agent(tmp_path / "skills" / "pdf", "pdf", "Fills PDF forms.", file="SKILL.md")
    _agent(tmp_path / "more-skills" / "pdf", "pdf", "Merges PDFs.", file="SKILL.md")
    roots = [tmp_path / "agents", tmp_path / "skills", tmp_path / "more-skills"]
    result = load_agents(roots)
    assert sorted((a.name, a.declared_name) for a in result.agents) == [
        ("pdf", "pdf"),
        ("pdf@skill", "pdf"),
    ]
    assert {d.kind for d in result.diagnostics} == {"shadowed", "duplicate-name"}


def test_a_skills_use_when_list_becomes_triggers(tmp_path: Path) -> None:
    text = "Fill and flatten PDF forms. Use when: filling a PDF form, merging PDF files."
    _agent(tmp_path / "pdf-forms", "pdf-forms", text, file="SKILL.md")
    _agent(tmp_path / "agents", "pdf-agent", text)
    by_name = {a.name: a for a in load_agents(tmp_path).agents}
    assert {"filling a pdf form", "merging pdf files"} <= set(by_name["pdf-forms"].triggers)
    # Agent files keep their triggers as before: routing of agent catalogs is unchanged.
    assert "filling a pdf form" not in by_name["pdf-agent"].triggers


def test_yaml_debris_as_a_name_gets_a_diagnostic_and_the_file_stem(tmp_path: Path) -> None:
    """``name: [`` is invalid YAML; recovered line by line it read as the name "[" (issue 22,
    defect 3): a name with no letter or digit is debris, the file names the agent."""
    path = tmp_path / "helm-doctor.md"
    path.write_text("---\nname: [\ndescription: Fixes helm charts.\n---\nbody\n", encoding="utf-8")
    result = load_agents([path])
    assert [a.name for a in result.agents] == ["helm-doctor"]
    assert "invalid-name" in {d.kind for d in result.diagnostics}


def test_a_catalog_with_no_indexable_word_is_a_catalog_error(tmp_path: Path) -> None:
    """Not scikit-learn's "empty vocabulary": a CatalogError naming the files and why."""
    from agentroute import CatalogError, Router

    (tmp_path / "a.md").write_text("---\nname: a\n---\n", encoding="utf-8")
    with pytest.raises(CatalogError, match=r"no agent has a word to index.*a\.md"):
        Router.from_path(tmp_path, cache=False)
    with pytest.raises(CatalogError, match=r"a\.md"):
        Router.from_path(tmp_path, cache=True)
