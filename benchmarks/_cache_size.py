"""The index cache file of ``benchmarks/speed.py``: its size, largest arrays, write and read
times (``python benchmarks/speed.py --cache-only --sizes 10000``; run it with each source
tree first on ``PYTHONPATH`` to compare two versions side by side)."""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from _catalogs import ensure_catalog
from _timing import dir_size, load_average


def cache_size(
    catalog: Path, config: Any, details: dict[str, Any] | None = None
) -> tuple[float, str]:
    """Size of the on-disk index cache, and the times to write it and to read it back
    (``details``, when given, gets the times, the file's largest arrays and the time of a
    lazy read plus one route, as the warm hook reads it)."""
    from agentroute import Router

    with tempfile.TemporaryDirectory(prefix="agentroute-speed-") as tmp:
        started = time.perf_counter()
        Router.from_path(catalog, cache=Path(tmp), index_config=config)
        written = time.perf_counter() - started
        started = time.perf_counter()
        Router.from_path(catalog, cache=Path(tmp), index_config=config)
        read = time.perf_counter() - started
        size = sum(dir_size(p) for p in Path(tmp).iterdir()) / 1e6
        if details is not None:
            details.update(
                build_write_s=written,
                load_s=read,
                lazy_route_s=_lazy_route(catalog, Path(tmp)),
                arrays=_cache_arrays(Path(tmp)),
            )
    return size, f"index cache (build+write {written:.1f} s, warm load {read:.2f} s)"


def _lazy_route(
    catalog: Path, folder: Path, request: str = "optimize a slow postgres query"
) -> float:
    """Seconds to read the cache lazily (the warm hook's read) and route one request,
    the median of 5 (the file in the page cache, as on a warm machine)."""
    from agentroute import _pipeline
    from agentroute._router import from_built

    times = []
    for _ in range(5):
        started = time.perf_counter()
        found = _pipeline.find(catalog)
        router = from_built(
            _pipeline.read_cached(found, _pipeline.cache_slot(found, folder), lazy=True)
        )
        router.route(request)
        times.append(time.perf_counter() - started)
    return float(np.median(times))


def _cache_arrays(folder: Path, top: int = 12) -> list[tuple[str, float]]:
    """The cache file's largest arrays (name, MB), from its table."""
    from agentroute._blocks import BlockFile

    path = next(p for p in folder.iterdir() if p.is_file())
    with path.open("rb") as fh:
        entries = BlockFile(fh, str(path))._entries
    sizes = sorted(((e.nbytes, n) for n, e in entries.items()), reverse=True)
    return [(n, b / 1e6) for b, n in sizes[:top]]


def cache_only(args: argparse.Namespace, config: Any, default_json: Path) -> int:
    """``--cache-only``: the cache file at each size (its largest arrays, write and read
    times) and nothing else; run it once per source tree to compare two versions."""
    import agentroute

    out: dict[str, Any] = {"version": agentroute.__version__, "load_average": load_average()}
    print(f"agentroute {agentroute.__version__} from {Path(agentroute.__file__).parent}")
    for size in args.sizes:
        catalog = ensure_catalog(size, shared=args.shared, cache_dir=args.cache_dir, seed=args.seed)
        details: dict[str, Any] = {}
        mb, note = cache_size(catalog, config, details)
        out[str(size)] = {"cache_mb": mb, **details}
        lazy = details["lazy_route_s"]
        print(f"  {size:,} agents: cache {mb:.1f} MB, {note}, lazy read + route {lazy:.3f} s")
        for name, array_mb in details["arrays"]:
            print(f"    {array_mb:8.2f} MB  {name}")
    if args.json != default_json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    return 0
