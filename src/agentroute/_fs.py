"""The file system, safely: opening only regular files, resolving paths, walking folders.

Symbolic links: a linked *file* inside the folder being walked is read when its
target also lies inside that folder, and skipped (with a diagnostic) when it
points outside; linked *folders* are never followed, so link loops cannot occur.
A folder named by the caller is walked even when it is itself a link (the caller
chose it); :func:`agentroute._claude.claude_code_paths` leaves out a project's
``.claude`` folders that link outside the project.

Only regular files are opened: FIFOs, devices and sockets (and links to them) are
skipped with a diagnostic before anything opens them, and every open is
non-blocking and checks what it opened. A walk stops, with a ``walk-limit``
diagnostic, after :data:`MAX_WALK_ENTRIES` names, :data:`MAX_WALK_FILES` agent
files or :data:`MAX_WALK_BYTES` bytes of them.
"""

from __future__ import annotations

import errno
import itertools
import operator
import os
import stat
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

from agentroute._errors import CatalogNotFoundError
from agentroute._spec import Diagnostic

__all__ = [
    "DEFAULT_MAX_BYTES",
    "MARKDOWN_SUFFIXES",
    "MAX_WALK_BYTES",
    "MAX_WALK_ENTRIES",
    "MAX_WALK_FILES",
    "Listing",
    "PathArg",
    "as_paths",
    "discover",
    "list_files",
    "open_regular",
    "real_folder",
    "resolved_path",
    "status_row",
]

PathArg = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]

# Real agent files are at most ~50 KB; 2 MiB leaves room and bounds the work one
# hostile file can cause.
DEFAULT_MAX_BYTES = 2 * 1024 * 1024
# What one folder walk may cover: names listed (files and folders, agent or not),
# agent files kept, and their bytes (each counted up to the per-file cap). The largest
# real collection is 423 files and 3.6 MB; a link to /usr or a home folder is not.
MAX_WALK_ENTRIES = 200_000
MAX_WALK_FILES = 50_000
MAX_WALK_BYTES = 512 * 1024 * 1024
_NONBLOCK = getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
MARKDOWN_SUFFIXES = frozenset({".md", ".markdown", ".mdx"})
_SUFFIXES = tuple(sorted(MARKDOWN_SUFFIXES))  # for str.endswith (none holds another dot)
_FORMAT, _REGULAR = stat.S_IFMT(0o177777), stat.S_IFREG  # st_mode & _FORMAT == _REGULAR
_NOT_AGENTS = frozenset(
    {
        "readme.md",
        "changelog.md",
        "license.md",
        "contributing.md",
        "claude.md",
        "agents.md",
        "code_of_conduct.md",
        "security.md",
    }
)
_SKIP_DIRS = frozenset({"node_modules", "__pycache__", "venv"})


def open_regular(path: Path, *, flags: int = 0) -> BinaryIO:
    """``path`` opened for binary reading, only if it is a regular file.

    The file is checked before it is opened (a device is never opened at all), opened
    without blocking (a FIFO swapped in meanwhile cannot stall the call) and checked
    again once open. ``flags`` adds ``os.open`` flags (e.g. ``O_NOFOLLOW``).

    Raises
    ------
    OSError
        When it cannot be opened or is not a regular file (a FIFO, device, socket or
        folder).
    """
    if not stat.S_ISREG(os.stat(path).st_mode):
        raise OSError(errno.EINVAL, "not a regular file (a FIFO, device, socket or folder)")
    fd = os.open(path, os.O_RDONLY | _NONBLOCK | flags)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file (a FIFO, device, socket or folder)")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _looks_like_agent(path: Path) -> bool:
    """An extension-less file is read when it opens with a front-matter fence."""
    try:
        with open_regular(path) as fh:
            head = fh.read(64)
    except OSError:
        return False
    return head.lstrip().startswith(b"---")


class _WalkLimit(Exception):
    """A walk covered what it may; the message says which bound."""


def _join(top: str, name: str) -> str:
    """``str(Path(top) / name)`` for a ``top`` already spelled as a ``Path`` spells it
    and a plain ``name`` (no separator), without building the ``Path`` (a catalog of
    50,000 files built 100,000 of them)."""
    if os.sep != "/" or (os.altsep is not None):  # pragma: no cover - Windows spellings
        return str(Path(top) / name)
    if top == ".":
        return name
    return top + name if top.endswith("/") else f"{top}/{name}"


def _head(top: str) -> str | None:
    """What :func:`_join` puts before a name in ``top``, where that is a fixed prefix."""
    if os.sep != "/" or (os.altsep is not None):  # pragma: no cover - Windows spellings
        return None
    if top == ".":
        return ""
    return top if top.endswith("/") else f"{top}/"


def _suffix(name: str) -> str:
    """``Path(name).suffix``, lower-cased."""
    i = name.rfind(".")
    return name[i:].lower() if 0 < i < len(name) - 1 else ""


def _posix(path: str) -> str:
    return path if os.sep == "/" else path.replace(os.sep, "/")


_ROW = struct.Struct("<5q")
_ROW_UNSIGNED = struct.Struct("<5Q")
_MASK = (1 << 64) - 1


def status_row(st: os.stat_result) -> bytes:
    """The part of a file's status that says whether it changed (size, mtime_ns,
    ctime_ns, inode, device) as five little-endian 64-bit integers: 40 bytes kept per
    file instead of a status object (~650 bytes; 32 MB for a walk of 50,000 files), and
    compared with a cache's stored rows as bytes. A number above 2**63 is stored in
    two's complement (it reads back negative: never equal to a real status).

    >>> st = os.stat(".")
    >>> struct.unpack("<5q", status_row(st))[3] == st.st_ino
    True
    """
    row = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)
    try:
        return _ROW.pack(*row)
    except struct.error:
        return _ROW_UNSIGNED.pack(*(v & _MASK for v in row))


class _Found:
    """What a walk of one root kept: each agent file's path relative to the root, the status
    the walk read (:func:`status_row`, following a link) and which of them are links, in
    three lists (a catalog of 50,000 files walks into them on every warm hook call: one
    string and one row a file, no tuple)."""

    __slots__ = ("linked", "relative", "rows")

    def __init__(self) -> None:
        self.relative: list[str] = []
        self.rows: list[bytes] = []
        self.linked: set[int] = set()


def _walk(root: Path, diags: list[Diagnostic]) -> _Found:
    """Agent files under ``root``, sorted by their POSIX spelling; linked folders are not
    followed, only regular files are kept, and the walk stops at the module's bounds
    (``walk-limit``)."""
    found = _Found()
    try:
        _walk_into(root, diags, found)
    except _WalkLimit as limit:
        diags.append(
            Diagnostic(
                root.as_posix(),
                "walk-limit",
                f"stopped after {limit}; the rest of the folder was not read",
                "warning",
            )
        )
    relative = found.relative
    # Sorted by the POSIX spelling from the root, whose head is the same for every file.
    keys = relative if os.sep == "/" else [_posix(r) for r in relative]
    if any(map(operator.gt, keys, itertools.islice(keys, 1, None))):
        order = sorted(range(len(keys)), key=keys.__getitem__)
        found.relative = [relative[i] for i in order]
        found.rows = [found.rows[i] for i in order]
        where = {old: new for new, old in enumerate(order)}
        found.linked = {where[i] for i in found.linked}
    return found


# Folders are listed through a descriptor where the platform allows it: each file's status
# is then read relative to its folder (``fstatat``), not through its whole path again (a
# third less time for a folder of 50,000 files), and a sub-folder swapped for a link after
# it was checked is refused when opened (``O_NOFOLLOW``) rather than followed.
_SCAN_FD = os.scandir in os.supports_fd and hasattr(os, "O_DIRECTORY")
_FOLDER_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)


def _open_folder(top: str, *, follow: bool) -> int | None:
    """A descriptor of the folder ``top`` to list (not through a link unless ``follow``),
    or None where folders are listed by path. Raises OSError when it cannot be opened."""
    if not _SCAN_FD:  # pragma: no cover - Windows lists by path
        return None
    return os.open(top, _FOLDER_FLAGS | (0 if follow else getattr(os, "O_NOFOLLOW", 0)))


def _entries(top: str, fd: int | None) -> list[os.DirEntry[str]] | None:
    """The entries of ``top`` (listed through ``fd`` when given), or None when it cannot be
    listed. An entry of a listing through ``fd`` reads its status through ``fd``, which
    must stay open until then."""
    try:
        with os.scandir(top if fd is None else fd) as listing:
            return list(listing)
    except OSError:
        return None


def _name(entry: os.DirEntry[str]) -> str:
    return entry.name


class _Walk:
    """One walk of a root: its bounds counted, its diagnostics and files collected."""

    def __init__(self, root: Path, diags: list[Diagnostic], found: _Found) -> None:
        self.root, self.diags, self.found = root, diags, found
        self.real_root = root.resolve()
        self.entries = 0
        self.total_bytes = 0

    def folder(self, top: str, rel: str, *, follow: bool = False) -> None:
        """Walk the folder ``top`` (``rel`` from the root, ``""`` for the root), top-down:
        its files (sorted by name) before its sub-folders (sorted). ``follow``: the root,
        which the caller named, is walked even when it is a link."""
        try:
            fd = _open_folder(top, follow=follow)
        except OSError:
            return
        try:
            subfolders = self._files(top, rel, fd)
        finally:
            if fd is not None:
                os.close(fd)
        for d in subfolders:
            path = _join(top, d)
            if not os.path.islink(path):
                self.folder(path, f"{rel}{os.sep}{d}" if rel else d)

    def _files(self, top: str, rel: str, fd: int | None) -> list[str]:
        """Keep the agent files of ``top`` (listed through ``fd``); its sub-folders to walk."""
        entries = _entries(top, fd)
        if entries is None:
            return []
        dirnames: list[str] = []
        files: list[os.DirEntry[str]] = []
        for entry in entries:
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if is_dir:
                dirnames.append(entry.name)
            else:
                files.append(entry)
        # A folder is listed at once; the bounds apply from the next one.
        self.entries += len(entries)
        if self.entries > MAX_WALK_ENTRIES:
            raise _WalkLimit(f"{MAX_WALK_ENTRIES:,} names")
        subfolders = self._folders_to_walk(top, dirnames)
        files.sort(key=_name)
        prefix = f"{rel}{os.sep}" if rel else ""
        found = self.found
        relative, rows = found.relative, found.rows
        keep, row = relative.append, rows.append
        pack, cap = _ROW.pack, DEFAULT_MAX_BYTES + 1
        most_files, most_bytes, total = MAX_WALK_FILES, MAX_WALK_BYTES, self.total_bytes
        for entry in files:
            name = entry.name
            low = name.lower()
            # The usual case in few steps (a catalog of 50,000 files walks this 50,000
            # times): a visible *.md file (the suffix after its last dot), no link, whose
            # status says a regular file; kept as :meth:`add` keeps it.
            if (
                low.endswith(_SUFFIXES)
                and name[0] != "."
                and not entry.is_symlink()
                and low not in _NOT_AGENTS
            ):
                try:
                    st = entry.stat()
                except (OSError, ValueError):
                    continue
                if st.st_mode & _FORMAT == _REGULAR:
                    if len(rows) >= most_files:
                        raise _WalkLimit(f"{most_files:,} agent files")
                    size = st.st_size
                    total += size if size < cap else cap
                    if total > most_bytes:
                        raise _WalkLimit(f"{most_bytes:,} bytes of agent files")
                    try:
                        packed = pack(size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)
                    except struct.error:
                        packed = status_row(st)
                    keep(prefix + name)
                    row(packed)
                    continue
            self.total_bytes = total
            self.file(top, prefix + name, name, entry)
            total = self.total_bytes
        self.total_bytes = total
        return subfolders

    def file(self, top: str, relative: str, name: str, entry: os.DirEntry[str]) -> None:
        """Any other entry: kept when :func:`_agent_file` says it is an agent file."""
        path = _join(top, name)
        st = _agent_file(path, name, entry, self.root, self.real_root, self.diags)
        if st is None:
            return
        found = self.found
        if len(found.rows) >= MAX_WALK_FILES:
            raise _WalkLimit(f"{MAX_WALK_FILES:,} agent files")
        self.total_bytes += min(st.st_size, DEFAULT_MAX_BYTES + 1)
        if self.total_bytes > MAX_WALK_BYTES:
            raise _WalkLimit(f"{MAX_WALK_BYTES:,} bytes of agent files")
        if entry.is_symlink():
            found.linked.add(len(found.rows))
        found.relative.append(relative)
        found.rows.append(status_row(st))

    def _folders_to_walk(self, top: str, dirnames: list[str]) -> list[str]:
        """The sub-folders of ``top`` the walk enters, sorted: not linked ones, hidden ones
        or the usual tool folders."""
        keep = []
        for d in sorted(dirnames):
            sub = _join(top, d)
            if os.path.islink(sub):
                self.diags.append(
                    Diagnostic(
                        _posix(sub), "symlinked-folder", "a linked folder is not followed", "info"
                    )
                )
            elif not d.startswith(".") and d not in _SKIP_DIRS:
                if _suffix(d) in MARKDOWN_SUFFIXES:
                    self.diags.append(
                        Diagnostic(
                            _posix(sub),
                            "folder-named-like-file",
                            "a folder with an agent-file name; walked as a folder",
                            "info",
                        )
                    )
                keep.append(d)
        return keep


def _walk_into(root: Path, diags: list[Diagnostic], found: _Found) -> None:
    _Walk(root, diags, found).folder(os.fspath(root), "", follow=True)


def _agent_file(
    path: str,
    f: str,
    entry: os.DirEntry[str],
    root: Path,
    real_root: Path,
    diags: list[Diagnostic],
) -> os.stat_result | None:
    """The status of the file ``path`` (named ``f``) when it is an agent file to read,
    else None (with a diagnostic saying why, where one is due)."""
    if f.startswith("."):
        return None
    suffix = _suffix(f)
    if f.lower() in _NOT_AGENTS:
        diags.append(
            Diagnostic(
                _posix(path),
                "not-an-agent",
                f"{f} is documentation, not an agent; skipped",
                "info",
            )
        )
        return None
    if suffix and suffix not in MARKDOWN_SUFFIXES:
        return None
    # What the name leads to, before anything is opened: opening a FIFO or a
    # terminal device blocks.
    linked = entry.is_symlink()
    try:
        st = entry.stat()
    except (OSError, ValueError):
        if suffix and linked:
            diags.append(
                Diagnostic(
                    _posix(path), "broken-symlink", "a link that leads nowhere; skipped", "error"
                )
            )
        return None
    if not stat.S_ISREG(st.st_mode):
        if not stat.S_ISDIR(st.st_mode):
            diags.append(
                Diagnostic(
                    _posix(path),
                    "not-a-regular-file",
                    "a FIFO, device or socket (or a link to one), not a file; "
                    "skipped without opening it",
                    "error",
                )
            )
        return None
    if not suffix and not _looks_like_agent(Path(path)):
        return None
    if linked and not _link_inside(Path(path), root, real_root, diags):
        return None
    if not suffix:
        diags.append(
            Diagnostic(
                _posix(path),
                "no-extension",
                "read as Markdown although it has no .md extension",
                "info",
            )
        )
    return st


def _link_inside(p: Path, root: Path, real_root: Path, diags: list[Diagnostic]) -> bool:
    """Whether the link ``p`` leads to a file inside ``root`` (else a diagnostic)."""
    shown = p.as_posix()
    try:
        target = p.resolve(strict=True)
    except (OSError, RuntimeError):
        diags.append(
            Diagnostic(shown, "broken-symlink", "a link that leads nowhere; skipped", "error")
        )
        return False
    if not target.is_relative_to(real_root):
        diags.append(
            Diagnostic(
                shown,
                "symlink-outside",
                f"links outside {root.as_posix()}; skipped",
                "warning",
            )
        )
        return False
    return True


def resolved_path(path: Path, folders: dict[Path, str]) -> str:
    """``str(path.resolve())``, resolving each folder only once (``folders`` remembers
    them): the files of a catalog share a few folders, and resolving is most of the
    cost of finding a thousand files."""
    try:
        if path.is_symlink():
            return str(path.resolve())
        return os.path.join(real_folder(path.parent, folders), path.name)
    except (OSError, RuntimeError):
        return os.path.abspath(path)


def real_folder(folder: Path, folders: dict[Path, str]) -> str:
    """``str(folder.resolve())``, built from the parent's (one ``lstat`` per folder)."""
    hit = folders.get(folder)
    if hit is None:
        if folder.parent == folder or folder.name in ("", ".", "..") or folder.is_symlink():
            hit = str(folder.resolve())
        else:
            hit = os.path.join(real_folder(folder.parent, folders), folder.name)
        folders[folder] = hit
    return hit


def as_paths(paths: PathArg) -> list[Path]:
    if isinstance(paths, (str, os.PathLike)):
        return [Path(paths)]
    if isinstance(paths, Sequence):
        return [Path(p) for p in paths]
    raise TypeError(f"paths must be a path or a sequence of paths, got {type(paths).__name__}")


@dataclass(frozen=True, slots=True)
class _Part:
    """Files listed together (one root's, or several merged): each file's path, POSIX
    spelling and absolute path is a head, the same for the part, followed by a tail."""

    heads: tuple[str, str, str]
    tails: tuple[Sequence[str], Sequence[str], Sequence[str]]
    stats: Sequence[bytes | None]

    def column(self, k: int) -> list[str]:
        head = self.heads[k]
        return [head + t for t in self.tails[k]] if head else list(self.tails[k])

    def joined(self, k: int) -> str:
        """The column ``k`` NUL-joined, without building each file's string."""
        head, tails = self.heads[k], self.tails[k]
        return head + f"\0{head}".join(tails) if tails else ""


class Listing:
    """The agent files some paths name, in load order, as :func:`list_files` found them.

    ``paths``: each file as spelled from the path given (``str(Path(root) / relative)``);
    ``shown``: its POSIX spelling (used in diagnostics); ``absolute``: its
    ``os.path.abspath``; ``stats``: the status the walk read (following a link), as
    :func:`status_row` packs it, None for a file named directly; ``diagnostics``: what
    the walk noticed. A folder's files are kept as their paths below it (one string a
    file); the per-file tuples are built when first asked for, and :meth:`joined` and
    :meth:`joined_stats` give what a cache compares without them.
    """

    __slots__ = ("_columns", "_parts", "diagnostics")

    def __init__(self, parts: Sequence[_Part], diagnostics: tuple[Diagnostic, ...]) -> None:
        self._parts = tuple(p for p in parts if p.stats)
        self.diagnostics = diagnostics
        self._columns: dict[int, tuple[str, ...]] = {}

    def __len__(self) -> int:
        return sum(len(p.stats) for p in self._parts)

    def _column(self, k: int) -> tuple[str, ...]:
        column = self._columns.get(k)
        if column is None:
            column = tuple(itertools.chain.from_iterable(p.column(k) for p in self._parts))
            self._columns[k] = column
        return column

    @property
    def paths(self) -> tuple[str, ...]:
        return self._column(0)

    @property
    def shown(self) -> tuple[str, ...]:
        return self._column(1)

    @property
    def absolute(self) -> tuple[str, ...]:
        return self._column(2)

    @property
    def stats(self) -> tuple[bytes | None, ...]:
        return tuple(itertools.chain.from_iterable(p.stats for p in self._parts))

    def joined(self, which: str) -> str:
        """``"\\0".join(getattr(self, which))`` for ``paths``, ``shown`` or ``absolute``,
        without a string a file."""
        k = ("paths", "shown", "absolute").index(which)
        return "\0".join(p.joined(k) for p in self._parts)

    def joined_stats(self) -> bytes | None:
        """Every file's status row, joined; None when the walk read none for some file."""
        if not all(all(p.stats) for p in self._parts):
            return None
        return b"".join(
            itertools.chain.from_iterable(cast("Sequence[bytes]", p.stats) for p in self._parts)
        )


def _nested(reals: Sequence[str]) -> bool:
    """Whether two of the folders ``reals`` (resolved, each ending with a separator) are
    the same or one lies in the other."""
    ordered = sorted(reals)
    return any(b.startswith(a) for a, b in itertools.pairwise(ordered))


def list_files(paths: PathArg) -> Listing:
    """The agent files ``paths`` name (walking folders), in load order, with what walking
    noticed and each file's status as the walk read it; no file is read.

    Insertion-ordered: roots in the order given (an earlier path wins a name both use,
    as Claude Code's project agents win over the user's), the files of a folder sorted,
    so the order a file system lists them in never matters. A file reached twice (a
    link, a folder given twice) is listed once, where it is first met.

    Raises
    ------
    CatalogError
        When a given path does not exist.
    """
    diags: list[Diagnostic] = []
    roots: list[tuple[Path, _Found | None]] = []
    for root in as_paths(paths):
        if root.is_dir():
            roots.append((root, _walk(root, diags)))
        elif root.is_file():
            roots.append((root, None))
        elif root.exists():
            diags.append(
                Diagnostic(
                    root.as_posix(), "not-a-file", "neither a file nor a folder; skipped", "error"
                )
            )
        else:
            raise CatalogNotFoundError(f"{root.as_posix()}: no such file or folder")
    parts = _parts(roots)
    return Listing(parts, tuple(diags))


def _folder_heads(root: Path) -> tuple[str, str, str, str] | None:
    """What precedes a file's path below ``root`` in its path, POSIX spelling, absolute
    and resolved paths (a file that is no link lies in a folder the walk entered, none
    of them a link: it resolves where the root does, followed by its relative path; and,
    no part of it being "." or "..", its absolute path is the root's, followed by the
    same); None where paths are not spelled by a fixed head (Windows)."""
    spelled = os.fspath(root)
    head = _head(spelled)
    if head is None:  # pragma: no cover - Windows spellings
        return None
    real, absolute = str(root.resolve()), os.path.abspath(spelled)
    real += "" if real.endswith(os.sep) else os.sep
    absolute += "" if absolute.endswith(os.sep) else os.sep
    return head, _posix(head), absolute, real


def _parts(roots: Sequence[tuple[Path, _Found | None]]) -> list[_Part]:
    """The files of ``roots`` (walked folders, or files named directly), each listed once."""
    walked = [(found, _folder_heads(root)) for root, found in roots if found is not None]
    fast = [(found, heads) for found, heads in walked if heads is not None and not found.linked]
    if len(fast) == len(roots) and not _nested([heads[3] for _, heads in fast]):
        # The usual case: folders apart, no links: no file can be met twice.
        return [_Part(heads[:3], (f.relative, f.relative, f.relative), f.rows) for f, heads in fast]
    files: dict[str, tuple[str, str, str, bytes | None]] = {}
    for root, found in roots:
        spelled = os.fspath(root)
        if found is None:
            where = str(root.resolve())
            files.setdefault(where, (spelled, root.as_posix(), os.path.abspath(spelled), None))
            continue
        folders: dict[Path, str] = {}
        real, absolute = str(root.resolve()), os.path.abspath(spelled)
        real += "" if real.endswith(os.sep) else os.sep
        absolute += "" if absolute.endswith(os.sep) else os.sep
        for i, (relative, row) in enumerate(zip(found.relative, found.rows, strict=True)):
            path = _join(spelled, relative)
            linked = i in found.linked
            where = resolved_path(Path(path), folders) if linked else real + relative
            files.setdefault(where, (path, _posix(path), absolute + relative, row))
    columns = tuple(zip(*files.values(), strict=True)) or ((), (), (), ())
    return [_Part(("", "", ""), (columns[0], columns[1], columns[2]), columns[3])]


def discover(paths: PathArg) -> tuple[list[tuple[Path, str]], list[Diagnostic]]:
    """The agent files ``paths`` name (walking folders), in load order, with what walking
    noticed; no file is read (see :func:`list_files`). ``load_agents`` is
    ``read_files(*discover(paths))``.

    Raises
    ------
    CatalogError
        When a given path does not exist.
    """
    listing = list_files(paths)
    files = [(Path(p), s) for p, s in zip(listing.paths, listing.shown, strict=True)]
    return files, list(listing.diagnostics)
