"""Shared fixtures: the ``../shared`` data folder (skipped when absent), the default router,
requests made of catalog words, and small catalogs."""

from __future__ import annotations

import functools
import math
import os
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import strategies as st

from agentroute import Decision, Router

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


@functools.cache
def default_router() -> Router:
    """One default router for the session. Read-only: ``fit`` changes a router in place."""
    return Router.from_default()


@pytest.fixture(scope="session")
def router() -> Router:
    """The default router (shared by the session: never ``fit`` it)."""
    return default_router()


@functools.cache
def catalog_words() -> tuple[str, ...]:
    """Words the default catalog knows: its names, triggers and descriptions, and the index's
    own unigram features (stems included). Plain ``st.text()`` almost never contains one, so a
    request drawn from it matches no agent and the checks that need a candidate never run."""
    router = default_router()
    text = " ".join(
        f"{a.name.replace('-', ' ')} {' '.join(a.triggers)} {a.description}" for a in router.agents
    )
    words = set(re.findall(r"[A-Za-z][\w+#.-]*", text)) | {
        t for t in router.index.feature_names if " " not in t
    }
    return tuple(sorted(words))


def with_catalog_words(free: st.SearchStrategy[str], max_words: int = 8) -> st.SearchStrategy[str]:
    """``free`` text, catalog words alone, or the two interleaved."""
    word = st.deferred(lambda: st.sampled_from(catalog_words()))
    return st.one_of(
        free,
        st.lists(word, min_size=1, max_size=max_words).map(" ".join),
        st.lists(word | free, min_size=1, max_size=max_words).map(" ".join),
    )


# The default Calibration's largest logit: intercept 3.249 + margin 2.122 (margin <= 1)
# + softmax_10 1.567 (share <= 1), the other coefficients negative on non-negative inputs:
# 6.938, so sigmoid(6.938) = 0.99903 is the most confident an unfitted default router gets.
# ``< 1.0`` could not catch a regression that pushed confidence to 0.9999.
MAX_DEFAULT_CONFIDENCE = 0.9991


def assert_sound(d: Decision, router: Router, request: str | None = None) -> None:
    """What every Decision of an unfitted default-calibrated router promises."""
    assert isinstance(d, Decision)
    if request is not None:
        assert d.request == request
    assert d.status in ("routed", "ambiguous", "no_match")
    assert math.isfinite(d.confidence) and 0.0 <= d.confidence < MAX_DEFAULT_CONFIDENCE
    assert (d.agent is None) == (d.status == "no_match")
    assert isinstance(d.reason, str) and d.reason.strip()
    names = {a.name for a in router.agents}
    assert all(c.agent in names for c in d.candidates)
    scores = [c.score for c in d.candidates]
    assert all(math.isfinite(s) and 0.0 <= s <= 1.0 for s in scores)
    assert scores == sorted(scores, reverse=True)
    if d.agent is not None:
        assert d.agent == d.candidates[0].agent


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
    # The fallback cache folder lives in the temporary folder: the test's own.
    temp = tmp_path_factory.mktemp("temp")
    monkeypatch.setenv("TMPDIR", str(temp))
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
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
