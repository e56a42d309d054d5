"""Split a Markdown agent file into front matter and body, and read the front matter.

Always ``yaml.safe_load`` (through a loader that refuses alias bombs); when the
YAML is invalid, the fields are recovered line by line, or, for a file whose
newlines were lost, by known keys. Every recovery is returned as a note.
"""

from __future__ import annotations

import re
import textwrap
from typing import Any

import yaml

from agentroute._decode import Note

__all__ = ["KNOWN_KEYS", "parse_front_matter", "restore_newlines", "split_front_matter"]

_FENCE = re.compile(r"^[ \t]*-{3,}[ \t]*$")
# The whole front matter and body on one line: "--- name: x description: y --- # Body".
# The lookbehinds let a run of blanks be tried once, at its start, not at each of
# its characters (which is quadratic in the run's length).
_ONE_LINE = re.compile(
    r"\A---[ \t]+(?P<fm>\S.*?)(?<![ \t])[ \t]+---(?:[ \t]+(?P<body>.*))?\Z", re.S
)

# Top-level keys seen in real agent and skill files; used to split front matter
# whose newlines were lost, where no line structure is left to go by.
KNOWN_KEYS: tuple[str, ...] = (
    "name",
    "description",
    "tools",
    "model",
    "skills",
    "triggers",
    "keywords",
    "tags",
    "examples",
    "version",
    "last_updated",
    "type",
    "changelog",
    "output_schema",
    "input_schema",
    "color",
    "author",
    "category",
    "expertise_level",
    "permissionMode",
    "allowed-tools",
    "license",
    "hooks",
    "maxTurns",
    "project_rules_integration",
)

# YAML bigger than this is not front matter; refusing it bounds parse time.
MAX_FRONT_MATTER_CHARS = 256 * 1024
# More aliases than this in front matter is an alias bomb, not an agent file.
MAX_ALIASES = 64


def split_front_matter(text: str) -> tuple[str | None, str, list[Note]]:
    """Return ``(front matter or None, body, notes)``.

    Tolerates leading blank lines, indented and over-long ``---`` fences, and a
    file whose newlines were all lost.

    Examples
    --------
    >>> split_front_matter("---\\nname: a\\n---\\n# A\\n")
    ('name: a', '# A\\n', [])
    >>> fm, body, notes = split_front_matter("--- name: a description: b --- # A text")
    >>> fm, body, notes[0][0]
    ('name: a description: b', '# A text\\n', 'newlines-lost')
    """
    notes: list[Note] = []
    lines = text.split("\n")
    first = 0
    while first < len(lines) and not lines[first].strip():
        first += 1
    if first == len(lines):
        return None, "", notes

    if not _FENCE.match(lines[first]):
        one = _ONE_LINE.match(text.strip()) if len(lines) - first <= 2 else None
        if one:
            notes.append(
                (
                    "newlines-lost",
                    "the whole file is on one line; front matter and body were split "
                    "at the '---' fences and the body's headings and lists restored",
                    "warning",
                )
            )
            return one.group("fm"), restore_newlines(one.group("body") or ""), notes
        return None, text, notes

    if first:
        notes.append(
            ("leading-blank-lines", f"{first} blank line(s) before the front matter", "info")
        )
    opening = lines[first]
    if opening.strip() != "---" or opening != opening.lstrip():
        notes.append(
            (
                "odd-fence",
                f"the opening fence is {opening.strip()[:12]!r}, indented or long",
                "info",
            )
        )
    for end in range(first + 1, len(lines)):
        if _FENCE.match(lines[end]):
            closing = lines[end]
            if closing.strip() != "---":
                notes.append(("odd-fence", "the closing fence is longer than '---'", "info"))
            fm_lines = lines[first + 1 : end]
            body = "\n".join(lines[end + 1 :])
            indent = opening[: len(opening) - len(opening.lstrip())]
            if indent:
                notes.append(
                    (
                        "indented-front-matter",
                        "the front matter was indented; it was dedented",
                        "warning",
                    )
                )
                body = textwrap.dedent(body)
            return textwrap.dedent("\n".join(fm_lines)).strip("\n"), body, notes
    notes.append(
        ("unclosed-front-matter", "the opening '---' has no closing fence; read as body", "warning")
    )
    return None, "\n".join(lines[first + 1 :]), notes


_SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_ANCHOR = re.compile(r"(?:^|[\s\[{,:-])&[^\s\[\]{},]+")
_ALIAS = re.compile(r"(?:^|[\s\[{,:-])\*[^\s\[\]{},]+")
# Deeper than this is not an agent's front matter; refusing it keeps the
# (recursive) YAML composer far from the interpreter's and the C stack's limits.
MAX_NESTING = 40


# Block collections nest by indentation, and also within one line through
# chained indicators: "- - - a", "? ? a", "- ? - a" (properties may sit between).
_LEADING_INDICATORS = re.compile(r"[ \t]*(?:(?:[-?:]|[&!][^ \t]*)(?:[ \t]+|$))*")


def _nesting(fm: str) -> int:
    """An upper bound on how deep the YAML nests, counted without parsing it.

    Flow brackets (quotes are not excluded: a false alarm only means line-by-line
    recovery), indentation, and the chains of block indicators that libyaml
    nests without indentation: 50,000 of ``- `` overflow its C stack.
    """
    depth = deepest = 0
    for ch in fm:
        if ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth = max(0, depth - 1)
    block = 0
    for line in fm.split("\n"):
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip(" "))
        lead = _LEADING_INDICATORS.match(line)
        chain = sum(1 for c in lead.group(0) if c in "-?:") if lead else 0
        block = max(block, indent // 2 + chain)
    return max(deepest, block)


def safe_load(fm: str) -> Any:
    """``yaml.safe_load`` (libyaml when present), refusing alias bombs and deep nesting."""
    if _ANCHOR.search(fm) and len(_ALIAS.findall(fm)) > MAX_ALIASES:
        raise yaml.YAMLError(f"more than {MAX_ALIASES} aliases (an alias bomb?)")
    if _nesting(fm) > MAX_NESTING:
        raise yaml.YAMLError(f"nested deeper than {MAX_NESTING} levels")
    return yaml.load(fm, Loader=_SafeLoader)


def parse_front_matter(fm: str, *, one_line: bool = False) -> tuple[dict[str, Any], list[Note]]:
    """Read front matter into a mapping, recovering when the YAML is invalid.

    Examples
    --------
    >>> parse_front_matter("name: a\\ndescription: Triggers on: 'x', 'y'")[0]
    {'name': 'a', 'description': "Triggers on: 'x', 'y'"}
    """
    notes: list[Note] = []
    if len(fm) > MAX_FRONT_MATTER_CHARS:
        notes.append(
            (
                "front-matter-too-large",
                f"front matter of {len(fm)} characters is over {MAX_FRONT_MATTER_CHARS}; "
                "fields were read line by line",
                "warning",
            )
        )
        return _recover_lines(fm[:MAX_FRONT_MATTER_CHARS]), notes
    if one_line:
        return _recover_known_keys(fm), notes
    try:
        data = safe_load(fm)
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        where = ""
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            where = f" at line {mark.line + 1}"
        problem = getattr(exc, "problem", None) or str(exc).split("\n")[0]
        notes.append(
            (
                "invalid-yaml",
                f"invalid YAML{where} ({problem}); fields were recovered line by line",
                "warning",
            )
        )
        return _recover_lines(fm), notes
    if data is None:
        return {}, notes
    if not isinstance(data, dict):
        notes.append(
            (
                "front-matter-not-mapping",
                f"front matter is a {type(data).__name__}, not a mapping; fields were recovered "
                "line by line",
                "warning",
            )
        )
        return _recover_lines(fm), notes
    return {str(k): v for k, v in data.items()}, notes


_KEY_LINE = re.compile(r"^([A-Za-z_][\w.-]*)[ \t]*:(?:[ \t]+(.*))?$")


def _unquote(value: str) -> str:
    v = value.strip()
    if len(v) >= 2 and v[0] == v[-1] and v[0] in "'\"":
        inner = v[1:-1]
        return inner.replace("\\n", "\n").replace('\\"', '"') if v[0] == '"' else inner
    return v


def _flow_list(value: str) -> list[str] | None:
    """``[a, b]`` as a list, for fields recovered without YAML."""
    v = value.strip()
    if len(v) >= 2 and v[0] == "[" and v[-1] == "]" and "[" not in v[1:-1]:
        return [_unquote(item) for item in v[1:-1].split(",") if item.strip()]
    return None


def _recover_lines(fm: str) -> dict[str, Any]:
    """Fields from ``key: value`` lines; indented or ``- `` lines continue the last key."""
    out: dict[str, Any] = {}
    key: str | None = None
    scalar: list[str] = []
    items: list[str] = []

    def flush() -> None:
        if key is not None and key not in out:
            if items and not any(s.strip() for s in scalar):
                out[key] = list(items)
            else:
                text = " ".join(s.strip() for s in scalar if s.strip())
                if text in {"|", ">", "|-", ">-"}:
                    text = ""
                flow = _flow_list(text)
                if flow is not None:
                    out[key] = flow
                else:
                    out[key] = _unquote(text) if text else (list(items) if items else "")

    for line in fm.split("\n"):
        m = _KEY_LINE.match(line)
        if m and not line[:1].isspace():
            flush()
            key, scalar, items = m.group(1), [m.group(2) or ""], []
            continue
        stripped = line.strip()
        if key is None or not stripped:
            continue
        if stripped.startswith("- "):
            items.append(_unquote(stripped[2:]))
        else:
            scalar.append(stripped)
    flush()
    return out


def _recover_known_keys(fm: str) -> dict[str, Any]:
    """Fields from front matter without line breaks, split at the first ``key:`` of each key."""
    pattern = re.compile(
        r"(?:^|(?<=\s))(" + "|".join(re.escape(k) for k in KNOWN_KEYS) + r"):(?=\s|$)"
    )
    starts: list[tuple[int, int, str]] = []
    seen: set[str] = set()
    for m in pattern.finditer(fm):
        if m.group(1) not in seen:
            seen.add(m.group(1))
            starts.append((m.start(), m.end(), m.group(1)))
    out: dict[str, Any] = {}
    for i, (_, value_start, key) in enumerate(starts):
        value_end = starts[i + 1][0] if i + 1 < len(starts) else len(fm)
        out[key] = _unquote(fm[value_start:value_end])
    return out


_HEADING_IN_LINE = re.compile(r"(?<![ \t])[ \t]+(?=#{1,6} )")
_BULLET_IN_LINE = re.compile(r"(?<![ \t])[ \t]+(?=[-*] (?:\*\*|`|\[|[A-Z0-9]))")
_SMALL_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "as",
        "at",
        "by",
        "for",
        "from",
        "in",
        "of",
        "on",
        "or",
        "the",
        "to",
        "vs",
        "with",
        "&",
        "/",
        "-",
    ]
)


def _split_heading(line: str) -> str:
    """``## When to Use This Agent Invoke this agent…`` → heading line, then the text."""
    marker, _, rest = line.partition(" ")
    words = rest.split(" ")
    for i, word in enumerate(words):
        if i == 0 or not word:
            continue
        if word[0].islower() and word not in _SMALL_WORDS:
            # The heading ends before the capitalised word that starts the sentence.
            cut = i - 1
            if cut >= 1:
                return f"{marker} {' '.join(words[:cut])}\n\n{' '.join(words[cut:])}"
            return line
    return line


def restore_newlines(body: str) -> str:
    """Put back the line breaks of a Markdown body whose newlines were lost.

    Headings and list items each get a line again; a heading that ran into its
    paragraph is cut where the first sentence starts.

    Examples
    --------
    >>> print(restore_newlines("# Title Some text. ## When to Use Invoke it for: - Go APIs - SQL"))
    # Title
    <BLANKLINE>
    Some text.
    <BLANKLINE>
    ## When to Use
    <BLANKLINE>
    Invoke it for:
    - Go APIs
    - SQL
    <BLANKLINE>
    """
    text = _HEADING_IN_LINE.sub("\n\n", body.strip())
    text = _BULLET_IN_LINE.sub("\n", text)
    lines = [_split_heading(line) if line.startswith("#") else line for line in text.split("\n")]
    return "\n".join(lines) + ("\n" if lines else "")
