"""The lexical signals: each one's matrix is the view the router reads, each names what the
cache stores and the calibration reads, and a new signal joins by one registration."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from agentroute import Weights
from agentroute._calibrate import Signals
from agentroute._index import Index
from agentroute._lexical import LEXICAL, signal_named
from agentroute._score import analyze_query, score
from agentroute._signal import Batch, Stored, View, relative
from conftest import default_router

REQUESTS = (
    "our kubernetes pods keep crashing after the helm upgrade",
    "audit login for sql injection",
    "postgress queries are slow",
    "bake bread",
    "",
)


def test_every_signal_gives_its_view_and_names_real_inputs_and_arrays() -> None:
    r = default_router()
    index = r.index
    s = score(index, [analyze_query(index, t) for t in REQUESTS], r.config.weights)
    fields = {f.name for f in dataclasses.fields(Signals)}
    index_fields = {f.name for f in dataclasses.fields(Index)}
    assert [sig.name for sig in LEXICAL] == list(s.views)
    for sig in LEXICAL:
        assert s.views[sig.name].shape == (len(REQUESTS), index.n_agents)
        assert set(sig.inputs) <= fields, sig.name
        for a in sig.stored:
            assert a.name in index_fields, a.name
    assert s.views["bm25"] is s.bm25 and s.views["coverage"] is s.coverage


def test_the_fused_score_is_the_weighted_mean_of_the_relative_views() -> None:
    r = default_router()
    index = r.index
    weights = Weights(bm25=2.0, word=1.0, char=0.5, trigger=1.0)
    s = score(index, [analyze_query(index, t) for t in REQUESTS], weights)
    shares = weights.shares()
    assert set(shares) == {"bm25", "word", "char", "trigger"}  # coverage is not fused
    want = sum(shares[n] * relative(s.views[n]) for n in shares)
    assert np.allclose(s.combined, np.clip(want, 0.0, 1.0), atol=1e-12)
    assert (s.trigger > 0).any()  # a positive weight computes the trigger view


class Shortest:
    """A new signal, as a user would add one: favours agents with short names."""

    name = "shortest"
    default_weight: float | None = 1.0
    inputs: tuple[str, ...] = ()
    stored: tuple[Stored, ...] = ()

    def candidates_only(self, index: Index) -> bool:
        return False

    def score(self, batch: Batch) -> View:
        lengths = np.array([len(n) for n in batch.index.names], dtype=np.float64)
        row = 1.0 / lengths
        return View(np.tile(row, (len(batch.queries), 1)))


def test_a_new_signal_joins_by_registration_alone() -> None:
    r = default_router()
    index = r.index
    queries = [analyze_query(index, t) for t in REQUESTS]
    signals = (*LEXICAL, Shortest())
    base = score(index, queries, Weights())
    more = score(index, queries, Weights(), signals=signals)
    assert "shortest" in more.views and "shortest" not in base.views
    # Weights has no field for it: it is fused at its default weight, the others shrink.
    assert Weights().shares(signals)["shortest"] == pytest.approx(0.25)
    expected = 0.75 * base.combined + 0.25 * relative(more.views["shortest"])
    assert np.allclose(more.combined, expected, atol=1e-12)
    for name in base.views:
        assert np.array_equal(base.views[name], more.views[name])


def test_the_cache_stores_what_the_signals_name() -> None:
    from agentroute import _cache, _coded

    arrays, _ = _cache._arrays(default_router().index)
    for sig in LEXICAL:
        for a in sig.stored:
            # An IDF vector the cache computes again from its matrix is not stored.
            stored = any(k == a.name or k.startswith(f"{a.name}.") for k in arrays)
            assert stored or a.name in _coded.COMPUTED, a.name


def test_signal_named_says_which_exist() -> None:
    assert signal_named("bm25").inputs == ("bm25",)
    with pytest.raises(KeyError, match="no lexical signal named 'nope'; known: bm25, word"):
        signal_named("nope")


def test_a_preselected_char_view_has_the_whole_catalogs_spread() -> None:
    """The scope model reads the char view's mean and spread over every agent. With the
    view read for a few candidates only, the agents left out are not all at one value:
    their own variance (from a sample of them; here, below the sample's size, all of them)
    belongs in the spread, or the char z-score comes out too large."""
    from agentroute._index import IndexConfig

    r = default_router()
    index = r.index
    texts = [t for t in REQUESTS if t] + ["kubernetes helm chart for postgres"]
    queries = [analyze_query(index, t) for t in texts]
    exact = score(index, queries, r.config.weights)
    few = dataclasses.replace(index, config=IndexConfig(preselect_min_agents=1, preselect=4))
    pre = score(few, queries, r.config.weights)
    assert pre.char_moments is not None
    for row in range(len(texts)):
        full = exact.char[row]
        assert np.count_nonzero(full) > 4
        assert pre.char_moments[row, 0] == pytest.approx(full.mean(), rel=1e-6)
        assert pre.char_moments[row, 1] == pytest.approx(full.std(), rel=1e-6)
