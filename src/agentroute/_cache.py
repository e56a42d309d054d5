"""The on-disk index cache: arrays and JSON, checked before anything is trusted.

A cache file holds what :meth:`Router.from_path` would otherwise rebuild from the
agent files: the loaded records, the loader's diagnostics and the fitted
:class:`~agentroute._index.Index`. It is one NumPy ``.npz`` archive read with
``allow_pickle=False`` (so loading it cannot run code) holding

* ``header``: UTF-8 JSON ``{"format", "format_version", "library_version",
  "catalog_key", "checksum"}``;
* ``payload``: UTF-8 JSON of the diagnostics, agent names, triggers and the
  not-for table (:mod:`agentroute._negative`): what a decision reads besides the
  arrays, so routing decodes no record;
* ``records``: the full agent records, each deflated JSON of its own, one after
  the other; ``record_ends`` (``int64``) says where each ends and
  ``record_digests`` holds each one's BLAKE2b digest. A record is decoded, and its
  digest checked, only when it is asked for (:class:`Records`): the hook reads the
  one or two it names;
* the vocabularies as sorted fixed-width byte arrays (looked up by binary search,
  see :class:`~agentroute._index.Strings`), the index's vectors, and its sparse
  matrices as ``data``/``indices``/``indptr`` in their compact dtypes (``uint16``
  agent ids up to 65,536 agents, ``int32`` row pointers).

``checksum`` is the SHA-256 of the payload and of every vector, vocabulary and
record-index array (name, dtype, shape, bytes); each record has its digest. The
matrices, most of the file, are covered by the archive's CRC-32 of each member,
which reading them checks (a second SHA-256 pass over them found nothing more and
cost as much as the read). A file is used only when its format, format version,
library version, checksums and the catalog key (the content hashes of every agent
file, see :func:`catalog_key`; not recomputed from the files' contents when the
stored ``fingerprint`` member, its SHA-256 in the header as ``fingerprint_checksum``,
shows every file's status unchanged, see
:class:`CatalogFiles` for what that relies on), and every array has the dtype,
shape and index range the index needs; anything else raises :class:`IndexFormatError`
(corrupt, truncated, foreign, older) or :class:`StaleCache` (the agent files
changed), and the caller rebuilds.

The cache folder is private: it is created ``0700`` (whatever the umask), a folder
of the user's own that others may write (as 0.1 created them) is made ``go-w``, and
a folder that belongs to another user, or a file that belongs to another user or
that others may write, is neither read nor written (:class:`UntrustedCache`: a
``cache-untrusted`` diagnostic and a logging warning), since whoever can write it
chooses what the router (and the hook, in Claude's context) says. The file is opened
without following a link and without blocking, and must be a regular file; its
members' sizes are checked before anything is inflated
(:func:`agentroute._npz.load_npz`). Temporary files left by a write that was killed
are removed by the next write once they are :data:`STALE_TEMP_SECONDS` old.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import os
import re
import stat
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, overload

import numpy as np

from agentroute._errors import IndexFormatError
from agentroute._fs import DEFAULT_MAX_BYTES, open_regular, resolved_path
from agentroute._index import Csr, Index, IndexConfig, Strings, index_dtype, pointer_dtype
from agentroute._lexical import LEXICAL
from agentroute._load import clean_name
from agentroute._negative import table_from_parts, table_parts
from agentroute._npz import TEMP_PREFIX, NpzArchive, write_npz
from agentroute._signal import LexicalSignal, Stored
from agentroute._spec import AgentSpec, Diagnostic, spec_from_json, spec_to_json
from agentroute._version import __version__

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "CatalogFiles",
    "Fingerprint",
    "Records",
    "StaleCache",
    "UntrustedCache",
    "cache_dir",
    "cache_file",
    "catalog_key",
    "private_folder",
    "read_cache",
    "remove_stale_temps",
    "write_cache",
]

logger = logging.getLogger(__name__)

FORMAT = "agentroute-index-cache"
# Bump whenever what is stored, or what it means, changes.
# 3: compact dtypes, vocabularies as arrays, records deflated apart from the payload.
# 4: each record deflated alone (decoded when asked for), the not-for table stored.
# 5: the near-equivalents (``similar``) stored.
FORMAT_VERSION = 5

# The index's own arrays: the vocabulary and IDF the word signals share, the linter's head
# rows, the near-equivalents; each lexical signal names the arrays it reads
# (agentroute._lexical), and the cache stores them all by these descriptions.
_INDEX_ARRAYS = (
    Stored("feature_names", "vocabulary"),
    Stored("idf", "vector", np.float64, "feature_names"),
    Stored("unigram", "vector", np.float64, "feature_names"),
    Stored("head_rows", "matrix", np.float64, "agents", "feature_names"),
    Stored("similar", "matrix", np.float64, "agents", "agents"),
)


def _stored(signals: Sequence[LexicalSignal] = LEXICAL) -> tuple[Stored, ...]:
    """Every array the cache stores: the index's own, then each signal's (once each)."""
    out: dict[str, Stored] = {}
    for a in (*_INDEX_ARRAYS, *(a for s in signals for a in s.stored)):
        out.setdefault(a.name, a)
    return tuple(out.values())


_STORED = _stored()
_CSR = tuple(a.name for a in _STORED if a.kind == "matrix")
# ``copy_of``'s type depends on the number of agents (see _rebuild).
_VECTORS = (*(a.name for a in _STORED if a.kind == "vector"), "copy_of")
_VOCABULARIES = tuple(a.name for a in _STORED if a.kind == "vocabulary")
# Where each record ends in ``records`` and the BLAKE2b digest of each (both covered by
# the header's checksum; a record's digest is checked when it is decoded).
_RECORD_INDEX = ("record_ends", "record_digests")
_DIGEST_BYTES = 16
# No record inflates beyond this (an agent file is at most DEFAULT_MAX_BYTES of text,
# and JSON escapes at most six bytes a character).
_MAX_RECORD_BYTES = 8 * DEFAULT_MAX_BYTES + (1 << 16)
_FLOAT_DTYPES = {a.name: np.dtype(a.dtype) for a in _STORED if a.kind != "vocabulary"}


class StaleCache(Exception):
    """The cache file is sound but was built from other agent files."""


class UntrustedCache(IndexFormatError):
    """The cache folder or file belongs to another user, or others may write it."""


# A temporary file this old is a write that was killed (a write takes seconds); the
# prefix of the writer before agentroute 0.2 is removed too.
STALE_TEMP_SECONDS = 600
_TEMP_PREFIXES = (TEMP_PREFIX, ".index-")


def _untrusted(st: os.stat_result, what: str) -> str | None:
    """Why a folder or file with status ``st`` must not be trusted, or None."""
    if not hasattr(os, "geteuid"):  # no POSIX owners (Windows): nothing to check
        return None
    if st.st_uid != os.geteuid():
        return (
            f"the {what} belongs to another user (uid {st.st_uid}); set "
            "AGENTROUTE_CACHE_DIR to a folder of your own"
        )
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return (
            f"the {what} is writable by others (mode {stat.S_IMODE(st.st_mode):o}); if it is "
            "yours alone, 'chmod go-w' it, else set AGENTROUTE_CACHE_DIR to a private folder"
        )
    return None


def private_folder(folder: Path) -> str | None:
    """Create ``folder`` (and missing parents) ``0700``; why it must not be used, or None.

    A folder that exists already is used as it is or refused, never re-permissioned:
    agentroute changes no permission it did not set (a ``chmod`` of a shared folder
    such as ``/tmp``, or of a link's target, would lock others out).

    Raises
    ------
    OSError
        When it cannot be created.
    """
    missing = []
    here = folder
    while not os.path.lexists(here) and here != here.parent:
        missing.append(here)
        here = here.parent
    for path in reversed(missing):
        with contextlib.suppress(FileExistsError):  # made meanwhile by another process
            os.mkdir(path, 0o700)  # the umask can only remove bits: 0700 or less
    st = os.stat(folder)
    if not stat.S_ISDIR(st.st_mode):
        raise NotADirectoryError(20, "not a folder", str(folder))
    return _untrusted(st, "cache folder")


def remove_stale_temps(folder: Path, *, now: float | None = None) -> None:
    """Remove this library's temporary files in ``folder`` older than STALE_TEMP_SECONDS:
    what a write killed mid-way (``kill -9``, a hook timeout) left behind."""
    cutoff = (time.time() if now is None else now) - STALE_TEMP_SECONDS
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        if not (entry.name.startswith(_TEMP_PREFIXES) and entry.name.endswith(".tmp")):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(st.st_mode) and st.st_mtime < cutoff:
                os.unlink(entry.path)
        except OSError:  # gone already, or not ours to remove
            continue


def cache_dir() -> Path:
    """``$AGENTROUTE_CACHE_DIR``, else ``$XDG_CACHE_HOME/agentroute``, else
    ``~/.cache/agentroute``."""
    explicit = os.environ.get("AGENTROUTE_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "agentroute"


def fallback_cache_dir() -> Path:
    """Where the index cache goes when :func:`cache_dir` cannot be used (read-only, of
    another user, open to others): ``agentroute-<uid>`` in the temporary folder,
    created private by agentroute and refused like any other folder if it is not."""
    uid = os.geteuid() if hasattr(os, "geteuid") else "user"
    return Path(tempfile.gettempdir()) / f"agentroute-{uid}"


def cache_file(folder: Path, roots: Sequence[Path], *, strict: bool) -> Path:
    """The one cache file of a catalog location: a rebuild replaces it, so a catalog that
    keeps changing does not fill the folder."""
    where = [str(Path(r).resolve()) for r in roots]
    digest = hashlib.sha256(json.dumps([where, strict]).encode()).hexdigest()[:32]
    return folder / f"index-{digest}.npz"


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
    return json.dumps([FORMAT_VERSION, __version__, code_fingerprint(), strict, max_bytes]).encode()


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


# -- writing ------------------------------------------------------------------------------


def _arrays(index: Index) -> dict[str, np.ndarray]:
    """The index's arrays as the cache stores them: its own and every lexical signal's
    (:data:`_STORED`), plus ``copy_of``."""
    out: dict[str, np.ndarray] = {}
    for a in _STORED:
        value = getattr(index, a.name)
        if a.kind == "vocabulary":
            vocabulary: Strings = value
            for k, (keys, positions) in enumerate(
                zip(vocabulary.keys, vocabulary.positions, strict=True)
            ):
                out[f"{a.name}.{k}.keys"] = keys
                out[f"{a.name}.{k}.positions"] = positions
        elif a.kind == "matrix":
            m: Csr = value
            out[f"{a.name}.data"] = m.data
            out[f"{a.name}.indices"] = m.indices
            out[f"{a.name}.indptr"] = m.indptr
        else:
            out[a.name] = value
    out["copy_of"] = index.copy_of
    return out


def _checksum(payload: bytes, arrays: dict[str, np.ndarray]) -> str:
    """SHA-256 of the payload and the vectors. The matrices, most of the file, are
    covered by the archive's own CRC-32 of each member, which reading them checks: a
    second full pass would find nothing the CRC misses by accident, and neither is a
    signature (their bounds are checked on every load)."""
    h = hashlib.sha256(payload)
    for name in sorted(arrays):
        if name.split(".")[0] not in (*_VECTORS, *_VOCABULARIES, *_RECORD_INDEX):
            continue  # a matrix (CRC-32) or the records (a digest each)
        a = np.ascontiguousarray(arrays[name])
        h.update(json.dumps([name, a.dtype.str, list(a.shape)]).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _payload(
    diagnostics: Sequence[Diagnostic],
    index: Index,
    files: Sequence[str],
    not_for: dict[str, list[Any]],
) -> bytes:
    doc = {
        "files": list(files),
        "diagnostics": [[d.path, d.kind, d.message, d.severity] for d in diagnostics],
        "names": list(index.names),
        "fuzzy_terms": list(index.fuzzy_terms),
        "triggers": [[k, list(v), index.trigger_weight[k]] for k, v in index.triggers.items()],
        "trigger_surface": [list(s.items()) for s in index.trigger_surface],
        "shapes": {name: list(getattr(index, name).shape) for name in _CSR},
        "top_idf": index.top_idf,
        "not_for": not_for,
        "index_config": asdict(index.config),
    }
    # ASCII JSON: file names from the file system may hold lone surrogates (a name
    # that is not UTF-8), which only escapes carry through a UTF-8 encoding.
    return json.dumps(doc, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def _digest(record: bytes) -> bytes:
    return hashlib.blake2b(record, digest_size=_DIGEST_BYTES).digest()


def _records(agents: Sequence[AgentSpec]) -> tuple[bytes, np.ndarray, np.ndarray]:
    """The full records, each as deflated JSON of its own (so one can be decoded
    alone), one after the other; where each ends; the digest of each."""
    blobs = [
        zlib.compress(
            json.dumps(spec_to_json(a), ensure_ascii=True, separators=(",", ":")).encode("ascii"),
            1,
        )
        for a in agents
    ]
    ends = np.cumsum([len(b) for b in blobs], dtype=np.int64)
    digests = np.frombuffer(b"".join(map(_digest, blobs)), dtype=np.uint8).reshape(
        len(blobs), _DIGEST_BYTES
    )
    return b"".join(blobs), ends, digests


def write_cache(
    path: Path,
    *,
    key: str,
    agents: Sequence[AgentSpec],
    diagnostics: Sequence[Diagnostic],
    index: Index,
    files: Sequence[str] = (),
    fingerprint: Fingerprint | None = None,
) -> None:
    """Write the cache file atomically (a reader sees the old file or the new one).

    ``files``: the agent files as spelled (shown paths, in load order), so a reader
    that spells them otherwise can show its own spelling (see :func:`read_cache`).
    ``fingerprint``: what ``key`` was computed from, so that a reader can tell the
    files are unchanged by their status (see :class:`CatalogFiles`).

    Raises
    ------
    ValueError
        When ``fingerprint`` does not give ``key``.
    """
    if fingerprint is not None and fingerprint.key() != key:
        raise ValueError("the fingerprint does not give the catalog key")
    payload = _payload(diagnostics, index, files, table_parts(index.not_for))
    records, ends, digests = _records(agents)
    arrays = {**_arrays(index), "record_ends": ends, "record_digests": digests}
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "library_version": __version__,
        "catalog_key": key,
        "checksum": _checksum(payload, arrays),
    }
    extra: dict[str, np.ndarray] = {}
    if fingerprint is not None:
        raw = fingerprint.to_json()
        header["fingerprint_checksum"] = hashlib.sha256(raw).hexdigest()
        extra["fingerprint"] = np.frombuffer(raw, dtype=np.uint8)
    private_folder(path.parent)
    members: dict[str, np.ndarray] = {
        **extra,
        "header": np.frombuffer(json.dumps(header).encode(), dtype=np.uint8),
        "payload": np.frombuffer(payload, dtype=np.uint8),
        "records": np.frombuffer(records, dtype=np.uint8),
        **arrays,
    }
    write_npz(path, members, compress=False)


# -- reading ------------------------------------------------------------------------------


#: Every number an index holds (idf, BM25 and TF-IDF weights, trigger weights) is
#: non-negative and small: idf is about ln(agents) + 1, the largest BM25 weight seen
#: on the nine corpus collections indexed together is 17.5. A cached value outside [0, this] was
#: not written by build_index; finite but huge (1e308) it would overflow to inf and
#: NaN in the products and the ranking, so it is refused like a NaN.
MAX_CACHED_VALUE = 1e4


def _in_range(values: np.ndarray) -> bool:
    """Whether every value is finite and within [0, :data:`MAX_CACHED_VALUE`]."""
    if not values.size:
        return True
    return bool(np.all(np.isfinite(values))) and (
        float(values.min()) >= 0.0 and float(values.max()) <= MAX_CACHED_VALUE
    )


def _bad(path: Path, why: str) -> IndexFormatError:
    return IndexFormatError(f"{path}: {why}")


def _csr(path: Path, arrays: dict[str, np.ndarray], name: str, shape: list[int]) -> Csr:
    data, indices, indptr = (arrays[f"{name}.{p}"] for p in ("data", "indices", "indptr"))
    rows, cols = (int(s) for s in shape)
    if (
        data.dtype != _FLOAT_DTYPES[name]
        or indices.dtype != index_dtype(cols)
        or indptr.dtype != pointer_dtype(int(data.size))
        or data.ndim != 1
        or indices.ndim != 1
        or indptr.shape != (rows + 1,)
        or data.shape != indices.shape
        or indptr[0] != 0
        or indptr[-1] != indices.size
        or (rows and np.any(np.diff(indptr) < 0))
        or (indices.size and int(indices.max()) >= cols)
        or (indices.dtype.kind == "i" and indices.size and int(indices.min()) < 0)
        or not _in_range(data)
    ):
        raise _bad(path, f"matrix {name!r} is malformed")
    return Csr(data, indices, indptr, (rows, cols))


def read_cache(
    path: Path, *, key: str | CatalogFiles, files: Sequence[str] | None = None
) -> tuple[Records, tuple[Diagnostic, ...], Index]:
    """The records (decoded when asked for, see :class:`Records`), diagnostics and
    index stored in ``path``.

    ``files``: the agent files as this caller spells them (in load order); the paths
    stored (as the writer spelled them) are mapped to these.

    Raises
    ------
    IndexFormatError
        The file is not a sound cache of this format and library version.
    StaleCache
        The file is sound but the agent files changed since it was written.
    OSError
        It cannot be read at all (e.g. it does not exist).
    """
    # Not through a link, never blocking on a FIFO, only a regular file of this user's.
    fh = open_regular(path, flags=getattr(os, "O_NOFOLLOW", 0))
    problem = _untrusted(os.fstat(fh.fileno()), "cache file")
    if problem is not None:
        fh.close()
        raise UntrustedCache(f"{path}: {problem}")
    try:
        with NpzArchive(fh, str(path)) as npz:
            if "header" not in npz.files:
                raise _bad(path, "not an agentroute index cache (no header)")
            header = json.loads(npz["header"].tobytes().decode("utf-8"))
            if not isinstance(header, dict) or header.get("format") != FORMAT:
                raise _bad(path, "not an agentroute index cache")
            if header.get("format_version") != FORMAT_VERSION:
                raise _bad(
                    path,
                    f"format version {header.get('format_version')!r}, this library reads "
                    f"{FORMAT_VERSION}",
                )
            if header.get("library_version") != __version__:
                raise _bad(
                    path,
                    f"written by agentroute {header.get('library_version')!r}, "
                    f"this is {__version__}",
                )
            if isinstance(key, CatalogFiles):
                if not _fresh(path, npz, header, key):
                    raise StaleCache(f"{path}: the agent files changed")
            elif header.get("catalog_key") != key:
                raise StaleCache(f"{path}: the agent files changed")
            names = {
                n for n in npz.files if n not in ("header", "payload", "records", "fingerprint")
            }
            expected = (
                set(_VECTORS)
                | set(_RECORD_INDEX)
                | {f"{m}.{p}" for m in _CSR for p in ("data", "indices", "indptr")}
            )
            buckets = {n for n in names - expected if n.split(".")[0] in _VOCABULARIES}
            if (
                not expected <= names
                or names - expected - buckets
                or not {"payload", "records"} <= set(npz.files)
            ):
                raise _bad(path, "unexpected or missing arrays")
            payload_bytes = npz["payload"].tobytes()
            records = npz["records"]
            arrays = {n: npz[n] for n in sorted(names)}
    except (IndexFormatError, StaleCache, FileNotFoundError):
        raise
    except Exception as exc:
        fh.close()
        # Whatever else a damaged file raises: np.load refuses pickles (ValueError), a
        # lone .npy is no archive (AttributeError), zipfile reports truncation and bad
        # CRCs (BadZipFile), JSON its own errors. None of it is trusted.
        raise _bad(path, f"unreadable ({type(exc).__name__}: {exc})") from exc
    if header.get("checksum") != _checksum(payload_bytes, arrays):
        raise _bad(path, "checksum mismatch (the file is corrupt)")
    try:
        return _rebuild(path, json.loads(payload_bytes.decode("utf-8")), arrays, records, files)
    except IndexFormatError:
        raise
    except Exception as exc:
        raise _bad(path, f"malformed payload ({type(exc).__name__}: {exc})") from exc


def _fresh(path: Path, npz: NpzArchive, header: dict[str, Any], catalog: CatalogFiles) -> bool:
    """Whether the cache was built from ``catalog``'s files as they are now: by their
    status when the stored fingerprint vouches for them, else by their content."""
    known = None
    if "fingerprint" in npz.files:
        raw = npz["fingerprint"].tobytes()
        if header.get("fingerprint_checksum") != hashlib.sha256(raw).hexdigest():
            raise _bad(path, "fingerprint checksum mismatch (the file is corrupt)")
        try:
            known = Fingerprint.from_json(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise _bad(path, f"malformed fingerprint ({exc})") from None
        if catalog.unchanged(known):
            return True
    return bool(header.get("catalog_key") == catalog.key(known))


def _strings(doc: dict[str, Any], key: str) -> tuple[str, ...]:
    value = doc[key]
    # set(map(type, …)): the check runs in C, ~10x faster on 500k names than a loop.
    if not isinstance(value, list) or not set(map(type, value)) <= {str}:
        raise ValueError(f"{key} is not a list of strings")
    return tuple(value)


def _vocabulary(path: Path, arrays: dict[str, np.ndarray], name: str) -> Strings:
    keys, positions = [], []
    k = 0
    while f"{name}.{k}.keys" in arrays:
        keys.append(arrays[f"{name}.{k}.keys"])
        positions.append(arrays.get(f"{name}.{k}.positions", np.zeros(0)))
        k += 1
    widths = [a.dtype.itemsize for a in keys]
    seen = np.concatenate(positions) if positions else np.zeros(0, dtype=np.int32)
    if (
        any(
            a.dtype.kind != "S"
            or a.ndim != 1
            or p.dtype != np.int32
            or p.shape != a.shape
            or (a.size > 1 and not bool(np.all(a[:-1] < a[1:])))
            for a, p in zip(keys, positions, strict=True)
        )
        or widths != sorted(set(widths))
        or not np.array_equal(np.sort(seen), np.arange(seen.size, dtype=np.int32))
        or sum(1 for n in arrays if n.startswith(f"{name}.")) != 2 * k
    ):
        raise _bad(path, f"vocabulary {name!r} is malformed")
    return Strings(keys, positions)


# What the loader's name cleaning (``clean_name``) would change in an ASCII name: a
# control character, a space at either end, two spaces in a row.
_UNCLEAN_ASCII = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]|^ | $|  ", re.MULTILINE)


def _unclean_name(names: Sequence[str]) -> str | None:
    """The first of ``names`` the loader would have cleaned, or None. ASCII names are
    checked in one pass over them all (the loader's check, name by name, took 0.2 s
    at 10,000 agents)."""
    joined = "\n".join(names)
    if (
        joined.isascii()
        and joined.count("\n") == max(len(names) - 1, 0)
        and not _UNCLEAN_ASCII.search(joined)
    ):
        return None
    return next((n for n in names if clean_name(n, "", []) != n), None)


@dataclass(frozen=True, slots=True)
class _Respell:
    """Map a path as the cache's writer spelled it to this reader's spelling (a class,
    not a closure: the records that hold it travel to worker processes)."""

    mapping: dict[str, str]

    def __call__(self, p: str) -> str:
        if p in self.mapping:
            return self.mapping[p]
        head, sep, tail = p.partition("#")  # a catalog entry: file.yaml#3
        return self.mapping[head] + sep + tail if sep and head in self.mapping else p


def _respell(stored: Sequence[str], files: Sequence[str] | None) -> Callable[[str], str]:
    """Map a path as the cache's writer spelled it to this reader's spelling."""
    if files is None or len(files) != len(stored):
        return _Respell({})
    return _Respell(dict(zip(stored, files, strict=True)))


def _rebuild(
    path: Path,
    doc: dict[str, Any],
    arrays: dict[str, np.ndarray],
    records: np.ndarray,
    files: Sequence[str] | None = None,
) -> tuple[Records, tuple[Diagnostic, ...], Index]:
    respell = _respell(_strings(doc, "files"), files)
    diagnostics = tuple(Diagnostic(respell(p), k, m, s) for p, k, m, s in doc["diagnostics"])
    names = _strings(doc, "names")
    vocabularies = {name: _vocabulary(path, arrays, name) for name in _VOCABULARIES}
    n = len(names)
    dims = {"agents": n, **{name: len(v) for name, v in vocabularies.items()}}
    shapes = doc["shapes"]
    want = {a.name: [dims[a.rows], dims[a.cols]] for a in _STORED if a.kind == "matrix"}
    if shapes != want or list(names) != sorted(set(names)):
        raise _bad(path, "shapes or names do not agree")
    unclean = _unclean_name(names)
    if unclean is not None:
        # The loader cleans every name; one that is not clean was not written by it.
        raise _bad(path, f"the name {unclean[:40]!r} holds control characters")
    ends, digests = arrays["record_ends"], arrays["record_digests"]
    if (
        records.dtype != np.uint8
        or records.ndim != 1
        or ends.dtype != np.int64
        or ends.shape != (n,)
        or digests.dtype != np.uint8
        or digests.shape != (n, _DIGEST_BYTES)
        or (n and (int(ends[0]) < 0 or int(ends[-1]) != records.size))
        or (n > 1 and bool(np.any(np.diff(ends) < 0)))
    ):
        raise _bad(path, "the record index is malformed")
    agents = Records(path, names, records, ends, digests, respell)
    stored: dict[str, Any] = dict(vocabularies)
    for a in _STORED:
        if a.kind != "vector":
            continue
        value = arrays[a.name]
        shape = (dims[a.rows],)
        if value.dtype != _FLOAT_DTYPES[a.name] or value.shape != shape or not _in_range(value):
            raise _bad(path, f"vector {a.name!r} is malformed")
        stored[a.name] = value
    copy_of = arrays["copy_of"]
    if (
        copy_of.dtype != index_dtype(n)
        or copy_of.shape != (n,)
        or (n and int(copy_of.max()) >= n)
        or (copy_of.dtype.kind == "i" and n and int(copy_of.min()) < 0)
        # An agent points at its original, an original at itself: no chains, no cycles.
        or (n and bool(np.any(copy_of[copy_of] != copy_of)))
    ):
        raise _bad(path, "vector 'copy_of' is malformed")
    top_idf = doc["top_idf"]
    if not isinstance(top_idf, float) or not 0.0 <= top_idf <= MAX_CACHED_VALUE:
        raise _bad(path, "top_idf is malformed")
    stored.update((name, _csr(path, arrays, name, shapes[name])) for name in _CSR)
    triggers: dict[str, tuple[int, ...]] = {}
    weights: dict[str, float] = {}
    for key, owners, weight in doc["triggers"]:
        if not all(isinstance(o, int) and 0 <= o < n for o in owners):
            raise _bad(path, "trigger owners out of range")
        if not isinstance(weight, (int, float)) or not 0.0 <= weight <= MAX_CACHED_VALUE:
            raise _bad(path, f"a trigger weight is not a number in [0, {MAX_CACHED_VALUE:g}]")
        triggers[str(key)] = tuple(owners)
        weights[str(key)] = float(weight)
    surface = tuple({str(k): str(s) for k, s in pairs} for pairs in doc["trigger_surface"])
    if len(surface) != n:
        raise _bad(path, "trigger surfaces do not match the agents")
    try:
        not_for = table_from_parts(doc["not_for"], names)
    except ValueError as exc:
        raise _bad(path, f"the not-for table is malformed ({exc})") from None
    try:
        config = IndexConfig(**doc["index_config"])
    except (KeyError, TypeError, ValueError) as exc:
        raise _bad(path, f"the index config is malformed ({exc})") from None
    index = Index(
        names=names,
        **stored,
        triggers=triggers,
        trigger_weight=weights,
        trigger_surface=surface,
        fuzzy_terms=_strings(doc, "fuzzy_terms"),
        copy_of=copy_of,
        top_idf=top_idf,
        not_for=not_for,
        config=config,
    )
    return agents, diagnostics, index


class Records(Sequence[AgentSpec]):
    """The agent records of a cache file, each decoded (and its digest checked) when
    first asked for: routing reads the few it names, not the whole catalog.

    Iterating, or :meth:`all`, decodes every record once. A record whose digest,
    JSON or name does not match raises :class:`IndexFormatError` naming the file.
    """

    def __init__(
        self,
        path: Path,
        names: tuple[str, ...],
        blob: np.ndarray,
        ends: np.ndarray,
        digests: np.ndarray,
        respell: Callable[[str], str],
    ) -> None:
        self._path = path
        self._names = names
        self._blob = blob
        self._ends = ends.tolist()
        self._digests = digests
        self._respell = respell
        self._decoded: dict[int, AgentSpec] = {}
        self._all: tuple[AgentSpec, ...] | None = None
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:  # a router sent to worker processes
        state = dict(self.__dict__)
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._names)

    @overload
    def __getitem__(self, i: int) -> AgentSpec: ...
    @overload
    def __getitem__(self, i: slice) -> tuple[AgentSpec, ...]: ...
    def __getitem__(self, i: int | slice) -> AgentSpec | tuple[AgentSpec, ...]:
        if isinstance(i, slice):
            return self.all()[i]
        n = len(self._names)
        if not -n <= i < n:
            raise IndexError("record index out of range")
        i %= n
        hit = self._decoded.get(i)
        if hit is None:
            hit = self._decode(i)
            with self._lock:
                hit = self._decoded.setdefault(i, hit)
        return hit

    def __iter__(self) -> Iterator[AgentSpec]:
        return iter(self.all())

    def all(self) -> tuple[AgentSpec, ...]:
        """Every record, in index order (decoded once)."""
        if self._all is None:
            self._all = tuple(self[i] for i in range(len(self._names)))
        return self._all

    def _decode(self, i: int) -> AgentSpec:
        start = self._ends[i - 1] if i else 0
        blob = self._blob[start : self._ends[i]].tobytes()
        if _digest(blob) != self._digests[i].tobytes():
            raise _bad(self._path, f"record {i} does not match its digest (the file is corrupt)")
        try:
            inflate = zlib.decompressobj()
            raw = inflate.decompress(blob, _MAX_RECORD_BYTES)
            if inflate.unconsumed_tail or not inflate.eof:
                raise ValueError("the record is truncated or too large")
            spec = spec_from_json(json.loads(raw.decode("utf-8")))
        except Exception as exc:
            raise _bad(
                self._path, f"record {i} is malformed ({type(exc).__name__}: {exc})"
            ) from exc
        if spec.name != self._names[i]:
            raise _bad(self._path, "the records do not match the index")
        if spec.path is not None and self._respell(spec.path) != spec.path:
            spec = replace(spec, path=self._respell(spec.path))
        return spec
