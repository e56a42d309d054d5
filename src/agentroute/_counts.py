"""The char TF-IDF matrix as n-gram counts and one norm per agent, its floats to the bit.

The index's char matrix (:attr:`Index.chars_t <agentroute._index.Index>`) holds, per
(n-gram, agent), scikit-learn's ``TfidfTransformer(sublinear_tf=True)`` value in float32:
``x = (1 + log(count)) * idf[n-gram]`` (float32 arithmetic), divided by the agent's L2
norm (``x / norm`` in float64, rounded to float32, as scikit-learn's row normalisation
does). The count fits a byte and the norm is one number per agent, so the index cache
stores those (a quarter of the bytes) and :func:`decode` computes the values again. A
count above 254 (rare: a long body's commonest n-grams) is stored as 255 and found in a
short sorted table of ``(n-gram × agents + agent) → count`` (:class:`Counts`).

:func:`encode` recovers the counts and norms from a built matrix: each agent's smallest
``value / idf`` is a count of 1 (an agent's text has some n-gram once), the others are
``exp(ratio - 1)`` rounded; the norm is the root of the sum of squares, moved by a few
units in the last place where that does not give every value back. It then decodes the
whole matrix and returns None unless every value comes back to the bit (the cache then
stores the floats), so the stored form can never change a score.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from agentroute._index import Csr

__all__ = ["BIG", "Counts", "decode", "encode", "tf_table"]

#: The stored code of a count found in the table of large counts.
BIG = 255

# Entries handled at a time (a few arrays of this many float64: ~0.3 GB at 10,000 agents
# otherwise, ~1.6 GB at 50,000).
_CHUNK = 1 << 22
# Norms tried on either side of the sum of squares (its order of summation differs from
# scikit-learn's, by a few units in the last place).
_NUDGES = 16


def tf_table(size: int) -> np.ndarray:
    """``1 + log(count)`` in float32 for counts ``0 .. size-1``, as
    ``TfidfTransformer(sublinear_tf=True)`` computes it (``np.log`` in place, ``+= 1``)."""
    table = np.arange(size, dtype=np.float32)
    with np.errstate(divide="ignore"):
        np.log(table, table)
    table += np.float32(1.0)
    return table


_TF = {np.dtype(np.uint8): tf_table(1 << 8), np.dtype(np.uint16): tf_table(1 << 16)}


@dataclass(frozen=True, slots=True)
class Counts:
    """The char matrix's counts as stored: ``codes`` (``uint8``, :data:`BIG` for a count
    found in ``big_keys``/``big_counts``), the agents' ``norms``, the matrix width."""

    codes: np.ndarray
    norms: np.ndarray
    big_keys: np.ndarray
    big_counts: np.ndarray
    width: int


def decode(
    codes: np.ndarray,
    rows: np.ndarray,
    agents: np.ndarray,
    idf: np.ndarray,
    norms: np.ndarray,
    big: tuple[np.ndarray, np.ndarray, int] | None = None,
) -> np.ndarray:
    """The float32 values of entries with ``codes`` in n-gram ``rows`` of ``agents``.
    ``big``: the table of large counts ``(keys, counts, width)`` for codes :data:`BIG`.

    Raises
    ------
    ValueError
        When a large count is not in the table.
    """
    if codes.dtype == np.uint8 and big is not None:
        large = codes == BIG
        tf = _TF[codes.dtype][codes]
        if large.any():
            keys, counts, width = big
            wanted = rows[large] * width + agents[large]
            at = np.minimum(np.searchsorted(keys, wanted), max(keys.size - 1, 0))
            if not keys.size or not bool(np.all(keys[at] == wanted)):
                raise ValueError("a large count is missing from its table")
            tf[large] = tf_table_of(counts[at])
    else:
        tf = _TF[codes.dtype][codes]
    x = tf * idf[rows]
    out: np.ndarray = (x.astype(np.float64) / norms[agents]).astype(np.float32)
    return out


def tf_table_of(counts: np.ndarray) -> np.ndarray:
    """``1 + log(count)`` in float32 of each of ``counts``."""
    values = counts.astype(np.float32)
    np.log(values, values)
    values += np.float32(1.0)
    return values


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


def encode(t: Csr, idf: np.ndarray) -> Counts | None:
    """The counts and per-agent norms (float64) that give back every value of ``t``
    (n-grams × agents, float32) to the bit through :func:`decode`; None when they do not."""
    n = t.shape[1]
    if t.data.dtype != np.float32 or idf.dtype != np.float32:
        return None
    low = np.full(n, np.inf)
    for a, b in _spans(t.indptr):
        rows, agents, values, _ = _entries(t, a, b)
        np.minimum.at(low, agents, values.astype(np.float64) / idf[rows])
    counts = np.zeros(t.data.size, dtype=np.uint16)
    squares = np.zeros(n)
    for a, b in _spans(t.indptr):
        rows, agents, values, span = _entries(t, a, b)
        with np.errstate(over="ignore", invalid="ignore"):
            c = np.rint(np.exp(values.astype(np.float64) / idf[rows] / low[agents] - 1.0))
        if not bool(np.all((c >= 1) & (c <= 65535))):
            return None
        counts[span] = c
        x = _TF[counts.dtype][counts[span]] * idf[rows]
        squares += np.bincount(agents, weights=(x * x).astype(np.float64), minlength=n)
    base = np.sqrt(squares)
    norms = base.copy()
    codes, big = _codes(t, counts)
    # The norms of the agents still wrong walk outwards: +1, -1, +2, -2 ... ulps.
    for nudge in [s * k for k in range(1, _NUDGES + 1) for s in (1, -1)]:
        wrong = np.zeros(n, dtype=bool)
        for a, b in _spans(t.indptr):
            rows, agents, values, span = _entries(t, a, b)
            bad = decode(codes[span], rows, agents, idf, norms, big) != values
            wrong[agents[bad]] = True
        if not wrong.any():
            return Counts(codes, norms, big[0], big[1], n)
        norms[wrong] = base[wrong] + nudge * np.spacing(base[wrong])
    return None


def _codes(t: Csr, counts: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, int]]:
    """The byte codes of ``counts`` and the table of the large ones."""
    n = t.shape[1]
    large = np.flatnonzero(counts >= BIG)
    rows = np.searchsorted(t.indptr, large, "right") - 1
    keys = rows.astype(np.int64) * n + t.indices[large].astype(np.int64)
    order = np.argsort(keys, kind="stable")
    codes = np.minimum(counts, BIG).astype(np.uint8)
    return codes, (keys[order], counts[large][order].astype(np.uint16), n)
