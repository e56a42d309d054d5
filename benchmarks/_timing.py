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


@dataclass
class SideBySide:
    """``route`` against the floor and a loop of ``route`` against ``route_many``, timed
    in CPU seconds round after round in one process (see :func:`side_by_side`)."""

    route: np.ndarray  # per request, CPU seconds of route (median over rounds)
    floor: np.ndarray  # per request, CPU seconds of the floor (median over rounds)
    loop: list[float]  # per round, CPU seconds of a loop of route over the requests
    many: list[float]  # per round, CPU seconds of route_many over the same requests
    load: list[float]  # per round, the 1-minute load average when it ended

    @property
    def route_vs_floor(self) -> float:
        """route p50 / floor p50, CPU time."""
        return float(np.median(self.route) / np.median(self.floor))

    @property
    def many_vs_loop(self) -> float:
        """How many times faster route_many is than the loop: the median over rounds of
        each round's loop / route_many CPU time."""
        return float(np.median([a / b for a, b in zip(self.loop, self.many, strict=True)]))

    def as_dict(self) -> dict[str, object]:
        return {
            "route_vs_floor_p50": self.route_vs_floor,
            "route_many_vs_loop": self.many_vs_loop,
            "route_p50_s": float(np.median(self.route)),
            "floor_p50_s": float(np.median(self.floor)),
            "loop_s": self.loop,
            "route_many_s": self.many,
            "load": self.load,
        }

    def summary(self) -> str:
        lo, hi = min(self.load), max(self.load)
        return (
            f"CPU time, {len(self.loop)} rounds, load {lo:.1f}-{hi:.1f}: route p50 "
            f"{np.median(self.route) * 1e3:.3f} ms vs floor {np.median(self.floor) * 1e3:.3f} ms"
            f" ({self.route_vs_floor:.2f}x); loop {np.median(self.loop):.3f} s vs route_many "
            f"{np.median(self.many):.3f} s ({self.many_vs_loop:.2f}x; per round "
            + ", ".join(f"{a / b:.2f}" for a, b in zip(self.loop, self.many, strict=True))
            + ")"
        )


def side_by_side(
    route: Callable[[str], object],
    floor: Callable[[str], object],
    route_many: Callable[[list[str]], object],
    requests: Sequence[str],
    *,
    rounds: int,
) -> SideBySide:
    """Time each pair of ratios a target is set on, so that a load that comes and goes
    weighs on both sides alike: each round routes every request with ``route`` and
    then ``floor`` (one after the other, request by request), then the whole list with a
    loop of ``route`` and with ``route_many``, those two in alternating order. CPU time
    (``time.process_time``): on a shared machine the wall clock also counts the time the
    process waited for a core, which a long call pays more often than a short one."""
    texts = list(requests)
    for text in texts[:3]:  # first-call effects, as time_each
        route(text)
        floor(text)
    route_many(texts[:20])
    clock = time.process_time
    per_route: list[list[float]] = []
    per_floor: list[list[float]] = []
    loop: list[float] = []
    many: list[float] = []
    load: list[float] = []
    for r in range(rounds):
        gc.collect()
        a: list[float] = []
        b: list[float] = []
        for text in texts:
            t0 = clock()
            route(text)
            t1 = clock()
            floor(text)
            t2 = clock()
            a.append(t1 - t0)
            b.append(t2 - t1)
        per_route.append(a)
        per_floor.append(b)
        for which in ("loop", "many") if r % 2 == 0 else ("many", "loop"):
            t0 = clock()
            if which == "many":
                route_many(texts)
            else:
                for text in texts:
                    route(text)
            (many if which == "many" else loop).append(clock() - t0)
        load.append(os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan"))
    return SideBySide(
        np.median(np.array(per_route), axis=0),
        np.median(np.array(per_floor), axis=0),
        loop,
        many,
        load,
    )


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
