"""Formatting, growth slopes, the plot for speed.py's report, and writing results files."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np


def fmt_ms(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    return f"{seconds * 1e3:.3f}" if seconds < 0.01 else f"{seconds * 1e3:.1f}"


def fmt(value: float | None, spec: str = ".2f") -> str:
    return "n/a" if value is None else format(value, spec)


def fmt_ratio(num: float | None, den: float | None, spec: str = ".2f") -> str:
    return "n/a" if num is None or not den else f"{num / den:{spec}}x"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    line = "  ".join(h.rjust(w) for h, w in zip(headers, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(out)


def slope(sizes: Sequence[int], values: Sequence[float]) -> float | None:
    """Least-squares slope of log(value) on log(size): 1 is linear growth, 0 constant."""
    pairs = [(s, v) for s, v in zip(sizes, values, strict=True) if v and v > 0]
    if len(pairs) < 2:
        return None
    x = np.log10([p[0] for p in pairs])
    y = np.log10([p[1] for p in pairs])
    return float(np.polyfit(x, y, 1)[0])


def plot(path: Path, series: dict[str, tuple[list[int], list[float]]], title: str) -> str:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed: no plot (pip install matplotlib)"
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for label, (xs, ys) in series.items():
        if xs:
            ax.loglog(xs, [y * 1e3 for y in ys], marker="o", label=label)
    if series:
        xs = sorted({x for xs, _ in series.values() for x in xs})
        if len(xs) >= 2:
            first = next(iter(series.values()))
            if first[0]:
                x0, y0 = first[0][0], first[1][0] * 1e3
                ax.loglog(xs, [y0 * x / x0 for x in xs], "k:", lw=1, label="linear (slope 1)")
    ax.set_xlabel("agents in the catalog")
    ax.set_ylabel("route latency p50 (ms)")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return f"plot written to {path}"


def verdict(ok: bool | None) -> str:
    return "not measured" if ok is None else ("PASS" if ok else "FAIL")


def write_json(path: Path, results: object) -> None:
    """Write ``results`` as indented JSON to ``path`` (its folder made) and say so."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {path}")
