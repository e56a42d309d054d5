"""The normaliser and tokeniser that index and query share."""

from __future__ import annotations

from hypothesis import given
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
