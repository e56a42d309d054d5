"""The index's weights as small integer codes and a few numbers per agent, to the bit.

Two forms, each recovered from a built matrix (term or n-gram rows × agent columns) and
kept only when it gives back every value to the bit (else the index cache stores the
floats, so the stored form can never change a score):

* **counts** (:func:`encode`, :func:`decode`): the char matrix (float32) and the word
  matrix (float64) hold scikit-learn's ``TfidfTransformer(sublinear_tf=True)`` value
  ``x = (1 + log(count)) * idf[row]`` (in the matrix's dtype), divided by the agent's L2
  norm (``x / norm`` in float64, rounded to the dtype, as scikit-learn's row
  normalisation does). So a count per entry and a norm per agent give the value back.
  The counts are the build's own where it kept them (passed to :func:`encode`, for a
  matrix about to be written: :func:`agentroute._build.build_counted`), else recovered
  from the values: each agent's smallest
  ``value / idf`` is a count of 1 (an agent's text has some term once), the others are
  ``exp(ratio - 1)`` rounded; the norm is the root of the sum of squares, moved by a few
  units in the last place where that does not give every value back.
* **levels** (:func:`encode_levels`, :func:`decode_levels`): the BM25F matrix holds
  ``sat * idf[row]`` (float64), where ``sat``, the saturated field-weighted count, takes
  one value per distinct combination of an agent's field counts: a few dozen per agent.
  Each agent's distinct ``sat`` values (its levels) are recovered from ``value / idf``
  (within a few units in the last place of the true one: grouped, then the member that
  gives every value back is kept), and an entry is the code of its level, the
  agent's commonest level first.

The codes go to :mod:`agentroute._packed`, which stores each with its column gap in a byte.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from agentroute._index import Csr

__all__ = [
    "MAX_CODE",
    "Counts",
    "Levels",
    "decode",
    "decode_levels",
    "encode",
    "encode_levels",
    "tf_table",
]

#: Codes are stored as ``uint16``.
MAX_CODE = (1 << 16) - 1

# Entries handled at a time (a few arrays of this many float64: ~0.3 GB at 10,000 agents
# otherwise, ~1.6 GB at 50,000).
_CHUNK = 1 << 22
# Norms tried on either side of the sum of squares (its order of summation differs from
# scikit-learn's, by a few units in the last place), and levels on either side of a
# quotient.
_NUDGES = 16
# Quotients closer than this (relative) are read as the same level.
_SAME_LEVEL = 2.0**-40


def tf_table(size: int, dtype: Any = np.float32) -> np.ndarray:
    """``1 + log(count)`` in ``dtype`` for counts ``0 .. size-1``, as
    ``TfidfTransformer(sublinear_tf=True)`` computes it (``np.log`` in place, ``+= 1``)."""
    table: np.ndarray = np.arange(size, dtype=dtype)
    with np.errstate(divide="ignore"):
        np.log(table, table)
    table += table.dtype.type(1.0)
    return table


_TF = {np.dtype(t): tf_table(MAX_CODE + 1, t) for t in (np.float32, np.float64)}


@dataclass(frozen=True, slots=True)
class Counts:
    """A matrix as ``counts`` (``uint16``, one an entry, each >= 1) and its agents'
    ``norms`` (float64)."""

    counts: np.ndarray
    norms: np.ndarray


@dataclass(frozen=True, slots=True)
class Levels:
    """A matrix as ``codes`` (``uint16``, one an entry) into each agent's ``levels``:
    agent ``a``'s are ``levels[ptr[a]:ptr[a + 1]]`` (float64)."""

    codes: np.ndarray
    levels: np.ndarray
    ptr: np.ndarray


def decode(
    counts: np.ndarray, rows: np.ndarray, agents: np.ndarray, idf: np.ndarray, norms: np.ndarray
) -> np.ndarray:
    """The values (``idf``'s dtype) of entries with ``counts`` in ``rows`` of ``agents``.

    Raises
    ------
    ValueError
        When a count is 0 or above :data:`MAX_CODE`.
    """
    if counts.size and (int(counts.min()) < 1 or int(counts.max()) > MAX_CODE):
        raise ValueError("a count out of range")
    norm = norms[agents]
    # Every value is (1 + log count) * idf >= 1 over the norm: a norm below 1 is not one.
    if norm.size and float(norm.min()) < 1.0:
        raise ValueError("a norm out of range")
    x = _TF[idf.dtype][counts] * idf[rows]
    out: np.ndarray = (x.astype(np.float64) / norm).astype(idf.dtype)
    return out


def decode_levels(
    codes: np.ndarray,
    rows: np.ndarray,
    agents: np.ndarray,
    idf: np.ndarray,
    levels: np.ndarray,
    ptr: np.ndarray,
) -> np.ndarray:
    """The float64 values of entries with level ``codes`` in ``rows`` of ``agents``.

    Raises
    ------
    ValueError
        When a code names no level of its agent.
    """
    start = ptr[agents].astype(np.int64)
    at = start + codes
    if codes.size and (int(codes.min()) < 0 or bool(np.any(at >= ptr[agents + 1]))):
        raise ValueError("a level code out of range")
    out: np.ndarray = levels[at] * idf[rows]
    return out


def _spans(indptr: np.ndarray) -> Iterator[tuple[int, int]]:
    """Row ranges of about _CHUNK entries each."""
    rows = indptr.size - 1
    start = 0
    while start < rows:
        goal = int(indptr[start]) + _CHUNK
        stop = min(rows, max(start + 1, int(np.searchsorted(indptr, goal, "right")) - 1))
        yield start, stop
        start = stop


def _entries(t: Csr, a: int, b: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, slice]:
    span = slice(int(t.indptr[a]), int(t.indptr[b]))
    rows = np.repeat(np.arange(a, b, dtype=np.int64), np.diff(t.indptr[a : b + 1]))
    return rows, t.indices[span].astype(np.int64), t.data[span], span


def _same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Equal to the bit (so -0.0 and 0.0 differ, as they would in a sign test)."""
    kind = f"u{a.dtype.itemsize}"
    return np.asarray(a.view(kind) == b.view(kind))


def encode(t: Csr, idf: np.ndarray, counts: np.ndarray | None = None) -> Counts | None:
    """The counts and per-agent norms (float64) that give back every value of ``t``
    (rows × agents, float32 or float64 as ``idf``) to the bit through :func:`decode`;
    None when they do not.

    ``counts``: the integer count of each of ``t``'s entries (``uint16``, in ``t``'s
    order) where the build kept them (:func:`agentroute._build.build_counted`): used
    instead of recovering them from the values (the same counts, one pass over the
    entries fewer; what is written is still checked value by value).

    Raises
    ------
    ValueError
        When ``counts`` is not one ``uint16`` per entry of ``t``.
    """
    n = t.shape[1]
    if counts is not None and (counts.dtype != np.uint16 or counts.shape != t.data.shape):
        raise ValueError(f"counts must be {t.data.size} uint16 values, one per entry")
    if t.data.dtype != idf.dtype or idf.dtype not in _TF:
        return None
    if counts is None:
        counts = _recovered_counts(t, idf)
        if counts is None:
            return None
    elif counts.size and int(counts.min()) < 1:
        return None
    squares = np.zeros(n)
    tf = _TF[idf.dtype]
    for a, b in _spans(t.indptr):
        rows, agents, _, span = _entries(t, a, b)
        x = tf[counts[span]] * idf[rows]
        squares += np.bincount(agents, weights=(x * x).astype(np.float64), minlength=n)
    base = np.sqrt(squares)
    norms = base.copy()
    wrong = np.zeros(n, dtype=bool)
    # The norms of the agents still wrong walk outwards: +1, -1, +2, -2 ... ulps.
    for nudge in [0, *[s * k for k in range(1, _NUDGES + 1) for s in (1, -1)]]:
        if nudge:
            norms[wrong] = base[wrong] + nudge * np.spacing(base[wrong])
        still = np.zeros(n, dtype=bool)
        for a, b in _spans(t.indptr):
            rows, agents, values, span = _entries(t, a, b)
            mine = counts[span]
            if nudge:  # only the entries of the agents whose norm moved
                keep = wrong[agents]
                if not keep.any():
                    continue
                rows, agents, values, mine = rows[keep], agents[keep], values[keep], mine[keep]
            bad = ~_same(decode(mine, rows, agents, idf, norms), values)
            still[agents[bad]] = True
        wrong = still
        if not wrong.any():
            return Counts(counts, norms)
    return None


def _recovered_counts(t: Csr, idf: np.ndarray) -> np.ndarray | None:
    """The counts of ``t``'s entries read from its values (see the module docstring);
    None when one is out of range."""
    low = np.full(t.shape[1], np.inf)
    for a, b in _spans(t.indptr):
        rows, agents, values, _ = _entries(t, a, b)
        np.minimum.at(low, agents, values.astype(np.float64) / idf[rows])
    counts = np.zeros(t.data.size, dtype=np.uint16)
    for a, b in _spans(t.indptr):
        rows, agents, values, span = _entries(t, a, b)
        with np.errstate(over="ignore", invalid="ignore"):
            c = np.rint(np.exp(values.astype(np.float64) / idf[rows] / low[agents] - 1.0))
        if not bool(np.all((c >= 1) & (c <= MAX_CODE))):
            return None
        counts[span] = c
    return counts


def encode_levels(t: Csr, idf: np.ndarray) -> Levels | None:
    """The level codes and per-agent levels that give back every value of ``t`` (rows ×
    agents, float64) to the bit through :func:`decode_levels`; None when they do not."""
    n = t.shape[1]
    if t.data.dtype != np.float64 or idf.dtype != np.float64:
        return None
    # 32-bit positions where they fit: at 100,000 agents the matrix has ~80 million entries,
    # and each array of them in int64 is 0.65 GB.
    small = np.int32 if t.data.size < 2**31 else np.int64
    rows = np.repeat(np.arange(t.shape[0], dtype=small), np.diff(t.indptr))
    agents = t.indices.astype(np.int32)
    values = t.data
    with np.errstate(divide="ignore", invalid="ignore"):
        q = values / idf[rows]
    if not bool(np.all(np.isfinite(q))):
        return None
    # By agent, then quotient: a stable sort of the agents (a radix sort of small integers)
    # after a sort of the quotients, much faster than a lexsort.
    order = np.argsort(q)
    order = order[np.argsort(t.indices[order], kind="stable")]
    qs, ag = q[order], agents[order]
    del q
    fresh = np.ones(qs.size, dtype=bool)
    fresh[1:] = (ag[1:] != ag[:-1]) | (qs[1:] > qs[:-1] * (1.0 + _SAME_LEVEL))
    group = np.cumsum(fresh, dtype=small) - 1  # of each sorted entry
    base = qs[fresh]
    level = base.copy()
    sorted_rows, sorted_values = rows[order], values[order]
    # The entries of the groups still wrong, tried with levels walking outwards from the
    # group's smallest quotient: +1 ulp first (at 10,000 agents the quotient itself gave
    # back the values of 21 % of the entries, +1 ulp those of all the rest), then 0, -1, +2 ...
    todo = np.arange(qs.size, dtype=small)
    del qs
    ulp = np.spacing(base)
    for nudge in [1, 0, -1, *[s * k for k in range(2, _NUDGES + 1) for s in (1, -1)]]:
        g = group[todo]
        trial = base + nudge * ulp
        bad = ~_same(trial[g] * idf[sorted_rows[todo]], sorted_values[todo])
        fixed = np.zeros(base.size, dtype=bool)
        fixed[g] = True
        fixed[g[bad]] = False
        level[fixed] = trial[fixed]
        todo = todo[~fixed[g]]
        if not todo.size:
            break
    if todo.size:
        return None
    # Each agent's levels, its commonest first (ties by value): the codes most entries share.
    members = np.bincount(group, minlength=base.size)
    owner = ag[fresh]
    by = np.argsort(level)
    by = by[np.argsort(-members[by], kind="stable")]
    by = by[np.argsort(owner[by], kind="stable")]
    rank = np.empty(base.size, dtype=np.int64)
    per_agent = np.bincount(owner, minlength=n)
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(per_agent, out=ptr[1:])
    rank[by] = np.arange(base.size) - ptr[owner[by]]
    if base.size and int(rank.max()) > MAX_CODE:
        return None
    codes = np.empty(values.size, dtype=np.uint16)
    codes[order] = rank[group]
    coded = Levels(codes, level[by], ptr)
    del sorted_rows, sorted_values, group, ag
    got = decode_levels(codes.astype(np.int64), rows, agents, idf, coded.levels, ptr)
    return coded if bool(_same(got, values).all()) else None
