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
import os
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from agentroute._errors import CatalogNotFoundError
from agentroute._spec import Diagnostic

__all__ = [
    "DEFAULT_MAX_BYTES",
    "MARKDOWN_SUFFIXES",
    "MAX_WALK_BYTES",
    "MAX_WALK_ENTRIES",
    "MAX_WALK_FILES",
    "PathArg",
    "as_paths",
    "discover",
    "open_regular",
    "real_folder",
    "resolved_path",
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


def _walk(root: Path, diags: list[Diagnostic]) -> list[tuple[Path, str, Path | None]]:
    """Agent files under ``root`` (path, shown, the folder listed when the name is no
    link, else None), sorted; linked folders are not followed, only regular files are
    kept, and the walk stops at the module's bounds (``walk-limit``)."""
    found: list[tuple[Path, str, Path | None]] = []
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
    return found


def _scan(top: str) -> Iterator[tuple[str, list[str], dict[str, os.DirEntry[str]]]]:
    """``os.walk(top)`` top-down, not into linked folders, errors skipped; with each
    file's ``DirEntry``, whose link flag comes with the listing and whose status is
    read once (a catalog of 10,000 files was 5 status calls a file)."""
    try:
        with os.scandir(top) as listing:
            entries = list(listing)
    except OSError:
        return
    dirnames: list[str] = []
    files: dict[str, os.DirEntry[str]] = {}
    for entry in entries:
        try:
            is_dir = entry.is_dir()
        except OSError:
            is_dir = False
        if is_dir:
            dirnames.append(entry.name)
        else:
            files[entry.name] = entry
    yield top, dirnames, files
    for d in dirnames:  # as the caller pruned it
        path = os.path.join(top, d)
        if not os.path.islink(path):
            yield from _scan(path)


def _walk_into(
    root: Path, diags: list[Diagnostic], found: list[tuple[Path, str, Path | None]]
) -> None:
    real_root = root.resolve()
    entries = 0
    total_bytes = 0
    for dirpath, dirnames, filenames in _scan(os.fspath(root)):
        # os.walk lists a folder at once; the bounds apply from the next one.
        entries += len(dirnames) + len(filenames)
        if entries > MAX_WALK_ENTRIES:
            raise _WalkLimit(f"{MAX_WALK_ENTRIES:,} names")
        here = Path(dirpath)
        dirnames[:] = _folders_to_walk(here, dirnames, diags)
        for f in sorted(filenames):
            st = _agent_file(here / f, filenames[f], root, real_root, diags)
            if st is None:
                continue
            if len(found) >= MAX_WALK_FILES:
                raise _WalkLimit(f"{MAX_WALK_FILES:,} agent files")
            total_bytes += min(st.st_size, DEFAULT_MAX_BYTES + 1)
            if total_bytes > MAX_WALK_BYTES:
                raise _WalkLimit(f"{MAX_WALK_BYTES:,} bytes of agent files")
            p = here / f
            found.append((p, p.as_posix(), None if filenames[f].is_symlink() else here))


def _folders_to_walk(here: Path, dirnames: list[str], diags: list[Diagnostic]) -> list[str]:
    """The sub-folders of ``here`` the walk enters, sorted: not linked ones, hidden ones
    or the usual tool folders."""
    keep = []
    for d in sorted(dirnames):
        sub = here / d
        if sub.is_symlink():
            diags.append(
                Diagnostic(
                    sub.as_posix(),
                    "symlinked-folder",
                    "a linked folder is not followed",
                    "info",
                )
            )
        elif not d.startswith(".") and d not in _SKIP_DIRS:
            if Path(d).suffix.lower() in MARKDOWN_SUFFIXES:
                diags.append(
                    Diagnostic(
                        sub.as_posix(),
                        "folder-named-like-file",
                        "a folder with an agent-file name; walked as a folder",
                        "info",
                    )
                )
            keep.append(d)
    return keep


def _agent_file(
    p: Path,
    entry: os.DirEntry[str],
    root: Path,
    real_root: Path,
    diags: list[Diagnostic],
) -> os.stat_result | None:
    """The status of the file ``p`` when it is an agent file to read, else None (with
    a diagnostic saying why, where one is due)."""
    f, shown, suffix = p.name, p.as_posix(), p.suffix.lower()
    if f.startswith("."):
        return None
    if f.lower() in _NOT_AGENTS:
        diags.append(
            Diagnostic(
                shown,
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
                Diagnostic(shown, "broken-symlink", "a link that leads nowhere; skipped", "error")
            )
        return None
    if not stat.S_ISREG(st.st_mode):
        if not stat.S_ISDIR(st.st_mode):
            diags.append(
                Diagnostic(
                    shown,
                    "not-a-regular-file",
                    "a FIFO, device or socket (or a link to one), not a file; "
                    "skipped without opening it",
                    "error",
                )
            )
        return None
    if not suffix and not _looks_like_agent(p):
        return None
    if linked and not _link_inside(p, root, real_root, diags):
        return None
    if not suffix:
        diags.append(
            Diagnostic(
                shown,
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


def discover(paths: PathArg) -> tuple[list[tuple[Path, str]], list[Diagnostic]]:
    """The agent files ``paths`` name (walking folders), in load order, with what walking
    noticed; no file is read. ``load_agents`` is ``read_files(*discover(paths))``.

    Raises
    ------
    CatalogError
        When a given path does not exist.
    """
    diags: list[Diagnostic] = []
    # Insertion-ordered: roots in the order given (an earlier path wins a name both
    # use, as Claude Code's project agents win over the user's), the files of a
    # folder sorted, so the order a file system lists them in never matters.
    files: dict[str, tuple[Path, str]] = {}
    for root in as_paths(paths):
        if root.is_dir():
            folders: dict[Path, str] = {}
            for p, shown, folder in sorted(_walk(root, diags), key=lambda f: f[1]):
                # A file that is no link resolves where the folder it was listed in does
                # (that folder's Path is shared by its files: resolved once, looked up fast).
                if folder is None:
                    where = resolved_path(p, folders)
                else:
                    try:
                        where = os.path.join(real_folder(folder, folders), p.name)
                    except (OSError, RuntimeError):
                        where = os.path.abspath(p)
                files.setdefault(where, (p, shown))
        elif root.is_file():
            files.setdefault(str(root.resolve()), (root, root.as_posix()))
        elif root.exists():
            diags.append(
                Diagnostic(
                    root.as_posix(), "not-a-file", "neither a file nor a folder; skipped", "error"
                )
            )
        else:
            raise CatalogNotFoundError(f"{root.as_posix()}: no such file or folder")
    return list(files.values()), diags
