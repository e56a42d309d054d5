"""A packed matrix gives back every column and code, reads rows as a plain one does, and
refuses arrays that do not decode to a matrix."""

from __future__ import annotations

import pickle
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentroute._blocks import BlockError, BlockFile, write_blocks
from agentroute._index import Csr
from agentroute._packed import ESCAPE, PackedCsr, pack, unpack, unpack_range


def _matrix(seed: int, rows: int = 40, width: int = 3_000, density: float = 0.05) -> Csr:
    """Rows of ascending columns (some far apart: escapes) and codes (some large)."""
    rng = np.random.default_rng(seed)
    mask = rng.random((rows, width)) < density
    mask[::7] = False  # empty rows
    r, c = np.nonzero(mask)
    codes = np.where(
        rng.random(r.size) < 0.9, rng.integers(1, 4, r.size), rng.integers(1, 9_000, r.size)
    )
    indptr = np.concatenate(([0], np.cumsum(np.bincount(r, minlength=rows))))
    return Csr(
        codes.astype(np.float64), c.astype(np.uint16), indptr.astype(np.int32), (rows, width)
    )


def _codes(m: Csr) -> np.ndarray:
    return m.data.astype(np.uint16)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 60), st.integers(1, 5_000), st.floats(0.0, 0.3))
def test_every_column_and_code_comes_back(seed: int, rows: int, width: int, density: float) -> None:
    m = _matrix(seed, rows, width, density)
    p = pack(m.indices, m.indptr, _codes(m), width)
    assert p.codes.dtype == np.uint8 and p.codes.size == m.nnz
    cols, codes, lengths = unpack(p, np.arange(rows), width)
    assert np.array_equal(cols, m.indices) and np.array_equal(codes, _codes(m))
    assert np.array_equal(lengths, np.diff(m.indptr))
    order = np.random.default_rng(seed).permutation(rows)[: max(1, rows // 2)]
    cols, codes, lengths = unpack(p, order, width)
    want = [m.indices[m.indptr[i] : m.indptr[i + 1]] for i in order]
    assert np.array_equal(cols, np.concatenate(want)) and lengths.tolist() == [w.size for w in want]
    cols, codes = unpack_range(p, 0, rows, width)
    assert np.array_equal(cols, m.indices) and np.array_equal(codes, _codes(m))
    # Each row's escapes start after those of the rows before it (a running count).
    running = np.concatenate(([0], np.cumsum(p.codes == ESCAPE)))[m.indptr.astype(np.int64)]
    assert np.array_equal(p.escape_ptr, running)


def test_common_pairs_take_a_byte_and_the_rest_escape() -> None:
    m = _matrix(1)
    p = pack(m.indices, m.indptr, _codes(m), m.shape[1])
    escaped = int((p.codes == ESCAPE).sum())
    assert 0 < escaped < m.nnz and p.escape_cols.size == escaped
    assert p.escape_codes.dtype == np.uint8  # a byte each; the codes above in a table
    assert p.big_codes.size > 0 and int(p.big_codes.min()) >= ESCAPE
    assert p.pair_gaps.size <= 255


def _file(tmp_path: Path, m: Csr) -> Path:
    p = pack(m.indices, m.indptr, _codes(m), m.shape[1])
    path = tmp_path / "m.blocks"
    write_blocks(path, p.arrays("m"), {})
    return path


def _mapped(path: Path, m: Csr) -> PackedCsr:
    with path.open("rb") as fh:
        blocks = BlockFile(fh, str(path))
    return PackedCsr(
        blocks,
        "m",
        m.shape,
        decode=lambda codes, rows, cols: codes.astype(np.float64),
        valid=lambda codes: not codes.size or int(codes.min()) >= 1,
    )


def test_rows_read_as_the_plain_matrix_reads_them(tmp_path: Path) -> None:
    m = _matrix(2)
    packed = _mapped(_file(tmp_path, m), m)
    rows = np.array([3, 0, 3, 39, 14])
    for got, want in zip(packed.gather(rows), m.gather(rows), strict=True):
        assert np.array_equal(got, want)
    cols = np.array([int(m.indices[m.indptr[3]]), 5, 2_999, 0, 17])
    assert np.array_equal(packed.positions(rows, cols), m.positions(rows, cols))
    assert np.array_equal(packed.pairs(rows, cols), m.pairs(rows, cols))
    assert np.array_equal(packed.lookup(rows, cols[0]), m.lookup(rows, cols[0]))
    assert np.array_equal(packed.row(3)[0], m.indices[m.indptr[3] : m.indptr[4]])
    plain = pickle.loads(pickle.dumps(packed))
    assert type(plain) is Csr and np.array_equal(plain.data, m.data)
    assert np.array_equal(packed.indices, m.indices) and np.array_equal(packed.data, m.data)
    assert packed.nnz == m.nnz


def test_rows_of_many_entries_are_decoded_a_slice_at_a_time(tmp_path: Path) -> None:
    # A request's char n-grams touch millions of entries at 50,000 agents: decoding them
    # all at once made several int64 temporaries of that many entries (most of a warm
    # hook's memory). Sliced, the temporaries stay small and the result is the same.
    m = _matrix(5, rows=60, width=30_000, density=0.3)
    packed = _mapped(_file(tmp_path, m), m)
    rows = np.array([*range(60), 4, 4])
    packed.gather(rows[:2])  # checks the blocks these rows lie in, decodes a little
    tracemalloc.start()
    try:
        got = packed.gather(rows)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    for a, b in zip(got, m.gather(rows), strict=True):
        assert np.array_equal(a, b)
    results = sum(a.nbytes for a in got)
    assert got[0].size > 400_000 and peak < results + 16 * 2**20


def _as_float32(m: Csr) -> Csr:
    return Csr(m.data.astype(np.float32) / 7, m.indices, m.indptr, m.shape)


def _mapped32(path: Path, m: Csr) -> PackedCsr:
    with path.open("rb") as fh:
        blocks = BlockFile(fh, str(path))
    return PackedCsr(
        blocks,
        "m",
        m.shape,
        decode=lambda codes, rows, cols: codes.astype(np.float32) / 7,
        valid=lambda codes: not codes.size or int(codes.min()) >= 1,
    )


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 150), st.floats(0.0, 0.4), st.integers(1, 400))
def test_weighted_columns_give_the_bits_of_the_plain_rows(
    tmp_path_factory: pytest.TempPathFactory, seed: int, rows: int, density: float, k: int
) -> None:
    # The char view of a large catalog reads a request's rows for its candidates only:
    # the packed matrix decodes the values of those columns alone, a block of rows at a
    # time, and must add them as the plain rows do (float32, row by row, in order).
    width = 3_000
    m = _matrix(seed, rows, width, density)
    plain = _as_float32(m)
    packed = _mapped32(_file(tmp_path_factory.mktemp("w"), m), m)
    rng = np.random.default_rng(seed)
    order = rng.integers(0, rows, rng.integers(0, 2 * rows + 1))
    weights = rng.random(order.size).astype(np.float32)
    columns = np.sort(rng.choice(width, min(k, width), replace=False))
    want = plain.weighted_columns(order, weights, columns)
    got = packed.weighted_columns(order, weights, columns)
    assert got.dtype == want.dtype == np.float32
    assert got.tobytes() == want.tobytes()
    # And the plain rows give what a loop over them gives.
    loop = np.zeros(columns.size, dtype=np.float32)
    for r, q in zip(order.tolist(), weights, strict=True):
        dense = np.zeros(width, dtype=np.float32)
        a, b = int(m.indptr[r]), int(m.indptr[r + 1])
        dense[m.indices[a:b]] = plain.data[a:b]
        loop += dense[columns] * q
    assert loop.tobytes() == want.tobytes()


def test_weighted_columns_check_every_row_they_read(tmp_path: Path) -> None:
    m = _matrix(4)
    columns = np.array([0, 1])  # few columns: most entries' values are never decoded
    weights = np.ones(m.shape[0], dtype=np.float32)
    for field, change, why in (
        ("escape_cols", _far, "out of order"),
        ("codes", _zero, "escapes do not match"),
    ):
        packed = _garbled(tmp_path, m, field, change)
        with pytest.raises(BlockError, match=why):
            packed.weighted_columns(np.arange(m.shape[0]), weights, columns)


def test_a_truncated_file_is_refused(tmp_path: Path) -> None:
    m = _matrix(3)
    path = _file(tmp_path, m)
    path.write_bytes(path.read_bytes()[: path.stat().st_size - 100])
    with path.open("rb") as fh, pytest.raises(BlockError, match="truncated"):
        BlockFile(fh, str(path))


def _garbled(tmp_path: Path, m: Csr, field: str, change: object) -> PackedCsr:
    p = pack(m.indices, m.indptr, _codes(m), m.shape[1])
    arrays = p.arrays("m")
    arrays[f"m.{field}"] = change(arrays[f"m.{field}"].copy())  # type: ignore[operator]
    path = tmp_path / f"{field}.blocks"
    write_blocks(path, arrays, {})  # checksums recomputed: whoever writes can
    return _mapped(path, m)


def _shift(a: np.ndarray) -> np.ndarray:
    a[1:-1] = np.minimum(a[1:-1] + 1, a[-1])
    return a


def _far(a: np.ndarray) -> np.ndarray:
    a[:] = 2_999
    return a


def _zero(a: np.ndarray) -> np.ndarray:
    a[:] = 0
    return a


@pytest.mark.parametrize(
    ("field", "change", "why"),
    [
        ("escape_ptr", _shift, "escapes do not match|go back"),
        ("escape_cols", _far, "out of order"),
        ("pair_gaps", _zero, "out of order"),
        ("codes", _zero, "escapes do not match"),
        ("big_codes", lambda a: a[:0], "wrong shape"),
    ],
)
def test_arrays_that_do_not_decode_to_a_matrix_are_refused(
    tmp_path: Path, field: str, change: object, why: str
) -> None:
    m = _matrix(4)
    if why == "wrong shape":
        with pytest.raises(BlockError, match=why):
            _garbled(tmp_path, m, field, change)
        return
    packed = _garbled(tmp_path, m, field, change)
    with pytest.raises(BlockError, match=why):
        packed.gather(np.arange(m.shape[0]))
    with pytest.raises(BlockError, match=why):
        packed.whole()


def test_codes_and_columns_out_of_range_are_refused_when_opened_or_read(tmp_path: Path) -> None:
    m = _matrix(5)
    with pytest.raises(BlockError, match="columns out of range"):
        _garbled(tmp_path, m, "pair_gaps", lambda a: a + 5_000)
    with pytest.raises(BlockError, match="value codes out of range"):
        _garbled(tmp_path, m, "pair_codes", _zero)
    packed = _garbled(tmp_path, m, "escape_codes", _zero)
    with pytest.raises(BlockError, match="value codes out of range"):
        packed.check_all()
    with pytest.raises(BlockError, match="large codes is out of order"):
        _garbled(tmp_path, m, "big_at", lambda a: a[::-1].copy())

    def moved(a: np.ndarray) -> np.ndarray:  # one large code no longer where it is
        free = np.setdiff1d(np.arange(int(a.max())), a)
        return np.sort(np.concatenate((a[1:], free[:1])))

    packed = _garbled(tmp_path, m, "big_at", moved)
    with pytest.raises(BlockError, match="large code is missing"):
        packed.whole()
    packed = _garbled(tmp_path, m, "escape_cols", lambda a: a + 10_000)
    with pytest.raises(BlockError, match="columns out of range"):
        packed.gather(np.arange(m.shape[0]))
