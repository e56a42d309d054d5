"""Whether a cache was built from the agent files as they are now, reading as few as possible.

A cache stores the :class:`Fingerprint` of the files it was built from; :class:`CatalogFiles`
tells from the files' status (no file read) whether it still holds, and hashes only the
files whose status changed (see :mod:`agentroute._cache`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from agentroute._fs import open_regular, resolved_path
from agentroute._version import __version__

__all__ = ["RACY_NS", "CatalogFiles", "Fingerprint", "catalog_key", "code_fingerprint"]


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


def _stat_row(st: os.stat_result) -> tuple[int, ...]:
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)


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

    def to_json(self) -> bytes:
        doc = {
            "options": self.options,
            "paths": list(self.paths),
            # Most files resolve to their own spelling: stored once.
            "resolved": [
                r if r != p else None for r, p in zip(self.resolved, self.paths, strict=True)
            ],
            "hashes": list(self.hashes),
            "stats": [list(s) for s in self.stats],
        }
        return json.dumps(doc, ensure_ascii=True, separators=(",", ":")).encode("ascii")

    @classmethod
    def from_json(cls, raw: bytes) -> Fingerprint:
        """The fingerprint :meth:`to_json` wrote; ValueError when it is malformed."""
        doc = json.loads(raw.decode("ascii"))
        if not isinstance(doc, dict) or not isinstance(doc.get("options"), str):
            raise ValueError("the fingerprint is not an object")
        paths, resolved, hashes, stats = (
            doc.get(k) for k in ("paths", "resolved", "hashes", "stats")
        )
        if not (
            isinstance(paths, list)
            and isinstance(resolved, list)
            and isinstance(hashes, list)
            and isinstance(stats, list)
            and len(paths) == len(resolved) == len(hashes) == len(stats)
            and set(map(type, paths)) <= {str}
            and set(map(type, hashes)) <= {str}
            and set(map(type, resolved)) <= {str, type(None)}
            and all(
                isinstance(s, list) and len(s) == _STAT_FIELDS and set(map(type, s)) <= {int}
                for s in stats
            )
        ):
            raise ValueError("the fingerprint is malformed")
        return cls(
            options=doc["options"],
            paths=tuple(paths),
            resolved=tuple(p if r is None else r for r, p in zip(resolved, paths, strict=True)),
            hashes=tuple(hashes),
            stats=tuple(map(tuple, stats)),
        )


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
    """

    def __init__(self, files: Sequence[tuple[Path, str]], *, strict: bool, max_bytes: int) -> None:
        self.files = files
        self.max_bytes = max_bytes
        self.options = hashlib.sha256(_options(strict, max_bytes)).hexdigest()
        self._fingerprint: Fingerprint | None = None

    def unchanged(self, known: Fingerprint) -> bool:
        """Whether ``known`` describes these files by their status alone (no file is read)."""
        if known.options != self.options or len(known.paths) != len(self.files):
            return False
        for (path, _shown), spelled, row in zip(self.files, known.paths, known.stats, strict=True):
            if row == _UNTRUSTED_STAT or os.path.abspath(path) != spelled:
                return False
            try:
                if _stat_row(os.stat(path)) != row:
                    return False
            except OSError:
                return False
        return True

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
        for path, _shown in self.files:
            spelled = os.path.abspath(path)
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
                    with open_regular(path) as fh:
                        # The status of the file read, before reading it: a write meanwhile
                        # moves its ctime past what is stored.
                        row = _stat_row(os.fstat(fh.fileno()))
                        content = hashlib.sha256(fh.read(self.max_bytes + 1)).hexdigest()
                except OSError as exc:  # unreadable now: part of the key, so it reloads when fixed
                    content = f"unreadable:{exc.errno}"
                where = resolved_path(path, folders)
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
