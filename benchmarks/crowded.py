"""A real crowded install, everyday prompts judged by hand, the library and the hook (issue 21).

    PYTHONPATH=src python benchmarks/crowded.py [--min-confidence X] [--json PATH] [--no-hook]
                                                [--shared PATH] [--install PATH] [--prompts PATH]

Builds the install of ``benchmarks/data/fresh_install.json`` in a scratch folder (wshobson's
agents in a project's ``.claude/agents``, voltagent's and 0xfurai's in the user's
``~/.claude/agents``: 472 agents in effect), then routes every prompt of
``benchmarks/data/fresh_prompts.jsonl`` (written for this benchmark, never fitted on; every
acceptable agent judged by hand, see ``benchmarks/data/README.md``) two ways:

* the library: ``Router.from_path(claude_code_paths(project=..., home=...))``, what any
  caller gets (``route(prompt, limit=3)``);
* the hook: ``python -m agentroute hook`` with a ``UserPromptSubmit`` JSON on stdin, the
  project as working directory and the scratch home as ``HOME``, as Claude Code runs it
  (the index cache is built by the hook's own background build first, then every prompt
  is one hook process).

Reported, in-scope prompts (one job or two parts): the first candidate acceptable, one of
the first three acceptable (distinct names), ``no_match`` and ``ambiguous`` shares; at the
threshold X (default 0.7, the hook's): the share the library would suggest (``routed`` and
``group_confidence`` >= X) and how often everything it shows (agent + alternatives) is
acceptable; the share where the hook speaks and how often every agent it names is
acceptable. Out-of-scope prompts: the share where the hook stays silent.

Names are compared as Claude Code knows them (``declared_name``). Before issue 21's group
answers land, ``alternatives`` is empty and ``group_confidence`` is ``confidence``.

``--install`` and ``--prompts`` name another install and its judged prompts (the dev set,
``benchmarks/data/fresh_dev_install.json`` and ``fresh_dev_prompts.jsonl``, is what
``benchmarks/fresh_dev.py`` sweeps the hook's threshold and the encoder's weight on).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _report import write_json

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
PROMPTS = DATA / "fresh_prompts.jsonl"
INSTALL = DATA / "fresh_install.json"
MIN_CONFIDENCE = 0.7
# The hook indexes a catalog this large in a background process; wait this long for it.
BUILD_WAIT_SECONDS = 600


def _shown_path(path: Path) -> str:
    """``path`` relative to the repository when it is inside it (results name no machine)."""
    try:
        return str(path.resolve().relative_to(REPO))
    except ValueError:
        return path.name


def read_prompts(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def build_install(shared: Path, root: Path, install: Path = INSTALL) -> tuple[Path, Path]:
    """The install ``install`` describes (default :data:`INSTALL`) under ``root``;
    returns (project, home)."""
    recipe = json.loads(install.read_text(encoding="utf-8"))
    project, home = root / "project", root / "home"
    (project / ".git").mkdir(parents=True)  # a repository: Claude Code's project root
    for scope, base in (("project", project), ("user", home)):
        for part in recipe[scope]:
            dest = base / part["into"]
            src = shared / "corpora" / part["collection"]
            if not src.is_dir():
                sys.exit(f"{src}: collection not found (pass --shared PATH)")
            shutil.copytree(src, dest, dirs_exist_ok=True)
    return project, home


def shown(d: Any) -> tuple[str, ...]:
    """What the library would show: the agent and its alternatives (issue 21)."""
    if d.agent is None:
        return ()
    return (d.agent, *getattr(d, "alternatives", ()))


def group_confidence(d: Any) -> float:
    return float(getattr(d, "group_confidence", d.confidence))


def distinct(names: Sequence[str]) -> list[str]:
    out: list[str] = []
    for n in names:
        if n not in out:
            out.append(n)
    return out


def hook_env(home: Path) -> dict[str, str]:
    """The hook's environment: the scratch home, no cache or project override, and the
    same agentroute this process imported (a checkout's ``src`` on ``PYTHONPATH``)."""
    import agentroute

    env = {k: v for k, v in os.environ.items() if k not in ("CLAUDE_PROJECT_DIR",)}
    for key in ("AGENTROUTE_CACHE_DIR", "XDG_CACHE_HOME"):
        env.pop(key, None)
    env["HOME"] = str(home)
    package_parent = str(Path(agentroute.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(
        [package_parent, *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    return env


def run_hook(prompt: str, project: Path, home: Path, threshold: float) -> str:
    payload = {
        "session_id": "crowded-benchmark",
        "transcript_path": str(home / "transcript.jsonl"),
        "cwd": str(project),
        "permission_mode": "default",
        "hook_event_name": "UserPromptSubmit",
        "prompt": prompt,
    }
    done = subprocess.run(
        [sys.executable, "-m", "agentroute", "hook", "--act-at", str(threshold)],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        cwd=project,
        env=hook_env(home),
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"agentroute hook exited {done.returncode}: {done.stderr}")
    return done.stdout.strip()


def warm_hook(project: Path, home: Path, threshold: float) -> float:
    """Let the hook's background build write its index cache; seconds waited."""
    cache = home / ".cache" / "agentroute"
    t0 = time.perf_counter()
    run_hook("warm the index cache", project, home, threshold)
    while time.perf_counter() - t0 < BUILD_WAIT_SECONDS:
        built = list(cache.glob("index-*.npz")) if cache.is_dir() else []
        locks = list(cache.glob("*.lock")) if cache.is_dir() else []
        if built and not locks:
            return time.perf_counter() - t0
        time.sleep(1.0)
    sys.exit(f"the hook's background build wrote no index in {BUILD_WAIT_SECONDS} s")


_QUOTED = re.compile(r"'[^']*'|\u2018[^\u2019]*\u2019")


def named_agents(note: str, declared: set[str]) -> list[str]:
    """The agents a hook note names: known names standing alone outside quoted prompt text."""
    bare = _QUOTED.sub(" ", note)
    found = []
    for name in sorted(declared, key=len, reverse=True):
        if re.search(rf"(?<![\w@.-]){re.escape(name)}(?![\w@-])", bare):
            found.append(name)
            bare = re.sub(rf"(?<![\w@.-]){re.escape(name)}(?![\w@-])", " ", bare)
    return sorted(found)


def share(xs: Sequence[bool]) -> float | None:
    return None if not xs else sum(xs) / len(xs)


def mean(xs: Sequence[int]) -> float | None:
    return None if not xs else sum(xs) / len(xs)


def summarise(rows: Sequence[dict[str, Any]], hook: bool) -> dict[str, Any]:
    ins = [r for r in rows if r["kind"] != "out_of_scope"]
    out = [r for r in rows if r["kind"] == "out_of_scope"]
    lib_speaks = [r for r in ins if r["library_speaks"]]
    res: dict[str, Any] = {
        "prompts": len(rows),
        "in_scope": len(ins),
        "two_part": sum(r["kind"] == "two_part" for r in rows),
        "out_of_scope": len(out),
        "first_acceptable": share([r["first_acceptable"] for r in ins]),
        "top3_acceptable": share([r["top3_acceptable"] for r in ins]),
        "no_match": share([r["status"] == "no_match" for r in ins]),
        "ambiguous": share([r["status"] == "ambiguous" for r in ins]),
        "library_speaks": share([r["library_speaks"] for r in ins]),
        "library_shown_acceptable": share([r["shown_acceptable"] for r in lib_speaks]),
        "library_mean_shown": mean([len(r["shown"]) for r in lib_speaks]),
        "library_silent_out_of_scope": share([not r["library_speaks"] for r in out]),
        "no_match_out_of_scope": share([r["status"] == "no_match" for r in out]),
    }
    if hook:
        spoke = [r for r in ins if r["hook_names"]]
        res |= {
            "hook_speaks": share([bool(r["hook_names"]) for r in ins]),
            "hook_acceptable": share([r["hook_acceptable"] for r in spoke]),
            "hook_mean_named": mean([len(r["hook_names"]) for r in spoke]),
            "hook_silent_out_of_scope": share([not r["hook_names"] for r in out]),
            "hook_speaks_two_part": share(
                [bool(r["hook_names"]) for r in ins if r["kind"] == "two_part"]
            ),
        }
    return res


def print_summary(s: dict[str, Any], hook: bool, x: float) -> None:
    def f(v: float | None) -> str:
        return "-" if v is None else f"{v:.3f}"

    print(
        f"\n{s['prompts']} prompts: {s['in_scope']} in scope ({s['two_part']} with two parts), "
        f"{s['out_of_scope']} out of scope\n"
    )
    print("| figure (in-scope prompts unless said) | value |")
    print("| --- | ---: |")
    rows = [
        ("first candidate acceptable", s["first_acceptable"]),
        ("one of the first three acceptable", s["top3_acceptable"]),
        ("no_match", s["no_match"]),
        ("ambiguous", s["ambiguous"]),
        (f"library would suggest (routed, group confidence >= {x})", s["library_speaks"]),
        ("  of those, everything shown acceptable", s["library_shown_acceptable"]),
        ("  mean agents shown", s["library_mean_shown"]),
        ("library silent on out-of-scope prompts", s["library_silent_out_of_scope"]),
    ]
    if hook:
        rows += [
            ("hook speaks", s["hook_speaks"]),
            ("  of those, every agent named acceptable", s["hook_acceptable"]),
            ("  mean agents named", s["hook_mean_named"]),
            ("hook speaks on two-part prompts", s["hook_speaks_two_part"]),
            ("hook silent on out-of-scope prompts", s["hook_silent_out_of_scope"]),
        ]
    for label, v in rows:
        print(f"| {label} | {f(v)} |")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    ap.add_argument("--install", type=Path, default=INSTALL, help="the install's recipe")
    ap.add_argument("--prompts", type=Path, default=PROMPTS)
    ap.add_argument("--min-confidence", type=float, default=MIN_CONFIDENCE, metavar="X")
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    ap.add_argument("--no-hook", action="store_true", help="the library only (faster)")
    args = ap.parse_args(argv)
    x = args.min_confidence
    import agentroute

    prompts = read_prompts(args.prompts)
    timing: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="agentroute-crowded-") as tmp:
        project, home = build_install(args.shared.resolve(), Path(tmp), args.install)
        paths = agentroute.claude_code_paths(project=project, home=home)
        t0 = time.perf_counter()
        router = agentroute.Router.from_path(list(paths), cache=False)
        timing["library build"] = time.perf_counter() - t0
        declared_of = {a.name: a.declared_name for a in router.agents}
        declared = set(declared_of.values())
        unknown = {n for p in prompts for n in p["acceptable"]} - declared
        if unknown:
            sys.exit(f"{args.prompts}: agents not in the install: {sorted(unknown)}")
        t0 = time.perf_counter()
        decisions = router.route_many([p["prompt"] for p in prompts], limit=3)
        timing["library route"] = time.perf_counter() - t0
        if not args.no_hook:
            timing["hook index build (background)"] = warm_hook(project, home, x)
        rows = []
        t0 = time.perf_counter()
        for p, d in zip(prompts, decisions, strict=True):
            ok = set(p["acceptable"])
            ranked = distinct([declared_of[c.agent] for c in d.candidates])
            show = distinct([declared_of[n] for n in shown(d)])
            speaks = d.status == "routed" and group_confidence(d) >= x
            row: dict[str, Any] = {
                "id": p["id"],
                "kind": p["kind"],
                "prompt": p["prompt"],
                "status": d.status,
                "agent": declared_of.get(d.agent or ""),
                "confidence": round(d.confidence, 3),
                "group_confidence": round(group_confidence(d), 3),
                "shown": show,
                "top3": ranked[:3],
                "first_acceptable": bool(ranked) and ranked[0] in ok,
                "top3_acceptable": any(n in ok for n in ranked[:3]),
                "library_speaks": speaks,
                "shown_acceptable": bool(show) and all(n in ok for n in show),
            }
            if not args.no_hook:
                out = run_hook(p["prompt"], project, home, x)
                note = json.loads(out)["hookSpecificOutput"]["additionalContext"] if out else ""
                names = named_agents(note, declared) if note else []
                row |= {
                    "hook_note": note,
                    "hook_names": names,
                    "hook_acceptable": bool(names) and all(n in ok for n in names),
                }
            rows.append(row)
        if not args.no_hook:
            timing["hook, all prompts"] = time.perf_counter() - t0
        n_agents = len(router.agents)

    summary = summarise(rows, not args.no_hook)
    results = {
        "parameters": {
            "command": "python benchmarks/crowded.py "
            + " ".join(sys.argv[1:] if argv is None else argv),
            "agentroute": agentroute.__version__,
            "min_confidence": x,
            "agents_in_effect": n_agents,
            "install": _shown_path(args.install),
            "prompts": _shown_path(args.prompts),
            "group_level": "Decision.group_confidence and .alternatives"
            if "group_confidence" in getattr(agentroute.Decision, "__dataclass_fields__", {})
            else "not in this agentroute: group = the agent alone, group_confidence = confidence",
        },
        "summary": summary,
        "timing": timing,
        "prompts": rows,
    }
    print(f"install: {n_agents} agents in effect")
    print_summary(summary, not args.no_hook, x)
    print("\n## Timing (seconds)\n")
    for k, v in timing.items():
        print(f"- {k}: {v:.1f}")
    if args.json is not None:
        write_json(args.json, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
