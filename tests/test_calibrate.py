"""Confidence and scope: probabilities in [0, 1] that never reach certainty."""

from __future__ import annotations

import math

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from agentroute import Calibration
from agentroute._calibrate import MAX_LOGIT
from conftest import MAX_DEFAULT_CONFIDENCE


def test_the_default_calibrations_ceiling_is_what_the_tests_assume() -> None:
    """The confidence logit is capped at MAX_LOGIT (6.9): confidence 0.99899 at most, below the
    MAX_DEFAULT_CONFIDENCE (0.9991) every Decision check asserts. ``< 1.0`` could never fail."""
    cal = Calibration()
    extreme = cal(1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 20.0)
    assert extreme == pytest.approx(1.0 / (1.0 + math.exp(-MAX_LOGIT)))
    assert 0.998 < extreme < MAX_DEFAULT_CONFIDENCE
    assert cal(1.0, 1.0, 1.0, 0.0, 0.0) < 1.0 - 1e-3  # one agent far ahead of the rest


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
    p = cal(margin, p05, p10, near10, near20, *shares, 7.0, 12.0)
    assert math.isfinite(p) and 0.0 < p < MAX_DEFAULT_CONFIDENCE
    s = cal.scope(*shares, word_z, char_z)
    assert math.isfinite(s) and 0.0 <= s <= 1.0


@pytest.mark.parametrize(
    ("agents", "log_terms", "large"),
    [(202, 6.7, True), (50, 5.0, True), (49, 6.7, False), (202, 3.9, False), (8, 7.0, False)],
)
def test_large_full_text_catalogs_read_their_own_coefficients(
    agents: int, log_terms: float, large: bool
) -> None:
    """The ``large_`` set applies exactly to catalogs of 50+ agents with full texts: changing
    it moves confidence and scope there and nowhere else."""
    cal = Calibration()
    other = Calibration(large_intercept=cal.large_intercept - 3.0, large_scope_intercept=-40.0)
    shape = (math.log(agents), log_terms)
    inputs = (0.2, 0.3, 0.4, 0.5, 1.0, 0.9, 0.5, 0.3, 0.2, 0.4)
    assert cal.is_large(*shape) is large
    moved = other(*inputs, *shape) != cal(*inputs, *shape)
    scope_moved = other.scope(0.9, 0.5, 0.3, 0.2, 0.4, 1.0, 1.0, *shape) != cal.scope(
        0.9, 0.5, 0.3, 0.2, 0.4, 1.0, 1.0, *shape
    )
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
    """The same ceiling holds with the ``large_`` coefficients."""
    cal = Calibration()
    assert cal.is_large(log_agents, log_terms)
    p = cal(margin, p05, p10, near10, near20, *shares, log_agents, log_terms)
    assert math.isfinite(p) and 0.0 < p < MAX_DEFAULT_CONFIDENCE


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_a_coefficient_that_is_not_finite_is_refused(bad: float) -> None:
    """A NaN coefficient used to make every confidence 1.0 (min/max turn NaN into 50)."""
    with pytest.raises(ValueError, match=r"Calibration\.margin must be finite"):
        Calibration(margin=bad)
    with pytest.raises(TypeError, match=r"Calibration\.intercept must be a number"):
        Calibration(intercept="3")  # type: ignore[arg-type]
