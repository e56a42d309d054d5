"""The linter finds each kind of catalog problem it promises, and stays quiet on a sound one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentroute import Router, read_labels
from agentroute._lint import Finding, lint
from agentroute._spec import AgentSpec

DB = "Tunes PostgreSQL queries, indexes, slow query plans, vacuum and replication lag."
CSS = "Styles web pages with CSS grid, flexbox, responsive layouts and design tokens."
GO = "Builds Go services with gRPC APIs, goroutines, channels, rate limiting and profiling."


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.md"
    path.write_text(text, encoding="utf-8")
    return path


def agent_md(name: str, description: str, body: str = "") -> str:
    return f"---\nname: {name}\ndescription: {description}\n---\n{body}\n"


def codes(report: object) -> set[str]:
    return {f.kind for f in report.findings}  # type: ignore[attr-defined]


def test_the_embedded_catalog_has_no_errors() -> None:
    report = lint(Router.from_default())
    assert report.ok, report.format()


def test_near_copies_are_errors_naming_the_pair_and_shared_terms() -> None:
    router = Router.from_agents(
        [AgentSpec("sql-a", DB), AgentSpec("sql-b", DB), AgentSpec("css", CSS)]
    )
    report = lint(router)
    [finding] = [f for f in report.errors if f.kind == "near-copy"]
    assert finding.agents == ("sql-a", "sql-b")
    assert finding.value is not None and finding.value >= 0.8
    assert "postgresql" in finding.terms or any("quer" in t for t in finding.terms)
    assert "sql-a ↔ sql-b" in finding.message
    assert not report.ok


def test_a_partial_overlap_is_a_warning_not_an_error() -> None:
    router = Router.from_agents(
        [
            AgentSpec("sql-tuner", DB),
            AgentSpec(
                "sql-ops", "Tunes PostgreSQL queries and indexes; also backups and restores."
            ),
            AgentSpec("css", CSS),
        ]
    )
    report = lint(router, overlap=0.3, near_copy=0.95)
    overlaps = [f for f in report.findings if f.kind == "overlap"]
    assert [f.agents for f in overlaps] == [("sql-ops", "sql-tuner")]
    assert overlaps[0].severity == "warning"
    assert "overlap" not in codes(lint(router, overlap=0.99, near_copy=1.0))


def test_empty_short_and_generic_descriptions() -> None:
    router = Router.from_agents(
        [
            AgentSpec("helper", "Helps."),
            AgentSpec("db", "Databases and more."),
            AgentSpec("css", CSS),
            AgentSpec("go", GO),
            AgentSpec("generalist", "Builds services and pages with tokens, queries and styles."),
        ]
    )
    report = lint(router)
    by_agent = {(f.kind, f.agents) for f in report.findings}
    assert ("empty-description", ("helper",)) in by_agent
    assert ("short-description", ("db",)) in by_agent
    assert ("short-description", ("css",)) not in by_agent
    assert next(f for f in report.findings if f.kind == "empty-description").severity == "error"
    # "Databases and more." has one term ('databas') and so fewer than two distinctive ones.
    # The generalist is not generic here: in five agents a term two of them share is still
    # distinctive (rare = max(2, 5% of n)), and each of its terms is shared with one other.
    generic = [f for f in report.findings if f.kind == "generic-description"]
    assert [(f.agents, f.terms, f.severity) for f in generic] == [
        (("db",), ("databas",), "warning")
    ]


def test_a_description_made_of_everyones_words_is_generic() -> None:
    router = Router.from_agents(
        [
            AgentSpec("go", "Builds Go services and APIs with gRPC, goroutines and channels."),
            AgentSpec("py", "Builds Python services and APIs with FastAPI, asyncio and Celery."),
            AgentSpec("rust", "Builds Rust services and APIs with Axum, tokio and serde."),
            AgentSpec("generalist", "Builds services and APIs: more services and APIs, for all."),
        ]
    )
    [finding] = [f for f in lint(router).findings if f.kind == "generic-description"]
    assert finding.agents == ("generalist",) and finding.severity == "warning"
    assert {"api", "build", "servic"} <= set(finding.terms)
    assert "generalist: almost every description term is shared" in finding.message


def test_a_trigger_shared_by_many_agents_is_reported_once_with_its_owners() -> None:
    agents = [
        AgentSpec(f"agent-{i}", desc, triggers=("deploy", f"topic{i}"))
        for i, desc in enumerate([DB, CSS, GO, "Writes release notes and changelogs for users."])
    ]
    report = lint(Router.from_agents(agents), common_trigger=3)
    [finding] = [f for f in report.findings if f.kind == "common-trigger"]
    assert finding.terms == ("deploy",)
    assert len(finding.agents) == 4 and finding.severity == "warning"


def test_duplicate_names_and_recovered_files_come_from_the_load_diagnostics(
    tmp_path: Path,
) -> None:
    write(tmp_path / "a", "db", agent_md("db", DB))
    write(tmp_path / "b", "db", agent_md("db", DB + " Also MySQL."))
    write(tmp_path, "css", "---\nname: css\ndescription: Styles: CSS grid: flexbox\n---\n")
    write(tmp_path, "go", agent_md("go", GO))
    report = lint(Router.from_path(tmp_path))
    dup = [f for f in report.findings if f.kind == "duplicate-name"]
    assert len(dup) == 1 and dup[0].severity == "error"
    assert dup[0].path is not None and dup[0].path.endswith("b/db.md")
    recovered = [f for f in report.findings if f.kind == "recovered"]
    assert [f.agents for f in recovered] == [("css",)]
    assert "invalid-yaml" in recovered[0].message


def test_labels_find_unreachable_unreached_and_unknown_agents(tmp_path: Path) -> None:
    router = Router.from_agents(
        [AgentSpec("db", DB), AgentSpec("css", CSS), AgentSpec("go", GO), AgentSpec("docs", "x")]
    )
    labels_file = tmp_path / "labels.jsonl"
    rows = [
        {"request": "the postgresql query plan is slow", "agent": "db"},
        {"request": "center this div with flexbox", "agent": "css"},
        # Labelled for docs, but the words belong to the db agent.
        {"request": "postgresql vacuum replication", "agent": "docs"},
        {"request": "postgresql slow indexes", "agent": "docs"},
        {"request": "tune postgresql queries", "agent": "docs"},
        {"request": "write a poem", "agent": "poet"},
    ]
    labels_file.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    report = lint(router, labels=read_labels(labels_file))
    found = {(f.kind, f.agents) for f in report.findings}
    assert ("unreachable", ("docs",)) in found
    assert ("unreached", ("go",)) in found
    assert ("unknown-label", ("poet",)) in found
    assert ("unreached", ("db",)) not in found
    assert next(f for f in report.findings if f.kind == "unreachable").severity == "error"


def test_report_formats_json_and_text() -> None:
    router = Router.from_agents([AgentSpec("sql-a", DB), AgentSpec("sql-b", DB)])
    report = lint(router)
    data = report.to_dict()
    assert data["errors"] == len(report.errors) >= 1
    json.dumps(data)
    text = report.format(paint=lambda t, sev: f"<{t}>")
    assert "<error> near-copy (1)" in text
    n_err, n_warn = len(report.errors), len(report.warnings)
    assert text.endswith(f"2 agent(s): {n_err} error(s), {n_warn} warning(s)")


@pytest.mark.parametrize("bad", [{"overlap": 0.0}, {"near_copy": 1.5}, {"min_words": -1}])
def test_bad_thresholds_are_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must be"):
        lint(Router.from_default(), **bad)  # type: ignore[arg-type]


def test_the_readme_finding_is_still_true(corpora: Path) -> None:
    """README, "Lint a catalog": planner and implementation-plan are near-copies."""
    report = lint(Router.from_path(corpora / "davila7-claude-code-templates"))
    pairs = {f.agents: f for f in report.errors if f.kind == "near-copy"}
    finding = pairs[("implementation-plan", "planner")]
    assert "implementation plan" in finding.terms


def test_near_copy_below_the_overlap_bar_is_still_reported() -> None:
    from agentroute import AgentSpec, Router
    from agentroute._lint import lint

    a = "Tunes PostgreSQL queries, indexes, slow query plans, vacuum and replication lag."
    b = "Tunes PostgreSQL queries, indexes and slow query plans for reporting dashboards."
    router = Router.from_agents([AgentSpec("db-a", a), AgentSpec("db-b", b)])  # cosine 0.60
    report = lint(router, overlap=0.9, near_copy=0.5)
    assert [f.kind for f in report.findings if f.kind == "near-copy"] == ["near-copy"]


def test_a_shadowed_agent_is_reported_as_shadowed_not_as_a_rename(tmp_path: Path) -> None:
    write(tmp_path / "project", "db", agent_md("db", DB))
    write(tmp_path / "user", "db", agent_md("db", DB + " Also MySQL."))
    write(tmp_path / "user", "go", agent_md("go", GO))
    report = lint(Router.from_path([tmp_path / "project", tmp_path / "user"]))
    assert not [f for f in report.findings if f.kind == "duplicate-name"]
    [shadowed] = [f for f in report.findings if f.kind == "shadowed"]
    assert shadowed.severity == "warning"
    assert shadowed.path is not None and shadowed.path.endswith("user/db.md")
    assert "takes precedence" in shadowed.message


def test_near_equivalents_are_information() -> None:
    """Agents doing one job are named (severity info) without failing the catalog."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from test_similar import TWINS

    report = lint(Router.from_agents(TWINS))
    same = [f for f in report.findings if f.kind == "near-equivalent"]
    assert [f.agents for f in same] == [("kubernetes-expert", "kubernetes-specialist")]
    assert same[0].severity == "info" and same[0] in report.infos
    assert same[0] not in report.errors and same[0] not in report.warnings
    assert "near-equivalent pair" in report.format()


def test_finding_score_is_the_deprecated_name_of_value() -> None:
    finding = Finding("common-trigger", "warning", "m", ("a", "b"), None, ("deploy",), 2.0)
    assert finding.value == 2.0
    with pytest.warns(DeprecationWarning, match=r"Finding\.score .* use Finding\.value"):
        assert finding.score == 2.0
    data = finding.to_dict()
    assert data["value"] == data["score"] == 2.0
