"""The one on-disk container: NumPy ``.npz`` archives, written atomically, read without pickle.

Both the index cache (:mod:`agentroute._cache`) and saved routers
(:mod:`agentroute._router_file`) are ``.npz`` archives of plain arrays (JSON
travels as ``uint8`` bytes). Writing goes to a temporary file in the target's
folder, then :func:`os.replace`: a reader, or a process killed mid-write, sees
the old file or the new one, never half of one. Reading never unpickles, so a
file cannot run code; what it holds is still untrusted and is checked by the
caller.

Reading is bounded before anything is inflated or allocated: the archive must be
a regular file (opened without blocking), hold at most :data:`MAX_MEMBERS`
members, each stored or deflated, whose declared sizes add up to at most
:data:`MAX_RATIO` times the file's size plus :data:`SLACK_BYTES` (a zip bomb
declares far more); each member is a ``.npy`` array of a plain numeric or fixed-width
bytes dtype (no objects) whose declared shape fits exactly in the member's declared size.
Anything else raises :class:`NpzError`, a ``ValueError``.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

import numpy as np

from agentroute._fs import open_regular

__all__ = [
    "MAX_MEMBERS",
    "MAX_RATIO",
    "SLACK_BYTES",
    "TEMP_PREFIX",
    "NpzArchive",
    "NpzError",
    "json_array",
    "load_npz",
    "write_npz",
]

#: At most this many arrays in one archive (a saved router has 3 + 2 per feature block,
#: the index cache 16).
MAX_MEMBERS = 256
#: The declared sizes of all members may add up to this many times the file's size, plus
#: SLACK_BYTES. Stored members (the cache) are never larger than the file; deflated ones
#: (a saved router: float weights and JSON) shrink 3-6x, while a zip bomb declares
#: hundreds to thousands of times its size.
MAX_RATIO = 32
SLACK_BYTES = 16 * 2**20
# Plain numbers, and fixed-width byte strings (the index cache's sorted vocabularies):
# no objects, no structured or void records, no unicode.
_DTYPE_KINDS = frozenset("biufS")
_READ_CHUNK = 2**20

#: Temporary files of an unfinished write start with this; nothing else does.
TEMP_PREFIX = ".agentroute-"


def json_array(obj: object) -> np.ndarray:
    """``obj`` as UTF-8 JSON bytes in a ``uint8`` array (arrays are all an archive holds)."""
    return np.frombuffer(
        json.dumps(obj, ensure_ascii=True, separators=(",", ":")).encode("ascii"), dtype=np.uint8
    )


def write_npz(
    path: str | os.PathLike[str], members: Mapping[str, np.ndarray], *, compress: bool
) -> None:
    """Write ``members`` to ``path`` atomically (see the module docstring).

    Parameters
    ----------
    path : path
        The archive; its folder must exist.
    members : mapping of str to numpy.ndarray
        Archive member names and their arrays.
    compress : bool
        Deflate the members (smaller; slower to read).
    """
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            save = np.savez_compressed if compress else np.savez
            save(fh, **members)  # type: ignore[arg-type]
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class NpzError(ValueError):
    """The archive is not one this library could have written (named in the message)."""


def load_npz(path: str | os.PathLike[str], *, nofollow: bool = False) -> NpzArchive:
    """Open an archive for reading, bounded as the module docstring says; use it as a
    context manager. ``nofollow``: refuse a symbolic link at ``path`` (``O_NOFOLLOW``).

    Raises
    ------
    OSError
        It cannot be opened, or is not a regular file.
    NpzError
        Its members are not what this library writes, or declare more than the file
        could hold.
    """
    flags = getattr(os, "O_NOFOLLOW", 0) if nofollow else 0
    fh = open_regular(Path(path), flags=flags)
    try:
        return NpzArchive(fh, os.fspath(path))
    except BaseException:
        fh.close()
        raise


class NpzArchive:
    """The arrays of one ``.npz`` archive, each read (and checked) when asked for.

    Used as ``np.load`` is: ``files`` lists the member names without ``.npy``,
    ``archive[name]`` reads one array, and ``with`` closes the file.
    """

    def __init__(self, fh: BinaryIO, shown: str) -> None:
        self._fh = fh
        self._shown = shown
        size = os.fstat(fh.fileno()).st_size
        try:
            self._zip = zipfile.ZipFile(fh)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise NpzError(f"not a NumPy archive ({exc})") from None
        infos = self._zip.infolist()
        if len(infos) > MAX_MEMBERS:
            raise NpzError(f"{len(infos)} members; an agentroute archive has at most {MAX_MEMBERS}")
        budget = MAX_RATIO * size + SLACK_BYTES
        total = 0
        self._members: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            name = info.filename
            if not name.endswith(".npy") or name[:-4] in self._members:
                raise NpzError(f"unexpected member {name!r}")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise NpzError(f"member {name!r} uses compression method {info.compress_type}")
            total += info.file_size
            if total > budget:
                raise NpzError(
                    f"its members would inflate to more than {budget:,} bytes "
                    f"(a {size:,}-byte file); refused before inflating"
                )
            self._members[name[:-4]] = info
        self.files = list(self._members)

    def __enter__(self) -> NpzArchive:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._zip.close()
        self._fh.close()

    def __contains__(self, name: object) -> bool:
        return name in self._members

    def __iter__(self) -> Iterator[str]:
        return iter(self.files)

    def __getitem__(self, name: str) -> np.ndarray:
        info = self._members[name]
        with self._zip.open(info) as member:
            try:
                version = np.lib.format.read_magic(member)
                if version == (1, 0):
                    shape, fortran, dtype = np.lib.format.read_array_header_1_0(member)
                elif version == (2, 0):
                    shape, fortran, dtype = np.lib.format.read_array_header_2_0(member)
                else:
                    raise NpzError(f"array {name!r}: .npy version {version} is not read")
            except NpzError:
                raise
            except (ValueError, TypeError, SyntaxError, EOFError, OverflowError) as exc:
                raise NpzError(f"array {name!r}: unreadable header ({exc})") from None
            if dtype.hasobject or dtype.kind not in _DTYPE_KINDS or dtype.fields is not None:
                raise NpzError(f"array {name!r}: dtype {dtype} is not a plain number")
            if fortran or not all(isinstance(n, int) and n >= 0 for n in shape):
                raise NpzError(f"array {name!r}: the header declares a bad layout {shape}")
            count = math.prod(shape)
            nbytes = count * dtype.itemsize
            if nbytes != info.file_size - member.tell():
                raise NpzError(
                    f"array {name!r}: the header declares shape {shape} ({nbytes:,} bytes) in a "
                    f"member of {info.file_size:,} bytes"
                )
            buf = bytearray(nbytes)
            view = memoryview(buf)
            done = 0
            while done < nbytes:
                got = member.readinto(view[done : done + _READ_CHUNK])  # type: ignore[attr-defined]
                if not got:
                    raise NpzError(f"array {name!r} is truncated")
                done += got
        return np.frombuffer(buf, dtype=dtype).reshape(shape)
