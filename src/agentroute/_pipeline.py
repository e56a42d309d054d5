"""The one path from agent files to a routable catalog: find → (cache) → load → index.

Every entry point takes it: :meth:`Router.from_path` (and so the CLI and the MCP
server) through :func:`load_or_build`, the Claude Code hook through its steps
(:func:`find`, :func:`cache_slot`, :func:`read_cached`), which it calls itself
because it must not build a large catalog inside a prompt. Each step is one call
into the module that owns it:

* :func:`find`: the file system (:mod:`agentroute._fs`) names the agent files;
* :func:`build`: the loader (:mod:`agentroute._load`) reads them into records, and
  the index (:mod:`agentroute._index`) is built from the records;
* :func:`read_cached` / :func:`write_cached`: the on-disk index cache
  (:mod:`agentroute._cache`), used only when a cache folder is given: without one
  no cache code runs.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from agentroute._build import build_index
from agentroute._cache import (
    CatalogFiles,
    Fingerprint,
    StaleCache,
    UntrustedCache,
    cache_dir,
    cache_file,
    fallback_cache_dir,
    private_folder,
    read_cache,
    remove_stale_temps,
    write_cache,
)
from agentroute._errors import CatalogError, IndexFormatError
from agentroute._fs import DEFAULT_MAX_BYTES, Listing, PathArg, as_paths, list_files
from agentroute._index import Index, IndexConfig
from agentroute._load import raise_first_problem, read_files
from agentroute._spec import AgentSpec, Diagnostic

__all__ = [
    "Built",
    "CacheArg",
    "CacheSlot",
    "Found",
    "build",
    "cache_folder",
    "cache_slot",
    "find",
    "folder_problem",
    "load_or_build",
    "read_cached",
    "usable_folder",
    "write_cached",
]

logger = logging.getLogger(__name__)

#: ``cache=`` of :meth:`Router.from_path`: False (no cache), True (the default
#: folder, see :func:`agentroute._cache.cache_dir`) or a folder.
CacheArg = bool | str | os.PathLike[str]


@dataclass(frozen=True, slots=True, kw_only=True)
class Found:
    """The agent files some paths name, in load order, and what finding them noticed.

    ``roots``: the paths given, in order (an earlier one wins a name); ``listing``: the
    files as the walk found them (:class:`~agentroute._fs.Listing`: their paths, POSIX
    spellings, absolute paths and the status the walk read).
    """

    roots: tuple[Path, ...]
    listing: Listing

    @property
    def files(self) -> tuple[tuple[Path, str], ...]:
        """``(path, shown)`` pairs (``shown``: the POSIX spelling used in diagnostics)."""
        listing = self.listing
        return tuple((Path(p), s) for p, s in zip(listing.paths, listing.shown, strict=True))

    @property
    def shown(self) -> tuple[str, ...]:
        """The files as spelled in diagnostics, in load order."""
        return self.listing.shown

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        """What finding the files noticed (links not followed, walk limits, ...)."""
        return self.listing.diagnostics


@dataclass(frozen=True, slots=True, kw_only=True)
class Built:
    """A catalog ready to route: records sorted by name (a tuple, or
    :class:`~agentroute._cache.Records` read from the cache), their diagnostics, the index."""

    agents: Sequence[AgentSpec]
    diagnostics: tuple[Diagnostic, ...]
    index: Index


def find(paths: PathArg) -> Found:
    """The agent files ``paths`` name (folders walked); no file is read.

    Raises
    ------
    CatalogError
        When a path does not exist.
    """
    return Found(roots=tuple(as_paths(paths)), listing=list_files(paths))


def build(
    found: Found,
    *,
    strict: bool = False,
    progress: Callable[[int, int], None] | None = None,
    index_config: IndexConfig | None = None,
    keep_counts: bool = False,
) -> Built:
    """Read the files ``found`` names into records and index them (no cache), with
    ``index_config`` (default ``IndexConfig()``). ``keep_counts``: for an index about to
    be written to the cache (see :func:`~agentroute._build.build_index`).

    Raises
    ------
    CatalogError
        When no agent could be loaded.
    AgentFileError
        In strict mode, for the first file that needed recovery.
    """
    result = read_files(found.files, found.diagnostics, strict=strict, roots=found.roots)
    if not result.agents:
        shown = [os.fspath(p) for p in found.roots]
        problems = [d for d in result.diagnostics if d.severity != "info"] or list(
            result.diagnostics
        )
        detail = "".join(f"\n  {d}" for d in problems[:5])
        more = f"\n  … and {len(problems) - 5} more" if len(problems) > 5 else ""
        raise CatalogError(
            f"no agent could be loaded from {', '.join(shown)}"
            + (f":{detail}{more}" if problems else " (no agent files found)"),
            result.diagnostics,
        )
    ordered = tuple(sorted(result.agents, key=lambda a: a.name))
    return Built(
        agents=ordered,
        diagnostics=result.diagnostics,
        index=build_index(ordered, config=index_config, progress=progress, keep_counts=keep_counts),
    )


# -- the cache steps ----------------------------------------------------------------------


def cache_folder(cache: CacheArg) -> Path | None:
    """The folder ``cache=`` names (see :data:`CacheArg`), or None for no cache.

    Raises
    ------
    ValueError
        When ``cache`` is neither a bool nor a non-empty path.
    """
    if cache is False:
        return None
    if cache is True:
        return cache_dir()
    if isinstance(cache, (str, os.PathLike)) and os.fspath(cache):
        return Path(cache)
    raise ValueError(f"cache must be True, False or a folder, got {cache!r}")


def folder_problem(folder: Path) -> str | None:
    """Create the cache folder (private); why it cannot be used, or None."""
    try:
        return private_folder(folder)
    except (OSError, ValueError) as exc:  # a read-only home must not stop routing
        return f"cannot write the index cache in {folder}: {exc}"


def usable_folder(folder: Path) -> tuple[Path | None, str | None]:
    """The cache folder to use for ``folder``, and why ``folder`` itself is not used.

    ``(folder, None)`` when it can be used; else the fallback
    (:func:`agentroute._cache.fallback_cache_dir`) with the reason, or ``(None,
    reason)`` when that cannot be used either. Without a usable folder every call
    builds the index again (seconds on a large catalog, on every hook call).
    """
    problem = folder_problem(folder)
    if problem is None:
        return folder, None
    fallback = fallback_cache_dir()
    if fallback != folder and folder_problem(fallback) is None:
        return fallback, problem
    return None, problem


@dataclass(frozen=True, slots=True, kw_only=True)
class CacheSlot:
    """Where the cache file of one catalog lives, and the files that key it
    (:class:`~agentroute._cache.CatalogFiles`: hashed at most once)."""

    target: Path
    catalog: CatalogFiles

    def key(self) -> str:
        """The catalog key of the files as they are now (see
        :func:`agentroute._cache.catalog_key`)."""
        return self.catalog.key()


def cache_slot(found: Found, folder: Path, *, strict: bool = False) -> CacheSlot:
    """The cache file in ``folder`` for the catalog ``found`` names."""
    return CacheSlot(
        target=cache_file(folder, found.roots, strict=strict),
        catalog=CatalogFiles(found.listing, strict=strict, max_bytes=DEFAULT_MAX_BYTES),
    )


def read_cached(
    found: Found, slot: CacheSlot, *, strict: bool = False, lazy: bool = False
) -> Built:
    """The catalog as the cache file of ``slot`` stores it, when it matches the files now.

    ``lazy``: the index's matrices are checked block by block as routes read them
    (see :func:`agentroute._cache.read_cache`), for a one-shot call on a large catalog.

    Raises
    ------
    FileNotFoundError
        There is no cache file.
    StaleCache
        The agent files changed since it was written.
    UntrustedCache
        It belongs to another user, or others may write it.
    IndexFormatError, OSError
        It is not a sound cache of this format and library version.
    AgentFileError
        In strict mode, for the first problem the stored diagnostics report.
    """
    agents, stored, index = read_cache(
        slot.target, key=slot.catalog, files=found.listing, lazy=lazy
    )
    diagnostics = (*found.diagnostics, *stored)
    if strict:
        raise_first_problem(diagnostics)
    return Built(agents=agents, diagnostics=diagnostics, index=index)


def write_cached(slot: CacheSlot, found: Found, built: Built, fingerprint: Fingerprint) -> None:
    """Write ``built`` to the cache file of ``slot`` (a warning when it cannot be written).

    ``fingerprint``: what the key was computed from, taken *before* the files were
    read (:meth:`~agentroute._cache.CatalogFiles.fingerprint`), so that a change
    while they loaded is one the next call sees.
    """
    remove_stale_temps(slot.target.parent)
    try:
        write_cache(
            slot.target,
            key=fingerprint.key(),
            fingerprint=fingerprint,
            agents=built.agents,
            diagnostics=built.diagnostics[len(found.diagnostics) :],
            index=built.index,
            files=found.shown,
        )
    except (OSError, ValueError) as exc:  # a read-only home must not stop routing
        logger.warning("agentroute: cannot write the index cache %s: %s", slot.target, exc)


def _untrusted_note(path: Path, problem: str, instead: Path | None = None) -> Diagnostic:
    if instead is not None:
        return Diagnostic(
            path.as_posix(),
            "cache-untrusted",
            f"the index cache folder was not used ({problem}); the index is cached in "
            f"{instead.as_posix()} instead",
        )
    return Diagnostic(
        path.as_posix(),
        "cache-untrusted",
        f"the index cache was neither read nor written ({problem}); built from the agent files",
    )


def load_or_build(
    paths: PathArg,
    *,
    folder: Path | None,
    strict: bool = False,
    progress: Callable[[int, int], None] | None = None,
    index_config: IndexConfig | None = None,
) -> Built:
    """Load and index the agents ``paths`` name, reusing the cache in ``folder`` when sound
    (and built with ``index_config``, default ``IndexConfig()``; else it is rebuilt).

    The agent files are found and hashed on every call; a cache file is used only
    when it matches them (see :func:`agentroute._cache.read_cache`). A cache that
    cannot be trusted is reported (a ``cache-rejected`` diagnostic and a logging
    warning) and rebuilt; one that cannot be written is a warning only.
    ``folder=None``: no cache (no cache code runs). The result is
    the same either way.

    Raises
    ------
    CatalogError
        When a path does not exist or no agent could be loaded.
    AgentFileError
        In strict mode, for the first file that needed recovery.
    """
    found = find(paths)
    config = IndexConfig() if index_config is None else index_config
    if folder is None:
        return build(found, strict=strict, progress=progress, index_config=config)
    return _through_cache(found, folder, strict=strict, progress=progress, index_config=config)


def _through_cache(
    found: Found,
    folder: Path,
    *,
    strict: bool,
    progress: Callable[[int, int], None] | None,
    index_config: IndexConfig,
) -> Built:
    notes: list[Diagnostic] = []
    slot: CacheSlot | None = None
    usable, problem = usable_folder(folder)
    if problem is not None:
        instead = f"; using {usable} instead" if usable is not None else ""
        logger.warning(
            "agentroute: not using the index cache folder %s: %s%s", folder, problem, instead
        )
        notes.append(_untrusted_note(folder, problem, usable))
    if usable is not None:
        slot = cache_slot(found, usable, strict=strict)
    if slot is not None:
        try:
            cached = read_cached(found, slot, strict=strict)
        except FileNotFoundError:
            pass
        except StaleCache:
            logger.debug("index cache %s is out of date; rebuilding", slot.target)
        except UntrustedCache as exc:
            logger.warning("agentroute: not using the index cache: %s", exc)
            notes.append(_untrusted_note(slot.target, str(exc)))
            slot = None  # neither read nor written
        except (IndexFormatError, OSError) as exc:
            logger.warning("agentroute: ignoring the index cache: %s; rebuilding", exc)
            notes.append(
                Diagnostic(
                    slot.target.as_posix(),
                    "cache-rejected",
                    f"the index cache was not used ({exc}); rebuilt from the agent files",
                )
            )
        else:
            if cached.index.config == index_config:
                return cached
            logger.debug("index cache %s has other index settings; rebuilding", slot.target)
    if slot is None:
        built = build(found, strict=strict, progress=progress, index_config=index_config)
    else:
        # Hashed before the files are read: a change while they load is a change the
        # next call sees (computed already when a stale cache was compared).
        fingerprint = slot.catalog.fingerprint()
        built = build(
            found, strict=strict, progress=progress, index_config=index_config, keep_counts=True
        )
        write_cached(slot, found, built, fingerprint)
    return Built(agents=built.agents, diagnostics=(*built.diagnostics, *notes), index=built.index)
