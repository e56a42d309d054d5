"""The Claude Code hook, run as Claude Code runs it, on a project of ~1,100 agents and skills.

Lays out a temporary project the way a user has one:

* ``<project>/.claude/agents``: wshobson's agents (202 files);
* ``$HOME/.claude/agents`` (a fake home): voltagent's agents and, unless ``--small``, every
  other agent collection of the corpora (one subfolder each): ~900 files;
* ``<project>/.claude/skills``: the antigravity kit's skills (90 ``SKILL.md``).

Then runs ``timeout 10 agentroute hook`` as Claude Code does: the hook's JSON on stdin, from a
subfolder of the project, ``$CLAUDE_PROJECT_DIR`` set, a private index-cache folder. It
measures

* the **cold** call (no cache): its wall time, its exit status (124: killed by ``timeout``);
* whether a cache was **left behind** (the background build), and how long that build took;
* **warm** calls (cache present): median and slowest of one call per prompt;
* the inline build a cold hook used to pay (``agentroute agents --no-cache`` on the same
  folders), side by side, for the ratio;

and checks that every name the warm hook suggests is one Claude Code knows (a declared
``name`` of a project agent, a user agent not shadowed by the project, or a skill), never a
de-duplicated ``name@folder``.

    python benchmarks/hook.py                 # ~1,100 agents and skills
    python benchmarks/hook.py --small         # wshobson + voltagent + skills (~450)
    python benchmarks/hook.py --json out.json # also write the figures as JSON
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _catalogs import DEFAULT_SHARED

PROJECT_COLLECTION = "wshobson-agents"
USER_COLLECTION = "voltagent-awesome-claude-code-subagents"
SKILLS = Path("dang-hai-tran-antigravity-kit") / "skills"
TIMEOUT_S = 10
PROMPTS = 12


def _copy_agents(src: Path, dst: Path) -> int:
    """Copy the agent files (Markdown, not skills) of ``src`` under ``dst``; return how many."""
    n = 0
    for f in sorted(src.rglob("*.md")):
        rel = f.relative_to(src)
        if f.name.lower() in ("readme.md", "skill.md") or "skills" in rel.parts:
            continue
        target = dst / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(f, target)
        n += 1
    return n


def lay_out(corpora: Path, root: Path, *, small: bool) -> tuple[Path, Path, dict[str, int]]:
    project, home = root / "project", root / "home"
    (project / ".git").mkdir(parents=True)
    (project / "src" / "app").mkdir(parents=True)
    counts = {
        "project agents": _copy_agents(corpora / PROJECT_COLLECTION, project / ".claude" / "agents")
    }
    user = home / ".claude" / "agents"
    counts["user agents"] = _copy_agents(corpora / USER_COLLECTION, user / "voltagent")
    if not small:
        for c in sorted(p for p in corpora.iterdir() if p.is_dir() and p.name != "labels"):
            if c.name not in (PROJECT_COLLECTION, USER_COLLECTION):
                counts["user agents"] += _copy_agents(c, user / c.name)
    skills = project / ".claude" / "skills"
    shutil.copytree(corpora / SKILLS, skills)
    counts["project skills"] = sum(1 for _ in skills.rglob("SKILL.md"))
    return project, home, counts


def prompts(corpora: Path, n: int) -> list[str]:
    out: list[str] = []
    for collection in (PROJECT_COLLECTION, USER_COLLECTION):
        lines = (
            (corpora / "labels" / f"{collection}.jsonl").read_text(encoding="utf-8").splitlines()
        )
        out += [json.loads(line)["request"] for line in lines[: n // 2]]
    return out


def known_names(project: Path, home: Path) -> set[str]:
    """The names Claude Code knows here: every declared agent and skill name."""
    from agentroute import load_agents

    names: set[str] = set()
    for folder in (
        project / ".claude" / "agents",
        home / ".claude" / "agents",
        project / ".claude" / "skills",
    ):
        names |= {a.declared_name for a in load_agents(folder).agents}
    return names


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def hook_call(
    prompt: str, project: Path, env: dict[str, str], agentroute: str
) -> tuple[float, int, str, float]:
    data = {
        "session_id": "bench",
        "transcript_path": "/dev/null",
        "cwd": str(project / "src" / "app"),
        "permission_mode": "default",
        "hook_event_name": "UserPromptSubmit",
        "prompt": prompt,
    }
    cpu0 = _children_cpu()
    t0 = time.perf_counter()
    proc = subprocess.run(
        ["timeout", str(TIMEOUT_S), agentroute, "hook"],
        input=json.dumps(data),
        capture_output=True,
        text=True,
        cwd=project / "src" / "app",
        env=env,
        check=False,
    )
    return time.perf_counter() - t0, proc.returncode, proc.stdout, _children_cpu() - cpu0


def numpy_floor(env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU time of ``python -c 'import numpy'``: the floor of any call."""
    cpu0 = _children_cpu()
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import numpy"], env=env, check=True)
    return time.perf_counter() - t0, _children_cpu() - cpu0


def wait_for_cache(cache: Path, limit_s: float = 600.0) -> float | None:
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < limit_s:
        if list(cache.glob("index-*.npz")) and not list(cache.glob("*.lock")):
            return time.perf_counter() - t0
        time.sleep(0.1)
    return None


def suggested_name(stdout: str) -> str | None:
    if not stdout.strip():
        return None
    note = json.loads(stdout)["hookSpecificOutput"]["additionalContext"]
    # "agentroute: the NAME subagent fits …" / "… the NAME skill fits …"
    head = note.split(" fits this request", 1)[0]
    return head.removeprefix("agentroute: the ").rsplit(" ", 1)[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--small", action="store_true", help="wshobson + voltagent + skills only")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    corpora = args.shared / "corpora"
    if not corpora.is_dir():
        raise SystemExit(f"corpora not found at {corpora} (pass --shared PATH)")
    agentroute = shutil.which("agentroute", path=str(Path(sys.executable).parent))
    if agentroute is None:
        raise SystemExit("the agentroute command is not installed beside this Python")

    with tempfile.TemporaryDirectory(prefix="agentroute-hook-bench-") as tmp:
        root = Path(tmp)
        project, home, counts = lay_out(corpora, root, small=args.small)
        cache = root / "cache"
        env = {
            **os.environ,
            "HOME": str(home),
            "CLAUDE_PROJECT_DIR": str(project),
            "AGENTROUTE_CACHE_DIR": str(cache),
        }
        texts = prompts(corpora, PROMPTS)

        cold_s, cold_rc, cold_out, _ = hook_call(texts[0], project, env, agentroute)
        build_s = wait_for_cache(cache)
        left = bool(list(cache.glob("index-*.npz")))
        warm = [hook_call(t, project, env, agentroute) for t in texts]
        floor = [numpy_floor(env) for _ in range(3)]

        t0 = time.perf_counter()
        inline = subprocess.run(
            [agentroute, "agents", "--no-cache", "--json"],
            capture_output=True,
            cwd=project / "src" / "app",
            env=env,
            check=False,
        )
        inline_s = time.perf_counter() - t0
        loaded = len(json.loads(inline.stdout)["agents"]) if inline.returncode == 0 else None

        known = known_names(project, home)
        names = [suggested_name(out) for _, _, out, _ in warm]
        shown = [n for n in names if n is not None]
        unknown = sorted({n for n in shown if n not in known or "@" in n})

    warm_times = [t for t, _, _, _ in warm]
    warm_cpu = [c for _, _, _, c in warm]
    floor_s = statistics.median(t for t, _ in floor)
    floor_cpu = statistics.median(c for _, c in floor)
    result: dict[str, Any] = {
        "files": counts,
        "agents_and_skills_loaded": loaded,
        "timeout_s": TIMEOUT_S,
        "cold_s": round(cold_s, 3),
        "cold_exit": cold_rc,
        "cold_printed": bool(cold_out.strip()),
        "cache_left_behind": left,
        "background_build_s": None if build_s is None else round(cold_s + build_s, 3),
        "warm_median_s": round(statistics.median(warm_times), 3),
        "warm_max_s": round(max(warm_times), 3),
        "warm_cpu_median_s": round(statistics.median(warm_cpu), 3),
        "warm_exits": sorted({rc for _, rc, _, _ in warm}),
        "python_import_numpy_s": round(floor_s, 3),
        "python_import_numpy_cpu_s": round(floor_cpu, 3),
        "inline_build_s": round(inline_s, 3),
        "suggestions": len(shown),
        "prompts": len(texts),
        "names_claude_code_does_not_know": unknown,
    }
    print(f"files: {counts}; loaded (agents + skills): {loaded}")
    print(
        f"cold hook:   {cold_s:6.2f} s  exit {cold_rc}  printed "
        f"{'something' if cold_out.strip() else 'nothing'}"
    )
    print(
        f"cache left behind: {left}; background build finished "
        f"{'never' if build_s is None else f'{cold_s + build_s:.1f} s'} after the prompt"
    )
    print(
        f"warm hook:   median {statistics.median(warm_times):.3f} s, "
        f"slowest {max(warm_times):.3f} s "
        f"over {len(warm)} prompts (exit {result['warm_exits']}); CPU (user+sys) median "
        f"{statistics.median(warm_cpu):.3f} s"
    )
    print(
        f"floor, python -c 'import numpy': {floor_s:.3f} s wall, {floor_cpu:.3f} s CPU; "
        f"load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    print(
        f"inline build (agentroute agents --no-cache): {inline_s:.2f} s "
        f"= {inline_s / statistics.median(warm_times):.0f}x a warm hook"
    )
    print(
        f"suggestions: {len(shown)} of {len(texts)} prompts; "
        f"names Claude Code does not know: {unknown or 'none'}"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    ok = cold_rc == 0 and left and max(warm_times) < 1.0 and not unknown
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
