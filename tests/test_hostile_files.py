"""Hostile agent files never crash the loader, never run code, and never cost the healthy ones.

Each case writes one hostile file (or link, or folder) into a catalog folder
beside two healthy agents. The healthy agents must still load and route, the
hostile one must be reported by a diagnostic naming it, within a generous time
and memory bound, and ``strict=True`` must turn it into an AgentFileError that
names it. The bounds are ceilings against hangs and blow-ups, not benchmarks.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import pytest

from agentroute import (
    AgentFileError,
    LoadResult,
    Router,
    _fs,
    _load,
    claude_code_paths,
    load_agents,
    parse_agent,
)
from agentroute._extract import body_sections, clean_description

SECONDS = 10.0
PEAK_BYTES = 256 * 1024 * 1024

HEALTHY = {
    "kube-helper.md": "---\nname: kube-helper\ndescription: Kubernetes operator. Triggers on "
    "kubernetes, helm, pods, kubectl.\n---\n# Kube helper\nFixes clusters.\n",
    "py-helper.md": "---\nname: py-helper\ndescription: Python developer. Triggers on python, "
    "pytest, django, asyncio.\n---\n# Py helper\nWrites Python.\n",
}


def _healthy(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in HEALTHY.items():
        (folder / name).write_text(text, encoding="utf-8")


def _paths(folder: Path, bad: str = "") -> list[Path]:
    """The folder, and a catalog file by name: folders are walked for Markdown only."""
    return [folder, folder / bad] if bad.endswith((".yaml", ".json")) else [folder]


def _bounded_load(
    folder: Path, bad: str = "", *, seconds: float = SECONDS, trace: bool = True
) -> LoadResult:
    """Load, failing past ``seconds`` or PEAK_BYTES (tracemalloc slows loading ~4x)."""
    if trace:
        tracemalloc.start()
    start = time.perf_counter()
    try:
        result = load_agents(_paths(folder, bad))
    finally:
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1] if trace else 0
        tracemalloc.stop()
    assert elapsed < seconds, f"loading took {elapsed:.1f} s"
    assert peak < PEAK_BYTES, f"loading peaked at {peak / 2**20:.0f} MiB"
    return result


def _assert_healthy_survive(result: LoadResult) -> None:
    names = {a.name for a in result.agents}
    assert {"kube-helper", "py-helper"} <= names
    healthy = [a for a in result.agents if a.name in {"kube-helper", "py-helper"}]
    router = Router(healthy)
    assert router.route("my kubernetes pods crash after helm upgrade").agent == "kube-helper"
    assert router.route("pytest fixtures for my django app").agent == "py-helper"


# -- the hostile files: each writes into ``folder`` and returns the name to look for.

BILLION_LAUGHS = (
    "---\nname: laughs\n"
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(
        f"{c}: &{c} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    + "description: *i\n---\nbody\n"
)


def alias_bomb(folder: Path) -> str:
    (folder / "laughs.md").write_text(BILLION_LAUGHS, encoding="utf-8")
    return "laughs.md"


def alias_bomb_catalog(folder: Path) -> str:
    text = BILLION_LAUGHS.replace("---\n", "").replace("name: laughs\n", "")
    (folder / "bomb.yaml").write_text(text + "agents: *i\n", encoding="utf-8")
    return "bomb.yaml"


def nested_flow(folder: Path) -> str:
    (folder / "deep-flow.md").write_text(
        "---\nname: deep\nx: " + "[" * 10_000 + "]" * 10_000 + "\n---\nbody\n", encoding="utf-8"
    )
    return "deep-flow.md"


def nested_flow_mapping(folder: Path) -> str:
    (folder / "deep-map.md").write_text(
        "---\nname: deep\nx: " + "{a: " * 10_000 + "}" * 10_000 + "\n---\nbody\n",
        encoding="utf-8",
    )
    return "deep-map.md"


def nested_block_sequence(folder: Path) -> str:
    # "- - - … a": nests without brackets or indentation. 50,000 levels made
    # libyaml overflow the C stack (a segfault) before the nesting guard counted it.
    (folder / "deep-dash.md").write_text(
        "---\nname: deep\nx:\n  " + "- " * 60_000 + "a\n---\nbody\n", encoding="utf-8"
    )
    return "deep-dash.md"


def nested_complex_keys(folder: Path) -> str:
    (folder / "deep-keys.md").write_text(
        "---\n" + "? " * 60_000 + "a\n---\nbody\n", encoding="utf-8"
    )
    return "deep-keys.md"


def nested_indentation(folder: Path) -> str:
    lines = "".join(" " * i + f"k{i}:\n" for i in range(1, 700))
    (folder / "deep-indent.md").write_text(
        "---\nname: deep\nx:\n" + lines + "---\nbody\n", encoding="utf-8"
    )
    return "deep-indent.md"


def nested_json(folder: Path) -> str:
    (folder / "deep.json").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    return "deep.json"


def python_tag(folder: Path) -> str:
    canary = folder.parent / "pwned"
    (folder / "pytag.md").write_text(
        "---\nname: pytag\ndescription: !!python/object/apply:os.system "
        f"['touch {canary}']\n---\nbody\n",
        encoding="utf-8",
    )
    return "pytag.md"


def fifty_megabytes(folder: Path) -> str:
    path = folder / "huge.md"
    with path.open("wb") as fh:
        fh.write(b"---\nname: huge\ndescription: big\n---\n")
        fh.truncate(50 * 1024 * 1024)  # sparse: costs no disk
    return "huge.md"


def binary(folder: Path) -> str:
    (folder / "image.md").write_bytes(
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 64
    )
    return "image.md"


def nul_bytes(folder: Path) -> str:
    (folder / "nul.md").write_bytes(
        b"---\nname: nul\ndescription: has a NUL\x00 inside\n---\nbody\x00\n"
    )
    return "nul.md"


def invalid_utf8(folder: Path) -> str:
    (folder / "latin.md").write_bytes(
        b"---\nname: latin\ndescription: caf\xe9 \xff\xfe\xc3\x28 broken\n---\nbody \x80\x81\n"
    )
    return "latin.md"


def broken_utf16(folder: Path) -> str:
    # A BOM, then an odd number of bytes ending in a lone high surrogate.
    data = "---\nname: u16\n---\n".encode("utf-16-le") + b"\x00\xd8\x41"
    (folder / "u16.md").write_bytes(b"\xff\xfe" + data)
    return "u16.md"


def symlink_loop(folder: Path) -> str:
    (folder / "loop-a.md").symlink_to(folder / "loop-b.md")
    (folder / "loop-b.md").symlink_to(folder / "loop-a.md")
    return "loop-a.md"


def symlink_outside(folder: Path) -> str:
    outside = folder.parent / "outside.md"
    outside.write_text("---\nname: outsider\ndescription: secret\n---\n", encoding="utf-8")
    (folder / "outside-link.md").symlink_to(outside)
    return "outside-link.md"


def unreadable(folder: Path) -> str:
    path = folder / "locked.md"
    path.write_text("---\nname: locked\ndescription: x\n---\n", encoding="utf-8")
    path.chmod(0)
    return "locked.md"


def control_characters_in_name(folder: Path) -> str:
    (folder / "escape.md").write_text(
        '---\nname: "evil\\x1b[2J\\u202eagent"\ndescription: spoof\n---\nbody\n',
        encoding="utf-8",
    )
    return "escape.md"


def regex_bomb_body(folder: Path) -> str:
    # Each line once took minutes: cubic backtracking in the heading, bullet and
    # "Examples:" patterns on long runs of blanks.
    run = " \t" * 20_000
    text = (
        "---\nname: blanks\n---\n"
        f"# a{run}b\n\n## When to use\n-{run}\n**a**{run}x\nalpha{run}omega examples{run}\n"
    )
    (folder / "blanks.md").write_text(text, encoding="utf-8")
    return "blanks.md"


HOSTILE: dict[str, tuple[Callable[[Path], str], str]] = {
    # case: (writer, a diagnostic kind the hostile file must produce)
    "alias bomb": (alias_bomb, "invalid-yaml"),
    "alias bomb in a YAML catalog": (alias_bomb_catalog, "invalid-catalog"),
    "10,000 nested flow sequences": (nested_flow, "invalid-yaml"),
    "10,000 nested flow mappings": (nested_flow_mapping, "invalid-yaml"),
    "60,000 nested block sequences": (nested_block_sequence, "invalid-yaml"),
    "60,000 nested complex keys": (nested_complex_keys, "invalid-yaml"),
    "700 levels of indentation": (nested_indentation, "invalid-yaml"),
    "100,000 nested JSON arrays": (nested_json, "invalid-catalog"),
    "python object tag": (python_tag, "invalid-yaml"),
    "50 MB file": (fifty_megabytes, "too-large"),
    "binary file": (binary, "binary"),
    "NUL bytes": (nul_bytes, "binary"),
    "invalid UTF-8": (invalid_utf8, "invalid-utf8"),
    "broken UTF-16": (broken_utf16, "binary"),
    "symlink loop": (symlink_loop, "broken-symlink"),
    "symlink outside the catalog": (symlink_outside, "symlink-outside"),
    "unreadable file": (unreadable, "unreadable"),
    "control characters in the name": (control_characters_in_name, "control-characters"),
    "runs of blanks (regex backtracking)": (regex_bomb_body, "missing-description"),
}


@pytest.fixture
def catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "catalog"
    _healthy(folder)
    return folder


def _simulate_unreadable_as_root(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """chmod 000 does not stop root from reading; make ``open`` refuse as it would."""
    locked = folder / "locked.md"
    if not locked.exists() or not os.access(locked, os.R_OK):
        return  # not this case, or the OS refuses for real
    real_open = _load.open_regular

    def refusing_open(path: Path, *, flags: int = 0) -> BinaryIO:
        if path.name == "locked.md":
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags=flags)

    monkeypatch.setattr(_load, "open_regular", refusing_open)


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_file_is_reported_and_healthy_agents_survive(
    case: str, catalog: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer, kind = HOSTILE[case]
    bad = writer(catalog)
    _simulate_unreadable_as_root(catalog, monkeypatch)
    result = _bounded_load(catalog, bad)
    _assert_healthy_survive(result)
    about = [d for d in result.diagnostics if d.path.endswith(bad)]
    assert kind in {d.kind for d in about}, [str(d) for d in result.diagnostics]


@pytest.mark.parametrize("case", list(HOSTILE))
def test_strict_mode_names_the_hostile_file(
    case: str, catalog: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer, _ = HOSTILE[case]
    bad = writer(catalog)
    _simulate_unreadable_as_root(catalog, monkeypatch)
    with pytest.raises(AgentFileError, match=re.escape(bad)):
        load_agents(_paths(catalog, bad), strict=True)


# Under an unsafe loader object/apply and object/new call os.system (the canary file would
# appear); name and module only resolve an object, so no canary can tell for them: for every
# tag the proof is that the safe loader refuses it, file by file.
PYTHON_TAGS = {
    "tag-apply.md": "!!python/object/apply:os.system",
    "tag-new.md": "!!python/object/new:os.system",
    "tag-name.md": "!!python/name:os.system",
    "tag-module.md": "!!python/module:os",
}


def test_python_tag_is_never_executed(catalog: Path) -> None:
    python_tag(catalog)
    canary = catalog.parent / "pwned"
    for name, tag in PYTHON_TAGS.items():
        (catalog / name).write_text(
            f"---\nname: {name[:-3]}\ndescription: {tag} ['touch {canary}']\n---\n",
            encoding="utf-8",
        )
    (catalog / "tags.yaml").write_text(
        f"- name: y\n  description: !!python/object/apply:os.system ['touch {canary}']\n",
        encoding="utf-8",
    )
    (catalog / "name-tag.yaml").write_text(
        "- name: z\n  description: !!python/name:os.system ''\n", encoding="utf-8"
    )
    result = load_agents([catalog, catalog / "tags.yaml", catalog / "name-tag.yaml"])
    _assert_healthy_survive(result)
    assert not canary.exists()
    for name, tag in PYTHON_TAGS.items():
        refused = [
            d
            for d in result.diagnostics
            if d.path.endswith(name) and d.kind == "invalid-yaml" and tag[2:] in d.message
        ]
        assert refused, (name, [str(d) for d in result.diagnostics])
    for name in ("tags.yaml", "name-tag.yaml"):
        assert any(
            d.path.endswith(name) and d.kind == "invalid-catalog" for d in result.diagnostics
        ), name
    assert not {"y", "z"} & {a.name for a in result.agents}


def test_utf16_with_and_without_bom_reads_like_utf8(tmp_path: Path) -> None:
    text = HEALTHY["kube-helper.md"]
    variants = {
        "le-bom.md": b"\xff\xfe" + text.encode("utf-16-le"),
        "be-bom.md": b"\xfe\xff" + text.encode("utf-16-be"),
        "le.md": text.encode("utf-16-le"),
        "be.md": text.encode("utf-16-be"),
    }
    expected = parse_agent(text, path="x.md").agents[0]
    for name, data in variants.items():
        (tmp_path / name).write_bytes(data)
        result = load_agents(tmp_path / name, strict=True)  # a clean decode is not damage
        (agent,) = result.agents
        assert (agent.name, agent.description, agent.triggers) == (
            expected.name,
            expected.description,
            expected.triggers,
        ), name
        assert "utf16" in {d.kind for d in result.diagnostics}


def test_symlink_policy(tmp_path: Path) -> None:
    """Linked files inside the root are read once; outside, skipped; linked folders never."""
    root = tmp_path / "catalog"
    _healthy(root)
    (root / "alias.md").symlink_to(root / "kube-helper.md")  # inside: same file, read once
    (root / "sub").mkdir()
    (root / "sub" / "nested.md").write_text(
        "---\nname: nested\ndescription: terraform\n---\n", encoding="utf-8"
    )
    (root / "linked-sub").symlink_to(root / "sub", target_is_directory=True)
    (root / "loop").symlink_to(root, target_is_directory=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "far.md").write_text("---\nname: far\ndescription: x\n---\n", encoding="utf-8")
    (root / "far-folder").symlink_to(elsewhere, target_is_directory=True)
    (root / "far.md").symlink_to(elsewhere / "far.md")

    result = _bounded_load(root)
    names = sorted(a.name for a in result.agents)
    assert names == ["kube-helper", "nested", "py-helper"]  # no copies, no outsider
    kinds = {(Path(d.path).name, d.kind) for d in result.diagnostics}
    assert ("linked-sub", "symlinked-folder") in kinds
    assert ("loop", "symlinked-folder") in kinds
    assert ("far-folder", "symlinked-folder") in kinds
    assert ("far.md", "symlink-outside") in kinds
    # A linked folder is a policy, not damage: strict mode accepts it; an outside link is not.
    (root / "far.md").unlink()
    assert len(load_agents(root, strict=True).agents) == 3


def test_folder_named_like_an_agent_file(catalog: Path) -> None:
    (catalog / "x.md").mkdir()
    (catalog / "x.md" / "inner.md").write_text(
        "---\nname: inner\ndescription: terraform modules\n---\n", encoding="utf-8"
    )
    result = _bounded_load(catalog)
    _assert_healthy_survive(result)
    assert "inner" in {a.name for a in result.agents}
    assert ("x.md", "folder-named-like-file") in {
        (Path(d.path).name, d.kind) for d in result.diagnostics
    }
    # Given directly, the folder is walked too; strict mode has nothing to refuse.
    assert [a.name for a in load_agents(catalog / "x.md", strict=True).agents] == ["inner"]


def test_ten_thousand_tiny_files(catalog: Path) -> None:
    many = catalog / "many"
    many.mkdir()
    for i in range(10_000):
        # Half are empty files (no agent in them), half are minimal agents.
        (many / f"t{i:05d}.md").write_text("" if i % 2 else f"---\nname: tiny-{i}\n---\n")
    # ~4 s here; the bound is for a slow CI machine, and memory is not traced
    # because tracemalloc alone would quadruple the time.
    result = _bounded_load(catalog, seconds=3 * SECONDS, trace=False)
    _assert_healthy_survive(result)
    assert len(result.agents) == 2 + 5_000
    reported = {d.path for d in result.diagnostics if "/many/" in d.path}
    assert len(reported) == 10_000  # every tiny file is accounted for
    with pytest.raises(AgentFileError, match=r"t00000\.md: missing-description"):
        load_agents(catalog, strict=True)


@pytest.mark.parametrize(
    "text",
    [
        "# a" + " " * 50_000 + "b",
        "-" + " \t" * 50_000,
        "**a**" + " " * 50_000 + "x",
        "## When to use\n" + "- item" + " " * 50_000 + "\n" * 3,
        "1" * 100_000 + ".",
    ],
    ids=["heading", "bullet", "bold", "use-bullet", "numbered"],
)
def test_body_patterns_are_linear(text: str) -> None:
    start = time.perf_counter()
    body_sections(text)
    parse_agent(text, path="x.md")
    assert time.perf_counter() - start < 2.0


@pytest.mark.parametrize(
    "text",
    [
        "a" + " \t" * 50_000 + "b",
        "a" + ", ;" * 50_000 + "x",
        "a" + "\\n " * 50_000 + "examples",
        "<example>" + "user: 'x <" * 20_000,
        "<user_request>" * 20_000,
        "triggers" + " \t" * 50_000 + ": x",
        "<example " * 28_000,
        "<commentary " * 21_000,
    ],
    ids=[
        "blanks",
        "separators",
        "escaped-newlines",
        "unclosed-quotes",
        "unclosed-tags",
        "trig",
        "open-example-tags",
        "open-commentary-tags",
    ],
)
def test_description_patterns_are_linear(text: str) -> None:
    start = time.perf_counter()
    clean_description(text)
    parse_agent(f"---\nname: d\ndescription: {text!r}\n---\n", path="x.md")
    assert time.perf_counter() - start < 2.0


def test_one_line_file_with_runs_of_blanks_is_linear() -> None:
    run = " \t" * 50_000
    start = time.perf_counter()
    result = parse_agent(f"--- name: a{run}description: b{run}--- # Title{run}- Item", path="a.md")
    assert time.perf_counter() - start < 2.0
    assert result.agents[0].name == "a"


# -- files that are not files: FIFOs and links to devices (issue 12, item 1) ----------
#
# Opening a FIFO blocks until a writer comes, reading a terminal device blocks until it
# speaks: a loader that opens one hangs. Every risky call runs in a child process with a
# timeout, so a regression fails the test instead of hanging the suite.

CHILD_SECONDS = 30


def _in_child(code: str, *args: str, cwd: Path | None = None, stdin: str = "") -> str:
    """Run ``code`` in a fresh interpreter; fail (not hang) past CHILD_SECONDS."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", code, *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=CHILD_SECONDS,
            cwd=cwd,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"still running after {CHILD_SECONDS} s: it hangs")
    assert done.returncode == 0, done.stderr
    return done.stdout


LOAD_IN_CHILD = """
import json, sys
from agentroute import load_agents
r = load_agents(sys.argv[1])
print(json.dumps({"names": [a.name for a in r.agents],
                  "diagnostics": [[d.path, d.kind, d.severity] for d in r.diagnostics]}))
"""


def fifo_without_extension(folder: Path) -> str:
    os.mkfifo(folder / "notes")
    return "notes"


def fifo_named_md(folder: Path) -> str:
    os.mkfifo(folder / "pipe.md")
    return "pipe.md"


def link_to_ptmx(folder: Path) -> str:
    (folder / "helper").symlink_to("/dev/ptmx")
    return "helper"


def link_to_zero(folder: Path) -> str:
    (folder / "zero.md").symlink_to("/dev/zero")
    return "zero.md"


def link_inside_to_fifo(folder: Path) -> str:
    sub = folder / "pipes"
    sub.mkdir()
    os.mkfifo(sub / ".hidden-fifo")
    (folder / "alias").symlink_to(sub / ".hidden-fifo")
    return "alias"


SPECIAL: dict[str, Callable[[Path], str]] = {
    "FIFO without extension": fifo_without_extension,
    "FIFO named .md": fifo_named_md,
    "link to /dev/ptmx": link_to_ptmx,
    "link to /dev/zero": link_to_zero,
    "link inside the folder to a FIFO": link_inside_to_fifo,
}
needs_fifos = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")


@pytest.mark.slow  # starts processes
@needs_fifos
@pytest.mark.parametrize("case", list(SPECIAL))
def test_special_files_are_skipped_without_opening_them(case: str, catalog: Path) -> None:
    if "/dev/" in case and not Path(case.split()[-1]).exists():
        pytest.skip(f"{case.split()[-1]} does not exist here")
    bad = SPECIAL[case](catalog)
    out = json.loads(_in_child(LOAD_IN_CHILD, str(catalog)))
    assert {"kube-helper", "py-helper"} <= set(out["names"])
    about = [(kind, sev) for path, kind, sev in out["diagnostics"] if path.endswith("/" + bad)]
    assert about, out["diagnostics"]  # skipped with a diagnostic naming it, never silently
    assert all(sev != "info" for _, sev in about)
    # In process too, now that it is known not to hang: strict mode names it.
    with pytest.raises(AgentFileError, match=re.escape(bad)):
        load_agents(catalog, strict=True)


@pytest.mark.slow  # starts processes
@needs_fifos
def test_open_regular_refuses_a_fifo_it_is_handed(tmp_path: Path) -> None:
    """Between the walk's check and the read, a file can be swapped for a FIFO: the
    reader opens without blocking and checks what it opened."""
    os.mkfifo(tmp_path / "swapped.md")
    code = (
        "import sys\nfrom pathlib import Path\nfrom agentroute._fs import open_regular\n"
        "try:\n    open_regular(Path(sys.argv[1]))\nexcept OSError as e:\n    print(e)\n"
    )
    assert "not a regular file" in _in_child(code, str(tmp_path / "swapped.md"))


@pytest.mark.slow  # starts processes
@needs_fifos
def test_the_hook_does_not_hang_on_special_files(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    agents = project / ".claude" / "agents"
    _healthy(agents)
    fifo_without_extension(agents)
    if Path("/dev/ptmx").exists():
        link_to_ptmx(agents)
    hook_input = json.dumps(
        {"hook_event_name": "UserPromptSubmit", "cwd": str(project), "prompt": "helm pods"}
    )
    code = (
        "import sys\nfrom agentroute._hook import run\n"
        "sys.stdout.write(run(sys.stdin.read(), home=sys.argv[1], cache=False))\n"
    )
    out = _in_child(code, str(tmp_path / "home"), stdin=hook_input)
    assert "kube-helper" in out


# -- roots that are links, and walks that never end (issue 12, item 9) -----------------


def _tree(root: Path, files: int, *, size: int = 0) -> None:
    """``files`` agents in a few sub-folders, each padded to about ``size`` bytes."""
    for i in range(files):
        sub = root / f"d{i % 3}"
        sub.mkdir(parents=True, exist_ok=True)
        head = f"---\nname: t{i:03d}\ndescription: tree agent number {i}\n---\n"
        (sub / f"t{i:03d}.md").write_text(head + "x" * max(0, size - len(head)))


def test_a_project_agents_folder_linked_outside_the_project_is_not_read(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    big = tmp_path / "usr"
    _tree(big, 5)
    project, home = tmp_path / "proj", tmp_path / "home"
    (project / ".claude").mkdir(parents=True)
    (project / ".claude" / "agents").symlink_to(big, target_is_directory=True)
    inside = project / "tools" / "skills"
    _healthy(inside)
    (project / ".claude" / "skills").symlink_to(inside, target_is_directory=True)
    (home / ".claude").mkdir(parents=True)
    dotfiles = tmp_path / "dotfiles" / "agents"
    _healthy(dotfiles)
    (home / ".claude" / "agents").symlink_to(dotfiles, target_is_directory=True)

    with caplog.at_level("WARNING", logger="agentroute"):
        paths = claude_code_paths(project=project, home=home)
    # The project's link to a folder outside it is left alone (a cloned repository could
    # point it anywhere); a link that stays inside the project, and the user's own links
    # from their home, are followed.
    # In Claude Code's order of precedence: the user's agents, then the project's skills.
    assert paths == (home / ".claude" / "agents", project / ".claude" / "skills")
    assert "outside the project" in caplog.text
    assert str(project / ".claude" / "agents") in caplog.text


def test_a_whole_project_claude_folder_linked_outside_is_not_read(tmp_path: Path) -> None:
    big = tmp_path / "usr"
    _healthy(big / "agents")
    project = tmp_path / "proj"
    project.mkdir()
    (project / ".claude").symlink_to(big, target_is_directory=True)
    assert claude_code_paths(project=project, home=tmp_path / "home") == ()


@pytest.mark.parametrize(
    ("limit", "value", "loaded"),
    [("MAX_WALK_FILES", 4, 4), ("MAX_WALK_BYTES", 3 * 1000, 3), ("MAX_WALK_ENTRIES", 7, 4)],
)
def test_a_walk_stops_at_its_bound_with_a_diagnostic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, limit: str, value: int, loaded: int
) -> None:
    root = tmp_path / "big"
    _tree(root, 12, size=1000)
    assert len(load_agents(root).agents) == 12
    monkeypatch.setattr(_fs, limit, value)
    result = load_agents(root)
    assert len(result.agents) == loaded
    hit = [d for d in result.diagnostics if d.kind == "walk-limit"]
    assert len(hit) == 1 and hit[0].path == root.as_posix() and hit[0].severity == "warning"
    # The same files every time, whatever the order the file system lists them in.
    assert [a.name for a in load_agents(root).agents] == [a.name for a in result.agents]
    with pytest.raises(AgentFileError, match="walk-limit"):
        load_agents(root, strict=True)


def test_the_default_walk_bounds_leave_room_for_real_catalogs() -> None:
    # 10,000 tiny files load whole (test_ten_thousand_tiny_files); the largest real
    # collection is 423 files and 3.6 MB.
    assert _fs.MAX_WALK_FILES >= 20_000
    assert _fs.MAX_WALK_BYTES >= 256 * 2**20
