"""Shared by the speed scripts: the requests they time and how they time them."""

from __future__ import annotations

import contextlib
import gc
import json
import os
import random
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Requests a router must survive besides the labelled ones: odd lengths, unknown words,
# typos, code, non-ASCII. Fixed text, so every run times the same work.
SYNTHETIC_REQUESTS = (
    "help",
    "zxqv blorf wuggle",
    "kubernets deploymnet keeps crashlooping after the helm upgrade",
    "Please review this: def f(x): return x**2 if x > 0 else -x  # is it idiomatic python?",
    "Écris une API REST en Go avec authentification JWT et des tests",
    "optimise the slow PostgreSQL query that joins orders and customers on every page load",
    "We need to migrate a monolithic Rails app to microservices on AWS with Terraform, set up "
    "CI/CD in GitHub Actions, add observability with OpenTelemetry and Grafana, and make sure "
    "PCI compliance is kept for the payment flows while the mobile team ships the React Native "
    "app that talks to the new GraphQL gateway. " * 6,
    "security audit of our OAuth2 login flow",
    "write unit tests",
    "design a data pipeline for streaming clickstream events into a warehouse",
)


# ---------------------------------------------------------------------------- requests


def load_requests(shared: Path, n: int, seed: int) -> list[str]:
    """``n`` requests: the synthetic ones plus a seeded sample of the labelled ones."""
    labelled: set[str] = set()
    for path in sorted((shared / "corpora" / "labels").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                labelled.add(json.loads(line)["request"])
    pool = sorted(labelled)
    k = max(0, min(len(pool), n - len(SYNTHETIC_REQUESTS)))
    chosen = random.Random(seed).sample(pool, k) + list(SYNTHETIC_REQUESTS)
    random.Random(seed + 2).shuffle(chosen)
    return chosen[:n]


# ---------------------------------------------------------------------------- timing


@dataclass
class Latency:
    """Per-request seconds (median over passes), for a prefix of the request list."""

    seconds: np.ndarray
    passes: int

    @property
    def n(self) -> int:
        return len(self.seconds)

    def pct(self, q: float, k: int | None = None) -> float:
        data = self.seconds if k is None else self.seconds[:k]
        return float(np.percentile(data, q))


def time_each(
    fn: Callable[[str], object],
    requests: Sequence[str],
    *,
    passes: int,
    budget: float,
    min_requests: int = 20,
    label: str = "",
) -> Latency:
    """Time ``fn`` on each request, up to ``passes`` passes, within ``budget`` seconds.

    When one pass does not fit the budget it stops early (after ``min_requests``), so a slow
    router at 10,000 agents is timed on a prefix of the (shuffled) request list.
    """
    for text in requests[:3]:  # first-call effects: lazy imports, caches, allocator warm-up
        fn(text)
    gc.collect()
    rows: list[list[float]] = []
    started = time.perf_counter()
    for _ in range(passes):
        row: list[float] = []
        for text in requests:
            t0 = time.perf_counter()
            fn(text)
            row.append(time.perf_counter() - t0)
            if not rows and len(row) >= min_requests and time.perf_counter() - started > budget:
                break
        rows.append(row)
        if time.perf_counter() - started > budget:
            break
    k = min(len(r) for r in rows)
    if label and k < len(requests):
        print(f"    {label}: time budget reached, timed {k} of {len(requests)} requests")
    return Latency(np.median(np.array([r[:k] for r in rows]), axis=0), len(rows))


@contextlib.contextmanager
def heartbeat(label: str, every: float = 10.0) -> Iterator[None]:
    """Print progress while a long step runs (the library has no progress hook to call)."""
    done = threading.Event()
    started = time.perf_counter()

    def beat() -> None:
        while not done.wait(every):
            print(f"    ... {label}: {time.perf_counter() - started:.0f} s", flush=True)

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def deep_size(obj: object) -> int:
    """Bytes held by ``obj`` and everything it references (arrays by ``nbytes``)."""
    seen: set[int] = set()
    stack = [obj]
    total = 0
    while stack:
        item = stack.pop()
        if id(item) in seen or item is None or isinstance(item, type):
            continue
        seen.add(id(item))
        if isinstance(item, np.ndarray):
            total += item.nbytes
            if item.dtype == object:
                stack.extend(item.ravel().tolist())
            continue
        total += sys.getsizeof(item)
        if isinstance(item, (str, bytes, int, float, bool)):
            continue
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            stack.extend(item)
        else:
            if hasattr(item, "__dict__"):
                stack.extend(vars(item).values())
            for slot in getattr(type(item), "__slots__", ()):
                stack.append(getattr(item, slot, None))
    return total


def load_average() -> str:
    with contextlib.suppress(OSError, AttributeError):
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    return "n/a"


def dir_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
