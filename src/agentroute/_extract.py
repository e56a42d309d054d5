"""Routing evidence from an agent's text: triggers, example requests, use cases.

Pure functions over strings; the loader decides where the strings come from.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from agentroute._text import MAX_TRIGGER_WORDS, STOP_WORDS, normalize, tokens

__all__ = [
    "body_sections",
    "clean_description",
    "description_triggers",
    "name_triggers",
    "phrases",
    "skill_triggers",
    "split_list",
    "use_when_triggers",
]

MAX_TRIGGERS = 64

# Every pattern below runs on text from the internet, so none may backtrack
# more than linearly: no two adjacent quantifiers that can match the same run
# (``\s*:?\s*``), no unbounded lazy scan that can fail at every start. The
# text is squeezed first (one space between words, at most one blank line), and
# ``tests/test_hostile_files.py`` times each pattern on adversarial input.
_EXAMPLE_BLOCK = re.compile(r"<example\b[^>]*>(.*?)(?:</example\s*>|\Z)", re.S | re.I)
_COMMENTARY = re.compile(r"<commentary\b[^>]*>.*?(?:</commentary\s*>|\Z)", re.S | re.I)
# The content may not contain another opening tag, so an unclosed tag costs a
# scan to the next one, not to the end of the text.
_USER_REQUEST = re.compile(r"<user_request>((?:(?!<user_request>).)*?)</user_request>", re.S | re.I)
_TAG = re.compile(r"</?[a-z_]+(?:\s[^<>]*)?>", re.I)
# A quoted turn is at most MAX_QUOTED characters: an unclosed quote then costs a
# bounded scan before the unquoted alternative takes over.
MAX_QUOTED = 2_000
_USER_TURN = re.compile(
    r"(?:^|\s)user\s*:\s*(?:(?P<q>[\"'\u201c\u2018])(?P<quoted>.{1,"
    + str(MAX_QUOTED)
    + r"}?)(?:(?P=q)|[\u201d\u2019])"
    r"(?=\s|$|[.,;:<])|(?P<bare>.+?))(?=\s+(?:assistant|commentary|context)\s*:|\s*<|$)",
    re.S | re.I,
)
# dl-ezo style: "Examples: Context: … user: '…' assistant: '…'" with no <example> tags.
_INLINE_EXAMPLES = re.compile(r"\b(?:for\s+)?examples?\s*:\s*(?=(?:<|context\s*:|user\s*:))", re.I)
_DANGLING_EXAMPLES = re.compile(r"\b(?:for\s+)?examples?\s*(?::\s*)?$", re.I)


def _user_turns(block: str) -> list[str]:
    found = [m.group(1) for m in _USER_REQUEST.finditer(block)]
    for m in _USER_TURN.finditer(_COMMENTARY.sub(" ", block)):
        text = m.group("quoted") if m.group("quoted") is not None else m.group("bare")
        found.append(text)
    return [" ".join(t.split()).strip(" '\"") for t in found if t and t.strip()]


def clean_description(description: str) -> tuple[str, list[str], list[str]]:
    """Separate a description from the example dialogues embedded in it.

    Returns
    -------
    description : str
        The description without ``<example>`` blocks, with literal ``\\n`` escapes
        turned into line breaks.
    examples : list of str
        The ``user:`` turns (and ``<user_request>`` texts) of the example blocks.
    notes : list of str
        What was repaired (for diagnostics).

    Examples
    --------
    >>> d, ex, _ = clean_description(
    ...     "Use for APIs. Examples: <example>Context: x. user: 'Design my REST API' "
    ...     "assistant: 'ok'</example>")
    >>> d, ex
    ('Use for APIs.', ['Design my REST API'])
    """
    notes: list[str] = []
    text = description
    if "\\n" in text:
        text = text.replace("\\\\n", "\n").replace("\\n", "\n")
        notes.append("literal '\\n' escapes in the description were turned into line breaks")
    text = _squeeze(text)
    examples: list[str] = []
    for m in _EXAMPLE_BLOCK.finditer(text):
        examples.extend(_user_turns(m.group(1)))
    text = _EXAMPLE_BLOCK.sub(" ", text)
    inline = _INLINE_EXAMPLES.search(text)
    if inline:
        examples.extend(_user_turns(text[inline.end() :]))
        text = text[: inline.start()]
    text = _COMMENTARY.sub(" ", text)
    text = _TAG.sub(" ", text)
    dangling = _DANGLING_EXAMPLES.search(text)
    if dangling:
        text = _rstrip_separators(text[: dangling.start()])
    return _squeeze(text).strip(), _dedupe(examples), notes


def _squeeze(text: str) -> str:
    """One space between words, no spaces around line breaks, at most one blank line."""
    text = "\n".join(" ".join(line.split()) for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text)


def _rstrip_separators(text: str) -> str:
    """``text`` without trailing white space, commas and semicolons (in linear time)."""
    end = len(text)
    while end and (text[end - 1].isspace() or text[end - 1] in ",;"):
        end -= 1
    return text[:end]


def split_list(text: str) -> list[str]:
    """Split "a, b and c" / "'a', 'b'" / "a; b or c" into stripped items.

    Examples
    --------
    >>> split_list("'groom backlog', 'backlog refinement', and sprint planning.")
    ['groom backlog', 'backlog refinement', 'sprint planning']
    """
    parts = re.split(r"\s*(?:[,;|/]|\band\b|\bor\b)\s*", text)
    out = []
    for part in parts:
        p = part.strip().strip(".:!()[]`*").strip().strip("'\"\u201c\u201d\u2018\u2019").strip()
        if p:
            out.append(p)
    return out


_TRIGGERS_ON = re.compile(
    r"\b(?:triggers?|trigger\s+words|keywords|activates?)"
    r"(?:\s+(?:on|when|for|include)\s*:?|\s*:)\s*"
    r"(?P<list>.+?)(?:\.(?:\s|$)|\n|$)",
    re.I | re.S,
)
_USE_FOR = re.compile(
    r"\b(?:use\s+proactively|proactively\s+use(?:\s+this\s+agent)?|must\s+be\s+used|"
    r"use\s+(?:this\s+agent|this\s+skill|it|immediately))\s+"
    r"(?:for|when|to|after|on|before|if|whenever)\s+(?P<what>.+?)(?:\.(?:\s|$)|\n|$)",
    re.I | re.S,
)


_USE_WHEN = re.compile(
    r"\buse\s+when\b\s*:?\s*(?P<what>.+?)(?:\.(?:\s|$)|\n\s*\n|$)",
    re.I | re.S,
)


def use_when_triggers(description: str) -> tuple[list[str], list[str]]:
    """Trigger phrases and use cases from a skill's "Use when: a, b or c" list.

    Skill descriptions (61 of the 90 ``SKILL.md`` files in the corpora) state when
    to use them this way; agent files rarely do, and are left as they were.

    Examples
    --------
    >>> use_when_triggers("Fill PDF forms. Use when: filling a PDF form, merging PDFs.")
    (['filling a pdf form', 'merging pdfs'], [])
    >>> use_when_triggers("Use when you need to review pull requests or audit code.")
    (['review pull requests', 'audit code'], [])
    """
    triggers: list[str] = []
    uses: list[str] = []
    for m in _USE_WHEN.finditer(description):
        what = " ".join(_LEAD_IN.sub("", m.group("what")).split())
        t, u = phrases(_LEAD_IN.sub("", item) for item in split_list(what))
        triggers += [p for p in t if p not in _BARE_VERBS]
        uses += u
    return _dedupe(triggers), _dedupe(uses)


def phrases(items: Iterable[str]) -> tuple[list[str], list[str]]:
    """Sort list items into short trigger phrases and longer use cases.

    Examples
    --------
    >>> phrases(["Kubernetes", "designing a zero-downtime deployment pipeline for services"])
    (['kubernetes'], ['designing a zero-downtime deployment pipeline for services'])
    """
    triggers: list[str] = []
    uses: list[str] = []
    for item in items:
        norm = normalize(item).strip(" .:'\"")
        words = [w for w in tokens(norm) if w not in STOP_WORDS]
        if not words:
            continue
        if len(norm.split()) <= MAX_TRIGGER_WORDS:
            triggers.append(norm)
        else:
            uses.append(norm)
    return triggers, uses


def description_triggers(description: str) -> tuple[list[str], list[str]]:
    """Trigger phrases and use cases stated in a description.

    Reads "Triggers on a, b, c", "Triggers on: 'x', 'y'", "Use PROACTIVELY for …",
    "MUST BE USED when …" and "Use this agent when …".

    Examples
    --------
    >>> description_triggers("Backend expert. Triggers on backend, api, grpc.")
    (['backend', 'api', 'grpc'], [])
    >>> description_triggers("Use PROACTIVELY for Kubernetes upgrades and Helm charts.")
    (['kubernetes upgrades', 'helm charts'], [])
    >>> description_triggers("Use this agent when you need to create or review API docs.")
    (['review api docs'], [])
    """
    triggers: list[str] = []
    uses: list[str] = []
    for m in _TRIGGERS_ON.finditer(description):
        t, u = phrases(split_list(m.group("list")))
        triggers += t
        uses += u
    for m in _USE_FOR.finditer(description):
        what = _LEAD_IN.sub("", m.group("what"))
        t, u = phrases(_LEAD_IN.sub("", item) for item in split_list(what))
        # "create, update or review API docs": the object belongs to the last verb;
        # the bare verbs before it would fire on every request.
        t = [p for p in t if p not in _BARE_VERBS]
        triggers += t
        uses += u
    return _dedupe(triggers), _dedupe(uses)


# "Use this agent when you need to create X" names X, not "you need to create".
_LEAD_IN = re.compile(
    r"^\s*(?:(?:you|the\s+user|users?|someone|a\s+user)\s+"
    r"(?:need|needs|want|wants|ask|asks|are|is|have|has)\s+(?:to\s+)?)?"
    r"(?:(?:help|assistance)\s+(?:with|to)\s+)?",
    re.I,
)


_BARE_VERBS = frozenset(
    [
        "add",
        "analyze",
        "analyse",
        "build",
        "check",
        "create",
        "debug",
        "deploy",
        "design",
        "develop",
        "document",
        "edit",
        "fix",
        "generate",
        "help",
        "implement",
        "improve",
        "maintain",
        "make",
        "manage",
        "modify",
        "optimize",
        "optimise",
        "plan",
        "refactor",
        "review",
        "run",
        "set",
        "setup",
        "test",
        "update",
        "validate",
        "write",
    ]
)


# Words in names that say nothing about what an agent does.
_GENERIC_NAME_WORDS = frozenset(
    [
        # Role words: "engineer" is in 39 of davila7's agent names and tells none apart.
        "engineer",
        "developer",
        "architect",
        "manager",
        "analyst",
        "consultant",
        "pro",
        "expert",
        "specialist",
        "agent",
        "assistant",
        "master",
        "guru",
        "helper",
        "wizard",
        "ninja",
        "bot",
        "the",
        "a",
        "an",
        "skill",
        "skills",
        "pattern",
        "patterns",
        "best",
        "practices",
        "practice",
        "v1",
        "v2",
    ]
)


def name_triggers(name: str) -> list[str]:
    """The meaningful words of an agent's name, as single-word triggers.

    Examples
    --------
    >>> name_triggers("api-scaffolding-fastapi-pro")
    ['api', 'scaffolding', 'fastapi']
    """
    words = re.split(r"[\s_\-./:]+", normalize(name))
    return _dedupe(w for w in words if w and w not in _GENERIC_NAME_WORDS and w not in STOP_WORDS)


def skill_triggers(skill: str) -> list[str]:
    """A skill slug as one trigger phrase, generic words dropped.

    Examples
    --------
    >>> skill_triggers("go-concurrency-patterns")
    ['go concurrency']
    """
    words = name_triggers(skill)
    if not words or len(words) > MAX_TRIGGER_WORDS:
        return []
    return [" ".join(words)]


# A heading's title is what follows the marks, with trailing white space and
# closing marks trimmed in code (a regex doing it backtracks cubically).
_HEADING = re.compile(r"(#{1,6})\s+(.*)")
_BOLD_HEADING = re.compile(r"^\*\*([^*]+)\*\*\s*(?::\s*)?$")
_BULLET = re.compile(r"^\s*(?:[-*+\u2022]|\d+[.)])\s+(?=\S)(.*\S)\s*$")
_USE_HEADING = re.compile(
    r"\b(?:when\s+to\s+use|use\s+(?:this\s+agent\s+|me\s+|it\s+)?(?:when|for)|when\s+invoked|"
    r"use\s+cases?|triggers?|invoke\s+(?:this\s+agent\s+)?when|ideal\s+for|responsibilities)\b",
    re.I,
)
_NEGATIVE_HEADING = re.compile(r"\b(?:not|don'?t|never|avoid|instead)\b", re.I)
_EXAMPLE_HEADING = re.compile(
    r"^\W{0,3}\s*example\s+(?:interactions?|use\s+cases?|tasks?|requests?|prompts?|queries|"
    r"user\s+requests?|invocations?)\s*:?$",
    re.I,
)


def body_sections(body: str) -> tuple[list[str], list[str]]:
    """Use cases (from "When to use"-style sections) and example requests in a body.

    Sections whose heading is negative ("What this agent does NOT handle") are
    skipped: they name what should *not* route here.

    Examples
    --------
    >>> body = ("## When to Use\\n- Go services\\n"
    ...         "## Example Interactions\\n- \\"Fix my gRPC server\\"")
    >>> body_sections(body)
    (['Go services'], ['Fix my gRPC server'])
    """
    uses: list[str] = []
    examples: list[str] = []
    mode: str | None = None
    level = 0
    in_code = False
    for line in body.split("\n"):
        if line.lstrip().startswith("```"):
            in_code = not in_code
            continue
        if in_code:
            continue
        heading = _HEADING.match(line)
        bold = _BOLD_HEADING.match(line.strip()) if not heading else None
        if heading or bold:
            title = (
                heading.group(2).rstrip().rstrip("#").rstrip()
                if heading
                else (bold.group(1) if bold else "")
            )
            this_level = len(heading.group(1)) if heading else 7
            if mode is not None and this_level > level:
                continue  # a sub-heading inside the section keeps the section
            title = title.strip("*: ")
            if _EXAMPLE_HEADING.match(title):
                mode, level = "example", this_level
            elif _USE_HEADING.search(title) and not _NEGATIVE_HEADING.search(title):
                mode, level = "use", this_level
            else:
                mode = None
            continue
        bullet = _BULLET.match(line)
        if mode is not None and bullet:
            item = re.sub(r"[*`]", "", bullet.group(1)).strip().strip("\"'\u201c\u201d")
            if item:
                (examples if mode == "example" else uses).append(item)
    return _dedupe(uses), _dedupe(examples)


def _dedupe(items: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for item in items:
        key = item.casefold()
        if item and key not in seen:
            seen.add(key)
            out.append(item)
    return out
