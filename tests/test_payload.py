"""The names, files and triggers a cache stores as arrays: read back as written, every
part checked, each agent's surfaces decoded only when read."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentroute._errors import IndexFormatError
from agentroute._payload import payload_arrays, read_payload

_TEXT = st.text(st.characters(blacklist_characters="\0"), min_size=1, max_size=12)


def small() -> dict[str, np.ndarray]:
    return payload_arrays(
        ["a", "b"],
        ["x/a.md", "x/b.md"],
        {"helm": (0, 1), "pods": (1,)},
        {"helm": 0.5, "pods": 1.0},
        [{"helm": "Helm"}, {"helm": "helm", "pods": "Pods"}],
    )


@given(st.lists(_TEXT, min_size=1, max_size=6, unique=True), st.data())
def test_what_is_written_reads_back(names: list[str], data: st.DataObject) -> None:
    n = len(names)
    keys = data.draw(st.lists(_TEXT, max_size=5, unique=True))
    triggers = {k: tuple(data.draw(st.lists(st.integers(0, n - 1), max_size=3))) for k in keys}
    weights = {k: data.draw(st.floats(0, 1)) for k in keys}
    surfaces = [data.draw(st.dictionaries(_TEXT, _TEXT, max_size=3)) for _ in names]
    files = [f"dir/{name}.md" for name in names]
    got = read_payload(payload_arrays(names, files, triggers, weights, surfaces), n, 1.0, "c")
    assert got.names == tuple(names)
    assert got.triggers == triggers and list(got.triggers) == keys
    assert got.weights == weights
    assert list(got.surfaces) == surfaces
    assert got.files_as(files) == {}
    assert got.files_as([f"/abs/{f}" for f in files]) == {f: f"/abs/{f}" for f in files}


def test_a_name_that_is_not_utf8_on_disk_round_trips() -> None:
    odd = "caf\udce9"  # a file name that is not UTF-8, as os.fsdecode gives it
    arrays = payload_arrays([odd], [odd + ".md"], {}, {}, [{}])
    got = read_payload(arrays, 1, 1.0, "c")
    assert got.names == (odd,) and got.files_as([odd + ".md"]) == {}


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"trigger_owners": np.array([0, 2, 1], dtype=np.int32)}, "owners out of range"),
        ({"trigger_owners": np.array([0, -1, 1], dtype=np.int32)}, "owners out of range"),
        ({"trigger_owners": np.array([0, 1, 1], dtype=np.int64)}, "owners out of range"),
        ({"trigger_weights": np.array([np.nan, 1.0])}, "trigger weight"),
        ({"trigger_weights": np.array([0.5, 2.0])}, "trigger weight"),
        ({"trigger_ends": np.array([2, 4], dtype=np.int64)}, "ends of the trigger owners"),
        ({"trigger_ends": np.array([3, 2], dtype=np.int64)}, "ends of the trigger owners"),
        ({"trigger_keys": np.frombuffer(b"helm\0helm", dtype=np.uint8)}, "stored twice"),
        ({"trigger_keys": np.frombuffer(b"helm", dtype=np.uint8)}, "trigger keys do not hold"),
        ({"names": np.frombuffer(b"a", dtype=np.uint8)}, "names do not hold 2"),
        ({"surface_ends": np.array([5], dtype=np.int64)}, "surfaces"),
    ],
)
def test_a_malformed_part_is_refused(change: dict[str, np.ndarray], match: str) -> None:
    arrays = {**small(), **change}
    with pytest.raises(ValueError, match=match):
        read_payload(arrays, 2, 1.0, "cache.npz")


def test_a_malformed_surface_is_refused_when_it_is_read() -> None:
    arrays = small()
    blob = bytearray(arrays["surfaces"].tobytes())
    blob[1] = ord("{")  # agent 0's list, now broken JSON; agent 1's untouched
    arrays["surfaces"] = np.frombuffer(bytes(blob), dtype=np.uint8)
    got = read_payload(arrays, 2, 1.0, "cache.npz")
    assert got.surfaces[1] == {"helm": "helm", "pods": "Pods"}
    with pytest.raises(IndexFormatError, match=r"cache\.npz: the trigger surfaces of agent 0"):
        got.surfaces[0]
    with pytest.raises(IndexError):
        got.surfaces[2]
