"""A build and a cache write run without NumPy's huge page hint, and put it back."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from agentroute import _pages
from agentroute._build import build_counted, build_index
from agentroute._cache import write_cache
from agentroute._spec import AgentSpec


class FakeSwitch:
    """NumPy's ``_set_madvise_hugepage``: sets the hint, returns the one before."""

    def __init__(self, state: bool) -> None:
        self.state = state
        self.seen: list[bool] = []
        self.lock = threading.Lock()

    def __call__(self, enabled: bool) -> bool:
        with self.lock:
            before, self.state = self.state, enabled
            self.seen.append(enabled)
            return before


@pytest.fixture
def switch(monkeypatch: pytest.MonkeyPatch) -> FakeSwitch:
    fake = FakeSwitch(True)
    monkeypatch.setattr(_pages, "_switch", lambda: fake)
    return fake


def test_the_hint_is_off_inside_and_put_back_after(switch: FakeSwitch) -> None:
    with _pages.small_pages():
        assert switch.state is False
        with _pages.small_pages():  # nested: still off, and not put back by the inner one
            assert switch.state is False
        assert switch.state is False
    assert switch.state is True
    with pytest.raises(KeyError), _pages.small_pages():
        raise KeyError("an error inside still puts the hint back")
    assert switch.state is True


def test_a_hint_that_was_off_stays_off(switch: FakeSwitch) -> None:
    switch.state = False
    with _pages.small_pages():
        assert switch.state is False
    assert switch.state is False


def test_overlapping_builds_in_threads_put_back_the_first_setting(switch: FakeSwitch) -> None:
    """Two blocks that overlap (A enters, B enters, A leaves, B leaves): the setting
    found by the first is what the last puts back, not the 'off' the second found."""
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    states: list[bool] = []

    def first() -> None:
        with _pages.small_pages():
            a_in.set()
            b_in.wait(5)
        a_out.set()

    def second() -> None:
        a_in.wait(5)
        with _pages.small_pages():
            b_in.set()
            a_out.wait(5)
            states.append(switch.state)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert states == [False]  # the first one's end did not turn it on under the second
    assert switch.state is True


def test_where_numpy_has_no_switch_nothing_happens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_pages, "_switch", lambda: None)
    with _pages.small_pages():
        pass


def test_numpys_switch_is_found() -> None:
    """The private switch exists on the NumPy this runs with (else the build pays the
    kernel's compaction again, silently)."""
    found = _pages._switch()
    assert found is not None
    before = found(True)
    found(before)


def test_a_build_and_a_cache_write_run_with_the_hint_off(
    switch: FakeSwitch, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import agentroute._build as building

    during: list[bool] = []
    fit = building._fit

    def watched(*args: object, **kwargs: object) -> object:
        during.append(switch.state)
        return fit(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(building, "_fit", watched)
    agents = [AgentSpec("db", "Tunes slow SQL queries."), AgentSpec("k8s", "Runs Kubernetes pods.")]
    index = build_index(agents)
    counted = build_counted(agents)
    assert during == [False, False]
    assert switch.state is True
    switch.seen.clear()
    write_cache(
        tmp_path / "x.npz",
        key="k",
        agents=agents,
        diagnostics=(),
        index=index,
        counts=counted.counts,
    )
    assert switch.seen == [False, True]
