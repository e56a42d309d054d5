"""A sparse matrix in about a byte an entry: each entry's column gap and value code in one byte.

The index's term → agents matrices (:mod:`agentroute._index`) hold their agents in
ascending order, and their values are few per agent (a count, or one of an agent's
saturated BM25F weights; see :mod:`agentroute._counts`). So an entry is the gap to the
previous entry's column (the column itself for a row's first) and a small value code,
and a few hundred (gap, code) pairs make up most entries. :func:`pack` stores each entry
as one byte: the position of its pair in a table of the :data:`PAIRS` commonest, or
:data:`ESCAPE`, in which case the entry's column and code are in two side arrays (in
entry order, ``escape_ptr`` saying where each row's escapes start). :func:`unpack` gives
back the columns and codes of any rows, checking what it decodes: the escapes agree
with the bytes, every column lies below the width and each row's columns ascend.

At 10,000 agents the char matrix's agent ids and counts take 1.3 bytes an entry this way,
against 3 as ``uint16`` ids and ``uint8`` counts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agentroute._blocks import BlockError, BlockFile, Decoder, Validator, WholeOnDemand
from agentroute._index import Csr, index_dtype, pointer_dtype

__all__ = ["ESCAPE", "PAIRS", "Packed", "PackedCsr", "pack", "unpack", "unpack_range"]

#: The byte of an entry found in the side arrays.
ESCAPE = 255
#: At most this many (gap, code) pairs have a byte of their own.
PAIRS = 255
# Pairs a byte can name: gaps and codes below this (the table is chosen by a bincount).
_SMALL = 256
# Entries handled at a time when packing (a few int64 arrays of this many).
_CHUNK = 1 << 22


@dataclass(frozen=True, slots=True)
class Packed:
    """A packed matrix's arrays (see the module docstring): ``codes`` (``uint8``, one an
    entry), the table ``pair_gaps``/``pair_codes``, ``indptr`` (entries before each row),
    ``escape_ptr`` (escapes before each row), ``escape_cols`` and ``escape_codes`` (a
    byte each; :data:`ESCAPE` for a code found in ``big_at``/``big_codes``: the positions
    among the escapes of the codes above a byte, ascending, and the codes)."""

    codes: np.ndarray
    pair_gaps: np.ndarray
    pair_codes: np.ndarray
    indptr: np.ndarray
    escape_ptr: np.ndarray
    escape_cols: np.ndarray
    escape_codes: np.ndarray
    big_at: np.ndarray
    big_codes: np.ndarray

    def arrays(self, name: str) -> dict[str, np.ndarray]:
        """The arrays as a cache file names them: ``<name>.codes`` and so on."""
        return {f"{name}.{f}": getattr(self, f) for f in _FIELDS}


_FIELDS = tuple(Packed.__dataclass_fields__)


def _row_spans(indptr: np.ndarray) -> list[tuple[int, int]]:
    """Row ranges of about _CHUNK entries each."""
    spans, rows, start = [], indptr.size - 1, 0
    while start < rows:
        goal = int(indptr[start]) + _CHUNK
        stop = min(rows, max(start + 1, int(np.searchsorted(indptr, goal, "right")) - 1))
        spans.append((start, stop))
        start = stop
    return spans


def _gaps(indices: np.ndarray, indptr: np.ndarray, a: int, b: int) -> np.ndarray:
    """The gaps of rows ``a`` to ``b``: to the previous column, the column for a row's first."""
    lo, hi = int(indptr[a]), int(indptr[b])
    cols = indices[lo:hi].astype(np.int64)
    gaps = np.empty_like(cols)  # np.diff(cols, prepend=0) without its concatenated copy
    gaps[:1] = cols[:1]
    np.subtract(cols[1:], cols[:-1], out=gaps[1:])
    starts = indptr[a:b].astype(np.int64) - lo
    starts = starts[starts < cols.size]
    gaps[starts] = cols[starts]
    return gaps


def pack(indices: np.ndarray, indptr: np.ndarray, codes: np.ndarray, width: int) -> Packed:
    """Pack a matrix whose rows hold ascending ``indices`` (below ``width``) with value
    ``codes`` (integers below 65,536), one of each an entry.

    >>> cols, codes = np.array([2, 5, 9000], dtype=np.uint16), np.array([1, 1, 2])
    >>> p = pack(cols, np.array([0, 3]), codes, 10_000)
    >>> p.codes.tolist(), p.escape_cols.tolist()  # gaps 2 and 3 by the table, 9000 escaped
    ([0, 1, 255], [9000])
    >>> [a.tolist() for a in unpack(p, np.array([0]), 10_000)]
    [[2, 5, 9000], [1, 1, 2], [3]]
    """
    indptr = np.asarray(indptr, dtype=np.int64)
    spans = _row_spans(indptr)
    counts = np.zeros(_SMALL * _SMALL, dtype=np.int64)
    for a, b in spans:
        gaps = _gaps(indices, indptr, a, b)
        c = codes[int(indptr[a]) : int(indptr[b])].astype(np.int64)
        small = (gaps < _SMALL) & (c < _SMALL)
        counts += np.bincount(gaps[small] * _SMALL + c[small], minlength=_SMALL * _SMALL)
    # The commonest pairs, ties by pair (a stable sort of the negated counts).
    top = np.argsort(-counts, kind="stable")[:PAIRS]
    top = top[counts[top] > 0]
    lut = np.full(_SMALL * _SMALL, ESCAPE, dtype=np.uint8)
    lut[top] = np.arange(top.size, dtype=np.uint8)
    out = np.empty(int(indptr[-1]), dtype=np.uint8)
    escaped = np.zeros(int(indptr[-1]), dtype=bool)
    for a, b in spans:
        lo, hi = int(indptr[a]), int(indptr[b])
        gaps = _gaps(indices, indptr, a, b)
        c = codes[lo:hi].astype(np.int64)
        small = (gaps < _SMALL) & (c < _SMALL)
        byte = np.full(hi - lo, ESCAPE, dtype=np.uint8)
        byte[small] = lut[gaps[small] * _SMALL + c[small]]
        out[lo:hi] = byte
        escaped[lo:hi] = byte == ESCAPE
    where = np.flatnonzero(escaped)
    # Escapes before each row's first entry: a binary search of the row starts among the
    # (sorted) escaped places, not a running count over every entry.
    before = np.searchsorted(where, indptr, side="left")
    # A byte each; the few codes above (a long body's commonest n-grams) in a table.
    escaped_codes = codes[where].astype(np.int64)
    big = np.flatnonzero(escaped_codes >= ESCAPE)
    return Packed(
        codes=out,
        pair_gaps=(top // _SMALL).astype(index_dtype(width)),
        pair_codes=(top % _SMALL).astype(np.uint16),
        indptr=indptr.astype(pointer_dtype(int(indptr[-1]))),
        escape_ptr=before.astype(pointer_dtype(where.size)),
        escape_cols=indices[where].astype(index_dtype(width)),
        escape_codes=np.minimum(escaped_codes, ESCAPE).astype(np.uint8),
        big_at=big.astype(np.int64),
        big_codes=escaped_codes[big].astype(np.uint16),
    )


def _concat(a: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    if starts.size == 1:
        return a[int(starts[0]) : int(ends[0])]
    parts = [a[s:e] for s, e in zip(starts.tolist(), ends.tolist(), strict=True)]
    return np.concatenate(parts) if parts else a[:0]


def unpack(p: Packed, rows: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The columns (``int64``, ascending in each row) and value codes (``int64``) of
    ``rows``, concatenated in the order given, and each row's number of entries.

    Raises
    ------
    ValueError
        When the arrays do not describe such a matrix (escapes that do not match the
        bytes, a column out of range or out of order, a code a byte does not name).
    """
    rows = np.asarray(rows, dtype=np.int64)
    starts = p.indptr[rows].astype(np.int64)
    ends = p.indptr[rows + 1].astype(np.int64)
    first = p.escape_ptr[rows].astype(np.int64)
    last = p.escape_ptr[rows + 1].astype(np.int64)
    if bool(np.any(ends < starts)) or bool(np.any(last < first)):
        raise ValueError("row pointers that go back")
    counts = last - first
    where = np.repeat(first - (np.cumsum(counts) - counts), counts) + np.arange(int(counts.sum()))
    return _decoded(
        p,
        _concat(p.codes, starts, ends),
        _concat(p.escape_cols, first, last),
        _big(p, _concat(p.escape_codes, first, last), where),
        ends - starts,
        counts,
        width,
    )


def unpack_range(p: Packed, a: int, b: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """The columns and value codes of rows ``a`` to ``b`` (what :func:`unpack` gives, with
    no gathering: for the whole matrix a slice at a time).

    Raises
    ------
    ValueError
        As :func:`unpack`.
    """
    ptr = p.indptr[a : b + 1].astype(np.int64)
    esc = p.escape_ptr[a : b + 1].astype(np.int64)
    if bool(np.any(np.diff(ptr) < 0)) or bool(np.any(np.diff(esc) < 0)):
        raise ValueError("row pointers that go back")
    e0, e1 = int(esc[0]), int(esc[-1])
    cols, codes, _ = _decoded(
        p,
        p.codes[int(ptr[0]) : int(ptr[-1])],
        p.escape_cols[e0:e1],
        _big(p, p.escape_codes[e0:e1], np.arange(e0, e1)),
        np.diff(ptr),
        np.diff(esc),
        width,
    )
    return cols, codes


def _big(p: Packed, codes: np.ndarray, where: np.ndarray) -> np.ndarray:
    """The escaped ``codes`` (at positions ``where`` among the escapes), those above a
    byte from the table of large codes."""
    out = codes.astype(np.int64)
    large = out == ESCAPE
    if large.any():
        wanted = where[large]
        at = np.minimum(np.searchsorted(p.big_at, wanted), max(p.big_at.size - 1, 0))
        if not p.big_at.size or not bool(np.all(p.big_at[at] == wanted)):
            raise ValueError("a large code is missing from its table")
        out[large] = p.big_codes[at]
    return out


def _decoded(
    p: Packed,
    codes: np.ndarray,
    esc_cols: np.ndarray,
    esc_codes: np.ndarray,
    lengths: np.ndarray,
    escapes: np.ndarray,
    width: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    total = int(lengths.sum())
    if codes.size != total or esc_cols.size != esc_codes.size:
        raise ValueError("the arrays do not agree")
    if not total:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, lengths
    escaped = codes == ESCAPE
    # Escapes before each row's end, to check each row has as many as its bytes say.
    before = np.concatenate(([0], np.cumsum(escaped)))
    ends = np.cumsum(lengths)
    if esc_cols.size != int(before[-1]) or not np.array_equal(
        before[ends] - before[ends - lengths], escapes
    ):
        raise ValueError("the escapes do not match the bytes")
    known = p.pair_gaps.size
    # A byte beyond the table (not an escape) looks up gap -1.
    table = np.full(_SMALL, -1, dtype=np.int64)
    table[:known] = p.pair_gaps
    table[ESCAPE] = 0
    gaps = table[codes]
    if int(gaps.min()) < 0:
        raise ValueError("a byte names no pair")
    table[:known] = p.pair_codes
    values = table[codes]
    values[escaped] = esc_codes
    # Each row's first entry and each escape carry their column (``reset``); the others
    # add a gap. One sum: at each reset, the step that lands on its column.
    heads = (ends - lengths)[lengths > 0]
    reset = escaped.copy()
    reset[heads] = True
    at = np.flatnonzero(reset)
    absolute = gaps[at]
    absolute[escaped[at]] = esc_cols
    steps = gaps.copy()
    steps[at] = 0
    run = np.cumsum(steps)
    land = absolute - run[at]
    steps[at] = np.diff(land, prepend=np.int64(0))
    cols = np.cumsum(steps)
    # Within a row, columns ascend: a gap of at least 1, an escape beyond its neighbour.
    inner = at[~np.isin(at, heads, assume_unique=True)]
    if (
        int(cols.max()) >= width
        or bool(np.any((gaps == 0) & ~reset))
        or bool(np.any(cols[inner] <= cols[inner - 1]))
    ):
        raise ValueError("columns out of range or out of order")
    return cols, values, lengths


# Entries decoded at a time by PackedCsr.whole, and by PackedCsr.gather (rows a request
# reads: a few MB of temporaries, within the processor's caches).
_WHOLE_ENTRIES = 1 << 21
_GATHER_ENTRIES = 1 << 16
# Rows at a time of PackedCsr.weighted_columns (its values for the columns asked for are
# spread over a rows x columns block: ~1 MB at 64 rows and 4,000 columns).
_PICK_ROWS = 64


class PackedCsr(WholeOnDemand):
    """A :class:`~agentroute._index.Csr` over the packed arrays ``<name>.codes`` and so on
    (see :class:`Packed`) of a :class:`~agentroute._blocks.BlockFile`, each block checked
    (CRC-32, then its pointers and columns in range) when a row that lies in it is first
    read, and each row checked as it is decoded (:func:`unpack`). ``decode(codes, rows,
    columns)`` gives the float values of value codes (and raises ``ValueError`` for a code
    it has no value for); ``valid(codes)`` says whether stored codes are in range (the
    table's when the file is opened, the escapes' a block at a time).

    :meth:`gather`, :meth:`lookup`, :meth:`pairs` and :meth:`positions` decode only the
    rows asked for; ``data``, ``indices``, ``indptr`` and :meth:`to_scipy` check and decode
    the whole matrix once. The values are those of the matrix written, to the bit.
    Raises :class:`~agentroute._blocks.BlockError` (a ``ValueError``) from any of them
    when a block or a row is damaged. Pickled, it is the plain matrix.
    """

    _blocks: BlockFile
    _name: str
    _packed: Packed
    _decode: Decoder
    _valid: Validator
    _whole: Csr | None

    def __init__(
        self,
        blocks: BlockFile,
        name: str,
        shape: tuple[int, int],
        *,
        decode: Decoder,
        valid: Validator,
    ) -> None:
        p = Packed(**{f: blocks.raw(f"{name}.{f}") for f in _FIELDS})
        object.__setattr__(self, "shape", shape)
        object.__setattr__(self, "_blocks", blocks)
        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_packed", p)
        object.__setattr__(self, "_decode", decode)
        object.__setattr__(self, "_valid", valid)
        object.__setattr__(self, "_whole", None)
        rows, width = shape
        if (
            any(getattr(p, f).ndim != 1 for f in _FIELDS)
            or p.indptr.shape != (rows + 1,)
            or p.escape_ptr.shape != (rows + 1,)
            or p.escape_cols.shape != p.escape_codes.shape
            or p.pair_gaps.shape != p.pair_codes.shape
            or p.pair_gaps.size > PAIRS
            or p.codes.dtype != np.uint8
            or p.indptr.dtype != pointer_dtype(p.codes.size)
            or p.escape_ptr.dtype != pointer_dtype(p.escape_cols.size)
            or p.escape_cols.dtype != index_dtype(width)
            or p.pair_gaps.dtype != index_dtype(width)
            or p.escape_codes.dtype != np.uint8
            or p.big_at.dtype != np.int64
            or p.big_codes.dtype != np.uint16
            or p.big_at.shape != p.big_codes.shape
            or p.pair_codes.dtype != np.uint16
        ):
            raise self._bad("arrays of the wrong shape or type")
        blocks.check(f"{name}.pair_gaps", 0, p.pair_gaps.size)
        blocks.check(f"{name}.pair_codes", 0, p.pair_codes.size)
        blocks.check(f"{name}.big_at", 0, p.big_at.size)
        blocks.check(f"{name}.big_codes", 0, p.big_codes.size)
        if not valid(p.pair_codes) or not valid(p.big_codes):
            raise self._bad("value codes out of range")
        big = p.big_at
        if big.size and (
            int(big[0]) < 0 or int(big[-1]) >= p.escape_cols.size or bool(np.any(np.diff(big) <= 0))
        ):
            raise self._bad("the table of large codes is out of order")
        if p.pair_gaps.size and int(p.pair_gaps.max()) >= width:
            raise self._bad("columns out of range")
        ends = np.array([0, rows])
        self._check_pointers(ends, ends + 1)
        if (
            int(p.indptr[0]) != 0
            or int(p.indptr[-1]) != p.codes.size
            or int(p.escape_ptr[0]) != 0
            or int(p.escape_ptr[-1]) != p.escape_cols.size
        ):
            raise self._bad("the row pointers do not match")

    @property
    def nnz(self) -> int:
        return int(self._packed.codes.size)

    def __repr__(self) -> str:
        return f"PackedCsr({self._name!r}, shape={self.shape})"

    def _bad(self, why: str) -> BlockError:
        return BlockError(f"{self._blocks.shown}: matrix {self._name!r} is malformed ({why})")

    # -- the whole matrix ------------------------------------------------------------------

    def check_all(self) -> None:
        """Check every block (CRC-32 and ranges) without decoding: what reading the whole
        file checks. Rows are decoded (and checked) when read, or all by :meth:`whole`."""
        p, rows = self._packed, self.shape[0]
        every = np.arange(rows, dtype=np.int64)
        self._check_pointers(every, every + 1)
        self._check_entries(
            np.zeros(1, np.int64),
            np.array([p.codes.size]),
            np.zeros(1, np.int64),
            np.array([p.escape_cols.size]),
        )

    def whole(self) -> Csr:
        """The plain matrix: every block checked, every row decoded (once)."""
        whole: Csr | None = self._whole
        if whole is not None:
            return whole
        self.check_all()
        p, (rows, width) = self._packed, self.shape
        indptr = p.indptr.astype(np.int64)
        cols_parts, data_parts, start = [], [], 0
        while start < rows:
            goal = int(indptr[start]) + _WHOLE_ENTRIES
            stop = min(rows, max(start + 1, int(np.searchsorted(indptr, goal, "right")) - 1))
            try:
                cols, codes = unpack_range(p, start, stop, width)
                of_row = np.repeat(
                    np.arange(start, stop, dtype=np.int64), np.diff(indptr[start : stop + 1])
                )
                data_parts.append(self._decode(codes, of_row, cols))
            except ValueError as exc:
                raise self._bad(str(exc)) from None
            cols_parts.append(cols.astype(index_dtype(width)))
            start = stop
        data = np.concatenate(data_parts) if data_parts else np.zeros(0)
        indices = (
            np.concatenate(cols_parts) if cols_parts else np.zeros(0, dtype=index_dtype(width))
        )
        whole = Csr(data, indices, p.indptr, self.shape)
        object.__setattr__(self, "_whole", whole)
        return whole

    # -- rows, checked as they are read ----------------------------------------------------

    def _check_pointers(self, first: np.ndarray, stop: np.ndarray) -> None:
        p = self._packed
        for field, top in (("indptr", p.codes.size), ("escape_ptr", p.escape_cols.size)):
            ptr = getattr(p, field)

            def values(a: int, b: int, ptr: np.ndarray = ptr, top: int = top) -> None:
                part = ptr[a:b]
                if part.size and (int(part.min()) < 0 or int(part.max()) > top):
                    raise self._bad("row pointers out of range")

            self._blocks.check(f"{self._name}.{field}", first, stop, values)

    def _check_entries(
        self, starts: np.ndarray, ends: np.ndarray, first: np.ndarray, last: np.ndarray
    ) -> None:
        p, width, name = self._packed, self.shape[1], self._name

        def columns(a: int, b: int) -> None:
            part = p.escape_cols[a:b]
            if part.size and int(part.max()) >= width:
                raise self._bad("columns out of range")

        self._blocks.check(f"{name}.codes", starts, ends)

        def codes(a: int, b: int) -> None:
            if not self._valid(p.escape_codes[a:b]):
                raise self._bad("value codes out of range")

        self._blocks.check(f"{name}.escape_cols", first, last, columns)
        self._blocks.check(f"{name}.escape_codes", first, last, codes)

    def _checked(self, rows: np.ndarray) -> np.ndarray:
        """``rows`` as int64, in range, the blocks that hold them checked."""
        rows = np.asarray(rows, dtype=np.int64)
        if rows.size and (int(rows.min()) < 0 or int(rows.max()) >= self.shape[0]):
            raise IndexError("row index out of range")
        p = self._packed
        self._check_pointers(rows, rows + 2)
        self._check_entries(
            p.indptr[rows].astype(np.int64),
            p.indptr[rows + 1].astype(np.int64),
            p.escape_ptr[rows].astype(np.int64),
            p.escape_ptr[rows + 1].astype(np.int64),
        )
        return rows

    def _unpack(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:func:`unpack` of ``rows`` (checked already)."""
        try:
            return unpack(self._packed, rows, self.shape[1])
        except ValueError as exc:
            raise self._bad(str(exc)) from None

    def _rows(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The columns, value codes and lengths of ``rows``, their blocks checked."""
        return self._unpack(self._checked(rows))

    def _values(self, codes: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        try:
            return self._decode(codes, rows, cols)
        except ValueError as exc:
            raise self._bad(str(exc)) from None

    def gather(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self._whole is not None:
            return self._whole.gather(rows)
        rows = self._checked(rows)
        ptr = self._packed.indptr
        lengths = ptr[rows + 1].astype(np.int64) - ptr[rows].astype(np.int64)
        if bool(np.any(lengths < 0)):
            raise self._bad("row pointers that go back")
        # A slice of the rows at a time, into the results: a request's char n-grams touch
        # millions of entries at 50,000 agents, and the decoding's int64 temporaries of them
        # all at once were most of a warm hook's memory (and, fresh pages, of its time).
        # Every value is computed by itself, so slicing changes no bit.
        ends = np.cumsum(lengths)
        total = int(ends[-1]) if ends.size else 0
        cols = np.empty(total, dtype=index_dtype(self.shape[1]))
        values: np.ndarray | None = None
        a = 0
        while a < rows.size:
            done = int(ends[a - 1]) if a else 0
            b = max(a + 1, int(np.searchsorted(ends, done + _GATHER_ENTRIES, "right")))
            part, codes, got = self._unpack(rows[a:b])
            v = self._values(codes, np.repeat(rows[a:b], got), part)
            if values is None:
                values = np.empty(total, dtype=v.dtype)
            stop = done + part.size
            cols[done:stop] = part
            values[done:stop] = v
            a = b
        if values is None:
            _, codes, _ = self._unpack(rows[:0])
            values = self._values(codes, codes, codes)
        return cols, values, lengths

    def weighted_columns(
        self, rows: np.ndarray, weights: np.ndarray, columns: np.ndarray
    ) -> np.ndarray:
        if self._whole is not None:
            return self._whole.weighted_columns(rows, weights, columns)
        rows = self._checked(rows)
        ptr = self._packed.indptr
        lengths = ptr[rows + 1].astype(np.int64) - ptr[rows].astype(np.int64)
        if bool(np.any(lengths < 0)):
            raise self._bad("row pointers that go back")
        # Every row's columns are decoded (and checked), a slice of rows at a time; only
        # the values of the columns asked for are decoded (a request's char rows hold
        # millions of entries at 50,000 agents, of which the candidates are a few percent),
        # then added a row at a time as Csr.weighted_columns adds them: the same bits.
        slot = np.full(self.shape[1], -1, dtype=np.int64)
        slot[columns] = np.arange(columns.size)
        ends = np.cumsum(lengths)
        acc: np.ndarray | None = None
        a = 0
        while a < rows.size:
            done = int(ends[a - 1]) if a else 0
            b = max(a + 1, int(np.searchsorted(ends, done + _GATHER_ENTRIES, "right")))
            b = min(b, a + _PICK_ROWS)
            cols, codes, got = self._unpack(rows[a:b])
            at = slot[cols]
            hit = np.flatnonzero(at >= 0)
            owner = np.repeat(np.arange(b - a), got)[hit]
            values = self._values(codes[hit], rows[a:b][owner], cols[hit])
            block = np.zeros((b - a, columns.size), dtype=values.dtype)
            block[owner, at[hit]] = values
            if acc is None:
                acc = np.zeros(columns.size, dtype=values.dtype)
            for r in np.flatnonzero(got).tolist():
                acc += block[r] * weights[a + r]
            a = b
        if acc is None:
            _, codes, _ = self._unpack(rows[:0])
            acc = np.zeros(columns.size, dtype=self._values(codes, codes, codes).dtype)
        return acc

    def _found(
        self, rows: np.ndarray, cols: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For each pair: where its entry is (flat position in the matrix, -1 where
        absent), and the decoded codes and the position in them of the rows read."""
        rows = np.asarray(rows, dtype=np.int64)
        cols = np.asarray(cols, dtype=np.int64)
        unique, which = np.unique(rows, return_inverse=True)
        got, codes, lengths = self._rows(unique)
        width = np.int64(max(self.shape[1], 1))
        keys = np.repeat(np.arange(unique.size, dtype=np.int64), lengths) * width + got
        want = which.astype(np.int64) * width + cols
        at = np.minimum(np.searchsorted(keys, want), max(keys.size - 1, 0))
        hit = (keys[at] == want) if keys.size else np.zeros(want.size, dtype=bool)
        heads = np.cumsum(lengths) - lengths
        flat = np.where(
            hit,
            self._packed.indptr[unique[which]].astype(np.int64) + at - heads[which],
            -1,
        )
        return flat, codes, np.where(hit, at, -1)

    def positions(
        self, rows: np.ndarray, cols: np.ndarray, *, max_gather: int = 1 << 14
    ) -> np.ndarray:
        if self._whole is not None:
            return self._whole.positions(rows, cols, max_gather=max_gather)
        flat, _, _ = self._found(rows, cols)
        return flat

    def pairs(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        if self._whole is not None:
            return self._whole.pairs(rows, cols)
        rows, cols = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
        _, codes, at = self._found(rows, cols)
        out = np.zeros(rows.size, dtype=np.float64)
        hit = at >= 0
        out[hit] = self._values(codes[at[hit]], rows[hit], cols[hit])
        return out

    def lookup(self, rows: np.ndarray, col: int) -> np.ndarray:
        if self._whole is not None:
            return self._whole.lookup(rows, col)
        rows = np.asarray(rows)
        return self.pairs(rows, np.full(rows.size, col))

    def row(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Row ``i``'s column indices and values, in stored order."""
        cols, values, _ = self.gather(np.array([i], dtype=np.int64))
        return cols, values
