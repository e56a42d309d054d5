"""The file system, safely: only regular files are opened, paths resolve once, a missing
path is an error that names it."""

from __future__ import annotations

import errno
import tracemalloc
from pathlib import Path

import pytest

from agentroute import CatalogNotFoundError, _fs
from agentroute._fs import (
    Listing,
    as_paths,
    discover,
    list_files,
    open_regular,
    resolved_path,
    status_row,
)


def test_open_regular_reads_a_file_and_refuses_a_folder(tmp_path: Path) -> None:
    f = tmp_path / "a.md"
    f.write_bytes(b"---\nname: a\n---\n")
    with open_regular(f) as fh:
        assert fh.read() == b"---\nname: a\n---\n"
    with pytest.raises(OSError) as err:
        open_regular(tmp_path)
    assert err.value.errno == errno.EINVAL


def test_as_paths_takes_one_path_or_a_sequence_of_them(tmp_path: Path) -> None:
    assert as_paths(str(tmp_path)) == [tmp_path]
    assert as_paths([tmp_path, "b"]) == [tmp_path, Path("b")]
    with pytest.raises(TypeError, match="paths must be a path or a sequence of paths, got int"):
        as_paths(3)  # type: ignore[arg-type]


def test_a_file_in_a_linked_folder_resolves_where_it_lives(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (real / "a.md").write_text("x")
    (tmp_path / "link").symlink_to(real, target_is_directory=True)
    folders: dict[Path, str] = {}
    for spelled in (tmp_path / "link" / "a.md", real / "a.md"):
        assert resolved_path(spelled, folders) == str((real / "a.md").resolve())


def test_discover_names_a_path_that_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(CatalogNotFoundError, match="missing: no such file or folder"):
        discover(tmp_path / "missing")


def test_discover_lists_a_folder_sorted_and_a_file_once(tmp_path: Path) -> None:
    for name in ("b.md", "a.md", "README.md"):
        (tmp_path / name).write_text("---\nname: x\n---\n")
    files, diagnostics = discover([tmp_path, tmp_path / "a.md"])
    assert [shown.rsplit("/", 1)[1] for _, shown in files] == ["a.md", "b.md"]
    assert [d.kind for d in diagnostics] == ["not-an-agent"]


def test_a_folder_swapped_for_a_link_after_its_check_is_not_followed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The race the link check cannot close: a sub-folder replaced by a link between the
    # check and the listing (simulated by a check that sees no link). The listing opens
    # the folder without following a link, so the files it leads to are not listed.
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.md").write_text("---\nname: secret\n---\n")
    root = tmp_path / "root"
    root.mkdir()
    (root / "a.md").write_text("---\nname: a\n---\n")
    (root / "sub").symlink_to(outside, target_is_directory=True)
    monkeypatch.setattr("os.path.islink", lambda _path: False)
    files, _ = discover(root)
    assert [shown.rsplit("/", 1)[1] for _, shown in files] == ["a.md"]


def test_a_listing_keeps_a_few_hundred_bytes_a_file(tmp_path: Path) -> None:
    # A warm hook lists 50,000 files on every prompt: the status object of each (~650
    # bytes) was a third of what the walk kept. Only the numbers compared with a cache
    # are kept (status_row), packed.
    for i in range(2_000):
        (tmp_path / f"agent-{i:05d}.md").write_text("x")
    tracemalloc.start()
    try:
        listing = list_files(tmp_path)
        kept, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(listing.paths) == 2_000
    assert listing.stats[0] == status_row((tmp_path / "agent-00000.md").stat())
    # A folder's files are kept as their paths below it and their rows (~150 bytes a file
    # here); the three per-file spellings are built only when asked for (they were ~420).
    assert kept / 2_000 < 250


def _tree(root: Path) -> None:
    for rel in ("a.md", "b-c.md", "b/x.md", "b/y/z.md", "b.md", "c/README.md", "c/d.markdown"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("---\nname: x\n---\n")


def _columns(listing: Listing) -> tuple[object, ...]:
    return (listing.paths, listing.shown, listing.absolute, listing.stats, listing.diagnostics)


@pytest.mark.parametrize(
    "roots",
    [
        ["one"],
        ["one", "two"],
        ["one", "one/b"],  # nested: a file met twice is listed once
        ["one/b", "one"],
        ["one", "one"],
        ["one", "one/a.md", "two"],
        ["."],
    ],
)
def test_a_listing_is_the_same_listed_by_heads_or_file_by_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, roots: list[str]
) -> None:
    # Folders apart and without links are listed as a head and the paths below it (no
    # file can be met twice there); any other listing file by file, through a map that
    # drops the files met again. Both give the same files, spellings, statuses and order.
    _tree(tmp_path / "one")
    _tree(tmp_path / "two")
    monkeypatch.chdir(tmp_path / "one" if roots == ["."] else tmp_path)
    fast = list_files(roots)
    monkeypatch.setattr(_fs, "_nested", lambda _reals: True)  # always file by file
    slow = list_files(roots)
    assert _columns(fast) == _columns(slow)
    assert len(fast) == len(fast.paths) == len(set(fast.absolute))
    for which in ("paths", "shown", "absolute"):
        assert fast.joined(which) == "\0".join(getattr(fast, which))
        assert slow.joined(which) == "\0".join(getattr(slow, which))
    assert fast.joined_stats() == b"".join(fast.stats)  # type: ignore[arg-type]
    # Sorted by POSIX spelling below each root: "b-c.md" < "b.md" < "b/x.md".
    if roots == ["one"]:
        assert [p.split("one/", 1)[1] for p in fast.shown] == [
            "a.md",
            "b-c.md",
            "b.md",
            "b/x.md",
            "b/y/z.md",
            "c/d.markdown",
        ]


def test_a_linked_file_is_listed_once_where_it_is_first_met(tmp_path: Path) -> None:
    _tree(tmp_path / "one")
    (tmp_path / "one" / "aa.md").symlink_to(tmp_path / "one" / "b" / "x.md")
    listing = list_files(tmp_path / "one")
    assert [p.split("one/", 1)[1] for p in listing.shown] == [
        "a.md",
        "aa.md",
        "b-c.md",
        "b.md",
        "b/y/z.md",
        "c/d.markdown",
    ]
    assert listing.joined("shown") == "\0".join(listing.shown)
