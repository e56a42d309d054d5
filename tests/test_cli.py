"""The command line: each subcommand, stdin batches, exit codes, one-line errors, NO_COLOR,
a light start-up. (Every command the README and docs/ show runs in test_docs.py.)"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from agentroute import _cli as cli
from agentroute._progress import ProgressBar
from agentroute._router import default_catalog_path

REPO = Path(__file__).resolve().parents[1]
SAMPLE_LABELS = REPO / "examples" / "sample_labels.jsonl"


@pytest.fixture(autouse=True)
def _no_claude_code_catalog(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Without --agents the CLI reads ~/.claude and the project's .claude: never the runner's."""
    monkeypatch.setenv("HOME", str(tmp_path / "empty-home"))
    monkeypatch.delenv("CLAUDE_PROJECT_DIR", raising=False)


class TTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def run(
    argv: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    *,
    stdin: io.StringIO | None = None,
) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", stdin if stdin is not None else TTY(""))
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


# -- route ------------------------------------------------------------------------------
def test_route_one_request(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["route", "our kubernetes pods keep crashing"], monkeypatch, capsys)
    # No Claude Code agents here: the sample catalog, said on stderr (issue 22).
    assert code == 0 and err.startswith("agentroute: WARNING: no agents found")
    assert out.startswith("kubernetes-operator\trouted\t")
    assert "\x1b[" not in out  # captured output is not a terminal: no colour


def test_route_no_match_exits_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["route", "--json", "bake a cake"], monkeypatch, capsys)
    assert code == 1
    assert json.loads(out)["status"] == "no_match"


@pytest.mark.parametrize("argv", [["route"], ["route", "-"]])
def test_route_reads_stdin_one_request_per_line(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = "fix the flaky login test\n\nour kubernetes pods keep crashing\nbake a cake\n"
    code, out, _ = run([*argv, "--json"], monkeypatch, capsys, stdin=io.StringIO(lines))
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["request"] for r in rows] == [
        "fix the flaky login test",
        "our kubernetes pods keep crashing",
        "bake a cake",
    ]
    assert [r["agent"] for r in rows] == ["test-engineer", "kubernetes-operator", None]


def test_route_stdin_text_is_one_line_per_request(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["route"], monkeypatch, capsys, stdin=io.StringIO("fix the flaky test\n"))
    assert code == 0
    assert out.split("\t")[0] == "test-engineer" and out.rstrip().endswith("fix the flaky test")


def test_route_without_request_on_a_terminal_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["route"], monkeypatch, capsys)
    assert code == 2 and out == ""
    assert (
        err == "agentroute route: error: give a REQUEST, or pipe requests on stdin (one per line)\n"
    )


def test_colour_only_on_a_terminal_and_never_with_no_color(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    tty = TTY()
    monkeypatch.setattr(sys, "stdout", tty)
    assert cli.main(["route", "fix the flaky login test"]) == 0
    assert "\x1b[32mrouted\x1b[0m" in tty.getvalue()
    monkeypatch.setenv("NO_COLOR", "1")
    tty = TTY()
    monkeypatch.setattr(sys, "stdout", tty)
    assert cli.main(["route", "fix the flaky login test"]) == 0
    assert "\x1b[" not in tty.getvalue()


# -- errors -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["route", "--agents", "/no/such/folder", "hi"], "/no/such/folder"),
        (["agents", "/no/such/folder"], "/no/such/folder"),
        (["eval", "/no/such/labels.jsonl"], "/no/such/labels.jsonl"),
        (["lint", "/no/such/folder"], "/no/such/folder"),
    ],
)
def test_errors_are_one_line_naming_the_path(
    argv: list[str],
    needle: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(argv, monkeypatch, capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and needle in err and "Traceback" not in err
    assert err.startswith(f"agentroute {argv[0]}: error: ")


def test_a_catalog_that_loads_nothing_prints_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('[{"name": "a",, }]')
    code, out, err = run(["agents", str(bad)], monkeypatch, capsys)
    assert code == 2 and out == ""
    first, reason = err.splitlines()
    assert first.startswith("agentroute agents: error: no agent could be loaded from")
    assert "bad.json: error: invalid-catalog: not valid JSON at line 1, column 15" in reason


def test_a_bad_labels_line_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "labels.jsonl"
    bad.write_text('{"request": "fix the test", "agent": "test-engineer"}\n{oops\n')
    code, _, err = run(["eval", str(bad)], monkeypatch, capsys)
    assert code == 2 and f"{bad}:2: not valid JSON" in err and err.count("\n") == 1


@pytest.mark.parametrize("command", ["route", "agents", "eval", "lint", "hook"])
def test_help_documents_exit_status(
    command: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run([command, "--help"], monkeypatch, capsys)
    assert code == 0 and "exit status" in out


def test_bad_option_values_are_usage_errors(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["route", "--top", "0", "x"], monkeypatch, capsys)[0] == 2
    assert run(["eval", str(SAMPLE_LABELS), "--fail-under", "7"], monkeypatch, capsys)[0] == 2


# -- agents, eval, lint -------------------------------------------------------------------
def test_agents_lists_the_catalog(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["agents", "--json"], monkeypatch, capsys)
    assert code == 0
    names = [a["name"] for a in json.loads(out)["agents"]]
    assert names == sorted(p.stem for p in default_catalog_path().glob("*.md"))


def test_eval_prints_the_report(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    # One deliberately wrong label guarantees a confusion to report, however
    # good the router gets on the sample labels.
    labels = tmp_path / "labels.jsonl"
    labels.write_text(
        SAMPLE_LABELS.read_text(encoding="utf-8")
        + json.dumps({"request": "write a helm chart for the api", "agent": "technical-writer"})
        + "\n",
        encoding="utf-8",
    )
    code, out, _ = run(["eval", str(labels)], monkeypatch, capsys)
    assert code == 0
    for heading in (
        "accuracy",
        "top-3 accuracy",
        "MRR",
        "calibration (ECE)",
        "out-of-scope recall",
        "weakest agents",
        "worst confusions",
    ):
        assert heading in out
    assert "technical-writer" in out.split("worst confusions")[1]
    code, out, _ = run(["eval", str(labels), "--json", "-k", "1"], monkeypatch, capsys)
    report = json.loads(out)
    assert report["n"] == 28 and report["k"] == 1
    assert report["abstention"]["n_oos"] == 3
    code, _, _ = run(["eval", str(labels), "--fail-under", "1"], monkeypatch, capsys)
    assert code == 1
    code, out, err = run(["eval", str(labels), "--act-at", "0.7"], monkeypatch, capsys)
    assert code == 0 and "at confidence >= 0.70: in-scope coverage" in out
    assert "'write a helm chart for the api' -> " in out  # the wrong label is misrouted
    assert "deprecated" not in err
    # --min-confidence, its 0.2 spelling: the same report, and a note naming the new one.
    code, old, err = run(["eval", str(labels), "--min-confidence", "0.7"], monkeypatch, capsys)
    assert (code, old) == (0, out)
    assert (
        "agentroute eval: --min-confidence is deprecated since agentroute 0.3: use --act-at" in err
    )
    code, out, _ = run(["eval", str(labels), "--act-at", "0.7", "--json"], monkeypatch, capsys)
    at = json.loads(out)["at_confidence"]
    assert at["threshold"] == 0.7 and at["answered"] >= len(at["misrouted"]) >= 1
    assert "write a helm chart for the api" in [m["request"] for m in at["misrouted"]]


def test_lint_exit_status_follows_severity(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["lint"], monkeypatch, capsys)
    assert code == 0 and "12 agent(s): no problems found" in out
    thin = tmp_path / "thin"
    thin.mkdir()
    (thin / "helper.md").write_text("---\nname: helper\ndescription: Helps with code.\n---\n")
    (thin / "sql.md").write_text(
        "---\nname: sql\ndescription: Tunes PostgreSQL queries, indexes and slow query plans "
        "for reporting workloads and migrations.\n---\n"
    )
    code, out, _ = run(["lint", str(thin)], monkeypatch, capsys)
    assert code == 0 and "short-description" in out  # a warning only
    code, _, _ = run(["lint", str(thin), "--strict"], monkeypatch, capsys)
    assert code == 1  # --strict: any finding fails
    desc = "Tunes PostgreSQL queries, indexes, slow query plans, vacuum and replication lag."
    for name in ("db-a", "db-b"):
        (tmp_path / f"{name}.md").write_text(f"---\nname: {name}\ndescription: {desc}\n---\n")
    code, out, _ = run(["lint", str(tmp_path), "--json"], monkeypatch, capsys)
    assert code == 1
    findings = json.loads(out)["findings"]
    assert findings[0]["kind"] == "near-copy" and findings[0]["agents"] == ["db-a", "db-b"]


def test_lint_with_labels(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["lint", "--labels", str(SAMPLE_LABELS), "--json"], monkeypatch, capsys)
    assert code == 0
    assert not [f for f in json.loads(out)["findings"] if f["kind"].startswith("unreach")]


# -- start-up and logging ---------------------------------------------------------------------
@pytest.mark.slow  # starts processes
def test_route_does_not_import_lint_hook_or_plotting() -> None:
    code = (
        "import sys; from agentroute import _cli as cli; "
        "cli.main(['route', 'fix the flaky test']); "
        "heavy = [m for m in ('agentroute._lint', 'agentroute._hook', 'matplotlib', "
        "'agentroute._progress') if m in sys.modules]; print('HEAVY', heavy)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "HEAVY []" in proc.stdout, proc.stdout + proc.stderr


def test_the_library_adds_no_logging_handlers(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import logging

    run(["eval", str(SAMPLE_LABELS)], monkeypatch, capsys)
    run(["lint"], monkeypatch, capsys)
    # Only the NullHandler the logging HOWTO asks libraries for: nothing that prints.
    handlers = logging.getLogger("agentroute").handlers
    assert [type(h) for h in handlers] == [logging.NullHandler]


def test_progress_draws_only_on_a_terminal() -> None:
    tty, pipe = TTY(), io.StringIO()
    with ProgressBar("eval", stream=tty) as bar:
        bar(10, 10)
    with ProgressBar("eval", stream=pipe) as quiet:
        quiet(10, 10)
    assert "eval [" in tty.getvalue() and "10/10" in tty.getvalue()
    assert pipe.getvalue() == ""


def test_cli_defaults_are_the_library_defaults() -> None:
    """The parser spells the defaults out (so `route` need not import lint or hook)."""
    from agentroute import _cli as cli
    from agentroute import _hook as hook
    from agentroute import _lint as lint

    parser = cli._parser()
    lint_args = parser.parse_args(["lint"])
    assert (lint_args.overlap, lint_args.near_copy, lint_args.min_words) == (
        lint.DEFAULT_OVERLAP,
        lint.DEFAULT_NEAR_COPY,
        lint.DEFAULT_MIN_WORDS,
    )
    assert parser.parse_args(["hook"]).act_at == hook.DEFAULT_ACT_AT


TEAM_REQUEST = "add rate limiting to our gRPC gateway and then write the API docs for it"


def test_route_json_has_the_team(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["route", "--json", TEAM_REQUEST], monkeypatch, capsys)
    data = json.loads(out)
    assert code == 0
    assert [m["agent"] for m in data["team"]] == ["go-backend-engineer", "technical-writer"]
    assert data["team"][1]["part"] == "write the API docs for it"
    _, out, _ = run(["route", "--json", "bake a cake"], monkeypatch, capsys)
    assert json.loads(out)["team"] == []


def test_route_text_lists_a_team(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = run(["route", TEAM_REQUEST], monkeypatch, capsys)
    head = "team of 2, lead first, then by confidence:"
    assert f"{head}\n  - lead   go-backend-engineer  " in out
    assert "member technical-writer  0.91  write the API docs for it" in out.split(head)[1]
    _, out, _ = run(["route", "our kubernetes pods keep crashing"], monkeypatch, capsys)
    assert "team of" not in out


def test_eval_names_labels_that_no_agent_has_and_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    labels = tmp_path / "labels.jsonl"
    labels.write_text(
        json.dumps({"request": "fix the helm chart", "agent": "kubernetes-operator"})
        + "\n"
        + json.dumps({"request": "tune the query", "agent": "sql-wizard"})
        + "\n"
        + json.dumps({"request": "bake a cake", "agent": None})
        + "\n",
        encoding="utf-8",
    )
    code, out, err = run(["eval", str(labels)], monkeypatch, capsys)
    assert code == 2 and out == ""
    assert "1 label(s) name no agent of the catalog: sql-wizard" in err


def test_eval_shows_precision_n_a_for_an_agent_never_chosen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    labels = tmp_path / "labels.jsonl"
    # Labelled with an agent the router never picks for this text: recall 0, never chosen.
    labels.write_text(
        json.dumps({"request": "zxqv blorf wuggle", "agent": "technical-writer"}) + "\n",
        encoding="utf-8",
    )
    code, out, _ = run(["eval", str(labels), "--json"], monkeypatch, capsys)
    assert code == 0
    [stats] = [a for a in json.loads(out)["per_agent"] if a["agent"] == "technical-writer"]
    assert stats["precision"] is None
    code, out, _ = run(["eval", str(labels)], monkeypatch, capsys)
    weakest = out.split("weakest agents", 1)[1].split("worst confusions", 1)[0]
    [line] = [ln for ln in weakest.splitlines() if ln.strip().startswith("technical-writer")]
    assert line.split()[1:] == ["n/a", "0.00", "1"]


@pytest.mark.slow  # starts processes
@pytest.mark.parametrize(
    ("request_text", "expected"), [("bake a cake", 1), ("fix the helm chart", 0)]
)
def test_route_keeps_its_exit_status_when_nobody_reads_stdout(
    request_text: str, expected: int
) -> None:
    # `agentroute route "…" | true`: the reader is gone before the answer is written.
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "agentroute._cli", "route", request_text],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    finally:
        os.close(write_end)
    assert proc.returncode == expected, proc.stderr
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr


def test_without_paths_a_project_uses_its_claude_code_agents_and_skills(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "project"
    (project / ".git").mkdir(parents=True)
    agents = project / ".claude" / "agents"
    agents.mkdir(parents=True)
    (agents / "helm-doctor.md").write_text(
        "---\nname: helm-doctor\ndescription: Repairs broken helm charts and releases.\n---\n"
    )
    skill = tmp_path / "empty-home" / ".claude" / "skills" / "pdf-forms"
    skill.mkdir(parents=True)
    (skill / "SKILL.md").write_text(
        "---\nname: pdf-forms\ndescription: Fills PDF forms. Use when: filling a pdf form.\n---\n"
    )
    (project / "src").mkdir()
    monkeypatch.chdir(project / "src")
    code, out, err = run(["agents", "--json"], monkeypatch, capsys)
    assert code == 0
    assert sorted(a["name"] for a in json.loads(out)["agents"]) == ["helm-doctor", "pdf-forms"]
    assert "using the Claude Code agents and skills in" in err and "~/.claude/skills" in err
    code, out, _ = run(["route", "repair the broken helm release"], monkeypatch, capsys)
    assert out.startswith("helm-doctor\t")
    # --agents, repeatable, in every subcommand; a positional path still works.
    sample = str(default_catalog_path())
    for argv in (["agents", "--agents", sample], ["agents", sample]):
        code, out, err = run([*argv, "--json"], monkeypatch, capsys)
        assert code == 0 and err == "" and "kubernetes-operator" in out
    code, out, err = run(["lint", "--agents", sample, "--json"], monkeypatch, capsys)
    assert (
        code == 0
        and err == ""
        and json.loads(out)["agents"] == len(list(default_catalog_path().glob("*.md")))
    )


def test_falling_back_to_the_sample_catalog_is_said_loudly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Issue 22: a folder with no .claude routed against the sample catalog in silence,
    # naming `kubernetes-operator`, an agent the user does not have.
    project = tmp_path / "project"
    (project / ".git").mkdir(parents=True)
    monkeypatch.chdir(project)
    monkeypatch.delenv("CLAUDE_PROJECT_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    code, out, err = run(["route", "helm chart upgrade fails"], monkeypatch, capsys)
    assert code == 0 and out.startswith("kubernetes-operator\t")  # the README's first command
    assert "WARNING: no agents found" in err and "SAMPLE catalog" in err
    assert f"{project.as_posix()}/.claude/agents" in err and "~/.claude/skills" in err
    assert "--agents PATH" in err


# -- hostile input to the command line (issue 12, items 5 and 6) --------------------------
def test_a_deeply_nested_labels_line_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "labels.jsonl"
    bad.write_text('{"request": "fix the test", "agent": null}\n' + "[" * 100_000 + "\n")
    code, out, err = run(["eval", str(bad)], monkeypatch, capsys)
    assert code == 2 and out == ""
    assert err.startswith("agentroute eval: error: ") and f"{bad}:2: " in err
    assert "nested too deeply" in err and err.count("\n") == 1


@pytest.mark.parametrize("json_output", [False, True], ids=["text", "json"])
def test_agents_prints_file_names_that_are_not_utf8(
    tmp_path: Path, json_output: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "catalog"
    folder.mkdir()
    try:
        bad = os.path.join(os.fsencode(folder), b"bad\xffname.md")
        with open(bad, "wb") as fh:
            fh.write(b"Kubernetes helm operator for pods and clusters.\n")
    except (OSError, UnicodeError):
        pytest.skip("this file system refuses names that are not UTF-8")
    (folder / "zz-last.md").write_text(
        "---\nname: zz-last\ndescription: Terraform modules and state.\n---\n"
    )
    argv = ["agents", "--no-cache", "-v", str(folder)] + (["--json"] if json_output else [])
    # Strict UTF-8 streams, as PYTHONIOENCODING=utf-8 gives a process: a lone surrogate
    # written to one raises halfway through the output unless the command line escapes it.
    stdout = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict")
    stderr = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict")
    monkeypatch.setattr(sys, "stdout", stdout)
    monkeypatch.setattr(sys, "stderr", stderr)
    code = cli.main(argv)
    stdout.flush()
    stderr.flush()
    err = stderr.buffer.getvalue()  # type: ignore[attr-defined]
    assert code == 0, err.decode("utf-8", "replace")
    assert err == b""
    out = stdout.buffer.getvalue().decode("utf-8")  # type: ignore[attr-defined]  # valid UTF-8
    if json_output:
        payload = json.loads(out)
        assert [a["name"] for a in payload["agents"]] == ["badname", "zz-last"]
        # The undecodable byte is escaped; reading it back gives the file's own name.
        assert os.fsencode(payload["agents"][0]["path"]) == bad
    else:
        assert out.startswith("badname\t") and "zz-last\t" in out
        assert "2 agent(s)" in out and "no-front-matter" in out  # nothing stopped halfway
        assert "bad\\udcffname.md" in out or "bad\\xffname.md" in out


def test_streamed_eval_reports_what_router_evaluate_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``eval`` routes the labels file batch by batch without keeping it (issue 12, item 5):
    the report is the one Router.evaluate gives on the whole file at once."""
    from agentroute import Router, read_labels

    labels = tmp_path / "labels.jsonl"
    rows = SAMPLE_LABELS.read_text(encoding="utf-8").splitlines() * 30  # > one batch of 256
    rows.append(json.dumps({"request": "bake me a cake", "agent": None}))
    rows.append(
        json.dumps(
            {"request": "fix the flaky login test", "agent": "x", "also_correct": ["test-engineer"]}
        )
    )
    labels.write_text("\n".join(rows) + "\n", encoding="utf-8")
    code, out, _ = run(["eval", "--json", "--no-cache", str(labels)], monkeypatch, capsys)
    assert code == 0
    whole = read_labels(labels)
    expected = Router.from_default().evaluate(
        whole.requests, whole.labels, also_correct=whole.also_correct
    )
    assert json.loads(out) == json.loads(json.dumps(expected.to_dict()))
    assert json.loads(out)["n"] == len(rows)


# -- escape sequences from agent files never reach the terminal raw (issue 22, hostile 7) --
_ESC_TRIGGER = "helm\x1b]0;pwned\x07 upgrade"


@pytest.fixture()
def escaping_catalog(tmp_path: Path) -> Path:
    folder = tmp_path / "esc"
    folder.mkdir()
    (folder / "kube\x1b[2J\u202eops.md").write_text(
        "---\nname: kube-ops\ndescription: Kubernetes operator for pods, helm upgrades and "
        f"clusters.\ntriggers: [{json.dumps(_ESC_TRIGGER)}, kubernetes pods]\n---\n"
        "Fixes clusters.\x1b[8m hidden\n",
        encoding="utf-8",
    )
    (folder / "cook.md").write_text(
        "---\nname: cook\ndescription: x\n---\nRecipes.\n", encoding="utf-8"
    )
    return folder


@pytest.mark.parametrize("tty", [False, True], ids=["pipe", "terminal"])
@pytest.mark.parametrize(
    "argv",
    [
        ["agents", "-v"],
        ["route", "the helm upgrade broke our kubernetes pods"],
        ["route", "--json", "the helm upgrade broke our kubernetes pods"],
        ["lint"],
        ["lint", "--json"],
    ],
    ids=["agents", "route", "route-json", "lint", "lint-json"],
)
def test_no_escape_sequence_from_a_file_reaches_the_terminal(
    escaping_catalog: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    tty: bool,
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    stdout = TTY() if tty else io.StringIO()
    monkeypatch.setattr(sys, "stdout", stdout)
    monkeypatch.setattr(sys, "stdin", TTY(""))
    cli.main([*argv[:1], "--agents", str(escaping_catalog), *argv[1:]])
    out = stdout.getvalue()
    own = re.sub("\x1b\\[(?:0|31|32|33)m", "", out) if tty else out
    assert not any(ch in own for ch in "\x1b\x07\u202e"), repr(out)
    if argv[0] != "route":  # they show the file name and triggers: escaped, yet visible
        assert "\\u001b" in out or "\\\\u001b" in out
    if argv[-1] == "--json" or "--json" in argv:
        json.loads(out.splitlines()[0] if argv[0] == "route" else out)


def _twins_folder(tmp_path: Path) -> Path:
    sys.path.insert(0, str(Path(__file__).parent))
    from test_similar import TWINS

    folder = tmp_path / "twins"
    folder.mkdir()
    for a in TWINS:
        (folder / f"{a.name}.md").write_text(
            f"---\nname: {a.name}\ndescription: {a.description}\n---\n{a.body}\n", "utf-8"
        )
    return folder


def test_route_names_the_alternatives_and_the_group(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = str(_twins_folder(tmp_path))
    request = "our kubernetes pods keep crashing after the helm upgrade"
    code, out, _ = run(["route", "--no-cache", "--agents", folder, request], monkeypatch, capsys)
    assert code == 0
    assert out.startswith("kubernetes-expert (or kubernetes-specialist)\trouted\t")
    assert "(group " in out.splitlines()[0]
    _, out, _ = run(
        ["route", "--no-cache", "--json", "--agents", folder, request], monkeypatch, capsys
    )
    data = json.loads(out)
    assert data["alternatives"] == ["kubernetes-specialist"]
    assert data["group_confidence"] >= data["confidence"]
    # A part of a team taken by a group shows the group's confidence too.
    two = f"style the landing page with css grid, then fix the {request[4:]}"
    _, out, _ = run(["route", "--no-cache", "--agents", folder, two], monkeypatch, capsys)
    assert re.search(r"member kubernetes-\w+ \(or kubernetes-\w+\)  0\.\d\d \(group 0\.\d\d\)", out)
    _, out, _ = run(["agents", "--no-cache", "--json", folder], monkeypatch, capsys)
    similar = {a["name"]: a["similar"] for a in json.loads(out)["agents"]}
    assert similar["kubernetes-expert"] == ["kubernetes-specialist"]
    assert similar["css-pro"] == []


# -- each subcommand's options ------------------------------------------------------------
# What `agentroute SUBCOMMAND --help` listed before the parsers moved beside their commands
# (and --act-at since: --min-confidence is its deprecated 0.2 spelling).
OPTIONS = {
    "route": "--agents --encoder --explain --help --input --jobs --json --limit --no-cache "
    "--output --strict --top -h",
    "agents": "--agents --help --json --no-cache --verbose -h -v",
    "eval": "--act-at --agents --confusions --encoder --fail-under --fit --help --json --limit "
    "--min-confidence --no-cache -h -k",
    "lint": "--agents --all --help --json --labels --min-words --near-copy --no-cache "
    "--overlap --strict -h",
    "hook": "--act-at --agents --debug --help --min-confidence --no-cache -h",
    "doctor": "--help --json --no-cache --prune -h",
    "mcp": "--agents --encoder --help --no-cache -h",
}


def help_options(argv: list[str], capsys: pytest.CaptureFixture[str]) -> set[str]:
    """The option strings the options section of ``agentroute ARGV --help`` lists."""
    assert cli.main([*argv, "--help"]) == 0
    found = set()
    for line in capsys.readouterr().out.splitlines():
        if re.match(r"\s{2}-", line):
            spellings = re.split(r"\s{2,}", line.strip())[0].split(", ")
            found.update(s.split(" ")[0] for s in spellings)
    return found


@pytest.mark.parametrize("subcommand", sorted(OPTIONS))
def test_each_subcommand_lists_its_options(
    subcommand: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    assert help_options([subcommand], capsys) == set(OPTIONS[subcommand].split())


def test_the_top_level_help_lists_every_subcommand(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "usage: agentroute [-h] [-V] COMMAND ..." in out
    listed = re.findall(r"^\s{4}(\w+)\s", out, flags=re.M)
    assert listed == ["route", "agents", "eval", "lint", "hook", "doctor", "mcp"]
