"""Whole-process measurements: the command line's cold start, import cost, this process's
resident memory, and the hook and batch commands as child processes (speed.py, build_memory.py)."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _timing import dir_size


def rss_mb() -> float:
    """This process's resident memory now, in MB (Linux; NaN elsewhere)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB."""
    # ru_maxrss is KiB on Linux, bytes on macOS.
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1 << 20) if sys.platform == "darwin" else rss / 1024


def median_run(
    cmd: Sequence[str], runs: int, env: dict[str, str], before: Callable[[], None]
) -> float:
    times = []
    for _ in range(runs):
        before()
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, env=env, check=False)
        times.append(time.perf_counter() - t0)
        if proc.returncode not in (0, 1):
            err = proc.stderr.decode(errors="replace").strip().splitlines()[-1:]
            raise RuntimeError(f"{' '.join(cmd[:3])} ... exited {proc.returncode}: {err}")
    return statistics.median(times)


def _snapshot(paths: Sequence[Path]) -> set[Path]:
    return {p for root in paths if root.exists() for p in root.rglob("*") if p.is_file()}


def measure_cli(catalog: Path, request: str, runs: int) -> dict[str, Any]:
    """Whole-process times: the CLI (first call, repeat call) vs ``python -c 'import sklearn'``.

    Any cache the CLI writes must land where this function can clear it for a true first
    call: the catalog folder, or the temporary XDG cache home it is given.
    """
    out: dict[str, Any] = {}
    scratch = Path(tempfile.mkdtemp(prefix="agentroute-cli-"))
    env = dict(os.environ, XDG_CACHE_HOME=str(scratch / "xdg"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # any value, even "0", would disable .pyc
    watched = [catalog, scratch / "xdg"]
    baseline = _snapshot(watched)

    def clear_cache() -> None:
        for path in _snapshot(watched) - baseline:
            path.unlink()

    def nothing() -> None:
        pass

    try:
        out["import_sklearn_s"] = median_run(
            [sys.executable, "-c", "import sklearn"], runs, env, nothing
        )
        script = Path(sys.executable).with_name("agentroute")
        if importlib.util.find_spec("agentroute._cli") is not None and script.exists():
            cmd = [str(script), "route", "--agents", str(catalog), request]
            out["command"] = f"agentroute route --agents {catalog} {request!r}"
        else:  # before the CLI exists: the same work as one process
            code = (
                "import sys,agentroute;agentroute.Router.from_path(sys.argv[1]).route(sys.argv[2])"
            )
            cmd = [sys.executable, "-c", code, str(catalog), request]
            out["command"] = "python -c 'Router.from_path(DIR).route(REQUEST)' (no CLI yet)"
        out["first_call_s"] = median_run(cmd, runs, env, clear_cache)
        clear_cache()
        median_run(cmd, 1, env, nothing)
        written = sorted(str(p) for p in _snapshot(watched) - baseline)
        out["cache_files"] = written
        out["second_call_s"] = median_run(cmd, runs, env, nothing)
        out["cache_exists"] = bool(written)
    finally:
        clear_cache()
        shutil.rmtree(scratch, ignore_errors=True)
    return out


def import_time(module: str, top: int) -> dict[str, Any]:
    """``python -X importtime -c 'import module'``: total and the costliest imports."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        check=False,
    )
    rows = []
    for line in proc.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \| *(\S+)", line)
        if match:
            self_us, cum_us, name = match.groups()
            rows.append((name, int(self_us), int(cum_us)))
    total = next((cum for name, _, cum in rows if name == module), 0)
    # Own time summed per top-level package: which dependency the import pays for.
    packages: dict[str, int] = {}
    for name, self_us, _ in rows:
        packages[name.split(".")[0]] = packages.get(name.split(".")[0], 0) + self_us
    by_package = sorted(packages.items(), key=lambda kv: -kv[1])[:top]
    by_self = sorted(((n, s) for n, s, _ in rows), key=lambda kv: -kv[1])[:top]
    return {"module": module, "total_ms": total / 1e3, "by_package": by_package, "by_self": by_self}


@dataclass(frozen=True)
class ChildRun:
    """One child process: wall seconds, peak RSS in MB (worker processes included), exit
    code and standard output (empty unless captured)."""

    wall: float
    peak_mb: float
    code: int
    stdout: bytes = b""


def run_child(
    cmd: Sequence[str],
    stdin: bytes | None = None,
    *,
    env: Mapping[str, str] | None = None,
    capture: bool = False,
) -> ChildRun:
    """Run ``cmd`` under GNU time and measure it (see :class:`ChildRun`).

    Linux carries a process's high-water RSS across fork and exec, so a child of this
    (large) process would report at least this process's peak: GNU time, itself small,
    starts the command and reports its peak instead.
    """
    timer = shutil.which("time") or "/usr/bin/time"
    with tempfile.NamedTemporaryFile(prefix="agentroute-rss-", suffix=".txt") as note:
        wrapped = [timer, "-f", "%M", "-o", note.name, *cmd] if Path(timer).exists() else cmd
        started = time.perf_counter()
        proc = subprocess.run(
            wrapped,
            input=stdin or b"",
            env=None if env is None else dict(env),
            stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
            stderr=subprocess.PIPE if capture else None,
            check=False,
        )
        wall = time.perf_counter() - started
        text = Path(note.name).read_text().strip().splitlines()
    peak = float(text[-1]) / 1024 if text and text[-1].isdigit() else float("nan")
    if capture and proc.returncode:
        raise RuntimeError(f"{list(cmd)} failed: {proc.stderr.decode()[-500:]}")
    return ChildRun(wall, peak, proc.returncode, proc.stdout or b"")


def measure_hook(
    catalog: Path, prompt: str, runs: int, build_timeout: float = 3600.0
) -> dict[str, Any]:
    """``agentroute hook`` on one prompt: a first call and warm calls that read the cache.

    A catalog of more than a few hundred files is indexed by a detached background process
    that the first call starts (it prints nothing meanwhile): the warm calls wait for its
    lock file to go, so they time reading the cache, not the no-op answer during the build.
    """
    script = str(Path(sys.executable).with_name("agentroute"))
    event = json.dumps({"hook_event_name": "UserPromptSubmit", "prompt": prompt}).encode()
    with tempfile.TemporaryDirectory(prefix="agentroute-hook-") as tmp:
        os.environ["AGENTROUTE_CACHE_DIR"] = tmp
        try:
            cmd = [script, "hook", "--agents", str(catalog)]
            started = time.perf_counter()
            cold = run_child(cmd, event)
            while any(Path(tmp).glob("*.lock")):
                if time.perf_counter() - started > build_timeout:
                    raise RuntimeError(f"the hook's background build took over {build_timeout} s")
                time.sleep(0.5)
            built = time.perf_counter() - started
            caches = list(Path(tmp).glob("*.npz"))
            if not caches:
                raise RuntimeError(f"the hook left no index cache in {tmp}")
            warm = [run_child(cmd, event) for _ in range(runs)]
            cache_mb = sum(dir_size(p) for p in Path(tmp).iterdir()) / 1e6
        finally:
            del os.environ["AGENTROUTE_CACHE_DIR"]
    return {
        "first_call_s": cold.wall,
        "first_call_peak_mb": cold.peak_mb,
        "cache_ready_s": built,
        "second_call_s": statistics.median(w.wall for w in warm),
        "second_call_peak_mb": max(w.peak_mb for w in warm),
        "cache_mb": cache_mb,
    }


def measure_batch(catalog: Path, requests: Sequence[str], n: int, jobs: int) -> dict[str, Any]:
    """``agentroute route --input --output --jobs`` over ``n`` requests (the request list
    repeated): wall time, req/s and the peak RSS of the process and its workers."""
    script = str(Path(sys.executable).with_name("agentroute"))
    with tempfile.TemporaryDirectory(prefix="agentroute-batch-") as tmp:
        source, target = Path(tmp) / "in.jsonl", Path(tmp) / "out.jsonl"
        with source.open("w", encoding="utf-8") as fh:
            for i in range(n):
                fh.write(json.dumps({"id": i, "request": requests[i % len(requests)]}) + "\n")
        cmd = [script, "route", "--agents", str(catalog), "--input", str(source)]
        cmd += ["--output", str(target), "--jobs", str(jobs)]
        run_child(cmd)  # a first call writes the index cache
        run = run_child(cmd)
        with target.open("rb") as fh:
            answered = sum(1 for _ in fh)
    return {
        "requests": n,
        "jobs": jobs,
        "answered": answered,
        "exit": run.code,
        "wall_s": run.wall,
        "req_per_s": n / run.wall,
        "peak_rss_mb": run.peak_mb,
    }
