"""Route latency of an older revision and of this checkout, side by side, on real catalogs.

The same catalog folders and the same labelled requests are routed by both versions, each in its
own process, alternating A B A B, so machine drift hits both alike; quote the ratio::

    python benchmarks/versions.py --old 3206591                # 0.1.0 vs this checkout
    python benchmarks/versions.py --old 3206591 --rounds 3 --requests 300
    python benchmarks/versions.py --old cd85965 --sizes 1000,10000   # synthetic catalogs too

The two real catalogs are indexed with their example blocks removed
(``shared/tools/strip_examples.py``, as ``accuracy.py`` does): their labelled requests come from
those blocks. Each process reports ``route`` p50 over the first ``--requests`` labelled requests
(wall clock, and the process's CPU time, steadier on a loaded machine) and ``route_many`` over
all of them (milliseconds per request, the process's CPU time, the best of three passes); the
ratios new/old of both are printed.

``--sizes`` adds the synthetic catalogs of ``benchmarks/speed.py`` (``_catalogs.py``) routed with
its request set; both versions share one index cache (a temporary folder), so a large catalog
is built once per version rather than once per process. Each process also times ``route_many``
over the same requests (``many/loop``: a loop of ``route`` divided by it).

The old revision is checked out with ``git worktree`` into a temporary folder and imported from
there (``PYTHONPATH``); nothing is installed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CATALOGS = ("wshobson-agents", "davila7-claude-code-templates")

# Run inside each version's process: build once, warm up, then time route() per request.
_PROBE = """
import json, statistics, sys, time, warnings
warnings.simplefilter("ignore")
import agentroute
folder, labels, n, cache = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
try:
    router = agentroute.Router.from_path(folder, cache=cache or False)
except TypeError:  # a version without the cache argument
    router = agentroute.Router.from_path(folder)
every = [json.loads(line)["request"] for line in open(labels, encoding="utf-8")]
requests = every[:n]
for text in requests[:20]:
    router.route(text)
times, cpu = [], []
for text in requests:
    t0, c0 = time.perf_counter(), time.process_time()
    router.route(text)
    times.append(time.perf_counter() - t0)
    cpu.append(time.process_time() - c0)
t0 = time.perf_counter()
router.route_many(requests)
many = time.perf_counter() - t0
passes = []
for _ in range(3):
    t0 = time.process_time()
    router.route_many(every)
    passes.append(time.process_time() - t0)
print(json.dumps({"version": agentroute.__version__, "agents": len(router.agents),
                  "p50_ms": statistics.median(times) * 1e3, "many_vs_loop": sum(times) / many,
                  "cpu_p50_ms": statistics.median(cpu) * 1e3,
                  "many_ms": min(passes) / len(every) * 1e3, "many_requests": len(every)}))
"""


def _probe(src: Path, folder: Path, labels: Path, n: int, cache: str = "") -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, str(folder), str(labels), str(n), cache],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--old", required=True, help="git revision to compare with")
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    ap.add_argument("--requests", type=int, default=300, help="labelled requests per catalog")
    ap.add_argument("--rounds", type=int, default=2, help="A/B rounds per catalog")
    ap.add_argument(
        "--sizes",
        default="",
        help="synthetic catalog sizes to add, e.g. 1000,10000 (see benchmarks/_catalogs.py)",
    )
    ap.add_argument(
        "--no-strip",
        action="store_true",
        help="index the catalogs as shipped, example blocks included (not the protocol)",
    )
    args = ap.parse_args(argv)
    corpora = args.shared / "corpora"
    sizes = [int(x) for x in args.sizes.split(",") if x.strip()]
    print(f"command: python benchmarks/versions.py {' '.join(argv or sys.argv[1:])}")
    with tempfile.TemporaryDirectory() as tmp:
        old_tree = Path(tmp) / "old"
        subprocess.run(
            ["git", "-C", str(REPO), "worktree", "add", "--detach", "-q", str(old_tree), args.old],
            check=True,
        )
        try:
            stripped = Path(tmp) / "stripped"
            if args.no_strip:
                stripped = corpora
            else:
                sys.path.insert(0, str(Path(__file__).resolve().parent))
                from _protocol import strip_examples

                strip_examples(args.shared, stripped, CATALOGS)
            runs: list[tuple[str, Path, Path, str]] = [
                (slug, stripped / slug, corpora / "labels" / f"{slug}.jsonl", "")
                for slug in CATALOGS
            ]
            if sizes:
                sys.path.insert(0, str(Path(__file__).resolve().parent))
                from _catalogs import DEFAULT_SEED, ensure_catalog
                from _timing import load_requests

                labels = Path(tmp) / "requests.jsonl"
                texts = load_requests(args.shared, args.requests, DEFAULT_SEED)
                labels.write_text(
                    "".join(json.dumps({"request": t}) + "\n" for t in texts), encoding="utf-8"
                )
                cache = str(Path(tmp) / "cache")
                for size in sizes:
                    folder = ensure_catalog(size, shared=args.shared)
                    runs.append((f"synthetic {size:,}", folder, labels, cache))
            for slug, folder, labels, cache in runs:
                old, new = [], []
                for _ in range(args.rounds):
                    old.append(_probe(old_tree / "src", folder, labels, args.requests, cache))
                    new.append(_probe(REPO / "src", folder, labels, args.requests, cache))
                o = statistics.median(float(r["p50_ms"]) for r in old)  # type: ignore[arg-type]
                n = statistics.median(float(r["p50_ms"]) for r in new)  # type: ignore[arg-type]
                om = statistics.median(float(r["many_vs_loop"]) for r in old)  # type: ignore[arg-type]
                nm = statistics.median(float(r["many_vs_loop"]) for r in new)  # type: ignore[arg-type]
                oc = statistics.median(float(r.get("cpu_p50_ms", "nan")) for r in old)  # type: ignore[arg-type]
                nc = statistics.median(float(r.get("cpu_p50_ms", "nan")) for r in new)  # type: ignore[arg-type]
                ob = statistics.median(float(r.get("many_ms", "nan")) for r in old)  # type: ignore[arg-type]
                nb = statistics.median(float(r.get("many_ms", "nan")) for r in new)  # type: ignore[arg-type]
                print(
                    f"{slug:32s} agents {new[0]['agents']}: route p50 {old[0]['version']} "
                    f"{o:.2f} ms, {new[0]['version']} {n:.2f} ms (ratio new/old {n / o:.2f}; "
                    f"CPU {oc:.2f} -> {nc:.2f} ms, ratio {nc / oc:.2f}); "
                    f"route_many per request ({new[0].get('many_requests')} requests, CPU) "
                    f"{ob:.3f} -> {nb:.3f} ms (ratio new/old {nb / ob:.2f}); "
                    f"route_many vs loop {om:.2f}x -> {nm:.2f}x",
                    flush=True,
                )
        finally:
            subprocess.run(
                ["git", "-C", str(REPO), "worktree", "remove", "--force", str(old_tree)],
                check=False,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
