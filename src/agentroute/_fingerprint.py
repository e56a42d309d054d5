"""Whether a cache was built from the agent files as they are now, reading as few as possible.

A cache stores the :class:`Fingerprint` of the files it was built from; :class:`CatalogFiles`
tells from the files' status (no file read) whether it still holds, and hashes only the
files whose status changed (see :mod:`agentroute._cache`).
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import os
import struct
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from agentroute._fs import Listing, open_regular, resolved_path, status_row
from agentroute._version import __version__

__all__ = [
    "RACY_NS",
    "CatalogFiles",
    "Fingerprint",
    "StoredFingerprint",
    "catalog_key",
    "code_fingerprint",
]


@functools.cache
def code_fingerprint() -> str:
    """SHA-256 of the package's own source: a cache written by other code (a
    development checkout between releases) never counts as fresh, even when the
    version string is the same."""
    h = hashlib.sha256()
    package = Path(__file__).resolve().parent
    for source in sorted(package.glob("*.py")):
        h.update(source.name.encode())
        h.update(source.read_bytes())
    return h.hexdigest()


def _options(strict: bool, max_bytes: int) -> bytes:
    # The library's code covers the cache's format too: a new format is new code.
    return json.dumps([__version__, code_fingerprint(), strict, max_bytes]).encode()


# A file changed less than this before its status was read may change again without its
# times moving (file systems keep times in ticks of up to a second or two, FAT two
# seconds): its status is not trusted, so it is hashed on every read (git's "racy" files).
RACY_NS = 2_000_000_000
_STAT_FIELDS = 5  # size, mtime_ns, ctime_ns, inode, device
_UNTRUSTED_STAT = (-1,) * _STAT_FIELDS
# How a fingerprint is stored: this line, a JSON header line, then four parts (see
# Fingerprint.to_bytes). The older JSON form is not read: a cache holding it is rebuilt.
_MAGIC = b"agentroute-fingerprint 2\n"
_MASK = (1 << 64) - 1
# The header line is short (options, count, four sizes): it is looked for this far.
_MAX_HEAD = 512


def _stat_row(st: os.stat_result) -> tuple[int, ...]:
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)


def _pack(rows: Sequence[tuple[int, ...]]) -> bytes:
    """The status rows as little-endian 64-bit integers (two's complement, so that an
    inode or device number above 2**63 is stored too; it reads back negative, and the
    file is then hashed again: never wrongly trusted)."""
    flat = list(itertools.chain.from_iterable(rows))
    try:
        return struct.pack(f"<{len(flat)}q", *flat)
    except struct.error:
        return struct.pack(f"<{len(flat)}Q", *(v & _MASK for v in flat))


def _joined(paths: Sequence[str]) -> bytes:
    """Paths as file-system bytes, NUL-separated (no path holds a NUL)."""
    return os.fsencode("\0".join(paths))


@dataclass(frozen=True, slots=True, kw_only=True)
class Fingerprint:
    """What the catalog key was computed from, and how to tell later that it still holds.

    Per agent file, in load order: its absolute path as spelled, its resolved path, the
    SHA-256 of its content (or ``unreadable:errno``) and the status it had when it was
    hashed (size, mtime_ns, ctime_ns, inode, device; all ``-1`` when not trusted, see
    :data:`RACY_NS`); and a digest of the loading options and the library's code.
    """

    options: str
    paths: tuple[str, ...]
    resolved: tuple[str, ...]
    hashes: tuple[str, ...]
    stats: tuple[tuple[int, ...], ...]

    def key(self) -> str:
        """The catalog key (see :func:`catalog_key`)."""
        h = hashlib.sha256(bytes.fromhex(self.options))
        for resolved, content in zip(self.resolved, self.hashes, strict=True):
            h.update(json.dumps([resolved, content]).encode())
            h.update(b"\n")
        return h.hexdigest()

    def to_bytes(self) -> bytes:
        """The stored form, which :class:`StoredFingerprint` reads: a magic line, a JSON
        line (options, count, the four parts' sizes), then the paths (file-system bytes,
        NUL-separated), the resolved paths (empty where a path resolves to its own
        spelling), the hashes (ASCII, NUL-separated) and the status rows (little-endian
        int64, five a file): a reader compares the paths and the statuses as two byte
        strings, without decoding 50,000 of anything."""
        paths = _joined(self.paths)
        resolved = _joined(
            [r if r != p else "" for r, p in zip(self.resolved, self.paths, strict=True)]
        )
        hashes = "\0".join(self.hashes).encode("ascii")
        stats = _pack(self.stats)
        head = {
            "options": self.options,
            "count": len(self.paths),
            "sizes": [len(paths), len(resolved), len(hashes), len(stats)],
        }
        line = json.dumps(head, separators=(",", ":")).encode("ascii") + b"\n"
        return _MAGIC + line + paths + resolved + hashes + stats


class StoredFingerprint:
    """A fingerprint as a cache stores it (:meth:`Fingerprint.to_bytes`), checked for
    shape when made and decoded whole only when asked (:meth:`fingerprint`).

    Raises
    ------
    ValueError
        When ``raw`` is not a fingerprint this library writes.
    """

    def __init__(
        self, raw: bytes | memoryview, *, check: Callable[[int, int], None] | None = None
    ) -> None:
        # A memoryview of the mapped cache is read in place: its parts are never copied.
        view = memoryview(raw).cast("B")
        # Bytes [a, b) are read only once check(a, b) returned (the cache's blocks that
        # hold them checked): the hashes, say, only when a file changed.
        self._check = check if check is not None else _unchecked
        self._check(0, min(len(view), len(_MAGIC) + _MAX_HEAD))
        if bytes(view[: len(_MAGIC)]) != _MAGIC:
            raise ValueError("not a fingerprint of this format")
        end = bytes(view[: len(_MAGIC) + _MAX_HEAD]).find(b"\n", len(_MAGIC))
        if end < 0:
            raise ValueError("the fingerprint has no header")
        head = json.loads(bytes(view[len(_MAGIC) : end]).decode("ascii"))
        sizes = head.get("sizes") if isinstance(head, dict) else None
        count = head.get("count") if isinstance(head, dict) else None
        if not (
            isinstance(head, dict)
            and isinstance(head.get("options"), str)
            and type(count) is int
            and count >= 0
            and isinstance(sizes, list)
            and len(sizes) == 4
            and all(type(n) is int and n >= 0 for n in sizes)
            and end + 1 + sum(sizes) == len(view)
            and sizes[3] == 8 * _STAT_FIELDS * count
        ):
            raise ValueError("the fingerprint's header is malformed")
        self.options: str = head["options"]
        self.count: int = count
        self._bounds = list(itertools.pairwise(itertools.accumulate(sizes, initial=end + 1)))
        self._parts = [view[a:b] for a, b in self._bounds]

    def _part(self, k: int) -> memoryview:
        self._check(*self._bounds[k])
        return self._parts[k]

    def vouches_for(self, absolute: bytes, stats: bytes) -> bool:
        """Whether these are the stored paths (:func:`_joined`) and statuses
        (:func:`_pack`): a status equal to a real one is never the untrusted row."""
        if len(self._parts[0]) != len(absolute) or len(self._parts[3]) != len(stats):
            return False
        return _same(self._part(0), absolute) and _same(self._part(3), stats)

    def fingerprint(self) -> Fingerprint:
        """The whole fingerprint, decoded and checked.

        Raises
        ------
        ValueError
            When a part does not hold one entry per file.
        """
        n = self.count
        paths = _split(self._part(0), n, "paths")
        resolved = _split(self._part(1), n, "resolved paths")
        hashes = _split(self._part(2), n, "hashes")
        flat = struct.unpack(f"<{_STAT_FIELDS * n}q", self._part(3).tobytes())
        stats = tuple(flat[k : k + _STAT_FIELDS] for k in range(0, len(flat), _STAT_FIELDS))
        if not all(paths) or not all(hashes) or not all(h.isascii() for h in hashes):
            raise ValueError("the fingerprint holds an empty path or hash")
        return Fingerprint(
            options=self.options,
            paths=tuple(paths),
            resolved=tuple(r or p for r, p in zip(resolved, paths, strict=True)),
            hashes=tuple(hashes),
            stats=stats,
        )


def _unchecked(_first: int, _stop: int) -> None:
    """A stored fingerprint's bytes read as they are (checked whole before, or not from a file)."""


# Compared this many bytes at a time (see _same).
_COMPARE_BYTES = 1 << 18


def _same(view: memoryview, data: bytes) -> bool:
    """``view == data``, a slice at a time as bytes: a memoryview's own comparison unpacks
    each byte (~15 ns a byte: 0.1 s for the paths and statuses of 50,000 files), and one
    copy of it all would be megabytes of fresh memory.

    >>> _same(memoryview(b"abc" * 100_000), b"abc" * 100_000)
    True
    >>> _same(memoryview(b"abc"), b"abd"), _same(memoryview(b"ab"), b"abc")
    (False, False)
    """
    if len(view) != len(data):
        return False
    whole = memoryview(data)
    return all(
        bytes(view[i : i + _COMPARE_BYTES]) == bytes(whole[i : i + _COMPARE_BYTES])
        for i in range(0, len(data), _COMPARE_BYTES)
    )


def _split(raw: memoryview, count: int, what: str) -> list[str]:
    """``count`` strings from NUL-separated file-system bytes."""
    parts = os.fsdecode(raw.tobytes()).split("\0") if count else []
    if len(parts) != count or (not count and raw):
        raise ValueError(f"the fingerprint's {what} do not match its count")
    return parts


class CatalogFiles:
    """The agent files of one call and whether a cache's :class:`Fingerprint` still
    describes them.

    A file counts as unchanged, without being read, when its absolute path and its
    status (size, mtime_ns, ctime_ns, inode, device, following links) equal those it
    had when it was hashed. What that relies on: any write, truncation, rename over
    it or ``utime`` sets the file's ctime to the current time, and ctime cannot be set
    back by an unprivileged user (only by changing the system clock); a file replaced
    by another has another inode, or another ctime. Status read within
    :data:`RACY_NS` of the file's last change is not trusted (a later change in the
    same clock tick would leave it equal). Any other file is hashed again and counts
    as unchanged when its content hash is the stored one (a ``touch`` rebuilds
    nothing). The paths, the options and the library's code must all be the same.

    ``files``: ``(path, shown)`` pairs in load order, or the walk's
    :class:`~agentroute._fs.Listing` of them (whose paths and statuses are then compared
    joined, without a string a file); ``stats``: the status of each file as the folder
    walk read it (following links; packed by :func:`~agentroute._fs.status_row`; None
    where it read none), so that telling whether the cache holds reads no status twice;
    ``absolute``: each path made absolute (``os.path.abspath``), when the walk knows them
    already.
    """

    def __init__(
        self,
        files: Sequence[tuple[str | os.PathLike[str], str]] | Listing,
        *,
        strict: bool,
        max_bytes: int,
        stats: Sequence[bytes | None] | None = None,
        absolute: Sequence[str] | None = None,
    ) -> None:
        self._listing = files if isinstance(files, Listing) else None
        self._files = None if isinstance(files, Listing) else files
        if stats is not None and len(stats) != len(files):
            raise ValueError("one status a file")
        if absolute is not None and len(absolute) != len(files):
            raise ValueError("one absolute path a file")
        self._count = len(files)
        self.max_bytes = max_bytes
        self.options = hashlib.sha256(_options(strict, max_bytes)).hexdigest()
        self._stats = stats
        self._absolute = absolute
        self._fingerprint: Fingerprint | None = None

    @property
    def files(self) -> Sequence[tuple[str | os.PathLike[str], str]]:
        """``(path, shown)`` pairs in load order."""
        if self._files is None:
            listing = cast("Listing", self._listing)
            self._files = tuple(zip(listing.paths, listing.shown, strict=True))
        return self._files

    def absolute(self) -> Sequence[str]:
        """Each file's absolute path as spelled, in load order."""
        if self._absolute is None:
            if self._listing is not None:
                self._absolute = self._listing.absolute
            else:
                self._absolute = [os.path.abspath(p) for p, _ in self.files]
        return self._absolute

    def _current_rows(self) -> bytes | None:
        """Each file's status now (the walk's where it read one), packed as the stored rows
        are (:func:`~agentroute._fs.status_row`); None when a file is gone."""
        if self._listing is not None and self._stats is None:
            joined = self._listing.joined_stats()
            if joined is not None:  # the usual case: the walk read every file's status
                return joined
            self._stats = self._listing.stats
        walked = self._stats if self._stats is not None else [None] * len(self.files)
        if all(walked):
            return b"".join(cast("Sequence[bytes]", walked))
        rows: list[bytes] = []
        for (path, _shown), row in zip(self.files, walked, strict=True):
            if row is None:
                try:
                    row = status_row(os.stat(path))
                except OSError:
                    return None
            rows.append(row)
        return b"".join(rows)

    def _joined_absolute(self) -> bytes:
        if self._listing is not None and self._absolute is None:
            return os.fsencode(self._listing.joined("absolute"))
        return _joined(self.absolute())

    def unchanged(self, known: StoredFingerprint) -> bool:
        """Whether ``known`` describes these files by their status alone (no file is read)."""
        if known.options != self.options or known.count != self._count:
            return False
        rows = self._current_rows()
        return rows is not None and known.vouches_for(self._joined_absolute(), rows)

    def fingerprint(self, known: Fingerprint | None = None) -> Fingerprint:
        """The files' fingerprint, hashing only those whose status is not that of ``known``
        (computed once)."""
        if self._fingerprint is not None:
            return self._fingerprint
        reuse: dict[str, tuple[tuple[int, ...], str, str]] = {}
        if known is not None and known.options == self.options:
            reuse = {
                p: (row, h, r)
                for p, row, h, r in zip(
                    known.paths, known.stats, known.hashes, known.resolved, strict=True
                )
                if row != _UNTRUSTED_STAT
            }
        racy = time.time_ns() - RACY_NS
        folders: dict[Path, str] = {}
        paths, resolved, hashes, stats = [], [], [], []
        for (path, _shown), spelled in zip(self.files, self.absolute(), strict=True):
            hit = reuse.get(spelled)
            row: tuple[int, ...] = _UNTRUSTED_STAT
            if hit is not None:
                try:
                    row = _stat_row(os.stat(path))
                except OSError:
                    row = _UNTRUSTED_STAT
            if hit is not None and row == hit[0]:
                content, where = hit[1], hit[2]
            else:
                row = _UNTRUSTED_STAT
                try:
                    with open_regular(Path(path)) as fh:
                        # The status of the file read, before reading it: a write meanwhile
                        # moves its ctime past what is stored.
                        row = _stat_row(os.fstat(fh.fileno()))
                        content = hashlib.sha256(fh.read(self.max_bytes + 1)).hexdigest()
                except OSError as exc:  # unreadable now: part of the key, so it reloads when fixed
                    content = f"unreadable:{exc.errno}"
                where = resolved_path(Path(path), folders)
                if row != _UNTRUSTED_STAT and max(row[1], row[2]) >= racy:
                    row = _UNTRUSTED_STAT
            paths.append(spelled)
            resolved.append(where)
            hashes.append(content)
            stats.append(row)
        self._fingerprint = Fingerprint(
            options=self.options,
            paths=tuple(paths),
            resolved=tuple(resolved),
            hashes=tuple(hashes),
            stats=tuple(stats),
        )
        return self._fingerprint

    def key(self, known: Fingerprint | None = None) -> str:
        """The catalog key (see :func:`catalog_key`)."""
        return self.fingerprint(known).key()


def catalog_key(files: Sequence[tuple[Path, str]], *, strict: bool, max_bytes: int) -> str:
    """SHA-256 over every agent file's resolved path and content hash (contents, not
    times: a file rewritten within the same second, or restored with its old time,
    still counts as changed), and the loading options.

    Resolved paths, not paths as spelled: ``.claude/agents`` and its absolute
    spelling share one cache file (:func:`cache_file`) and must agree on whether
    it is fresh. The paths as spelled are stored beside and mapped on reading.
    A cache stores the :class:`Fingerprint` the key came from, so that a later call
    hashes only the files whose status changed (:class:`CatalogFiles`).
    """
    return CatalogFiles(files, strict=strict, max_bytes=max_bytes).key()
