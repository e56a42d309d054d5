"""Whether a request is written in another language than the catalogs' English.

Catalogs are written in English; a request in another language shares few or no
words with them, and a decline's reason should say so rather than call the
request off-topic (:mod:`agentroute._decide` words it).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

__all__ = ["other_language"]


# Frequent function words of the languages most often mistaken for English
# (French, Spanish, Portuguese, Italian, German, Dutch), none of them English words.
_FOREIGN_FUNCTION_WORDS = frozenset(
    [
        "le",
        "la",
        "les",
        "des",
        "une",
        "avec",
        "pour",
        "dans",
        "est",
        "sont",
        "nous",
        "vous",
        "pas",
        "sur",
        "au",
        "aux",
        "ces",
        "cette",
        "el",
        "los",
        "las",
        "una",
        "para",
        "por",
        "del",
        "es",
        "está",
        "pero",
        "como",
        "más",
        "uma",
        "com",
        "não",
        "em",
        "ao",
        "das",
        "dos",
        "são",
        "di",
        "che",
        "gli",
        "della",
        "delle",
        "sono",
        "anche",
        "nel",
        "der",
        "das",
        "und",
        "mit",
        "für",
        "ein",
        "eine",
        "ist",
        "nicht",
        "auf",
        "ich",
        "wir",
        "sie",
        "dem",
        "zu",
        "het",
        "een",
        "voor",
        "niet",
        "met",
        "zijn",
        "ik",
    ]
)


def other_language(text: str) -> str | None:
    """How ``text`` shows it is not English, or None: mostly letters of another script,
    or several function words of another Latin-script language.

    Catalogs are written in English; a request in another language shares few or
    no words with them, and the reason should say so rather than call the request
    off-topic.

    >>> other_language("Напиши тесты для модуля оплаты")
    'it is written in Cyrillic script'
    >>> other_language("Écris une API REST en Go avec des tests")
    'it reads as another language'
    >>> other_language("write tests for the payment module") is None
    True
    """
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return None
    scripts = Counter(unicodedata.name(ch, "LATIN").split(" ")[0] for ch in letters)
    latin = scripts.pop("LATIN", 0)
    if scripts and sum(scripts.values()) >= latin:
        script = scripts.most_common(1)[0][0]
        names = {"CJK": "Chinese or Japanese (CJK)", "HIRAGANA": "Japanese"}
        return f"it is written in {names.get(script, script.title())} script"
    words = re.findall(r"[^\W\d_]+", text.lower())
    foreign = sum(1 for w in words if w in _FOREIGN_FUNCTION_WORDS)
    if foreign >= 2 and foreign * 5 >= len(words):
        return "it reads as another language"
    return None
