"""Block files: arrays mapped, each block checked when first read; damage refused, never used."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentroute import _blocks
from agentroute._blocks import ALIGN, BLOCK_BYTES, BlockError, BlockFile, MappedCsr, write_blocks
from agentroute._index import Csr


def opened(path: Path) -> BlockFile:
    with path.open("rb") as fh:
        return BlockFile(fh, str(path))


def flip(path: Path, at: int) -> None:
    raw = bytearray(path.read_bytes())
    raw[at] ^= 0xFF
    path.write_bytes(bytes(raw))


ARRAYS = {
    "floats": np.linspace(0.0, 1.0, 10_001),
    "ids": np.arange(50_000, dtype=np.uint16),
    "words": np.array([b"api\x01", b"go\x01", b"rest api\x01"], dtype="S16"),
    "digests": np.arange(64, dtype=np.uint8).reshape(4, 16),
    "empty": np.zeros(0, dtype=np.int64),
}


def test_arrays_and_meta_come_back_aligned(tmp_path: Path) -> None:
    path = tmp_path / "f.blocks"
    write_blocks(path, ARRAYS, {"format": "x", "n": [1, 2]})
    blocks = opened(path)
    assert blocks.meta == {"format": "x", "n": [1, 2]}
    assert blocks.names == set(ARRAYS)
    for name, a in ARRAYS.items():
        got = blocks.array(name)
        assert got.dtype == a.dtype and np.array_equal(got, a), name
        assert not got.flags.writeable or got.size == 0
    assert all(e.offset % ALIGN == 0 for e in blocks._entries.values())
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left


def test_a_block_is_checked_once_and_only_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "f.blocks"
    write_blocks(path, ARRAYS, None)
    blocks = opened(path)
    per_block = BLOCK_BYTES // 8
    assert blocks.check("floats", 3 * per_block + 1, 3 * per_block + 5) == [3]
    assert blocks.check("floats", 3 * per_block, 4 * per_block) == []  # checked already
    assert blocks.check("floats", [0, 2 * per_block], [1, 2 * per_block + 1]) == [0, 2]
    assert blocks.check("floats", 5, 5) == []  # an empty range reads nothing


def test_a_damaged_block_is_refused_when_read_and_the_others_still_serve(tmp_path: Path) -> None:
    path = tmp_path / "f.blocks"
    write_blocks(path, ARRAYS, None)
    offset = opened(path)._entries["floats"].offset
    flip(path, offset + BLOCK_BYTES + 3)  # in block 1
    blocks = opened(path)  # the table is sound: opening does not read the arrays
    assert blocks.check("floats", 0, 10) == [0]
    with pytest.raises(BlockError, match=r"array 'floats', block 1 does not match its checksum"):
        blocks.check("floats", BLOCK_BYTES // 8, BLOCK_BYTES // 8 + 1)
    with pytest.raises(BlockError, match="block 1"):
        blocks.array("floats")


def test_a_truncated_file_is_refused_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "f.blocks"
    write_blocks(path, ARRAYS, None)
    path.write_bytes(path.read_bytes()[: path.stat().st_size - 100])
    with pytest.raises(BlockError, match=r"ends past the end of the file.*truncated"):
        opened(path)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda raw: b"PK\x03\x04" + raw[4:], "not an agentroute block file"),
        (lambda raw: raw[:8] + (2**40).to_bytes(8, "little") + raw[16:], "refused before"),
        (lambda raw: raw[:30] + bytes([raw[30] ^ 0xFF]) + raw[31:], "table checksum mismatch"),
        (lambda raw: raw[:10], "not an agentroute block file"),
        (lambda raw: b"", "not an agentroute block file"),
    ],
    ids=["zip", "huge-table", "table-bit", "cut-head", "empty"],
)
def test_a_damaged_head_or_table_is_refused(tmp_path: Path, damage: object, message: str) -> None:
    path = tmp_path / "f.blocks"
    write_blocks(path, ARRAYS, None)
    path.write_bytes(damage(path.read_bytes()))  # type: ignore[operator]
    with pytest.raises(BlockError, match=message):
        opened(path)


def _planted(tmp_path: Path, entry: object) -> Path:
    """A file whose (checksummed) table declares ``entry`` for one array."""
    import json
    import zlib

    table = json.dumps({"meta": None, "arrays": {"a": entry}}).encode()
    head = (
        _blocks.MAGIC + len(table).to_bytes(8, "little") + zlib.crc32(table).to_bytes(4, "little")
    )
    path = tmp_path / "planted.blocks"
    path.write_bytes(head + table + bytes(4096))
    return path


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ([0, "|O8", [4], [0]], "not a plain number"),
        ([0, "<V8", [4], [0]], "not a plain number"),
        ([0, "made-up", [4], [0]], "unknown dtype"),
        ([3, "<f8", [4], [0]], "bad offset"),
        ([0, "<f8", [-4], [0]], "bad shape"),
        ([0, "<f8", [10**9], [0]], "ends past the end"),
        ([0, "<f8", [4], []], "0 checksums for 32 bytes"),
        ("not a list", "malformed table entry"),
    ],
    ids=["objects", "void", "unknown", "unaligned", "negative", "past-end", "no-crc", "entry"],
)
def test_a_hostile_table_entry_is_refused(tmp_path: Path, entry: object, message: str) -> None:
    with pytest.raises(BlockError, match=message):
        opened(_planted(tmp_path, entry))


def test_objects_are_never_written(tmp_path: Path) -> None:
    evil = np.empty(1, dtype=object)
    with pytest.raises(ValueError, match="cannot be stored"):
        write_blocks(tmp_path / "f.blocks", {"a": evil}, None)
    assert list(tmp_path.iterdir()) == []


# -- matrices ---------------------------------------------------------------------------------


def _matrix(rows: int, cols: int, density: float, seed: int) -> Csr:
    import scipy.sparse as sp

    m = sp.random(rows, cols, density=density, format="csr", random_state=seed, dtype=np.float64)
    m.sort_indices()
    return Csr.from_scipy(m)


def _mapped(tmp_path: Path, m: Csr, name: str = "m") -> MappedCsr:
    path = tmp_path / f"{name}.blocks"
    arrays = {f"{name}.data": m.data, f"{name}.indices": m.indices, f"{name}.indptr": m.indptr}
    write_blocks(path, arrays, None)
    return MappedCsr(opened(path), name, m.shape, valid=lambda v: bool(np.all(v >= 0)))


@settings(max_examples=25, deadline=None)
@given(
    rows=st.integers(1, 60),
    cols=st.integers(1, 3000),
    density=st.floats(0.0, 0.3),
    seed=st.integers(0, 2**16),
    data=st.data(),
)
def test_a_mapped_matrix_reads_as_the_plain_one(
    tmp_path_factory: pytest.TempPathFactory,
    rows: int,
    cols: int,
    density: float,
    seed: int,
    data: st.DataObject,
) -> None:
    m = _matrix(rows, cols, density, seed)
    mapped = _mapped(tmp_path_factory.mktemp("m"), m)
    wanted = np.array(data.draw(st.lists(st.integers(0, rows - 1), max_size=8)), dtype=np.int64)
    at = np.array(
        data.draw(st.lists(st.integers(0, cols - 1), min_size=wanted.size, max_size=wanted.size)),
        dtype=np.int64,
    )
    for got, plain in zip(mapped.gather(wanted), m.gather(wanted), strict=True):
        assert np.array_equal(got, plain)
    assert np.array_equal(mapped.positions(wanted, at), m.positions(wanted, at))
    assert np.array_equal(mapped.pairs(wanted, at), m.pairs(wanted, at))
    if wanted.size:
        assert np.array_equal(mapped.lookup(wanted, int(at[0])), m.lookup(wanted, int(at[0])))
    assert mapped.nnz == m.nnz
    whole = mapped.whole()
    assert np.array_equal(whole.data, m.data) and np.array_equal(whole.indptr, m.indptr)
    again = pickle.loads(pickle.dumps(mapped))  # a plain matrix, for worker processes
    assert type(again) is Csr and np.array_equal(again.indices, m.indices)


def test_a_mapped_matrix_checks_only_the_rows_it_reads(tmp_path: Path) -> None:
    m = _matrix(400, 5000, 0.05, 1)  # ~100,000 entries: several blocks of each array
    path = tmp_path / "m.blocks"
    bad = m.indices.copy()
    last = int(m.indptr[-2])
    bad[last] = 6000  # past the width, in the last row; the checksum written matches
    write_blocks(path, {"m.data": m.data, "m.indices": bad, "m.indptr": m.indptr}, None)
    mapped = MappedCsr(opened(path), "m", m.shape, valid=lambda v: True)
    cols, _, _ = mapped.gather(np.array([0, 1], dtype=np.int64))  # far from the damage
    assert np.array_equal(cols, m.gather(np.array([0, 1]))[0])
    with pytest.raises(BlockError, match="column indices out of range"):
        mapped.gather(np.array([399], dtype=np.int64))
    with pytest.raises(BlockError, match="column indices out of range"):
        mapped.to_scipy()


def test_values_out_of_range_in_a_row_read_are_refused(tmp_path: Path) -> None:
    m = _matrix(20, 50, 0.3, 2)
    data = m.data.copy()
    data[0] = -1.0
    path = tmp_path / "m.blocks"
    write_blocks(path, {"m.data": data, "m.indices": m.indices, "m.indptr": m.indptr}, None)
    mapped = MappedCsr(opened(path), "m", m.shape, valid=lambda v: bool(np.all(v >= 0)))
    with pytest.raises(BlockError, match="values out of range"):
        mapped.gather(np.array([0], dtype=np.int64))


def test_row_pointers_that_do_not_add_up_are_refused_when_mapped(tmp_path: Path) -> None:
    m = _matrix(20, 50, 0.3, 3)
    indptr = m.indptr.copy()
    indptr[-1] += 1
    path = tmp_path / "m.blocks"
    write_blocks(path, {"m.data": m.data, "m.indices": m.indices, "m.indptr": indptr}, None)
    with pytest.raises(BlockError, match="row pointers"):
        MappedCsr(opened(path), "m", m.shape, valid=lambda v: True)
