"""The one normaliser and tokeniser used everywhere: the index and the query agree.

``normalize`` folds case, Unicode compatibility forms, typographic dashes and
quotes. ``terms`` turns text into index terms: tokens, a light stemmer, a small
synonym table (``k8s`` → ``kubernetes``), stop words removed.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = [
    "MAX_TRIGGER_WORDS",
    "STOP_WORDS",
    "SYNONYMS",
    "escape_controls",
    "fold",
    "normalize",
    "stem",
    "term_surfaces",
    "terms",
    "tokens",
]

# A trigger is a short phrase of at most this many words; anything longer is a use
# case (scored as text). The loader and the index both read it from here.
MAX_TRIGGER_WORDS = 4

_PUNCT = str.maketrans(
    {
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
        "\u00a0": " ",
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
    }
)


_PUNCT_PAIRS = tuple((chr(k), v) for k, v in _PUNCT.items())


def _punct(text: str) -> str:
    """``text.translate(_PUNCT)``: each character maps to one ASCII character, so
    replacing them one by one gives the same string, several times faster on long
    text than translate() with a table (most of an index build's normalising)."""
    for old, new in _PUNCT_PAIRS:
        if old in text:
            text = text.replace(old, new)
    return text


def normalize(text: str) -> str:
    """Fold case and Unicode forms, unify dashes and quotes, collapse white space.

    Idempotent: ``normalize(normalize(s)) == normalize(s)``.

    Examples
    --------
    >>> normalize("  Kubernetes\u2011Cluster  DEPLOY\u00a0now ")
    'kubernetes-cluster deploy now'
    """
    # str.split() and the regex ``\s`` agree on what white space is (both
    # Py_UNICODE_ISSPACE); split and join is several times faster than re.sub.
    return " ".join(fold(text).split())


def fold(text: str) -> str:
    """:func:`normalize` but for collapsing white space (what :func:`tokens` reads:
    a run of white space of any kind separates tokens as one space does), so
    ``fold(s).split() == normalize(s).split()``.

    Examples
    --------
    >>> fold("Kubernetes\u2011Cluster   DEPLOY")
    'kubernetes-cluster   deploy'
    """
    if text.isascii():
        # NFKC and the dash and quote table leave ASCII alone, and ASCII case
        # folding is lower(): the same result without three more passes over the
        # text (most of an index build's normalising).
        return text.lower()
    previous = None
    out = text
    # NFKC and case folding can each undo the other's fixed point for a few
    # characters; iterate to the joint fixed point (at most a few rounds).
    for _ in range(4):
        if out == previous:
            break
        previous = out
        out = _punct(unicodedata.normalize("NFKC", out).casefold())
    return out


# Function words, plus words every agent description uses ("agent", "expert")
# and that therefore carry no routing signal. Kept short on purpose: words such
# as "bill", "call" or "system" (stop words in scikit-learn's list) do matter.
STOP_WORDS: frozenset[str] = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "also",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "either",
        "else",
        "etc",
        "every",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "let",
        "lets",
        "me",
        "more",
        "most",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "please",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "via",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
        "ve",
        "ll",
        "re",
        "d",
        "s",
        "t",
        "m",
        "don",
        "doesn",
        "didn",
        "isn",
        "aren",
        "wasn",
        "weren",
        "won",
        "wouldn",
        "shouldn",
        "couldn",
        "can't",
        "i'm",
        "it's",
        "agent",
        "agents",
        "assistant",
        "expert",
        "experts",
        "specialist",
        "specialists",
        "specializing",
        "specialized",
        "specialise",
        "specialises",
        "specializes",
        "proactively",
        "must",
        "used",
        "use",
        "uses",
        "using",
        "e.g",
        "i.e",
        "eg",
        "ie",
    ]
)

# Canonical forms for common abbreviations and spellings, applied after stemming.
SYNONYMS: dict[str, str] = {
    "k8s": "kubernetes",
    "kube": "kubernetes",
    "kubernete": "kubernetes",
    "postgre": "postgres",
    "pg": "postgres",
    "postgresql": "postgres",
    "psql": "postgres",
    "js": "javascript",
    "ts": "typescript",
    "py": "python",
    "golang": "go",
    "nodejs": "node",
    "reactjs": "react",
    "vuejs": "vue",
    "db": "database",
    "dbs": "database",
    "repo": "repository",
    "repos": "repository",
    "authn": "auth",
    "authentication": "auth",
    "authenticate": "auth",
    "tf": "terraform",
    "gcp": "google-cloud",
    "aws": "aws",
    "ml": "machine-learning",
    "ai": "ai",
    "ui": "ui",
    "ux": "ux",
}

_TOKEN = re.compile(r"[a-z0-9]+(?:\+\+|#)?")
_DOT_JS = re.compile(r"\b([a-z]+)\.js\b")
_DOT_NET = re.compile(r"(?<![a-z0-9])\.net\b")


def tokens(text: str) -> list[str]:
    """Split normalised text into raw word tokens (no stemming, no stop words).

    Examples
    --------
    >>> tokens("Deploy Node.js + C++ to K8s; .NET too")
    ['deploy', 'nodejs', 'c++', 'to', 'k8s', 'dotnet', 'too']
    """
    # Not collapsed: no white space character is a token's or a word character, so one
    # or several of any kind separate tokens alike (and mark the same ``\b``).
    norm = fold(text)
    # Both patterns need their suffix; testing for it first skips two scans of the text.
    if ".js" in norm:
        norm = _DOT_JS.sub(r"\1js", norm)
    if ".net" in norm:
        norm = _DOT_NET.sub("dotnet", norm)
    return _TOKEN.findall(norm)


# Cached: the index build stems ~700k tokens of a 1,000-agent catalog, most of
# them repeats, and the learned classifier stems every request.
@lru_cache(maxsize=1 << 17)
def stem(token: str) -> str:
    """A light, deterministic suffix stripper (plurals, -ing, -ed).

    Not linguistics: it only has to map a request's word and an agent's word to
    the same term. Synonyms are applied to the result.

    Examples
    --------
    >>> [stem(w) for w in ["queries", "apis", "testing", "deployed", "class", "k8s", "upgrade"]]
    ['query', 'api', 'test', 'deploy', 'class', 'kubernetes', 'upgrad']
    """
    w = token
    if w in SYNONYMS:
        return SYNONYMS[w]
    if len(w) > 4 and w.endswith("ies"):
        w = w[:-3] + "y"
    elif len(w) > 4 and w.endswith("sses"):
        w = w[:-2]
    elif (
        len(w) > 3
        and w.endswith("s")
        and not w.endswith(("ss", "us", "'s"))
        and not (len(w) > 4 and w.endswith("is"))
    ):
        w = w[:-1]
    if w in SYNONYMS:
        return SYNONYMS[w]
    if len(w) > 5 and w.endswith("ing"):
        w = w[:-3]
    elif len(w) > 5 and w.endswith("ed") and not w.endswith("eed"):
        w = w[:-2]
    elif len(w) > 4 and w.endswith("e") and not w.endswith(("ee", "ue")):
        # "upgrade" and "upgrading" (→ "upgrad") must meet.
        w = w[:-1]
    return SYNONYMS.get(w, w)


# A catalog's text repeats its words thousands of times; stemming each distinct
# token once cut the index build of 10,000 agents by a third. Bounded, so a
# hostile stream of unique tokens cannot grow it without limit.
def _is_content(token: str) -> bool:
    return (token not in STOP_WORDS and not token.isdigit() and len(token) > 1) or token in {
        "c",
        "r",
    }


@lru_cache(maxsize=1 << 17)
def _term(token: str) -> str | None:
    """A token's term, or None for a stop word: one cached look-up per token."""
    return stem(token) if _is_content(token) else None


def term_surfaces(text: str) -> list[tuple[str, str]]:
    """``(term, surface word)`` pairs of the content words of ``text``, in order.

    Examples
    --------
    >>> term_surfaces("The Kubernetes pods are crashing")
    [('kubernetes', 'kubernetes'), ('pod', 'pods'), ('crash', 'crashing')]
    """
    return [(term, t) for t in tokens(text) if (term := _term(t)) is not None]


def terms(text: str) -> list[str]:
    """The content terms of ``text``: tokens, stemmed, synonyms applied, stop words dropped.

    Examples
    --------
    >>> terms("Please add rate-limiting to our gRPC APIs")
    ['add', 'rate', 'limit', 'grpc', 'api']
    """
    return [t for t in map(_term, tokens(text)) if t is not None]


# Characters that steer a terminal or reorder what it shows: C0/C1 controls (ESC
# starts "clear screen", "set title", "conceal"), format characters (U+202E flips
# the text after it), line/paragraph separators and lone surrogates (file names
# that are not UTF-8). Newline and tab are the output's own layout.
_CONTROL_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_KEPT = frozenset("\n\t")


def _escaped(ch: str) -> str:
    code = ord(ch)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def escape_controls(text: str) -> str:
    """``text`` with every terminal control written as a visible ``\\uXXXX`` escape.

    What agentroute prints comes from untrusted files (names, triggers, paths);
    escaped, it cannot clear the screen, hide a finding or reverse a line. The
    escapes are JSON's, so JSON text stays valid JSON with the same strings.

    Examples
    --------
    >>> escape_controls("helm\\x1b[2J\\u202eevil\\tok\\n")
    'helm\\\\u001b[2J\\\\u202eevil\\tok\\n'
    """
    # Nearly every write is printable text and its own newlines and tabs: checked in C,
    # without looking at each character in Python.
    if text.isprintable() or text.replace("\n", "").replace("\t", "").isprintable():
        return text
    return "".join(
        _escaped(ch) if ch not in _KEPT and unicodedata.category(ch) in _CONTROL_CATEGORIES else ch
        for ch in text
    )
