"""The warm hook and its cache file, two versions side by side, on synthetic catalogs.

For each size, each version (this checkout's ``src`` and ``--old``, another checkout's
``src``, e.g. ``git worktree add /tmp/before <commit>``) builds its own index cache of the
same catalog in its own folder (``Router.from_path`` in a child process, walk limits
lifted), then ``agentroute hook`` runs warm, the versions alternating, ``--runs`` times
each: the median wall time and CPU time (user + system), the peak RSS and the cache file's
size are reported, and the new/old ratios. Each version runs with its bytecode written
once (``PYTHONPYCACHEPREFIX`` beside its cache folder), as an installed package has it.
Folders given with ``--keep`` are reused when they hold a cache already (a 50,000-agent
build takes minutes).

    git worktree add /tmp/before 0946981
    python benchmarks/warm_hook.py --old /tmp/before/src --sizes 1000,10000,50000 \\
        --keep /tmp/warm-hook --json benchmarks/results/warm-hook.json

Nothing here runs in the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _catalogs import DEFAULT_SHARED, ensure_catalog
from _process import run_child

SRC = Path(__file__).resolve().parents[1] / "src"
PROMPT = "optimise the slow PostgreSQL query that joins orders and customers on every page load"
_BUILD = (
    "import sys; from pathlib import Path; import agentroute._fs as fs; "
    "fs.MAX_WALK_FILES = 10**7; fs.MAX_WALK_BYTES = 10**13; "
    "from agentroute import Router; Router.from_path(Path(sys.argv[1]), cache=Path(sys.argv[2]))"
)


def _env(src: Path, cache: Path) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(src), "AGENTROUTE_CACHE_DIR": str(cache)}
    # Bytecode as an installed package has it (pip compiles on install): without it every
    # call compiles agentroute's sources again (any value of this variable disables it).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(cache.parent / f"pycache-{cache.name}")
    return env


def _evict(folder: Path) -> None:
    """Drop the cache file's pages from the page cache (that file only), so that both
    versions' files start alike: a file just written keeps its pages in large blocks,
    and a map of it counts several times the resident memory of one read back later."""
    for path in folder.glob("index-*"):
        fd = os.open(path, os.O_RDONLY)
        try:
            if hasattr(os, "posix_fadvise"):
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def _children_cpu() -> float:
    """User + system CPU seconds of the child processes waited for so far."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _cache_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.glob("index-*")) / 1e6


def _build(src: Path, catalog: Path, folder: Path) -> float:
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    if list(folder.glob("index-*")):
        return float("nan")  # kept from an earlier run
    started = time.perf_counter()
    env = _env(src, folder)
    subprocess.run([sys.executable, "-c", _BUILD, str(catalog), str(folder)], env=env, check=True)
    return time.perf_counter() - started


def measure(size: int, versions: dict[str, Path], root: Path, runs: int, shared: Path) -> Any:
    catalog = ensure_catalog(size, shared=shared)
    hook = [sys.executable, "-m", "agentroute", "hook", "--agents", str(catalog)]
    event = json.dumps({"hook_event_name": "UserPromptSubmit", "prompt": PROMPT}).encode()
    rows: dict[str, dict[str, Any]] = {}
    for label, src in versions.items():
        folder = root / f"{label}-n{size}"
        built = _build(src, catalog, folder)
        rows[label] = {
            "build_s": built,
            "cache_mb": _cache_mb(folder),
            "walls": [],
            "cpus": [],
            "rss": [],
        }
        _evict(folder)
        # One call to warm the page cache, write the bytecode and prove the cache is used.
        out = run_child(hook, event, env=_env(src, folder), capture=True).stdout
        if list(folder.glob("*.lock")):
            raise RuntimeError(f"{label}: the hook did not take its cache in {folder}")
        rows[label]["answer"] = out.decode()[:200]
    for _ in range(runs):
        for label, src in versions.items():
            cpu = _children_cpu()
            run = run_child(hook, event, env=_env(src, root / f"{label}-n{size}"), capture=True)
            rows[label]["cpus"].append(_children_cpu() - cpu)
            rows[label]["walls"].append(run.wall)
            rows[label]["rss"].append(run.peak_mb)
    for row in rows.values():
        row["warm_s"] = statistics.median(row["walls"])
        row["cpu_s"] = statistics.median(row["cpus"])
        row["peak_mb"] = max(row["rss"])
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--old", type=Path, required=True, help="the other version's src folder")
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="cache folders kept (and reused) here")
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    root = args.keep or Path(tempfile.mkdtemp(prefix="agentroute-warm-hook-"))
    versions = {"old": args.old.resolve(), "new": SRC}
    print(f"warm hook, old = {versions['old']}, new = {SRC}; {args.runs} warm runs each")
    print(f"load average at start: {os.getloadavg()[0]:.1f}")
    results = {}
    for size in [int(s) for s in args.sizes.split(",")]:
        rows = measure(size, versions, root, args.runs, args.shared)
        results[size] = rows
        old, new = rows["old"], rows["new"]
        print(
            f"{size:>7,} agents: warm hook {old['warm_s']:.2f} -> {new['warm_s']:.2f} s "
            f"({new['warm_s'] / old['warm_s']:.2f}x), CPU {old['cpu_s']:.2f} -> "
            f"{new['cpu_s']:.2f} s ({new['cpu_s'] / old['cpu_s']:.2f}x), peak RSS "
            f"{old['peak_mb']:,.0f} -> {new['peak_mb']:,.0f} MB, cache {old['cache_mb']:,.1f} "
            f"-> {new['cache_mb']:,.1f} MB; load average {os.getloadavg()[0]:.1f}",
            flush=True,
        )
    print(f"load average at end: {os.getloadavg()[0]:.1f}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
