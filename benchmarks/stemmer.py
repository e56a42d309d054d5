"""A benchmark run with Snowball English (PyStemmer) as agentroute's stemmer (issue 23 item 6).

    pip install PyStemmer
    PYTHONPATH=src python benchmarks/stemmer.py snowball benchmarks/fit_defaults.py --out PATH
    PYTHONPATH=src python benchmarks/stemmer.py snowball benchmarks/accuracy.py --loco --quick \
        --no-semantic
    PYTHONPATH=src python benchmarks/stemmer.py light benchmarks/crowded.py --no-hook

A measuring tool, not a switch of the library: before anything else of agentroute is imported,
``agentroute._text.stem`` is replaced (``snowball``) or left alone (``light``), then the script
runs in this process with the arguments that follow it. The Snowball stem keeps agentroute's
synonyms: a word that is a synonym maps as before, and a Snowball stem that is the stem of a
synonym or of its canonical form maps to that canonical form (``kubernetes``, ``kubernete`` and
``k8s`` all give ``kubernetes``), so index and query still meet on them.

Judged with the calibration refitted: run ``fit_defaults.py`` under the same stemmer first,
writing the package's ``data/calibration.json`` in a scratch copy of the repository (``--loco``
refits per catalog by itself; ``crowded.py`` reads the shipped file). Figures:
``benchmarks/README.md``, issue 23 item 6.
"""

from __future__ import annotations

import runpy
import sys
from functools import lru_cache


def use_snowball() -> None:
    """Replace ``agentroute._text.stem`` by Snowball English with the same synonyms."""
    import Stemmer  # PyStemmer: a measurement dependency only

    from agentroute import _text

    snowball = Stemmer.Stemmer("english")
    synonyms = dict(_text.SYNONYMS)
    canonical = {snowball.stemWord(v): v for v in synonyms.values()}
    canonical.update({snowball.stemWord(k): v for k, v in synonyms.items()})

    @lru_cache(maxsize=1 << 17)
    def stem(token: str) -> str:
        if token in synonyms:
            return synonyms[token]
        word: str = snowball.stemWord(token)
        return canonical.get(word, word)

    import agentroute._classifier
    import agentroute._tfidf  # noqa: F401  (both bind ``stem`` by name: rebind it there too)

    original = _text.stem
    for name, module in list(sys.modules.items()):
        if name.startswith("agentroute") and getattr(module, "stem", None) is original:
            module.stem = stem  # type: ignore[attr-defined]
    _text._term.cache_clear()


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] not in ("light", "snowball"):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    if argv[0] == "snowball":
        use_snowball()
    script, rest = argv[1], argv[2:]
    sys.argv = [script, *rest]
    runpy.run_path(script, run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
