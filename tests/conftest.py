"""Shared fixtures: the ``../shared`` data folder (skipped when absent) and small catalogs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"


def shared_dir() -> Path | None:
    """``$AGENTROUTE_SHARED`` or ``../shared`` beside the clone, when it exists."""
    env = os.environ.get("AGENTROUTE_SHARED")
    path = Path(env) if env else REPO.parent / "shared"
    return path if (path / "corpora").is_dir() else None


@pytest.fixture(scope="session")
def shared() -> Path:
    path = shared_dir()
    if path is None:
        pytest.skip(
            "../shared (the corpora, seeds and datasets) is not beside this clone; "
            "set AGENTROUTE_SHARED to its path to run the corpus tests"
        )
    return path


@pytest.fixture(scope="session")
def seeds(shared: Path) -> Path:
    return shared / "seeds"


@pytest.fixture(scope="session")
def corpora(shared: Path) -> Path:
    return shared / "corpora"


@pytest.fixture()
def damage() -> Path:
    return DATA / "damage"


@pytest.fixture(autouse=True)
def private_index_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """The CLI and the hook cache indexes on disk by default: never in the user's ~/.cache."""
    folder = tmp_path_factory.mktemp("index-cache")
    monkeypatch.setenv("AGENTROUTE_CACHE_DIR", str(folder))
    return folder


# A tiny labelled set (two agents and out-of-scope chatter) for the learning tests.
TEXTS = [
    "book a table for two",
    "reserve a restaurant tonight",
    "table for four at eight",
    "dinner reservation at nine",
    "get me a table tomorrow",
    "what's the weather tomorrow",
    "will it rain today",
    "is it sunny in paris",
    "forecast for the weekend",
    "how cold is it outside",
]
LABELS: list[str | None] = ["restaurant"] * 5 + ["weather"] * 5
OOS = ["tell me a joke", "who won the game", "sing me a song", "what is love"]
