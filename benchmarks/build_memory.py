"""Build time and peak memory of one index build, and a dump of every array it holds.

Each build runs in its own process (a peak RSS is a process's), on a synthetic catalog of
``benchmarks/speed.py`` (``_catalogs.py``)::

    python benchmarks/build_memory.py --size 10000                     # this checkout
    python benchmarks/build_memory.py --size 10000 --dump /tmp/a.npz   # and every Index array
    python benchmarks/build_memory.py --compare /tmp/a.npz /tmp/b.npz  # equal, array by array?

Side by side with an older revision (its source on ``PYTHONPATH``; nothing installed)::

    git worktree add --detach /tmp/before e288169
    PYTHONPATH=/tmp/before/src python benchmarks/build_memory.py --size 10000
    python benchmarks/build_memory.py --size 10000

Pre-selection against the exact char view on the same build (from ``preselect_min_agents``
agents on, or ``--preselect-from``), at several widths::

    python benchmarks/build_memory.py --size 50000 --agreement 200 --preselect 1000 2000 5000

``--write-cache FILE`` then writes the index cache there as ``Router.from_path`` does
(the build told to keep its counts for the writer where the version can) and prints the
write's wall clock and CPU time; two versions' files can then be compared byte for byte
(``cmp``)::

    python benchmarks/build_memory.py --size 10000 --write-cache /tmp/a.cache

``--writer-parts OLD_SRC`` then times, in this process on the index just built, the cache
writer's char and word counts and its packing of the char matrix with this tree's code and
with the ``agentroute/_counts.py`` and ``_packed.py`` of ``OLD_SRC`` (another version's
``src``), alternating, three rounds, CPU time; the packed arrays must be equal::

    python benchmarks/build_memory.py --size 10000 --writer-parts /tmp/before/src

``--slice N`` passes ``build_index(..., slice_agents=N)`` (agents counted at a time) where the
version has it. It prints one JSON line: agents, seconds to load the files and to build the
index (SciPy and scikit-learn imported before the clock starts; wall clock and CPU time, the
one to compare on a loaded machine), the one-minute load average, the RSS before and after the
build and the process's peak RSS (``ru_maxrss``), all in MB.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _catalogs import DEFAULT_SEED, DEFAULT_SHARED, ensure_catalog
from _process import peak_rss_mb, rss_mb


def _plain(value: Any) -> Any:
    """A JSON form of the other fields (the IndexConfig, tuples of names)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return list(value)


def index_arrays(index: Any) -> dict[str, np.ndarray]:
    """Every array of an ``Index`` by name; the other fields as one JSON byte array."""
    arrays: dict[str, np.ndarray] = {}
    other: dict[str, Any] = {}
    for name, value in vars(index).items():
        if name.startswith("_") or name in ("word_char_columns", "similar_rows"):
            continue  # derived look-up tables, filled on use
        if name == "not_for":  # the not-for table, as the index cache stores it
            from agentroute._negative import table_parts

            other[name] = table_parts(value)
            continue
        if isinstance(value, np.ndarray):
            arrays[name] = value
        elif hasattr(value, "indptr"):  # Csr
            for part in ("data", "indices", "indptr"):
                arrays[f"{name}.{part}"] = getattr(value, part)
            other[f"{name}.shape"] = list(value.shape)
        elif hasattr(value, "positions"):  # Strings
            for i, (keys, positions) in enumerate(zip(value.keys, value.positions, strict=True)):
                arrays[f"{name}.keys{i}"] = keys
                arrays[f"{name}.positions{i}"] = positions
        else:
            other[name] = value
    text = json.dumps(other, sort_keys=True, default=_plain).encode()
    arrays["other-fields-json"] = np.frombuffer(text, dtype=np.uint8)
    return arrays


def compare(a: Path, b: Path) -> int:
    left, right = np.load(a), np.load(b)
    if sorted(left.files) != sorted(right.files):
        print(f"different arrays: {sorted(set(left.files) ^ set(right.files))}")
        return 1
    differing = [
        k
        for k in sorted(left.files)
        if left[k].dtype != right[k].dtype or not np.array_equal(left[k], right[k])
    ]
    print(f"{len(left.files)} arrays compared; differing: {differing or 'none'}")
    return 1 if differing else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=10_000, help="agents in the catalog")
    parser.add_argument("--slice", type=int, default=None, help="agents counted at a time")
    parser.add_argument("--dump", type=Path, default=None, help="write every Index array here")
    parser.add_argument("--compare", type=Path, nargs=2, default=None, metavar="NPZ")
    parser.add_argument(
        "--write-cache", type=Path, default=None, metavar="FILE", help="then write the cache"
    )
    parser.add_argument(
        "--writer-parts", type=Path, default=None, metavar="OLD_SRC", help="see the docstring"
    )
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--cache-dir", type=Path, default=None, help="where catalogs are kept")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--agreement",
        type=int,
        default=0,
        metavar="N",
        help="then route N of speed.py's requests pre-selected and exact; print how many agree",
    )
    parser.add_argument(
        "--preselect",
        type=int,
        nargs="+",
        default=None,
        metavar="K",
        help="with --agreement: the pre-selection widths to try (IndexConfig.preselect)",
    )
    parser.add_argument(
        "--preselect-from",
        type=int,
        default=None,
        help="with --agreement: IndexConfig.preselect_min_agents (default the library's)",
    )
    args = parser.parse_args(argv)
    if args.compare:
        return compare(*args.compare)

    try:
        import agentroute._build as indexing
    except ImportError:  # a version before the build had its own module
        import agentroute._index as indexing  # type: ignore[no-redef]
    from agentroute import load_agents
    from speed import lift_walk_limits

    lift_walk_limits(args.size)
    catalog = ensure_catalog(
        args.size, shared=args.shared, cache_dir=args.cache_dir, seed=args.seed
    )
    started = time.perf_counter()
    agents = load_agents(catalog).agents
    load_s = time.perf_counter() - started
    before = rss_mb()
    import scipy.sparse  # noqa: F401  (imports outside the timed build)
    import sklearn.feature_extraction.text  # noqa: F401

    options: dict[str, Any] = {} if args.slice is None else {"slice_agents": args.slice}
    writes = args.write_cache is not None or args.writer_parts is not None
    # As the pipeline builds an index it writes: its counts kept for the writer (passed
    # explicitly since build_counted; before it, handed over by keep_counts=True).
    counted = writes and hasattr(indexing, "build_counted")
    if writes and "keep_counts" in inspect.signature(indexing.build_index).parameters:
        options["keep_counts"] = True
    counts: dict[str, Any] = {}
    started, cpu = time.perf_counter(), time.process_time()
    if counted:
        built = indexing.build_counted(agents, **options)
        index, counts = built.index, dict(built.counts)
        del built
    else:
        index = indexing.build_index(agents, **options)
    build_s = time.perf_counter() - started
    build_cpu_s = time.process_time() - cpu
    result = {
        "agents": len(agents),
        "slice": args.slice or getattr(indexing, "SLICE_AGENTS", None),
        "load_s": round(load_s, 2),
        "build_s": round(build_s, 2),
        "build_cpu_s": round(build_cpu_s, 2),
        "load_average": round(os.getloadavg()[0], 1),
        "rss_before_build_mb": round(before),
        "rss_after_build_mb": round(rss_mb()),
        "peak_rss_mb": round(peak_rss_mb()),
    }
    if args.write_cache is not None:
        result.update(write_cache(args.write_cache, agents, index, counts))
    print(json.dumps(result), flush=True)
    if args.dump is not None:
        np.savez(args.dump, **index_arrays(index))
    if args.writer_parts is not None:
        writer_parts(index, args.writer_parts, counts)
    if args.agreement:
        agreement(index, agents, args)
    return 0


def write_cache(
    path: Path, agents: Sequence[Any], index: Any, counts: dict[str, Any]
) -> dict[str, float]:
    """Write ``index`` as the index cache to ``path`` (a fixed key: two versions' files
    compare byte for byte), with the ``counts`` the build kept where the version takes
    them as an argument; the write's wall clock and CPU time."""
    from agentroute._cache import write_cache as write

    path.unlink(missing_ok=True)
    ordered = sorted(agents, key=lambda a: a.name)
    extra = {"counts": counts} if counts else {}
    started, cpu = time.perf_counter(), time.process_time()
    write(path, key="build-memory", agents=ordered, diagnostics=(), index=index, **extra)
    return {
        "write_s": round(time.perf_counter() - started, 2),
        "write_cpu_s": round(time.process_time() - cpu, 2),
        "cache_mb": round(path.stat().st_size / 1e6, 1),
    }


def _module(path: Path, name: str) -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cpu(f: Any) -> float:
    started = time.process_time()
    f()
    return time.process_time() - started


def writer_parts(index: Any, old_src: Path, built: dict[str, Any]) -> None:
    """The writer's counts (char, word) and char packing, old code and this tree's
    (given the counts the build kept, as the pipeline's writer is)."""
    from agentroute import _counts, _packed

    old_counts = _module(old_src / "agentroute" / "_counts.py", "old_counts")
    old_packed = _module(old_src / "agentroute" / "_packed.py", "old_packed")
    matrices = (("chars_t", "char_idf"), ("word_t", "word_idf"))
    kept = {
        name: _counts.encode(getattr(index, name), getattr(index, v), built.get(name))
        for name, v in matrices
    }
    for r in range(3):
        for name, vector in matrices:
            m, idf, counts = getattr(index, name), getattr(index, vector), kept[name].counts
            old = _cpu(lambda: old_counts.encode(m, idf))  # noqa: B023

            def new() -> None:
                _counts.encode(m, idf, counts)  # noqa: B023

            row = {"round": r, "part": f"{name} counts", "old_cpu_s": round(old, 2)}
            print(json.dumps({**row, "new_cpu_s": round(_cpu(new), 2)}))
        m, codes = index.chars_t, kept["chars_t"].counts
        old = _cpu(lambda: old_packed.pack(m.indices, m.indptr, codes, m.shape[1]))  # noqa: B023
        new_s = _cpu(lambda: _packed.pack(m.indices, m.indptr, codes, m.shape[1]))  # noqa: B023
        a = old_packed.pack(m.indices, m.indptr, codes, m.shape[1])
        b = _packed.pack(m.indices, m.indptr, codes, m.shape[1])
        same = all(np.array_equal(getattr(a, f), getattr(b, f)) for f in a.__dataclass_fields__)
        row = {"round": r, "part": "chars_t pack", "old_cpu_s": round(old, 2)}
        print(json.dumps({**row, "new_cpu_s": round(new_s, 2), "same_arrays": same}))
    print(json.dumps({"load_average": round(os.getloadavg()[0], 1)}))


def agreement(index: Any, agents: Sequence[Any], args: argparse.Namespace) -> None:
    """Decisions of pre-selected routing against the exact char view, per width tried."""
    from dataclasses import replace

    from _timing import load_requests
    from agentroute import Router
    from agentroute._decide import RouterConfig, State
    from speed import preselect_agreement

    requests = load_requests(args.shared, args.agreement, args.seed)
    ordered = tuple(sorted(agents, key=lambda a: a.name))
    config = index.config
    if args.preselect_from is not None:
        config = replace(config, preselect_min_agents=args.preselect_from)
    for width in args.preselect or [config.preselect]:
        wide = replace(index, config=replace(config, preselect=width))
        router = Router._from_state(State(ordered, wide, RouterConfig()), ())
        started = time.perf_counter()
        found = preselect_agreement(router, requests)
        took = time.perf_counter() - started
        print(json.dumps({"preselect": width, "seconds": round(took, 1), **(found or {})}))


if __name__ == "__main__":
    raise SystemExit(main())
