"""Fuzzed agent files: loading raises nothing but the library's documented errors.

Non-strict loading never raises; strict loading raises only AgentFileError; a
missing path raises CatalogError. Example counts are kept modest for CI.
"""

from __future__ import annotations

import json
import tempfile
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentroute import AgentFileError, CatalogError, LoadResult, load_agents, parse_agent
from agentroute._frontmatter import KNOWN_KEYS

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_SPICY = st.sampled_from(
    [
        ":",
        ": ",
        "'",
        '"',
        "\\",
        "&a",
        "*a",
        "!!python/object:os.system",
        "!!binary",
        "[",
        "]",
        "{",
        "}",
        "- ",
        "? ",
        "|",
        ">",
        "#",
        "%YAML 1.1",
        "---",
        "...",
        "\t",
        "\x00",
        "\x1b",
        "\u202e",
        "\ufeff",
        "é",
        "—",
        "<example>",
        "user: '",
        "</example>",
        "\\n",
        "Triggers on ",
        "Use PROACTIVELY for ",
        "<user_request>",
        "\r\n",
        "ðŸ›‘",
        "Ã©",
        " " * 40,
    ]
)
_WORD = st.one_of(_SPICY, st.text(max_size=12), st.from_regex(r"[a-z]{1,8}", fullmatch=True))
_VALUE = st.lists(_WORD, max_size=8).map("".join)
_KEY = st.one_of(st.sampled_from(KNOWN_KEYS), st.text(max_size=8), _SPICY)
_INDENT = st.sampled_from(["", " ", "  ", "    ", "\t"])
_LINE = st.one_of(
    st.builds(lambda i, k, v: f"{i}{k}: {v}", _INDENT, _KEY, _VALUE),
    st.builds(lambda i, v: f"{i}- {v}", _INDENT, _VALUE),
    _VALUE,
)
_FENCE = st.sampled_from(["---", "----", "  ---", "--- ", "", "---\n", "***"])
_BODY_LINE = st.one_of(
    st.builds(lambda h, v: f"{h} {v}", st.sampled_from(["#", "##", "######", "#######"]), _VALUE),
    st.builds(lambda b, v: f"{b} {v}", st.sampled_from(["-", "*", "1.", "•"]), _VALUE),
    st.sampled_from(["```", "## When to use", "## Example Interactions", "**Use cases**:"]),
    _VALUE,
)


# Names are sanitised (control and format characters dropped, white space collapsed): every
# file declares one, raw or as a YAML/JSON double-quoted string whose escapes (\u001b, \t,
# \u202e) reach the loader as the characters themselves. Without it only ~1.4% of files took
# their name from the front matter and the sanitising was hardly exercised.
_NAME_TEXT = st.builds(
    "{}{}{}".format,
    st.from_regex(r"[a-z]{1,8}", fullmatch=True),  # something survives the sanitising
    st.one_of(
        _VALUE,
        st.text(alphabet=st.characters(codec=None, categories=None), max_size=20),
        st.from_regex(
            r"([ \t\x00\x1b\x7f\x85\u200b\u202e\u2028\u3000]+[a-z]{1,8}){0,3}", fullmatch=True
        ),
    ),
    st.from_regex(r"[a-z]{0,8}", fullmatch=True),
)
_NAME_LINE = st.one_of(
    _NAME_TEXT.map(lambda v: f"name: {v}"),
    _NAME_TEXT.map(lambda v: f"name: {json.dumps(v)}"),
    _NAME_TEXT.map(lambda v: f"name: {json.dumps(v, ensure_ascii=False)}"),
)


@st.composite
def agent_files(draw: st.DrawFn) -> str:
    opening = "---" if draw(st.booleans()) else draw(_FENCE)  # a clean opening half the time
    # The name last: a later "name:" among the random lines would replace it.
    lines = [*draw(st.lists(_LINE, max_size=10)), draw(_NAME_LINE)]
    front = "\n".join(lines)
    closing = draw(_FENCE)
    body = "\n".join(draw(st.lists(_BODY_LINE, max_size=12)))
    lead = draw(st.sampled_from(["", "\n\n", "\ufeff"]))
    joiner = draw(st.sampled_from(["\n", " ", "\r\n"]))  # " ": newlines lost
    return lead + joiner.join([opening, front, closing, body])


def _sound(result: LoadResult) -> None:
    assert isinstance(result, LoadResult)
    for agent in result.agents:
        assert agent.name.strip() and agent.name == " ".join(agent.name.split())
        assert not any(unicodedata.category(ch) in ("Cc", "Cf", "Cs") for ch in agent.name), repr(
            agent.name
        )
    for d in result.diagnostics:
        assert d.severity in ("info", "warning", "error") and d.kind and d.message


@FUZZ
@given(agent_files())
def test_parse_agent_never_raises(text: str) -> None:
    _sound(parse_agent(text, path="fuzz.md"))


@FUZZ
@given(st.text(alphabet=st.characters(codec=None, categories=None), max_size=400))
def test_parse_agent_never_raises_on_any_text(text: str) -> None:
    _sound(parse_agent(text, path="fuzz.md"))


@FUZZ
@given(st.text(alphabet=st.characters(codec=None, categories=None), max_size=60), st.booleans())
def test_any_text_as_a_declared_name_is_sanitised(text: str, quoted: bool) -> None:
    value = json.dumps(text) if quoted else text
    _sound(parse_agent(f"---\nname: {value}\ndescription: Fuzzed.\n---\nbody\n", path="fuzz.md"))


def test_most_generated_files_take_their_name_from_the_front_matter() -> None:
    """The name-sanitising checks in _sound only run on names the files declare."""
    declared: list[bool] = []

    @FUZZ
    @given(agent_files())
    def check(text: str) -> None:
        result = parse_agent(text, path="fuzz.md")
        _sound(result)
        declared.append(any(a.name != "fuzz" for a in result.agents))

    check()
    assert sum(declared) >= len(declared) // 6, sum(declared)  # ~30%


@FUZZ
@given(
    agent_files(),
    st.sampled_from(["utf-8", "utf-16", "utf-16-le", "utf-16-be", "cp1252", "latin-1"]),
    st.binary(max_size=16),
    st.sampled_from(["agent.md", "agent.yaml", "agent.json", "agent"]),
)
def test_load_agents_raises_only_documented_errors(
    text: str, encoding: str, noise: bytes, filename: str
) -> None:
    data = text.encode(encoding, errors="replace") + noise
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / filename).write_bytes(data)
        targets = [root, root / filename]
        _sound(load_agents(targets))
        try:
            _sound(load_agents(targets, strict=True))
        except AgentFileError as exc:
            assert exc.path and str(exc).startswith(exc.path)


def test_missing_path_is_a_catalog_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match=r"nowhere\.md: no such file or folder"):
        load_agents(tmp_path / "nowhere.md")
