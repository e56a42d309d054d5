"""Confidence and scope: probabilities in [0, 1] that never reach certainty."""

from __future__ import annotations

import dataclasses
import json
import math
import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from agentroute import Calibration, CalibrationSet, LargeCatalogs, Logistic, Signals
from agentroute._calibrate import CONFIDENCE_INPUTS, MAX_LOGIT, SCOPE_INPUTS, read_data
from conftest import MAX_DEFAULT_CONFIDENCE


def _confidence_in(*values: float) -> Signals:
    """Signals from the confidence inputs in their 0.2 order (the rest 0)."""
    return _signals(dict(zip(CONFIDENCE_INPUTS, values, strict=False)))


def _scope_in(*values: float) -> Signals:
    return _signals(dict(zip(SCOPE_INPUTS, values, strict=False)))


def _signals(values: dict[str, float]) -> Signals:
    zero = {f.name: 0.0 for f in dataclasses.fields(Signals)}
    return Signals(**{**zero, **values})


def test_the_default_calibrations_ceiling_is_what_the_tests_assume() -> None:
    """The confidence logit is capped at MAX_LOGIT (6.9): confidence 0.99899 at most, below the
    MAX_DEFAULT_CONFIDENCE (0.9991) every Decision check asserts. ``< 1.0`` could never fail."""
    cal = Calibration()
    extreme = cal.confidence(
        _confidence_in(1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 20.0)
    )
    assert extreme == pytest.approx(1.0 / (1.0 + math.exp(-MAX_LOGIT)))
    assert 0.998 < extreme < MAX_DEFAULT_CONFIDENCE
    assert (
        cal.confidence(_confidence_in(1.0, 1.0, 1.0, 0.0, 0.0)) < 1.0 - 1e-3
    )  # one agent far ahead of the rest


@given(
    st.floats(0, 1),
    st.floats(0, 1),
    st.floats(0, 1),
    st.floats(0, 10),
    st.floats(0, 10),
    st.lists(st.floats(0, 1), min_size=5, max_size=5),
    st.floats(-50, 50),
    st.floats(-50, 50),
)
@example(1.0, 0.0, 1.0, 0.0, 0.0, [1.0] * 5, 50.0, 50.0)  # the confidence ceiling
def test_default_calibration_never_reaches_certainty(
    margin: float,
    p05: float,
    p10: float,
    near10: float,
    near20: float,
    shares: list[float],
    word_z: float,
    char_z: float,
) -> None:
    """Shares and scores lie in [0, 1], crowding in [0, log n]: the confidence logistic stays
    below its ceiling (MAX_LOGIT, see above), and scope within [0, 1]."""
    cal = Calibration()
    p = cal.confidence(_confidence_in(margin, p05, p10, near10, near20, *shares, 7.0, 12.0))
    assert math.isfinite(p) and 0.0 < p < MAX_DEFAULT_CONFIDENCE
    s = cal.scope(_scope_in(*shares, word_z, char_z))
    assert math.isfinite(s) and 0.0 <= s <= 1.0


@pytest.mark.parametrize(
    ("agents", "log_terms", "large"),
    [(202, 6.7, True), (50, 5.0, True), (49, 6.7, False), (202, 3.9, False), (8, 7.0, False)],
)
def test_large_full_text_catalogs_read_their_own_coefficients(
    agents: int, log_terms: float, large: bool
) -> None:
    """The large set applies exactly to catalogs of 50+ agents with full texts: changing
    it moves confidence and scope there and nowhere else."""
    cal = Calibration()
    large_set = CalibrationSet(
        confidence=dataclasses.replace(
            cal.large.confidence, intercept=cal.large.confidence.intercept - 3.0
        ),
        scope=dataclasses.replace(cal.large.scope, intercept=-40.0),
    )
    other = dataclasses.replace(cal, large=large_set)
    shape = (math.log(agents), log_terms)
    inputs = _confidence_in(0.2, 0.3, 0.4, 0.5, 1.0, 0.9, 0.5, 0.3, 0.2, 0.4, *shape)
    assert cal.is_large(*shape) is large
    moved = other.confidence(inputs) != cal.confidence(inputs)
    scoped = _scope_in(0.9, 0.5, 0.3, 0.2, 0.4, 1.0, 1.0, *shape)
    scope_moved = other.scope(scoped) != cal.scope(scoped)
    assert moved is large and scope_moved is large


@given(
    st.floats(0, 1),
    st.floats(0, 1),
    st.floats(0, 1),
    st.floats(0, 10),
    st.floats(0, 10),
    st.lists(st.floats(0, 1), min_size=5, max_size=5),
    st.floats(math.log(50), 10),
    st.floats(5, 20),
)
def test_large_catalog_calibration_never_reaches_certainty(
    margin: float,
    p05: float,
    p10: float,
    near10: float,
    near20: float,
    shares: list[float],
    log_agents: float,
    log_terms: float,
) -> None:
    """The same ceiling holds with the large set's coefficients."""
    cal = Calibration()
    assert cal.is_large(log_agents, log_terms)
    p = cal.confidence(
        _confidence_in(margin, p05, p10, near10, near20, *shares, log_agents, log_terms)
    )
    assert math.isfinite(p) and 0.0 < p < MAX_DEFAULT_CONFIDENCE


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_a_coefficient_that_is_not_finite_is_refused(bad: float) -> None:
    """A NaN coefficient used to make every confidence 1.0 (min/max turn NaN into 50)."""
    with pytest.raises(ValueError, match=r"Logistic\.coefficients\['margin'\] must be finite"):
        Logistic(intercept=0.0, coefficients=(("margin", bad),))
    with pytest.raises(TypeError, match=r"Logistic\.intercept must be a number"):
        Logistic(intercept="3", coefficients=())  # type: ignore[arg-type]


def _shipped_json() -> dict[str, object]:
    from importlib import resources

    text = (resources.files("agentroute") / "data" / "calibration.json").read_text("utf-8")
    data: dict[str, object] = json.loads(text)
    return data


def test_the_shipped_numbers_come_from_the_data_file() -> None:
    """``Calibration()`` and ``RouterConfig().min_scope`` are the packaged file's numbers, and
    the file round-trips through the records."""
    from agentroute import RouterConfig

    data = _shipped_json()
    cal, min_scope = read_data(data, "calibration.json")
    assert Calibration() == cal and RouterConfig().min_scope == min_scope
    assert Calibration.from_dict(Calibration().to_dict()) == Calibration()
    assert Calibration().to_dict() == data["calibration"]


@pytest.mark.parametrize(
    ("edit", "error", "message"),
    [
        (
            lambda d: d["general"]["confidence"]["coefficients"].update(margin=1e9),
            ValueError,
            r"calibration\.general\.confidence\.coefficients\['margin'\] must be finite and in",
        ),
        (
            lambda d: d["large"]["scope"].update(intercept="x"),
            TypeError,
            r"calibration\.large\.scope\.intercept must be a number, got 'x'",
        ),
        (
            lambda d: d["large"]["scope"]["coefficients"].update(cosine=1.0),
            ValueError,
            r"calibration\.large\.scope\.coefficients names 'cosine', which is not a Signals",
        ),
        (
            lambda d: d["large_catalogs"].update(min_agents=50.5),
            ValueError,
            r"calibration\.large_catalogs\.min_agents must be an integer >= 1, got 50\.5",
        ),
        (lambda d: d.pop("large"), ValueError, r"calibration must be an object with"),
    ],
)
def test_a_damaged_calibration_file_names_the_field(edit: Any, error: type, message: str) -> None:
    data = json.loads(json.dumps(_shipped_json()["calibration"]))
    edit(data)
    with pytest.raises(error, match=message):
        Calibration.from_dict(data)


def test_a_coefficient_names_an_input_the_model_reads_and_nothing_else() -> None:
    """The data file decides which inputs a model reads: one named coefficient adds one."""
    cal = Calibration()
    sig = _confidence_in(0.2, 0.3, 0.4, 0.5, 1.0, 0.9, 0.5, 0.3, 0.2, 0.4)
    sig = dataclasses.replace(sig, word_z=2.0)
    data = cal.to_dict()
    data["general"]["confidence"]["coefficients"]["word_z"] = 0.5
    more = Calibration.from_dict(data)
    assert more.general.confidence.inputs[-1] == "word_z"
    shift = more.general.confidence.logit(sig) - cal.general.confidence.logit(sig)
    assert shift == pytest.approx(1.0)


def test_the_02_calling_forms_still_work_with_a_warning() -> None:
    cal = Calibration()
    inputs = (0.2, 0.3, 0.4, 0.5, 1.0, 0.9, 0.5, 0.3, 0.2, 0.4, 2.0, 4.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert cal(*inputs) == cal.confidence(_confidence_in(*inputs))
        assert cal.scope(0.9, 0.5, 0.3, 0.2, 0.4, 1.0, 1.0) == cal.scope(
            _scope_in(0.9, 0.5, 0.3, 0.2, 0.4, 1.0, 1.0)
        )
        assert cal.large_scope_word == cal.large.scope.coefficient("word")
        assert cal.large_min_agents == 50.0
    assert len(caught) == 4
    assert all(issubclass(w.category, DeprecationWarning) for w in caught)
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        cal.nonsense  # noqa: B018


def test_large_catalogs_is_a_whole_number_of_agents() -> None:
    assert LargeCatalogs(min_agents=50, min_log_terms=5.0).applies(math.log(50), 5.0)
    with pytest.raises(ValueError, match=r"LargeCatalogs\.min_agents must be an integer"):
        LargeCatalogs(min_agents=50.0, min_log_terms=5.0)  # type: ignore[arg-type]


def test_the_scope_model_is_not_extrapolated_past_its_largest_catalog() -> None:
    """Issue 21: crowding a catalog with more collections lowered the in-scope probability
    of plainly in-scope requests; past ``scope_max_agents`` the catalog reads as that size."""
    import dataclasses
    import math

    from agentroute._calibrate import Calibration, Signals

    cal = Calibration()
    cap = cal.large.scope_max_agents
    assert cap is not None and cap >= 50
    zero = dict.fromkeys(f.name for f in dataclasses.fields(Signals))
    base = Signals(
        **{
            **{k: 0.0 for k in zero},
            "known": 1.0,
            "coverage": 0.8,
            "word": 0.2,
            "char": 0.15,
            "word_z": 6.0,
            "char_z": 5.0,
            "log_terms": 6.7,
        }
    )
    at_cap = dataclasses.replace(base, log_agents=math.log(cap))
    crowded = dataclasses.replace(base, log_agents=math.log(cap * 3))
    assert cal.scope(crowded) == cal.scope(at_cap)
    unbounded = dataclasses.replace(
        cal, large=dataclasses.replace(cal.large, scope_max_agents=None)
    )
    assert unbounded.scope(crowded) != unbounded.scope(at_cap)
    with pytest.raises(ValueError, match="scope_max_agents must be an integer"):
        dataclasses.replace(cal.large, scope_max_agents=0)
    data = cal.to_dict()
    assert Calibration.from_dict(data) == cal


_unit_rows = st.integers(1, 5).flatmap(
    lambda rows: st.integers(1, 40).flatmap(
        lambda agents: st.lists(
            st.lists(
                st.one_of(st.just(0.0), st.just(1.0), st.floats(0.0, 1.0)),
                min_size=agents,
                max_size=agents,
            ),
            min_size=rows * 3,
            max_size=rows * 3,
        ).map(lambda v: np.array(v, dtype=np.float64).reshape(3, rows, agents))
    )
)


@given(_unit_rows)
def test_a_batchs_signals_are_each_rows_alone(views: np.ndarray) -> None:
    """batch_signals (a batch's calibration inputs at once, its two softmaxes from one
    exponential) gives each row what signals() gives it alone: the softmaxes to the bit,
    the rest within 1e-12."""
    from agentroute._calibrate import batch_signals, signals
    from agentroute._score import Query, Scores

    combined, word, char = np.round(views[0], 9), views[1], views[2]
    scores = Scores(
        combined,
        {"bm25": word, "word": word, "char": char, "trigger": word, "coverage": char},
        tuple(() for _ in combined),
        tuple(np.zeros(0, dtype=np.int64) for _ in combined),
    )
    best = combined.argmax(axis=1)
    queries = [Query("a b", ("a", "b"), {}, (), r % 3) for r in range(combined.shape[0])]
    batch = batch_signals(combined, scores, best, queries, (1.5, 2.5))
    for r, q in enumerate(queries):
        alone = signals(combined[r], scores, r, int(best[r]), q, (1.5, 2.5))
        assert (batch[r].softmax_05, batch[r].softmax_10) == (alone.softmax_05, alone.softmax_10)
        for f in dataclasses.fields(Signals):
            assert math.isclose(
                getattr(batch[r], f.name), getattr(alone, f.name), rel_tol=1e-12, abs_tol=1e-12
            ), f.name
