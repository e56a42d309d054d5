"""Confidence and scope: probabilities in [0, 1] that never reach certainty."""

from __future__ import annotations

import math

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from agentroute import Calibration
from conftest import MAX_DEFAULT_CONFIDENCE


def test_the_default_calibrations_ceiling_is_what_the_tests_assume() -> None:
    """The most confident default logit, intercept + margin + softmax_10 (the rest are negative
    coefficients on non-negative inputs), is 6.938: confidence 0.99903, below the
    MAX_DEFAULT_CONFIDENCE (0.9991) every Decision check asserts. ``< 1.0`` could never fail."""
    cal = Calibration()
    top = cal(1.0, 0.0, 1.0, 0.0, 0.0)
    assert top == pytest.approx(1.0 / (1.0 + math.exp(-6.938)))
    assert 0.999 < top < MAX_DEFAULT_CONFIDENCE
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
    below its ceiling (0.99903, see above), and scope within [0, 1]."""
    cal = Calibration()
    p = cal(margin, p05, p10, near10, near20)
    assert math.isfinite(p) and 0.0 < p < MAX_DEFAULT_CONFIDENCE
    s = cal.scope(*shares, word_z, char_z)
    assert math.isfinite(s) and 0.0 <= s <= 1.0
