"""The on-disk index cache: arrays and JSON, checked before anything is trusted.

A cache file holds what :meth:`Router.from_path` would otherwise rebuild from the
agent files: the loaded records, the loader's diagnostics and the fitted
:class:`~agentroute._index.Index`. It is one block file (:mod:`agentroute._blocks`:
plain arrays, each 64-byte aligned, a CRC-32 for every 16 KiB; no pickle, so reading
it cannot run code) whose table holds ``{"format", "format_version",
"library_version", "catalog_key", "stored"}`` and whose arrays are

* ``payload``: ASCII JSON of the diagnostics, fuzzy terms and the not-for table
  (:mod:`agentroute._negative`), and the agent names, files, triggers and their surfaces
  as arrays (:mod:`agentroute._payload`): what a decision reads besides the matrices, so
  routing decodes no record; ``fingerprint``: the :class:`Fingerprint` as bytes;
* ``records``: the full agent records, each deflated JSON of its own, one after
  the other; ``record_ends`` (``int64``) says where each ends and
  ``record_digests`` holds each one's BLAKE2b digest. A record is decoded, and its
  digest checked, only when it is asked for (:class:`Records`): the hook reads the
  one or two it names;
* the vocabularies as sorted fixed-width byte arrays (looked up by binary search,
  see :class:`~agentroute._index.Strings`), the index's vectors, and its sparse
  matrices. The BM25F, word and char matrices, most of the index, are stored as
  packed value codes, about a byte an entry, and a few numbers per agent from which
  every value is computed again to the bit (:mod:`agentroute._coded`; the table's
  ``stored`` says how each is stored, ``"float"`` when the codes did not give every
  value back when written); the others as ``data``/``indices``/``indptr`` in their
  compact dtypes (``uint16`` agent ids up to 65,536 agents, ``int32`` row pointers).

Everything but the matrices and the records is read and checked whole when the file
is opened (a few percent of it). The matrices are mapped (:class:`MappedCsr`): with
``lazy=True`` (the hook) a block is checked, and its values range-checked, when a
request first reads a row in it, so a warm call reads what its request touches;
otherwise every block is checked when the file is read. A file is used only when
its format, format version, library version, checksums and the catalog key (the
content hashes of every agent file, see :func:`catalog_key`; not recomputed from the
files' contents when the stored fingerprint shows every file's status unchanged, see
:class:`CatalogFiles` for what that relies on), and every array has the dtype, shape
and index range the index needs; anything else raises :class:`IndexFormatError`
(corrupt, truncated, foreign, older) or :class:`StaleCache` (the agent files
changed), and the caller rebuilds.

The cache folder is private: it is created ``0700`` (whatever the umask), a folder
of the user's own that others may write (as 0.1 created them) is made ``go-w``, and
a folder that belongs to another user, or a file that belongs to another user or
that others may write, is neither read nor written (:class:`UntrustedCache`: a
``cache-untrusted`` diagnostic and a logging warning), since whoever can write it
chooses what the router (and the hook, in Claude's context) says. The file is opened
without following a link and without blocking, and must be a regular file; its
table's size is checked before it is read (:class:`~agentroute._blocks.BlockFile`).
Temporary files left by a write that was killed are removed by the next write once
they are :data:`STALE_TEMP_SECONDS` old.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import logging
import operator
import os
import stat
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from agentroute._blocks import BlockError, BlockFile, MappedCsr, write_blocks
from agentroute._coded import (
    CODED,
    COMPUTED,
    KINDS,
    coded_arrays,
    computed_vectors,
    decoder,
    per_agent,
    stored_names,
    valid_codes,
)
from agentroute._errors import IndexFormatError
from agentroute._fingerprint import CatalogFiles, Fingerprint, StoredFingerprint, catalog_key
from agentroute._fs import Listing, open_regular
from agentroute._index import Csr, Index, IndexConfig, Strings, index_dtype, pointer_dtype
from agentroute._lexical import LEXICAL
from agentroute._load import clean_name
from agentroute._negative import table_from_parts, table_parts
from agentroute._npz import TEMP_PREFIX
from agentroute._packed import PackedCsr
from agentroute._payload import ARRAYS as PAYLOAD_ARRAYS
from agentroute._payload import payload_arrays, read_payload
from agentroute._records import DIGEST_BYTES, Records, records_blob
from agentroute._signal import Stored
from agentroute._spec import AgentSpec, Diagnostic
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
# 6: a block file (mapped, a CRC-32 a block) instead of an npz archive; chars as counts.
# 7: the fingerprint as bytes compared whole (paths and statuses), not JSON; the names,
#    files, triggers and trigger surfaces as arrays (agentroute._payload).
# 8: the BM25F, word and char matrices packed (a byte an entry, agentroute._coded), the
#    BM25F and word IDF computed again, unigram flags as bytes.
FORMAT_VERSION = 8

# The index's own arrays (the vocabulary and IDF the word signals share, the linter's head
# rows, the near-equivalents), then the arrays each lexical signal names (agentroute._lexical).
_INDEX_ARRAYS = (
    Stored("feature_names", "vocabulary"),
    Stored("idf", "vector", np.float64, "feature_names"),
    Stored("unigram", "vector", np.float64, "feature_names"),
    Stored("head_rows", "matrix", np.float64, "agents", "feature_names"),
    Stored("similar", "matrix", np.float64, "agents", "agents"),
)
_STORED = (*_INDEX_ARRAYS, *(a for s in LEXICAL for a in s.stored))
_CSR = tuple(a.name for a in _STORED if a.kind == "matrix")
# ``copy_of``'s type depends on the number of agents.
_VECTORS = (*(a.name for a in _STORED if a.kind == "vector"), "copy_of")
_VOCABULARIES = tuple(a.name for a in _STORED if a.kind == "vocabulary")
_SMALL = ("payload", "fingerprint", "record_ends", "record_digests", *PAYLOAD_ARRAYS)
# Read and checked whole when the file is opened (the matrices and records are not).
_WHOLE = frozenset((*_SMALL, *_VECTORS, *_VOCABULARIES, *per_agent()))
# ... except, for a lazy read, these, whose blocks are checked when a part of them is read:
# the fingerprint (its hashes are read only when a file changed) and the trigger surfaces
# (an agent's are read when a decision names it): 18 of the 57 MB read whole at 50,000
# agents.
_PARTLY = frozenset(("fingerprint", "surfaces"))
# Where each record ends in ``records`` and the BLAKE2b digest of each (both covered by
# the header's checksum; a record's digest is checked when it is decoded).
_RECORD_INDEX = ("record_ends", "record_digests")
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
    # ``.npz``: the name of the archives of format 5 and before, which the block file
    # of a rebuild replaces (and ``agentroute doctor`` knows).
    return folder / f"index-{digest}.npz"


# -- writing ------------------------------------------------------------------------------


def _arrays(index: Index) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The index's arrays as stored, and how each coded matrix is stored."""
    out: dict[str, np.ndarray] = {name: getattr(index, name) for name in _VECTORS}
    # 0.0 or 1.0 for each term: a byte each.
    out["unigram"] = index.unigram.astype(np.uint8)
    for name in _VOCABULARIES:
        vocabulary: Strings = getattr(index, name)
        for k, (keys, positions) in enumerate(
            zip(vocabulary.keys, vocabulary.positions, strict=True)
        ):
            out[f"{name}.{k}.keys"] = keys
            out[f"{name}.{k}.positions"] = positions
    coded, kinds = coded_arrays(index)
    out.update(coded)
    for name in computed_vectors(index):  # computed again when read
        del out[name]
    for name in _CSR:
        if name in kinds:
            continue
        m: Csr = getattr(index, name)
        out[f"{name}.data"] = m.data
        out[f"{name}.indices"] = m.indices
        out[f"{name}.indptr"] = m.indptr
    return out, kinds


def _payload(
    diagnostics: Sequence[Diagnostic],
    index: Index,
    files: Sequence[str],
    not_for: dict[str, list[Any]],
) -> bytes:
    # The names, files, triggers and their surfaces are arrays (agentroute._payload).
    doc = {
        "agents": len(index.names),
        "diagnostics": [[d.path, d.kind, d.message, d.severity] for d in diagnostics],
        "fuzzy_terms": list(index.fuzzy_terms),
        "shapes": {name: list(getattr(index, name).shape) for name in _CSR},
        "top_idf": index.top_idf,
        "not_for": not_for,
        "index_config": asdict(index.config),
    }
    # ASCII JSON: file names from the file system may hold lone surrogates (a name
    # that is not UTF-8), which only escapes carry through a UTF-8 encoding.
    return json.dumps(doc, ensure_ascii=True, separators=(",", ":")).encode("ascii")


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
    records, ends, digests = records_blob(agents)
    arrays, kinds = _arrays(index)
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "library_version": __version__,
        "catalog_key": key,
        "stored": kinds,
        "computed": [name for name in COMPUTED if name not in arrays],
    }
    raw = b"" if fingerprint is None else fingerprint.to_bytes()
    private_folder(path.parent)
    members: dict[str, np.ndarray] = {
        "payload": np.frombuffer(payload, dtype=np.uint8),
        "fingerprint": np.frombuffer(raw, dtype=np.uint8),
        "record_ends": ends,
        "record_digests": digests,
        **payload_arrays(
            index.names, files, index.triggers, index.trigger_weight, index.trigger_surface
        ),
        **arrays,
        "records": np.frombuffer(records, dtype=np.uint8),
    }
    write_blocks(path, members, meta)


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


def _csr(
    path: Path,
    blocks: BlockFile,
    name: str,
    shape: list[int],
    *,
    lazy: bool,
    kind: str,
    arrays: dict[str, np.ndarray],
) -> Csr:
    """Matrix ``name`` mapped from ``blocks`` (stored as ``kind``, see
    :mod:`agentroute._coded`); its blocks checked now unless ``lazy``."""
    rows, cols = (int(s) for s in shape)
    m: MappedCsr | PackedCsr
    try:
        if kind != "float":
            m = PackedCsr(
                blocks,
                name,
                (rows, cols),
                decode=decoder(name, arrays, cols, MAX_CACHED_VALUE),
                valid=valid_codes(name),
            )
        else:
            data, indices, indptr = (
                blocks.raw(f"{name}.{p}") for p in ("data", "indices", "indptr")
            )
            if (
                data.dtype != _FLOAT_DTYPES[name]
                or indices.dtype != index_dtype(cols)
                or indptr.dtype != pointer_dtype(int(data.size))
            ):
                raise _bad(path, f"matrix {name!r} is malformed")
            m = MappedCsr(blocks, name, (rows, cols), valid=_in_range)
        if not lazy:
            m.check_all()  # every block now; values decoded when read
    except BlockError as exc:
        raise _bad(path, str(exc)) from None
    except ValueError as exc:  # the per-agent numbers of a coded matrix
        raise _bad(path, str(exc)) from None
    return m


def _open(path: Path) -> BlockFile:
    # Not through a link, never blocking on a FIFO, only a regular file of this user's.
    fh = open_regular(path, flags=getattr(os, "O_NOFOLLOW", 0))
    try:
        problem = _untrusted(os.fstat(fh.fileno()), "cache file")
        if problem is not None:
            raise UntrustedCache(f"{path}: {problem}")
        return BlockFile(fh, str(path))
    except BlockError as exc:
        raise _bad(path, f"unreadable ({exc})") from None
    finally:
        fh.close()  # the map keeps what it needs


def _check_meta(path: Path, meta: Any) -> dict[str, Any]:
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise _bad(path, "not an agentroute index cache")
    if meta.get("format_version") != FORMAT_VERSION:
        raise _bad(
            path,
            f"format version {meta.get('format_version')!r}, this library reads {FORMAT_VERSION}",
        )
    if meta.get("library_version") != __version__:
        raise _bad(
            path, f"written by agentroute {meta.get('library_version')!r}, this is {__version__}"
        )
    stored = meta.get("stored")
    if (
        not isinstance(stored, dict)
        or set(stored) - set(_CSR)
        or not set(stored.values()) <= KINDS
        or any(kind not in ("float", CODED[name][0]) for name, kind in stored.items())
    ):
        raise _bad(path, "unknown matrix storage")
    computed = meta.get("computed")
    if not isinstance(computed, list) or not set(computed) <= set(COMPUTED):
        raise _bad(path, "unknown computed vectors")
    return meta


def _expected(blocks: BlockFile, path: Path, stored: dict[str, str]) -> None:
    expected = (set(_VECTORS) - set(blocks.meta["computed"])) | set(_SMALL) | {"records"}
    for name in _CSR:
        expected |= stored_names(name, stored.get(name, "float"))
    names = blocks.names
    buckets = {n for n in names - expected if n.split(".")[0] in _VOCABULARIES}
    if not expected <= names or names - expected - buckets:
        raise _bad(path, "unexpected or missing arrays")


def read_cache(
    path: Path,
    *,
    key: str | CatalogFiles,
    files: Sequence[str] | Listing | None = None,
    lazy: bool = False,
) -> tuple[Records, tuple[Diagnostic, ...], Index]:
    """The records (decoded when asked for, see :class:`Records`), diagnostics and
    index stored in ``path``.

    ``files``: the agent files as this caller spells them (in load order; a
    :class:`~agentroute._fs.Listing`: their POSIX spelling); the paths stored (as the
    writer spelled them) are mapped to these. ``lazy``: check each block
    of the matrices when a request first reads it, not now (a one-shot call on a large
    catalog: the hook); a damaged block then raises :class:`IndexFormatError` from the
    route that reads it.

    Raises
    ------
    IndexFormatError
        The file is not a sound cache of this format and library version.
    StaleCache
        The file is sound but the agent files changed since it was written.
    OSError
        It cannot be read at all (e.g. it does not exist).
    """
    blocks = _open(path)
    meta = _check_meta(path, blocks.meta)
    _expected(blocks, path, meta["stored"])
    try:
        small = {
            n: blocks.raw(n) if lazy and n in _PARTLY else blocks.array(n)
            for n in sorted(blocks.names)
            if n.split(".")[0] in _WHOLE
        }
    except BlockError as exc:
        raise _bad(path, str(exc)) from None
    if isinstance(key, CatalogFiles):
        check = _checker(path, blocks, "fingerprint")
        if not _fresh(path, small["fingerprint"].data, meta, key, check):
            raise StaleCache(f"{path}: the agent files changed")
    elif meta.get("catalog_key") != key:
        raise StaleCache(f"{path}: the agent files changed")
    try:
        doc = json.loads(small["payload"].tobytes().decode("ascii"))
        return _rebuild(path, doc, small, blocks, files, lazy=lazy)
    except IndexFormatError:
        raise
    except Exception as exc:
        raise _bad(path, f"malformed payload ({type(exc).__name__}: {exc})") from exc


def _checker(path: Path, blocks: BlockFile, name: str) -> Callable[[int, int], None]:
    """``check(first, stop)``: the blocks of array ``name`` holding those elements checked
    (once each); raises :class:`IndexFormatError` when one does not match its CRC-32."""

    def check(first: int, stop: int) -> None:
        try:
            blocks.check(name, first, stop)
        except BlockError as exc:
            raise _bad(path, str(exc)) from None

    return check


def _fresh(
    path: Path,
    raw: memoryview,
    meta: dict[str, Any],
    catalog: CatalogFiles,
    check: Callable[[int, int], None] | None = None,
) -> bool:
    """Whether the cache was built from ``catalog``'s files as they are now: by their
    status when the stored fingerprint vouches for them, else by their content.
    ``check(first, stop)``: check those bytes of ``raw`` before they are read."""
    known = None
    if raw:
        try:
            stored = StoredFingerprint(raw, check=check)
            if catalog.unchanged(stored):
                return True
            known = stored.fingerprint()
        except (ValueError, UnicodeDecodeError) as exc:
            raise _bad(path, f"malformed fingerprint ({exc})") from None
    return bool(meta.get("catalog_key") == catalog.key(known))


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
        # Every position once: a permutation (counted, not sorted: O(size)).
        or (seen.size and (int(seen.min()) < 0 or int(seen.max()) >= seen.size))
        or (seen.size and int(np.bincount(seen, minlength=seen.size).min()) != 1)
        or sum(1 for n in arrays if n.startswith(f"{name}.")) != 2 * k
    ):
        raise _bad(path, f"vocabulary {name!r} is malformed")
    return Strings(keys, positions)


# What the loader's name cleaning (``clean_name``) would change in an ASCII name: a
# control character, a space at either end, two spaces in a row.
_CONTROLS = bytes([*range(0x0A), *range(0x0B, 0x20), 0x7F])


def _unclean_name(names: Sequence[str]) -> str | None:
    """The first of ``names`` the loader would have cleaned, or None. ASCII names are
    checked in a few passes over them all, in C (the loader's check, name by name, took
    0.2 s at 10,000 agents; one regular expression ~0.1 s at 50,000).

    >>> _unclean_name(["a b", "c"]), _unclean_name(["a", "b "]), _unclean_name(["a\\tb"])
    (None, 'b ', 'a\\tb')
    """
    joined = "\n".join(names)
    if (
        joined.isascii()
        and joined.count("\n") == max(len(names) - 1, 0)
        and len(joined.encode("ascii").translate(None, _CONTROLS)) == len(joined)
        and not joined.startswith(" ")
        and not joined.endswith(" ")
        and "\n " not in joined
        and " \n" not in joined
        and "  " not in joined
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


def _rebuild(
    path: Path,
    doc: dict[str, Any],
    arrays: dict[str, np.ndarray],
    blocks: BlockFile,
    files: Sequence[str] | Listing | None = None,
    *,
    lazy: bool = False,
) -> tuple[Records, tuple[Diagnostic, ...], Index]:
    # Each record has its digest, checked when it is decoded; read whole, it is checked now.
    try:
        records = blocks.raw("records") if lazy else blocks.array("records")
    except BlockError as exc:
        raise _bad(path, str(exc)) from None
    count = doc["agents"]
    if type(count) is not int or count < 0:
        raise _bad(path, "the number of agents is malformed")
    try:
        payload = read_payload(
            arrays,
            count,
            MAX_CACHED_VALUE,
            str(path),
            check=_checker(path, blocks, "surfaces") if lazy else None,
        )
    except ValueError as exc:
        raise _bad(path, f"the payload is malformed ({exc})") from None
    respell = _Respell(payload.files_as(files))
    diagnostics = tuple(Diagnostic(respell(p), k, m, s) for p, k, m, s in doc["diagnostics"])
    names = payload.names
    features = _vocabulary(path, arrays, "feature_names")
    chars = _vocabulary(path, arrays, "char_names")
    n, v, vc = len(names), len(features), len(chars)
    shapes = doc["shapes"]
    _check_names(path, names, shapes, v, vc)
    _computed(path, blocks, arrays, n, v)
    ends, digests = arrays["record_ends"], arrays["record_digests"]
    _check_record_index(path, records, ends, digests, n)
    agents = Records(path, names, records, ends, digests, respell)
    _check_vectors(path, arrays, n, v, vc)
    top_idf = doc["top_idf"]
    if not isinstance(top_idf, float) or not 0.0 <= top_idf <= MAX_CACHED_VALUE:
        raise _bad(path, "top_idf is malformed")
    stored = blocks.meta["stored"]
    mats = {
        name: _csr(
            path,
            blocks,
            name,
            shapes[name],
            lazy=lazy,
            kind=stored.get(name, "float"),
            arrays=arrays,
        )
        for name in _CSR
    }
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
        feature_names=features,
        idf=arrays["idf"],
        unigram=arrays["unigram"].astype(np.float64),
        bm25_t=mats["bm25_t"],
        word_idf=arrays["word_idf"],
        word_t=mats["word_t"],
        head_rows=mats["head_rows"],
        char_names=chars,
        char_idf=arrays["char_idf"],
        chars_t=mats["chars_t"],
        char_sums=arrays["char_sums"],
        triggers=payload.triggers,
        trigger_weight=payload.weights,
        trigger_surface=payload.surfaces,
        fuzzy_terms=_strings(doc, "fuzzy_terms"),
        copy_of=arrays["copy_of"],
        top_idf=top_idf,
        similar=mats["similar"],
        not_for=not_for,
        config=config,
    )
    return agents, diagnostics, index


def _computed(path: Path, blocks: BlockFile, arrays: dict[str, np.ndarray], n: int, v: int) -> None:
    """Put the vectors the file says are computed again (from the row lengths of a matrix
    of ``v`` rows and ``n`` agents, see :data:`~agentroute._coded.COMPUTED`) in ``arrays``."""
    for name in blocks.meta["computed"]:
        matrix, compute = COMPUTED[name]
        try:
            ptr = blocks.array(f"{matrix}.indptr").astype(np.int64)
        except BlockError as exc:
            raise _bad(path, str(exc)) from None
        df = np.diff(ptr)
        if ptr.shape != (v + 1,) or (df.size and (int(df.min()) < 0 or int(df.max()) > n)):
            raise _bad(path, f"matrix {matrix!r} is malformed (row pointers)")
        arrays[name] = compute(df, n)


def _check_names(path: Path, names: Sequence[str], shapes: Any, v: int, vc: int) -> None:
    """The matrices' shapes agree with the agents and vocabularies; the names are sorted,
    unique and clean."""
    n = len(names)
    want = {
        "bm25_t": [v, n],
        "word_t": [v, n],
        "head_rows": [n, v],
        "chars_t": [vc, n],
        "similar": [n, n],
    }
    # Sorted and unique: each name above the one before (sorting a set of them took
    # ~0.1 s at 50,000 agents).
    if shapes != want or any(map(operator.ge, names, itertools.islice(names, 1, None))):
        raise _bad(path, "shapes or names do not agree")
    unclean = _unclean_name(names)
    if unclean is not None:
        # The loader cleans every name; one that is not clean was not written by it.
        raise _bad(path, f"the name {unclean[:40]!r} holds control characters")


def _check_record_index(
    path: Path, records: np.ndarray, ends: np.ndarray, digests: np.ndarray, n: int
) -> None:
    """Each of the ``n`` records has an end in the bytes, in order, and a digest."""
    if (
        records.dtype != np.uint8
        or records.ndim != 1
        or ends.dtype != np.int64
        or ends.shape != (n,)
        or digests.dtype != np.uint8
        or digests.shape != (n, DIGEST_BYTES)
        or (n and (int(ends[0]) < 0 or int(ends[-1]) != records.size))
        or (n > 1 and bool(np.any(np.diff(ends) < 0)))
    ):
        raise _bad(path, "the record index is malformed")


def _check_vectors(path: Path, arrays: dict[str, np.ndarray], n: int, v: int, vc: int) -> None:
    """The per-term, per-n-gram and per-agent vectors: dtype, length and range."""
    vectors = (("idf", v), ("word_idf", v), ("char_idf", vc), ("char_sums", vc))
    for name, length in vectors:
        a = arrays[name]
        if a.dtype != _FLOAT_DTYPES[name] or a.shape != (length,) or not _in_range(a):
            raise _bad(path, f"vector {name!r} is malformed")
    unigram = arrays["unigram"]
    if unigram.dtype != np.uint8 or unigram.shape != (v,) or (v and int(unigram.max()) > 1):
        raise _bad(path, "vector 'unigram' is malformed")
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
