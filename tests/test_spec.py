"""The records check their fields at the boundary: lists become tuples, a lone string is refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentroute import AgentSpec

FIELDS = ("triggers", "examples", "use_cases", "tools", "skills")


@pytest.mark.parametrize("field", FIELDS)
def test_a_string_for_a_tuple_field_is_refused_naming_the_field(field: str) -> None:
    with pytest.raises(
        TypeError, match=rf"AgentSpec\.{field} must be a sequence of str, got a str"
    ):
        AgentSpec("api", **{field: "api, endpoint"})  # type: ignore[arg-type]


@given(st.sampled_from(FIELDS), st.lists(st.text(max_size=12), max_size=5))
def test_any_list_of_strings_becomes_a_hashable_tuple(field: str, items: list[str]) -> None:
    spec = AgentSpec("api", **{field: items})  # type: ignore[arg-type]
    assert getattr(spec, field) == tuple(items)
    assert hash(spec) == hash(AgentSpec("api", **{field: tuple(items)}))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"triggers": ["ok", 3]}, r"AgentSpec\.triggers\[1\] must be a str, got int"),
        ({"tools": 5}, r"AgentSpec\.tools must be a sequence of str, got int"),
        ({"description": None}, r"AgentSpec\.description must be a str, got NoneType"),
        ({"model": 4}, r"AgentSpec\.model must be a str or None, got int"),
    ],
)
def test_wrong_types_are_refused_naming_the_field(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(TypeError, match=message):
        AgentSpec("api", **kwargs)  # type: ignore[arg-type]
