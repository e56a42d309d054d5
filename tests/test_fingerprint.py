"""Whether a cache still describes the agent files: by their status, read once, and never
trusted for a file whose status cannot tell an edit (changed in the clock tick it was read in)."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentroute import Router, _fingerprint, _pipeline
from agentroute._cache import StaleCache
from agentroute._fingerprint import CatalogFiles, Fingerprint, StoredFingerprint
from agentroute._fs import list_files, status_row
from agentroute._router import default_catalog_path


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    folder = tmp_path / "agents"
    shutil.copytree(default_catalog_path(), folder)
    return folder


def trusting_stats(monkeypatch: pytest.MonkeyPatch) -> None:
    """Trust the status of files changed just now (the tests write them a moment before)."""
    monkeypatch.setattr(_fingerprint, "RACY_NS", -(10**12))


def edit_in_place(target: Path) -> None:
    """Change ``target``'s bytes, keeping its size, inode and mtime (the ctime moves)."""
    before = target.stat()
    text = target.read_bytes()
    edited = text.replace(b"description: ", b"description: Zebras ", 1)[: len(text)]
    assert len(edited) == len(text) and edited != text
    time.sleep(0.05)  # past the file system's clock tick
    with open(target, "r+b") as fh:  # the same inode: no rename, no new file
        fh.write(edited)
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = target.stat()
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (
        before.st_size,
        before.st_mtime_ns,
        before.st_ino,
    )


def catalog_files(found: _pipeline.Found) -> CatalogFiles:
    return _pipeline.cache_slot(found, Path("unused")).catalog


# -- the hook's steps ----------------------------------------------------------------------------


def test_an_in_place_edit_of_the_same_size_and_mtime_is_noticed_by_the_hook_steps(
    catalog: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The steps a warm hook takes (find, slot, lazy read) with the walk's status reused:
    a same-size edit whose mtime was put back is caught by its ctime."""
    trusting_stats(monkeypatch)
    folder = tmp_path / "cache"
    Router.from_path(catalog, cache=folder)
    found = _pipeline.find(catalog)
    _pipeline.read_cached(found, _pipeline.cache_slot(found, folder), lazy=True)  # fresh
    edit_in_place(sorted(catalog.glob("*.md"))[0])
    found = _pipeline.find(catalog)
    with pytest.raises(StaleCache):
        _pipeline.read_cached(found, _pipeline.cache_slot(found, folder), lazy=True)
    rebuilt = Router.from_path(catalog, cache=folder)
    assert any("Zebras" in a.description for a in rebuilt.agents)


def test_the_hook_steps_read_each_files_status_once(
    catalog: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The walk read every file's status: telling the cache is fresh reads none again."""
    trusting_stats(monkeypatch)
    folder = tmp_path / "cache"
    Router.from_path(catalog, cache=folder)
    found = _pipeline.find(catalog)

    real, agent_files = os.stat, {os.path.abspath(p) for p in found.listing.paths}

    def refuse(path: str, *args: bool, **kwargs: bool) -> os.stat_result:
        if os.path.abspath(path) in agent_files:
            raise AssertionError(f"a status read twice: {path}")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", refuse)
    built = _pipeline.read_cached(found, _pipeline.cache_slot(found, folder), lazy=True)
    assert len(built.agents) == len(found.shown)


# -- a status that cannot tell an edit -------------------------------------------------------------


def test_a_file_changed_in_the_tick_it_was_fingerprinted_is_never_vouched_for(
    catalog: Path,
) -> None:
    """On a file system whose times move in coarse ticks, an edit right after the status was
    read can leave the status equal. Such a status is stored untrusted, so even a walk that
    sees the very same status (the times did not move) hashes the file again."""
    target = sorted(catalog.glob("*.md"))[0]
    target.write_bytes(target.read_bytes())  # changed just now
    found = _pipeline.find(catalog)
    written = catalog_files(found).fingerprint()
    stored = StoredFingerprint(written.to_bytes())
    edit_in_place(target)
    # The walk's status as it was before the edit: a clock that did not tick.
    same = catalog_files(found)
    assert not same.unchanged(stored)
    assert same.key(stored.fingerprint()) != written.key()


def test_with_trust_forced_an_unmoved_status_is_all_that_is_compared(
    catalog: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the racy rule protects against: trusted, an equal status vouches for a file."""
    trusting_stats(monkeypatch)
    found = _pipeline.find(catalog)
    stored = StoredFingerprint(catalog_files(found).fingerprint().to_bytes())
    edit_in_place(sorted(catalog.glob("*.md"))[0])
    assert catalog_files(found).unchanged(stored)  # the old status, given by the walk
    assert not catalog_files(_pipeline.find(catalog)).unchanged(stored)  # read again


def test_a_renamed_or_added_file_is_noticed(catalog: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    trusting_stats(monkeypatch)
    stored = StoredFingerprint(catalog_files(_pipeline.find(catalog)).fingerprint().to_bytes())
    first = sorted(catalog.glob("*.md"))[0]
    first.rename(first.with_name("zz-" + first.name))
    assert not catalog_files(_pipeline.find(catalog)).unchanged(stored)
    shutil.copy(catalog / ("zz-" + first.name), first)
    assert not catalog_files(_pipeline.find(catalog)).unchanged(stored)


# -- the stored form -------------------------------------------------------------------------

_PATHS = st.lists(
    st.text(st.characters(blacklist_characters="\0", blacklist_categories=("Cs",)), min_size=1),
    max_size=5,
)


@given(_PATHS, st.data())
def test_the_stored_form_gives_the_fingerprint_back(paths: list[str], data: st.DataObject) -> None:
    n = len(paths)
    resolved = data.draw(st.lists(st.sampled_from([*paths, "/elsewhere"]), min_size=n, max_size=n))
    hashes = data.draw(
        st.lists(st.sampled_from(["ab" * 32, "unreadable:13"]), min_size=n, max_size=n)
    )
    row = st.one_of(
        st.just((-1,) * 5),
        st.tuples(*[st.integers(-(2**63), 2**63 - 1)] * 5),
    )
    stats = data.draw(st.lists(row, min_size=n, max_size=n))
    fp = Fingerprint(
        options="00" * 32,
        paths=tuple(paths),
        resolved=tuple(resolved),
        hashes=tuple(hashes),
        stats=tuple(stats),
    )
    back = StoredFingerprint(fp.to_bytes()).fingerprint()
    assert back == fp and back.key() == fp.key()


def test_a_status_number_past_int64_is_stored_and_never_matches() -> None:
    """An inode above 2**63 (some network file systems) is stored wrapped: it reads back
    unequal, so the file is hashed again rather than wrongly trusted."""
    big = (10, 1, 2, 2**63 + 5, 7)
    fp = Fingerprint(options="00", paths=("/a",), resolved=("/a",), hashes=("x",), stats=(big,))
    back = StoredFingerprint(fp.to_bytes()).fingerprint()
    assert back.stats[0][:3] == big[:3] and back.stats[0] != big


def test_a_file_name_that_is_not_utf8_round_trips(tmp_path: Path) -> None:
    name = os.fsdecode(b"caf\xe9.md")
    fp = Fingerprint(
        options="00", paths=(name,), resolved=(name,), hashes=("x",), stats=((1,) * 5,)
    )
    assert StoredFingerprint(fp.to_bytes()).fingerprint() == fp


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        (b'{"options":"00","paths":[]}', "not a fingerprint of this format"),
        (_fingerprint._MAGIC + b'{"options":"00","count":1,"sizes":[1,0,1,40]}', "header"),
        (_fingerprint._MAGIC + b"[]\n", "header"),
        (_fingerprint._MAGIC, "no header"),
    ],
)
def test_a_malformed_stored_form_is_refused(raw: bytes, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        StoredFingerprint(raw)


def test_parts_that_do_not_hold_one_entry_a_file_are_refused() -> None:
    fp = Fingerprint(
        options="00",
        paths=("/a", "/b"),
        resolved=("/a", "/b"),
        hashes=("x", "y"),
        stats=((1,) * 5,) * 2,
    )
    raw = fp.to_bytes().replace(b"/a\0/b", b"/a/b\0")  # the same size, one NUL moved
    with pytest.raises(ValueError, match="paths do not match"):
        StoredFingerprint(raw.replace(b"/a/b\0", b"/a/bb")).fingerprint()
    with pytest.raises(ValueError, match="empty path"):
        StoredFingerprint(raw).fingerprint()


def test_the_walks_status_and_absolute_paths_are_the_files_own(
    catalog: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(catalog.parent)
    for root in (Path(catalog.name), Path("."), catalog):
        listing = list_files(root)
        assert listing.paths
        for path, absolute, status in zip(
            listing.paths, listing.absolute, listing.stats, strict=True
        ):
            assert absolute == os.path.abspath(path)
            assert status == status_row(os.stat(path))


def test_a_stored_fingerprint_reads_its_hashes_only_when_decoded(
    catalog: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A warm call compares the stored paths and statuses; the hashes (a third of the
    bytes) are read, and their cache blocks checked, only when a file changed."""
    trusting_stats(monkeypatch)
    found = _pipeline.find(catalog)
    raw = catalog_files(found).fingerprint().to_bytes()
    read: list[tuple[int, int]] = []
    stored = StoredFingerprint(raw, check=lambda a, b: read.append((a, b)))
    assert catalog_files(found).unchanged(stored)
    head = raw.index(b"\n", raw.index(b"\n") + 1) + 1
    sizes = json.loads(raw[raw.index(b"\n") + 1 : head])["sizes"]
    hashes = (head + sizes[0] + sizes[1], head + sizes[0] + sizes[1] + sizes[2])
    assert read and all(b <= hashes[0] or a >= hashes[1] for a, b in read)
    stored.fingerprint()
    assert hashes in read

    def refuse(a: int, b: int) -> None:
        raise ValueError("a damaged block")

    with pytest.raises(ValueError, match="a damaged block"):
        StoredFingerprint(raw, check=refuse)
