"""Another language than the catalogs' English: said in a decline's reason, not guessed at."""

from __future__ import annotations

import pytest

from agentroute._language import other_language


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("Напиши тесты для модуля оплаты", "it is written in Cyrillic script"),
        ("为支付模块编写测试", "it is written in Chinese or Japanese (CJK) script"),
        ("Écris une API REST en Go avec des tests", "it reads as another language"),
        ("Schreib die Tests für das Modul und prüfe es mit der CI", "it reads as another language"),
        ("write tests for the payment module", None),
        ("deploy la app", None),  # one foreign word is not a language
        ("", None),
        ("1234 !!", None),
    ],
)
def test_other_language(text: str, said: str | None) -> None:
    assert other_language(text) == said
