"""The normaliser and tokeniser that index and query share."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from agentroute._text import normalize, stem, terms


@given(st.text())
def test_normalize_is_idempotent(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once


@given(st.text())
def test_terms_of_normalized_text_are_the_same(text: str) -> None:
    assert terms(normalize(text)) == terms(text)


def test_typographic_dashes_and_nbsp_fold_to_ascii() -> None:
    assert normalize("zero\u2011downtime\u00a0deploy \u2014 now") == "zero-downtime deploy - now"


def test_synonyms_meet_their_canonical_form() -> None:
    assert terms("k8s") == terms("Kubernetes") == ["kubernetes"]
    assert terms("PostgreSQL") == terms("postgres") == terms("pg") == ["postgres"]
    assert terms("golang") == terms("Go") == ["go"]


def test_stemmer_joins_inflections() -> None:
    assert stem("deploying") == stem("deployed") == stem("deploys") == stem("deploy")
    assert stem("upgrade") == stem("upgrading")


_PIECES = st.sampled_from(
    [
        " ",
        "  ",
        "\n",
        "\t",
        "\r\n",
        "\x0b",
        "\x1c",
        "\u00a0",
        "\u2003",
        "\u1680",
        "\u3000",
        ".js",
        "node",
        ".net",
        "c++",
        "c#",
        "+",
        "#",
        "A",
        "é",
        "ﬁ",
        "Ⅻ",
        "ǅ",
        "x",
        "7",
        "-",
    ]
)


@settings(max_examples=300)
@given(st.lists(st.one_of(_PIECES, st.text(max_size=4)), max_size=30).map("".join))
def test_tokens_read_text_as_its_normalized_form(text: str) -> None:
    """``tokens`` skips collapsing white space (a build's worth of splitting and joining):
    it must find what the regex finds in the normalised text, the index's definition."""
    from agentroute._text import _DOT_JS, _DOT_NET, _TOKEN, tokens

    norm = _DOT_NET.sub("dotnet", _DOT_JS.sub(r"\1js", normalize(text)))
    assert tokens(text) == _TOKEN.findall(norm)


@given(st.lists(st.one_of(_PIECES, st.text(max_size=4)), max_size=30).map("".join))
def test_folded_text_splits_into_the_normalized_words(text: str) -> None:
    """The char n-grams read ``fold(text).split()``: the words of ``normalize(text)``."""
    from agentroute._text import fold

    assert fold(text).split() == normalize(text).split()
