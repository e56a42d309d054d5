"""Arrays in one file, mapped rather than read, each block checked when first used.

The index cache (:mod:`agentroute._cache`) is one file of this layout::

    MAGIC (8 bytes) | table length (uint64, little-endian) | CRC-32 of the table (uint32)
    | the table (ASCII JSON) | the arrays, each starting at a multiple of ALIGN bytes

The table is ``{"meta": <the caller's JSON>, "arrays": {name: [offset, dtype, shape,
[CRC-32 of each BLOCK_BYTES of the array]]}}`` (offsets counted from the first ALIGN
boundary after the table). Opening a file (:class:`BlockFile`) reads and checks only
the table: its size and checksum, and that every array is a plain number or
fixed-width bytes dtype whose bytes lie inside the file. The arrays are then mapped
read-only; a block (:data:`BLOCK_BYTES`) is checked against its CRC-32 the first time
something reads it (:meth:`BlockFile.check`), so a call that reads a few rows of a
matrix reads and checks kilobytes, not the file. A CRC is no signature: whoever can
write the file can recompute it, so the caller still checks the values it uses (ranges,
bounds; :class:`MappedCsr` does for its matrices).

A file truncated before it is opened is refused when opened (its arrays would end past
its end). agentroute never rewrites a file in place (a write makes a new file and
renames it over the old, see :func:`write_blocks`): a file truncated in place by another
program while mapped would make the process reading it fail on the missing pages.
"""

from __future__ import annotations

import json
import math
import mmap
import os
import tempfile
import threading
import zlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from agentroute._errors import IndexFormatError
from agentroute._index import Csr

__all__ = [
    "ALIGN",
    "BLOCK_BYTES",
    "MAGIC",
    "MAX_TABLE_BYTES",
    "BlockError",
    "BlockFile",
    "MappedCsr",
    "WholeOnDemand",
    "write_blocks",
]

MAGIC = b"ARBLOCK1"
#: Each array starts at a multiple of this (NumPy reads aligned arrays fastest).
ALIGN = 64
#: The unit a CRC-32 covers: a request reads a row or two of each block it touches, so
#: small blocks keep what is checked close to what is read (~200 rows of a request at
#: 16 KiB each is a few MB; the CRCs of a 2 GB file are ~0.5 MB of table).
BLOCK_BYTES = 16 * 1024
#: A table larger than this is refused before it is read (a 50,000-agent cache has ~1 MB).
MAX_TABLE_BYTES = 64 * 2**20
_PREFIX = len(MAGIC) + 8 + 4
_DTYPE_KINDS = frozenset("biufS")
_TEMP_PREFIX = ".agentroute-"


class BlockError(IndexFormatError):
    """The file is not a block file this library could have written, or a block does
    not match its checksum (named in the message). An :class:`IndexFormatError` (a
    ``ValueError``): a block found damaged while a route reads it is caught as such."""


def _aligned(n: int) -> int:
    return -(-n // ALIGN) * ALIGN


def _crcs(buf: memoryview) -> list[int]:
    return [zlib.crc32(buf[a : a + BLOCK_BYTES]) for a in range(0, len(buf), BLOCK_BYTES)]


def write_blocks(path: Path, arrays: Mapping[str, np.ndarray], meta: object) -> None:
    """Write ``arrays`` and ``meta`` (JSON) to ``path`` atomically: to a temporary file in
    its folder, then renamed over it, so a reader sees the old file or the new one.

    Raises
    ------
    ValueError
        When an array's dtype is not a plain number or fixed-width bytes.
    """
    contiguous = {name: np.ascontiguousarray(a) for name, a in arrays.items()}
    entries: dict[str, list[Any]] = {}
    offset = 0
    for name, a in contiguous.items():
        if a.dtype.kind not in _DTYPE_KINDS or a.dtype.fields is not None:
            raise ValueError(f"array {name!r}: dtype {a.dtype} cannot be stored")
        view = a.data.cast("B") if a.size else memoryview(b"")
        entries[name] = [offset, a.dtype.str, list(a.shape), _crcs(view)]
        offset = _aligned(offset + a.nbytes)
    table = json.dumps(
        {"meta": meta, "arrays": entries}, ensure_ascii=True, separators=(",", ":")
    ).encode("ascii")
    head = MAGIC + len(table).to_bytes(8, "little") + zlib.crc32(table).to_bytes(4, "little")
    start = _aligned(_PREFIX + len(table))
    fd, tmp = tempfile.mkstemp(prefix=_TEMP_PREFIX, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(head + table + bytes(start - _PREFIX - len(table)))
            at = 0
            for name, a in contiguous.items():
                fh.write(bytes(entries[name][0] - at))
                if a.size:
                    fh.write(a.data.cast("B"))
                at = entries[name][0] + a.nbytes
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class _Entry:
    __slots__ = ("checked", "crcs", "dtype", "nbytes", "offset", "shape")

    def __init__(self, offset: int, dtype: np.dtype[Any], shape: tuple[int, ...], crcs: list[int]):
        self.offset, self.dtype, self.shape, self.crcs = offset, dtype, shape, crcs
        self.nbytes = math.prod(shape) * dtype.itemsize
        self.checked = bytearray(len(crcs))


def _entry(name: object, raw: object, size: int, start: int) -> _Entry:
    if not isinstance(name, str) or not isinstance(raw, list) or len(raw) != 4:
        raise BlockError(f"array {name!r}: malformed table entry")
    offset, dtype_str, shape, crcs = raw
    if type(offset) is not int or offset < 0 or offset % ALIGN or not isinstance(dtype_str, str):
        raise BlockError(f"array {name!r}: bad offset or dtype")
    try:
        dtype = np.dtype(dtype_str)
    except (TypeError, ValueError):
        raise BlockError(f"array {name!r}: unknown dtype {dtype_str[:20]!r}") from None
    if dtype.kind not in _DTYPE_KINDS or dtype.fields is not None or dtype.itemsize < 1:
        raise BlockError(f"array {name!r}: dtype {dtype} is not a plain number")
    if not (
        isinstance(shape, list)
        and len(shape) <= 2
        and all(type(s) is int and s >= 0 for s in shape)
        and isinstance(crcs, list)
        and all(type(c) is int for c in crcs)
    ):
        raise BlockError(f"array {name!r}: bad shape or checksums")
    entry = _Entry(start + offset, dtype, tuple(shape), crcs)
    if entry.offset + entry.nbytes > size:
        raise BlockError(
            f"array {name!r} ends past the end of the file ({size:,} bytes): the file is truncated"
        )
    if len(crcs) != -(-entry.nbytes // BLOCK_BYTES):
        raise BlockError(f"array {name!r}: {len(crcs)} checksums for {entry.nbytes:,} bytes")
    return entry


class BlockFile:
    """A block file opened for reading (see the module docstring).

    ``raw(name)`` maps an array without checking it; ``check(name, first, stop)`` checks
    the blocks that hold its elements ``first`` to ``stop`` (flat positions) once each;
    ``array(name)`` checks every block first.

    Raises
    ------
    BlockError
        From the constructor, when the file is not one :func:`write_blocks` wrote (bad
        magic, table, dtype) or is truncated; from :meth:`check`, when a block does not
        match its CRC-32.
    """

    def __init__(self, fh: BinaryIO, shown: str) -> None:
        self.shown = shown
        size = os.fstat(fh.fileno()).st_size
        head = fh.read(_PREFIX)
        if len(head) < _PREFIX or head[: len(MAGIC)] != MAGIC:
            raise BlockError("not an agentroute block file")
        length = int.from_bytes(head[len(MAGIC) : len(MAGIC) + 8], "little")
        if length > min(MAX_TABLE_BYTES, size - _PREFIX):
            raise BlockError(
                f"its table declares {length:,} bytes in a {size:,}-byte file "
                f"(at most {MAX_TABLE_BYTES:,}); refused before reading it"
            )
        raw = fh.read(length)
        if len(raw) != length or zlib.crc32(raw) != int.from_bytes(head[-4:], "little"):
            raise BlockError("table checksum mismatch (the file is corrupt)")
        try:
            table = json.loads(raw.decode("ascii"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise BlockError(f"unreadable table ({exc})") from None
        if not isinstance(table, dict) or not isinstance(table.get("arrays"), dict):
            raise BlockError("the table is not an object of arrays")
        start = _aligned(_PREFIX + length)
        self.meta: Any = table.get("meta")
        self._entries = {n: _entry(n, e, size, start) for n, e in table["arrays"].items()}
        self.names = frozenset(self._entries)
        self._map = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if size else None
        self._lock = threading.Lock()

    def raw(self, name: str) -> np.ndarray:
        """Array ``name`` as mapped, unchecked (read-only)."""
        e = self._entries[name]
        count = math.prod(e.shape)
        if not count or self._map is None:
            return np.zeros(e.shape, dtype=e.dtype)
        return np.frombuffer(self._map, dtype=e.dtype, count=count, offset=e.offset).reshape(
            e.shape
        )

    def check(
        self,
        name: str,
        first: np.ndarray | int,
        stop: np.ndarray | int,
        values: Callable[[int, int], None] | None = None,
    ) -> list[int]:
        """Check the blocks holding elements ``[first, stop)`` of ``name`` (arrays of
        ranges, or one range); the blocks checked now (not before), in order. A block
        counts as checked once its CRC-32 matches and ``values(a, b)``, given the elements
        it holds, returned (a block it raises for is checked again when next read).

        Raises
        ------
        BlockError
            When a block does not match its CRC-32; whatever ``values`` raises.
        """
        e = self._entries[name]
        lo = np.atleast_1d(np.asarray(first, dtype=np.int64))
        hi = np.atleast_1d(np.asarray(stop, dtype=np.int64))
        keep = hi > lo
        if not keep.any() or self._map is None:
            return []
        size = e.dtype.itemsize
        a = lo[keep] * size // BLOCK_BYTES
        b = (hi[keep] * size - 1) // BLOCK_BYTES + 1
        if int((b - a).sum()) > len(e.crcs):
            wanted = np.arange(len(e.crcs))
        else:
            counts = b - a
            total = int(counts.sum())
            # Sorted and deduplicated by hand: np.unique imports numpy.ma (~80 ms a hook call).
            wanted = np.sort(np.repeat(b - np.cumsum(counts), counts) + np.arange(total))
            wanted = wanted[np.concatenate(([True], wanted[1:] != wanted[:-1]))]
        checked = e.checked
        new = [int(k) for k in wanted.tolist() if not checked[k]]
        if not new:
            return []
        view = memoryview(self._map)
        for k in new:
            begin = e.offset + k * BLOCK_BYTES
            end = e.offset + min((k + 1) * BLOCK_BYTES, e.nbytes)
            if zlib.crc32(view[begin:end]) != e.crcs[k]:
                raise BlockError(
                    f"{self.shown}: array {name!r}, block {k} does not match its checksum "
                    "(the file is corrupt)"
                )
            if values is not None:
                values(*self.block_range(name, k))
            with self._lock:
                checked[k] = 1
        return new

    def block_range(self, name: str, block: int) -> tuple[int, int]:
        """The elements of ``name`` that block ``block`` holds, whole ones only, as
        ``[first, stop)`` (an element split between two blocks belongs to both)."""
        e = self._entries[name]
        size = e.dtype.itemsize
        return block * BLOCK_BYTES // size, -(-min((block + 1) * BLOCK_BYTES, e.nbytes) // size)

    def array(self, name: str) -> np.ndarray:
        """Array ``name``, every block checked."""
        a = self.raw(name)
        self.check(name, 0, a.size)
        return a


# Entries decoded at a time by MappedCsr.whole.
_DECODE_ENTRIES = 1 << 20
#: ``decode(stored, rows, columns) -> values``: the float values of stored entries (e.g.
#: counts) given each one's row and column.
Decoder = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
#: ``valid(stored) -> bool``: whether stored entries are in range.
Validator = Callable[[np.ndarray], bool]


class WholeOnDemand(Csr):
    """A :class:`~agentroute._index.Csr` read from a cache file a row at a time, whose
    whole matrix (``data``, ``indices``, ``indptr``, :meth:`to_scipy`, pickling) is
    checked and decoded once, on first use, by :meth:`whole`: what :class:`MappedCsr`
    and :class:`~agentroute._packed.PackedCsr` share."""

    def whole(self) -> Csr:
        raise NotImplementedError

    def __reduce__(self) -> tuple[Any, ...]:
        whole = self.whole()
        return (Csr, (whole.data, whole.indices, whole.indptr, whole.shape))

    @property
    def data(self) -> np.ndarray:
        return self.whole().data

    @property
    def indices(self) -> np.ndarray:
        return self.whole().indices

    @property
    def indptr(self) -> np.ndarray:
        return self.whole().indptr

    def to_scipy(self) -> Any:
        return self.whole().to_scipy()


class MappedCsr(WholeOnDemand):
    """A :class:`~agentroute._index.Csr` over the arrays ``<name>.data``, ``.indices``,
    ``.indptr`` of a :class:`BlockFile`, each block checked (CRC-32, then its values:
    ``valid`` for the data, column indices below the width, row pointers within the
    entries) when a row that lies in it is first read.

    :meth:`gather`, :meth:`lookup`, :meth:`pairs` and :meth:`positions` read only the
    rows asked for; ``data``, ``indices``, ``indptr`` and :meth:`to_scipy` check (and
    decode) the whole matrix once. ``decode`` turns stored entries into the float values;
    the values are those of the matrix written, to the bit (the large matrices are
    :class:`~agentroute._packed.PackedCsr` instead). Raises :class:`BlockError` (a
    ``ValueError``) from any of them when a block is damaged. Pickled, it is the plain
    matrix (decoded and checked whole).
    """

    _blocks: BlockFile
    _name: str
    _raw: Csr
    _valid: Validator
    _decode: Decoder | None
    _whole: Csr | None

    def __init__(
        self,
        blocks: BlockFile,
        name: str,
        shape: tuple[int, int],
        *,
        valid: Validator,
        decode: Decoder | None = None,
    ) -> None:
        raw = Csr(
            blocks.raw(f"{name}.data"),
            blocks.raw(f"{name}.indices"),
            blocks.raw(f"{name}.indptr"),
            shape,
        )
        object.__setattr__(self, "shape", shape)
        object.__setattr__(self, "_blocks", blocks)
        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_raw", raw)
        object.__setattr__(self, "_valid", valid)
        object.__setattr__(self, "_decode", decode)
        object.__setattr__(self, "_whole", None)
        nnz = raw.indices.size
        if (
            raw.indptr.ndim != 1
            or raw.indptr.shape != (shape[0] + 1,)
            or raw.indices.ndim != 1
            or raw.data.shape != raw.indices.shape
        ):
            raise BlockError(f"{blocks.shown}: matrix {name!r} has the wrong shape")
        self._check_pointers(np.array([0, shape[0]]), np.array([1, shape[0] + 1]))
        if int(raw.indptr[0]) != 0 or int(raw.indptr[-1]) != nnz:
            raise BlockError(f"{blocks.shown}: matrix {name!r}: the row pointers do not match")

    @property
    def nnz(self) -> int:
        return int(self._raw.indices.size)

    def __repr__(self) -> str:
        return f"MappedCsr({self._name!r}, shape={self.shape})"

    # -- the whole matrix ------------------------------------------------------------------

    def check_all(self) -> None:
        """Check every block (CRC-32 and values) without decoding: what reading the whole
        file checks. Rows are decoded when read, or all at once by :meth:`whole`."""
        raw = self._raw
        rows = np.arange(self.shape[0], dtype=np.int64)
        self._check_pointers(rows, rows + 1)
        if raw.indptr.size > 1 and bool(np.any(np.diff(raw.indptr) < 0)):
            raise self._bad("row pointers that go back")
        self._check_entries(np.zeros(1, dtype=np.int64), np.array([raw.indices.size]))

    def whole(self) -> Csr:
        """The plain matrix: every block checked, the data decoded (once)."""
        whole: Csr | None = self._whole
        if whole is not None:
            return whole
        self.check_all()
        raw = self._raw
        data = raw.data if self._decode is None else self._decoded(self._decode)
        whole = Csr(data, raw.indices, raw.indptr, self.shape)
        object.__setattr__(self, "_whole", whole)
        return whole

    def _decoded(self, decode: Decoder) -> np.ndarray:
        """Every value, decoded a slice of rows at a time (temporaries of a few MB: the
        whole char matrix at once took ~10x longer on a loaded machine)."""
        ptr = self._raw.indptr.astype(np.int64)
        parts, start, rows = [], 0, self.shape[0]
        while start < rows:
            goal = int(ptr[start]) + _DECODE_ENTRIES
            stop = min(rows, max(start + 1, int(np.searchsorted(ptr, goal, "right")) - 1))
            a, b = int(ptr[start]), int(ptr[stop])
            of_row = np.repeat(
                np.arange(start, stop, dtype=np.int64), np.diff(ptr[start : stop + 1])
            )
            parts.append(decode(self._raw.data[a:b], of_row, self._raw.indices[a:b]))
            start = stop
        return np.concatenate(parts) if parts else self._raw.data.astype(np.float32)

    # -- rows, checked as they are read ----------------------------------------------------

    def _bad(self, why: str) -> BlockError:
        return BlockError(f"{self._blocks.shown}: matrix {self._name!r} is malformed ({why})")

    def _check_pointers(self, first: np.ndarray, stop: np.ndarray) -> None:
        ptr, nnz = self._raw.indptr, self._raw.indices.size

        def values(a: int, b: int) -> None:
            part = ptr[a:b]
            if part.size and (int(part.min()) < 0 or int(part.max()) > nnz):
                raise self._bad("row pointers out of range")

        self._blocks.check(f"{self._name}.indptr", first, stop, values)

    def _check_entries(self, starts: np.ndarray, ends: np.ndarray) -> None:
        raw, width = self._raw, self.shape[1]

        def columns(a: int, b: int) -> None:
            part = raw.indices[a:b]
            if part.size and (int(part.max()) >= width or int(part.min()) < 0):
                raise self._bad("column indices out of range")

        def data(a: int, b: int) -> None:
            if not self._valid(raw.data[a:b]):
                raise self._bad("values out of range")

        self._blocks.check(f"{self._name}.indices", starts, ends, columns)
        self._blocks.check(f"{self._name}.data", starts, ends, data)

    def _spans(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rows = np.asarray(rows, dtype=np.int64)
        if rows.size and (int(rows.min()) < 0 or int(rows.max()) >= self.shape[0]):
            raise IndexError("row index out of range")
        self._check_pointers(rows, rows + 2)
        ptr = self._raw.indptr
        starts, ends = ptr[rows].astype(np.int64), ptr[rows + 1].astype(np.int64)
        if bool(np.any(ends < starts)):
            raise self._bad("row pointers that go back")
        self._check_entries(starts, ends)
        return starts, ends

    def gather(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self._whole is not None:
            return self._whole.gather(rows)
        self._spans(rows)
        cols, stored, lengths = self._raw.gather(rows)
        if self._decode is None:
            return cols, stored, lengths
        row_of = np.repeat(np.asarray(rows, dtype=np.int64), lengths)
        return cols, self._decode(stored, row_of, cols.astype(np.int64)), lengths

    def positions(
        self, rows: np.ndarray, cols: np.ndarray, *, max_gather: int = 1 << 14
    ) -> np.ndarray:
        if self._whole is not None:
            return self._whole.positions(rows, cols, max_gather=max_gather)
        self._spans(rows)
        return self._raw.positions(rows, cols, max_gather=max_gather)

    def pairs(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        if self._whole is not None:
            return self._whole.pairs(rows, cols)
        at = self.positions(rows, cols)
        out = np.zeros(rows.size, dtype=np.float64)
        hit = at >= 0
        out[hit] = self._values(at[hit], np.asarray(rows)[hit])
        return out

    def lookup(self, rows: np.ndarray, col: int) -> np.ndarray:
        if self._whole is not None:
            return self._whole.lookup(rows, col)
        return self.pairs(np.asarray(rows), np.full(np.asarray(rows).size, col))

    def row(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Row ``i``'s column indices and values, in stored order."""
        cols, values, _ = self.gather(np.array([i], dtype=np.int64))
        return cols, values

    def _values(self, at: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """The values stored at positions ``at`` (checked already), of rows ``rows``."""
        stored: np.ndarray = self._raw.data[at]
        if self._decode is None:
            return stored
        return self._decode(stored, rows.astype(np.int64), self._raw.indices[at].astype(np.int64))
