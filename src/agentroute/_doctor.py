"""``agentroute doctor``: what a Claude Code user runs when the hook seems quiet.

:func:`diagnose` looks at a project the way the hook and the MCP server will and
returns :class:`Finding` s, one line each, every problem with its fix:

* the project root and the agent and skill folders found, with counts by scope and
  the names one scope shadows in another;
* the cache folder: usable (writable, private, owned), its size, stale files
  (:func:`prune` removes them: ``agentroute doctor --prune``);
* whether ``.claude/settings.json`` (the project's, its ``settings.local.json``, or
  the user's) runs ``agentroute hook`` on ``UserPromptSubmit``, with which command,
  whether that command resolves on ``PATH`` and parses, and whether a hook already
  reported itself misconfigured;
* the MCP registration (``.mcp.json``);
* one sample routing: a request made of the first agent's own description must
  reach it.

Nothing is written except by :func:`prune`; no file of the project is executed or
imported.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shlex
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from agentroute._claude import claude_code_paths, is_skill, project_root

__all__ = ["STALE_CACHE_SECONDS", "Finding", "diagnose", "prune", "report", "stale_files"]

#: A cache file nobody has written or used for this long is stale (its catalog has
#: moved or changed since; the next route rebuilds what is needed).
STALE_CACHE_SECONDS = 30 * 86_400
# This library's temporary files older than this were left by a killed write.
_STALE_TEMP_SECONDS = 600
# Markers (a failed background build, a misconfigured hook) outlive their use after this.
_STALE_MARKER_SECONDS = 86_400

FindingStatus = Literal["ok", "note", "problem"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One line of the report: ``status`` ok, note or problem; ``topic``; what was
    found; and, for a problem, the fix."""

    status: FindingStatus
    topic: str
    message: str
    fix: str = ""

    def __str__(self) -> str:
        fix = f" Fix: {self.fix}" if self.fix else ""
        return f"{self.status:<7} {self.topic}: {self.message}{fix}"


def _shown(p: Path, home: Path) -> str:
    return "~/" + p.relative_to(home).as_posix() if p.is_relative_to(home) else p.as_posix()


def _catalog(project: Path, home: Path, cache: bool) -> tuple[list[Finding], Any]:
    from agentroute._errors import CatalogError
    from agentroute._router import Router

    found = claude_code_paths(project=project, home=home)
    if not found:
        looked = ", ".join(
            _shown(b / ".claude" / s, home) for b in (project, home) for s in ("agents", "skills")
        )
        return [
            Finding(
                status="problem",
                topic="agents",
                message=f"no agent or skill folder found (looked in {looked})",
                fix="put agent files in .claude/agents (or skills in .claude/skills/NAME/SKILL.md)",
            )
        ], None
    try:
        router = Router.from_path(list(found), cache=cache)
    except CatalogError as exc:
        first = str(exc).splitlines()[0]
        fix = "see `agentroute agents` for why each file was skipped"
        return [Finding(status="problem", topic="agents", message=first, fix=fix)], None
    counts: dict[str, int] = {}
    for a in router.agents:
        scope = "user" if a.path and Path(a.path).is_relative_to(home / ".claude") else "project"
        kind = "skills" if is_skill(a) else "agents"
        counts[f"{scope} {kind}"] = counts.get(f"{scope} {kind}", 0) + 1
    said = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
    out = [
        Finding(
            status="ok",
            topic="agents",
            message=f"{said} in {', '.join(_shown(p, home) for p in found)}",
        )
    ]
    shadowed = sorted(
        {
            d.message.split("named ", 1)[-1].split(",")[0]
            for d in router.diagnostics
            if d.kind == "shadowed"
        }
    )
    if shadowed:
        out.append(
            Finding(
                status="note",
                topic="agents",
                message=f"{len(shadowed)} name(s) defined in two places, the first wins: "
                + ", ".join(shadowed[:8]),
            )
        )
    problems = [d for d in router.diagnostics if d.severity == "error"]
    if problems:
        out.append(
            Finding(
                status="problem",
                topic="agents",
                message=f"{len(problems)} file(s) could not be used (first: {problems[0]})",
                fix="`agentroute lint` lists them with what to change",
            )
        )
    return out, router


def stale_files(folder: Path, *, now: float | None = None) -> list[Path]:
    """agentroute's files in the cache ``folder`` that are no longer of use: index
    caches unused for :data:`STALE_CACHE_SECONDS`, temporary files of killed writes,
    and expired markers. Only names agentroute writes are considered."""
    current = time.time() if now is None else now
    out: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return out
    for entry in entries:
        name = entry.name
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        age = current - max(st.st_mtime, st.st_atime)
        if not entry.is_file(follow_symlinks=False):
            continue
        if name.startswith("index-") and name.endswith(".npz"):
            stale = age > STALE_CACHE_SECONDS
        elif name.endswith(".tmp") and name.startswith((".agentroute-", ".index-")):
            stale = current - st.st_mtime > _STALE_TEMP_SECONDS
        elif name.endswith((".failed", ".lock")) or name.startswith("hook-misconfigured-"):
            stale = current - st.st_mtime > _STALE_MARKER_SECONDS
        else:
            continue
        if stale:
            out.append(Path(entry.path))
    return sorted(out)


def prune(folder: Path, *, now: float | None = None) -> list[Path]:
    """Remove :func:`stale_files` from ``folder``; the files removed."""
    gone = []
    for path in stale_files(folder, now=now):
        with contextlib.suppress(OSError):
            path.unlink()
            gone.append(path)
    return gone


def _cache_findings(folder: Path) -> list[Finding]:
    from agentroute import _pipeline as pipeline

    used, problem = pipeline.usable_folder(folder)
    out: list[Finding] = []
    if problem is not None:
        where = f"; the index goes to {used} instead" if used is not None else ""
        out.append(
            Finding(
                status="problem",
                topic="cache",
                message=f"{folder} is not used ({problem}){where}",
                fix="make it a private folder of yours (chmod 700), or set AGENTROUTE_CACHE_DIR",
            )
        )
    if used is None:
        return out
    size = count = 0
    with contextlib.suppress(OSError):
        for entry in os.scandir(used):
            with contextlib.suppress(OSError):
                if entry.is_file(follow_symlinks=False):
                    size += entry.stat(follow_symlinks=False).st_size
                    count += 1
    stale = stale_files(used)
    out.append(
        Finding(
            status="note" if stale else "ok",
            topic="cache",
            message=f"{used}: writable and private, {count} file(s), {size / 2**20:.1f} MiB"
            + (f", {len(stale)} stale" if stale else ""),
            fix="agentroute doctor --prune" if stale else "",
        )
    )
    for marker in sorted(used.glob("hook-misconfigured-*")):
        out.append(
            Finding(
                status="problem",
                topic="hook",
                message="the hook reported its own command as misconfigured "
                f"({time.strftime('%Y-%m-%d %H:%M', time.localtime(marker.stat().st_mtime))})",
                fix="check the hook command below; delete "
                f"{marker} once fixed (or run agentroute doctor --prune tomorrow)",
            )
        )
    return out


def _hook_commands(settings: Path) -> list[str]:
    try:
        data = json.loads(settings.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    groups = data.get("hooks", {}).get("UserPromptSubmit", []) if isinstance(data, dict) else []
    out: list[str] = []
    for group in groups if isinstance(groups, list) else []:
        for hook in group.get("hooks", []) if isinstance(group, dict) else []:
            command = hook.get("command") if isinstance(hook, dict) else None
            if isinstance(command, str) and "agentroute" in command:
                out.append(command)
    return out


def _check_command(command: str, where: str) -> list[Finding]:
    from agentroute._cmd_hook import hook_arguments_notes, hook_arguments_problem

    try:
        words = shlex.split(command)
    except ValueError as exc:
        return [
            Finding(
                status="problem",
                topic="hook",
                message=f"{where}: {command!r} does not parse ({exc})",
                fix="fix its quoting",
            )
        ]
    program, rest = words[0], words[1:]
    out: list[Finding] = []
    if program in ("python", "python3") or program.endswith(("/python", "/python3")):
        resolved = shutil.which(program)
        rest = rest[2:] if rest[:2] == ["-m", "agentroute"] else rest
    else:
        resolved = shutil.which(program)
    if resolved is None:
        example = shutil.which("agentroute") or "/path/to/.venv/bin/agentroute"
        out.append(
            Finding(
                status="problem",
                topic="hook",
                message=f"{where} runs {command!r}, but {program!r} is not on PATH",
                fix=f"give the full path, e.g. {example} hook",
            )
        )
    else:
        out.append(
            Finding(status="ok", topic="hook", message=f"{where} runs {command!r} ({resolved})")
        )
    if rest[:1] == ["hook"]:
        rest = rest[1:]
    problem = hook_arguments_problem(rest)
    if problem:
        out.append(
            Finding(
                status="problem",
                topic="hook",
                message=f"{command!r}: {problem}",
                fix="correct the command in " + where,
            )
        )
    out += [
        Finding(status="note", topic="hook", message=f"{command!r}: {note}", fix="edit " + where)
        for note in ([] if problem else hook_arguments_notes(rest))
    ]
    return out


def _hook_findings(project: Path, home: Path) -> list[Finding]:
    out: list[Finding] = []
    places = [
        project / ".claude" / "settings.json",
        project / ".claude" / "settings.local.json",
        home / ".claude" / "settings.json",
    ]
    for settings in places:
        for command in _hook_commands(settings):
            out += _check_command(command, _shown(settings, home))
    if not out:
        out.append(
            Finding(
                status="problem",
                topic="hook",
                message="no UserPromptSubmit hook runs agentroute ("
                + ", ".join(_shown(p, home) for p in places)
                + ")",
                fix='add {"hooks": {"UserPromptSubmit": [{"hooks": [{"type": "command", '
                '"command": "agentroute hook", "timeout": 10}]}]}} to .claude/settings.json',
            )
        )
    return out


def _mcp_findings(project: Path) -> list[Finding]:
    path = project / ".mcp.json"
    try:
        servers = json.loads(path.read_text(encoding="utf-8")).get("mcpServers", {})
    except (OSError, ValueError, AttributeError):
        servers = {}
    for name, spec in servers.items() if isinstance(servers, dict) else []:
        if isinstance(spec, dict) and "agentroute" in " ".join(
            [str(spec.get("command", "")), *map(str, spec.get("args", []) or [])]
        ):
            return [Finding(status="ok", topic="mcp", message=f".mcp.json registers {name!r}")]
    return [
        Finding(
            status="note",
            topic="mcp",
            message="no agentroute MCP server in .mcp.json (optional)",
            fix="claude mcp add agentroute -- agentroute mcp",
        )
    ]


def _sample(router: Any) -> list[Finding]:
    agent = next((a for a in router.agents if len(a.description.split()) >= 4), None)
    if agent is None:
        return []
    request = " ".join(agent.description.split()[:16])
    d = router.route(request)
    copies = d.candidates[0].copies if d.candidates else ()
    if d.agent == agent.name or agent.name in copies:
        return [
            Finding(
                status="ok",
                topic="routing",
                message=f"a request made of {agent.name}'s description routes to it "
                f"(confidence {d.confidence:.2f})",
            )
        ]
    return [
        Finding(
            status="problem",
            topic="routing",
            message=f"a request made of {agent.name}'s description went to "
            f"{d.agent or 'no agent'} ({d.status})",
            fix=f'agentroute route --explain {agent.name} "{request}"; agentroute lint',
        )
    ]


def diagnose(
    project: str | os.PathLike[str] | None = None,
    *,
    home: str | os.PathLike[str] | None = None,
    cache: bool = True,
) -> tuple[Finding, ...]:
    """The findings for ``project`` (default: :func:`project_root` of the current folder)."""
    from agentroute._cache import cache_dir

    root = Path(project) if project is not None else project_root()
    user = Path(home) if home is not None else Path.home()
    out = [Finding(status="ok", topic="project", message=root.as_posix())]
    found, router = _catalog(root, user, cache)
    out += found
    out += _cache_findings(cache_dir())
    out += _hook_findings(root, user)
    out += _mcp_findings(root)
    if router is not None:
        out += _sample(router)
    return tuple(out)


def report(findings: Sequence[Finding]) -> str:
    """The findings as text, one line each."""
    buf = io.StringIO()
    for f in findings:
        buf.write(f"{f}\n")
    problems = sum(f.status == "problem" for f in findings)
    buf.write(f"{problems} problem(s)\n")
    return buf.getvalue()
