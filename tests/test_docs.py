"""Every snippet of the README and of docs/ runs: the Python blocks of each page in one
interpreter, top to bottom, from the root of the clone; the `agentroute ...` command lines of the
shell blocks through the command line's own `main`; the Claude Code settings are valid JSON. The
API reference names every public member.

A Python block that truly cannot run here (it needs a cluster) starts with the visible comment
``# not run in the test suite: <why>``; nothing else is skipped.
"""

from __future__ import annotations

import io
import json
import os
import re
import shlex
import sys
from pathlib import Path
from typing import Any

import pytest

import agentroute
from agentroute import _cli as cli

REPO = Path(__file__).resolve().parents[1]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
SKIP_MARK = "# not run in the test suite:"
#: A fenced block at the start of a line: its language, the line it starts on, its text.
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.S | re.M)


def blocks(page: Path, language: str) -> list[tuple[int, str]]:
    text = page.read_text(encoding="utf-8")
    return [
        (text.count("\n", 0, m.start()) + 1, m.group(2))
        for m in FENCE.finditer(text)
        if m.group(1) == language
    ]


def _page_id(page: Path) -> str:
    return str(page.relative_to(REPO))


def _marks(page: Path) -> list[pytest.MarkDecorator]:
    text = "\n".join(code for _, code in blocks(page, "python"))
    return [pytest.mark.slow] if re.search(r"^\s*(import|from) dask", text, re.M) else []


@pytest.fixture()
def _clean_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Run as a newcomer would, but never touch the runner's ~/.claude or cache."""
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("AGENTROUTE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("CLAUDE_PROJECT_DIR", raising=False)


def test_the_pages_have_python_snippets() -> None:
    """The test below cannot pass by finding nothing."""
    assert len(blocks(REPO / "README.md", "python")) >= 2
    assert len(blocks(REPO / "docs" / "guide.md", "python")) >= 5


@pytest.mark.parametrize(
    "page",
    [pytest.param(p, id=_page_id(p), marks=_marks(p)) for p in PAGES if blocks(p, "python")],
)
@pytest.mark.usefixtures("_clean_home")
def test_every_python_snippet_runs(page: Path, capsys: pytest.CaptureFixture[str]) -> None:
    namespace: dict[str, Any] = {"__name__": "__docs__"}
    ran = 0
    for line, code in blocks(page, "python"):
        if code.lstrip().startswith(SKIP_MARK):
            continue
        if re.search(r"^\s*(import|from) (dask|distributed)", code, re.M):
            pytest.importorskip("distributed", reason="the Dask snippets need the dask extra")
        if re.search(r"^\s*import pandas", code, re.M):
            pytest.importorskip("pandas", reason="the pandas snippets need pandas (dask extra)")
        try:
            exec(compile(code, f"{_page_id(page)}:{line}", "exec"), namespace)
        except Exception as error:
            pytest.fail(f"{_page_id(page)}, the block at line {line}: {error!r}")
        ran += 1
    capsys.readouterr()
    assert ran, f"{_page_id(page)}: every Python block is marked not to run"


def test_skipped_snippets_say_why() -> None:
    for page in PAGES:
        for line, code in blocks(page, "python"):
            first = code.lstrip().splitlines()[0]
            if first.startswith(SKIP_MARK):
                assert len(first) > len(SKIP_MARK) + 10, f"{_page_id(page)}:{line}: say why"


# -- shell blocks: the command lines ---------------------------------------------------------
def commands() -> list[tuple[str, str]]:
    """(page, line) for each `agentroute ...` line (or `echo/printf ... | agentroute ...`)."""
    found = []
    for page in PAGES:
        for _, code in blocks(page, "bash"):
            for raw in code.splitlines():
                line = raw.split("  #")[0].strip()
                if re.match(r"^(agentroute |(echo|printf) .*\| agentroute )", line):
                    found.append((_page_id(page), line))
    return found


def test_the_readme_shows_each_newcomer_step() -> None:
    readme = [line for page, line in commands() if page == "README.md"]
    joined = " ".join(readme)
    for step in ("agentroute route", "agentroute lint", "agentroute eval"):
        assert step in joined
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert "routing_walkthrough.ipynb" in text
    first_two = [code for _, code in blocks(REPO / "README.md", "bash")][:2]
    assert "agentroute route" in first_two[0] and "pytest" in first_two[1]


def test_ci_runs_the_readme_test_command() -> None:
    """`.ci/run` runs the test command the README gives, and builds the docs strictly."""
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    second = [code for _, code in blocks(REPO / "README.md", "bash")][1]
    test_command = second.split("&&")[-1].strip()
    assert test_command in ci
    assert "mkdocs build --strict" in ci


# The exit code each documented command gives; every command not listed here must exit 0.
EXIT_CODES = {
    # 423 third-party agents with near-copies and empty descriptions: lint finds errors.
    "agentroute lint ../shared/corpora/davila7-claude-code-templates": 1,
}


def test_every_listed_exit_code_is_still_a_documented_command() -> None:
    assert set(EXIT_CODES) <= {line for _, line in commands()}


@pytest.mark.parametrize(
    ("page", "line"),
    [
        # A whole third-party collection takes half a minute to lint: not in the quick loop.
        pytest.param(p, c, id=f"{p}: {c}", marks=[pytest.mark.slow] if "../shared" in c else [])
        for p, c in commands()
    ],
)
def test_every_documented_command_runs(
    page: str,
    line: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    from conftest import shared_dir

    expected = EXIT_CODES.get(line, 0)
    if "../shared" in line:
        shared = shared_dir()
        if shared is None:
            pytest.skip("../shared is not beside this clone (nor in $AGENTROUTE_SHARED)")
        line = line.replace("../shared", str(shared))
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no ~/.claude/agents
    monkeypatch.setenv("AGENTROUTE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("CLAUDE_PROJECT_DIR", raising=False)
    stdin = io.StringIO("")
    if line.startswith(("echo ", "printf ")):
        piped, line = line.split("|", 1)
        command, text = shlex.split(piped)[:2]
        stdin = io.StringIO(text.replace("\\n", "\n") if command == "printf" else text + "\n")
    argv = shlex.split(line)
    assert argv[0] == "agentroute"
    monkeypatch.setattr(sys, "stdin", stdin)
    code = cli.main(argv[1:])
    out, err = capsys.readouterr()
    assert code == expected, (page, code, out[-2000:], err)
    assert out.strip(), f"{line!r} printed nothing"
    assert "Traceback" not in err
    if expected == 1 and argv[1] == "lint":
        assert re.search(r"[1-9]\d* error\(s\)", out), out[-500:]


def test_the_claude_code_settings_are_valid_and_run_the_hook() -> None:
    found = 0
    for page in PAGES:
        for line, code in blocks(page, "json"):
            settings = json.loads(code)
            if "hooks" not in settings:
                continue
            [entry] = settings["hooks"]["UserPromptSubmit"]
            [command] = entry["hooks"]
            assert command["type"] == "command", (page, line)
            assert command["command"].startswith("agentroute hook"), (page, line)
            found += 1
    assert found >= 2  # the README and the Claude Code page


# -- the API reference and the site ------------------------------------------------------------
def test_the_api_reference_names_every_public_member() -> None:
    api = (REPO / "docs" / "api.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^::: agentroute\.(\w+)$", api, re.M))
    public = set(agentroute.__all__) - {"__version__"}
    assert public - documented == set(), "add them to docs/api.md"
    assert documented - public == set(), "docs/api.md documents names that are not public"


def test_every_page_is_in_the_site_navigation() -> None:
    config = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    nav = set(re.findall(r"^  - [^:]+: (\S+\.md)$", config, re.M))
    pages = {p.name for p in (REPO / "docs").glob("*.md")}
    assert nav == pages


def test_the_site_builds_without_the_network_in_its_config() -> None:
    """No plugin that fetches anything at build time; the theme loads no web fonts."""
    config = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    assert re.search(r"^  font: false$", config, re.M)
    for plugin in ("social", "privacy", "git-revision", "git-committers", "rss"):
        assert not re.search(rf"^  - {plugin}\b", config, re.M), plugin
    assert os.path.isfile(REPO / "docs" / "index.md")


SUBCOMMANDS = ("route", "agents", "eval", "lint", "hook", "mcp", "doctor")


@pytest.mark.parametrize("subcommand", SUBCOMMANDS)
def test_the_cli_page_names_every_option(
    subcommand: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An option `--help` shows but docs/cli.md does not name is an undocumented option."""
    monkeypatch.setenv("COLUMNS", "200")
    try:
        cli.main([subcommand, "--help"])
    except SystemExit as done:
        assert done.code in (0, None)
    usage = capsys.readouterr().out.split("\n\n", 1)[0]
    options = set(re.findall(r"\[(--[a-z][a-z-]*)", usage)) - {"--help"}
    assert options, usage
    page = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    assert f"agentroute {subcommand}" in page
    missing = {o for o in options if f"`{o}" not in page}
    assert missing == set(), f"document them in docs/cli.md: {sorted(missing)}"


def test_the_module_map_names_every_module() -> None:
    page = (REPO / "docs" / "how-it-works.md").read_text(encoding="utf-8")
    modules = {p.name for p in (REPO / "src" / "agentroute").glob("*.py")}
    missing = {m for m in modules if f"`{m}`" not in page}
    assert missing == set(), f"add them to the module map in docs/how-it-works.md: {missing}"
    named = set(re.findall(r"`(_?_?[a-z_]+\.py)`", page))
    assert named - modules == set(), "the module map names modules that are gone"


def test_ci_builds_the_site_strictly_and_not_quietly() -> None:
    """`mkdocs build --strict --quiet` passes whatever the warnings: quiet hides them."""
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    build = [
        line for line in ci.splitlines() if "mkdocs build" in line and not line.startswith("#")
    ]
    assert build and all("--strict" in line for line in build)
    assert not any(re.search(r"\s(-q|--quiet)\b", line) for line in build)
