"""How the index cache stores its three large matrices: packed codes, else floats.

The BM25F, word and char matrices (term or n-gram rows × agents) are most of an index.
The cache stores each as a :class:`~agentroute._packed.Packed` matrix of value codes
(about a byte an entry) plus a few numbers per agent from which
:mod:`agentroute._counts` computes every value again to the bit: counts and norms
(``counts``: the char and word matrices) or each agent's saturated BM25F levels
(``levels``). A form is used only when it gives back every value when written (checked
by decoding it whole); else the matrix's floats are stored (``float``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from agentroute._counts import decode, decode_levels, encode, encode_levels
from agentroute._index import Csr, Index
from agentroute._packed import Packed, pack, unpack_range

__all__ = [
    "CODED",
    "COMPUTED",
    "KINDS",
    "CountValues",
    "LevelValues",
    "bm25_idf",
    "coded_arrays",
    "computed_vectors",
    "decoder",
    "per_agent",
    "stored_names",
    "valid_codes",
    "word_idf",
]

#: Each coded matrix: its form, the index vector its values are computed with, and the
#: arrays of per-agent numbers it is stored with.
CODED: Mapping[str, tuple[str, str, tuple[str, ...]]] = {
    "bm25_t": ("levels", "idf", ("bm25_levels", "bm25_level_ptr")),
    "word_t": ("counts", "word_idf", ("word_norms",)),
    "chars_t": ("counts", "char_idf", ("char_norms",)),
}
#: What a matrix's entry in the cache's ``stored`` table may say.
KINDS = frozenset({"levels", "counts", "float"})
_PACKED_FIELDS = tuple(Packed.__dataclass_fields__)
_FLOAT_FIELDS = ("data", "indices", "indptr")


def per_agent() -> frozenset[str]:
    """Every per-agent array a coded matrix may be stored with (read whole)."""
    return frozenset(a for _, _, arrays in CODED.values() for a in arrays)


def stored_names(name: str, kind: str) -> set[str]:
    """The arrays that matrix ``name`` stored as ``kind`` has in a cache file."""
    if kind == "float":
        return {f"{name}.{f}" for f in _FLOAT_FIELDS}
    return {f"{name}.{f}" for f in _PACKED_FIELDS} | set(CODED[name][2])


def _round_trip(p: Packed, codes: np.ndarray, want: Csr) -> bool:
    """Whether the packed matrix unpacks to ``want``'s columns and to ``codes`` (whose
    values the encoder checked, to the bit), a slice of rows at a time."""
    indptr = p.indptr.astype(np.int64)
    rows, start, width = indptr.size - 1, 0, int(want.shape[1])
    while start < rows:
        stop = min(
            rows, max(start + 1, int(np.searchsorted(indptr, indptr[start] + (1 << 22))) - 1)
        )
        cols, got = unpack_range(p, start, stop, width)
        a, b = int(indptr[start]), int(indptr[stop])
        if not np.array_equal(got, codes[a:b]) or not np.array_equal(cols, want.indices[a:b]):
            return False
        start = stop
    return True


def coded_arrays(
    index: Index, counts: Mapping[str, np.ndarray] | None = None
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Each coded matrix's arrays as the cache stores them (named ``<matrix>.<field>`` and
    by :data:`CODED`), and how each is stored (``levels``, ``counts`` or ``float``).

    ``counts``: the integer counts the build kept for a matrix stored as counts, by the
    matrix's name (:attr:`agentroute._build.CountedIndex.counts`); the others' are
    recovered from their values (:func:`agentroute._counts.encode`)."""
    kept = {} if counts is None else counts
    arrays: dict[str, np.ndarray] = {}
    kinds: dict[str, str] = {}
    for name, (kind, vector, extra) in CODED.items():
        m = getattr(index, name)
        idf = getattr(index, vector)
        n = m.shape[1]
        coded: tuple[np.ndarray, dict[str, np.ndarray], CountValues | LevelValues] | None = None
        if kind == "counts":
            found = encode(m, idf, kept.get(name))
            if found is not None:
                values = CountValues(idf, found.norms, n)
                coded = (found.counts, {extra[0]: found.norms}, values)
        else:
            levels = encode_levels(m, idf)
            if levels is not None:
                got = LevelValues(idf, levels.levels, levels.ptr, n)
                coded = (
                    levels.codes,
                    dict(zip(extra, (levels.levels, levels.ptr), strict=True)),
                    got,
                )
        if coded is not None:
            p = pack(m.indices, m.indptr, coded[0], n)
            if _round_trip(p, coded[0], m):
                arrays.update(p.arrays(name))
                arrays.update(coded[1])
                kinds[name] = kind
                continue
        arrays.update({f"{name}.{f}": getattr(m, f) for f in _FLOAT_FIELDS})
        kinds[name] = "float"
    return arrays, kinds


@dataclass(frozen=True, slots=True)
class CountValues:
    """Counts → values (a class, not a closure: a router holding it travels to worker
    processes)."""

    idf: np.ndarray
    norms: np.ndarray
    width: int

    def __call__(self, codes: np.ndarray, rows: np.ndarray, agents: np.ndarray) -> np.ndarray:
        return decode(codes, rows, agents, self.idf, self.norms)


@dataclass(frozen=True, slots=True)
class LevelValues:
    """Level codes → values."""

    idf: np.ndarray
    levels: np.ndarray
    ptr: np.ndarray
    width: int

    def __call__(self, codes: np.ndarray, rows: np.ndarray, agents: np.ndarray) -> np.ndarray:
        return decode_levels(codes, rows, agents, self.idf, self.levels, self.ptr)


def valid_codes(name: str) -> Callable[[np.ndarray], bool]:
    """Whether stored codes of coded matrix ``name`` are in range: counts are at least 1
    (a level code is checked against its agent's levels when decoded)."""
    return _counts_valid if CODED[name][0] == "counts" else _any_code


def _counts_valid(codes: np.ndarray) -> bool:
    return not codes.size or int(codes.min()) >= 1


def _any_code(codes: np.ndarray) -> bool:
    return True


def _finite(a: np.ndarray, top: float) -> bool:
    return not a.size or (
        bool(np.all(np.isfinite(a))) and float(a.min()) >= 0.0 and float(a.max()) <= top
    )


def decoder(
    name: str, arrays: Mapping[str, np.ndarray], n: int, top: float
) -> CountValues | LevelValues:
    """How coded matrix ``name``'s codes become values, from its per-agent arrays (read
    whole, in ``arrays``) and the index vector named by :data:`CODED`; every number
    within [0, ``top``].

    Raises
    ------
    ValueError
        When the per-agent arrays are malformed (named in the message).
    """
    kind, vector, extra = CODED[name]
    idf = arrays[vector]
    if kind == "counts":
        norms = arrays[extra[0]]
        # A norm is 0 (an agent with no entry) or at least 1 (every value is >= 1).
        if (
            norms.dtype != np.float64
            or norms.shape != (n,)
            or not _finite(norms, top)
            or bool(np.any((norms > 0) & (norms < 1)))
        ):
            raise ValueError(f"vector {extra[0]!r} is malformed")
        return CountValues(idf, norms, n)
    levels, ptr = (arrays[a] for a in extra)
    if (
        levels.dtype != np.float64
        or levels.ndim != 1
        or not _finite(levels, top)
        or ptr.dtype != np.int64
        or ptr.shape != (n + 1,)
        or int(ptr[0]) != 0
        or int(ptr[-1]) != levels.size
        or bool(np.any(np.diff(ptr) < 0))
    ):
        raise ValueError(f"the levels of {name!r} are malformed")
    return LevelValues(idf, levels, ptr, n)


# -- vectors computed again -------------------------------------------------------------------


def bm25_idf(df: np.ndarray, n: int) -> np.ndarray:
    """BM25F's IDF of terms in ``df`` (each at most ``n``) of ``n`` agents, as
    :func:`agentroute._build.build_index` computes it (Lucene's non-negative IDF), for each
    possible count once (a few thousand logarithms, not one a term)."""
    every = np.arange(n + 1, dtype=np.float64)
    table: np.ndarray = np.log1p((n - every + 0.5) / (every + 0.5))
    out: np.ndarray = table[df]
    return out


def word_idf(df: np.ndarray, n: int) -> np.ndarray:
    """The word view's IDF of terms in ``df`` (each at most ``n``) of ``n`` agents, as
    scikit-learn's ``TfidfTransformer(smooth_idf=True).fit`` computes it, for each
    possible count once."""
    every = np.arange(n + 1, dtype=np.float64)
    every += 1.0
    table = np.full_like(every, fill_value=n + 1, dtype=np.float64)
    table /= every
    np.log(table, out=table)
    table += 1.0
    out: np.ndarray = table[df]
    return out


#: The index vectors computed again from a matrix's row lengths (each term's number of
#: agents) when they give back the stored vector to the bit: vector → (matrix, function).
COMPUTED: Mapping[str, tuple[str, Callable[[np.ndarray, int], np.ndarray]]] = {
    "idf": ("bm25_t", bm25_idf),
    "word_idf": ("word_t", word_idf),
}


def computed_vectors(index: Index) -> list[str]:
    """The vectors of :data:`COMPUTED` that ``index``'s matrices give back to the bit."""
    out = []
    for name, (matrix, f) in COMPUTED.items():
        m, want = getattr(index, matrix), getattr(index, name)
        got = f(np.diff(m.indptr.astype(np.int64)), m.shape[1])
        if got.dtype == want.dtype and got.tobytes() == want.tobytes():
            out.append(name)
    return out
