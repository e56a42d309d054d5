"""The one path from agent files to a catalog: every entry point takes it, and without a
cache folder no cache code runs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from agentroute import CatalogError, Router, _pipeline
from agentroute._router import default_catalog_path, from_built

REQUESTS = ("our kubernetes pods keep crashing after the helm upgrade", "optimize a slow query")


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    folder = tmp_path / "agents"
    shutil.copytree(default_catalog_path(), folder)
    return folder


def answers(router: Router) -> list[tuple[object, ...]]:
    return [(d.agent, d.status, d.confidence, d.reason) for d in router.route_many(REQUESTS)]


def test_without_a_cache_folder_no_cache_code_runs(
    catalog: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> object:
        raise AssertionError("the cache was used")

    for name in (
        "CatalogFiles",
        "cache_dir",
        "cache_file",
        "private_folder",
        "read_cache",
        "remove_stale_temps",
        "write_cache",
    ):
        monkeypatch.setattr(_pipeline, name, refuse)
    router = Router.from_path(catalog)
    assert router.index.n_agents == len(list(catalog.glob("*.md")))
    with pytest.raises(AssertionError, match="the cache was used"):
        Router.from_path(catalog, cache=True)


def test_the_hook_steps_read_what_from_path_wrote(catalog: Path, tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    written = Router.from_path(catalog, cache=folder)
    found = _pipeline.find(catalog)
    slot = _pipeline.cache_slot(found, folder)
    assert slot.target.exists()
    built = _pipeline.read_cached(found, slot)
    read = from_built(built)
    assert answers(read) == answers(written)
    assert read.diagnostics == written.diagnostics
    assert slot.key() == _pipeline.cache_slot(found, folder).key()


def test_a_catalog_with_no_agent_names_its_paths(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CatalogError, match=r"no agent could be loaded from .*empty"):
        _pipeline.build(_pipeline.find(empty))


def test_cache_folder_reads_the_cache_argument(tmp_path: Path) -> None:
    assert _pipeline.cache_folder(False) is None
    assert _pipeline.cache_folder(tmp_path) == tmp_path
    assert _pipeline.cache_folder(str(tmp_path)) == tmp_path
    with pytest.raises(ValueError, match="cache must be True, False or a folder"):
        _pipeline.cache_folder("")
