"""Routing evidence from an agent's text: triggers, example requests, use cases.

Pure functions over strings; the loader decides where the strings come from.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from agentroute._text import MAX_TRIGGER_WORDS, STOP_WORDS, normalize, tokens

__all__ = [
    "Boundaries",
    "body_sections",
    "boundaries",
    "clean_description",
    "dedupe",
    "description_not_for",
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
# ``[^<>]*``, not ``[^>]*``: a tag left open must stop at the next ``<`` so that a
# run of ``<example `` without ``>`` is scanned once, not once per opening.
_EXAMPLE_BLOCK = re.compile(r"<example\b[^<>]*>(.*?)(?:</example\s*>|\Z)", re.S | re.I)
_COMMENTARY = re.compile(r"<commentary\b[^<>]*>.*?(?:</commentary\s*>|\Z)", re.S | re.I)
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
    return _squeeze(text).strip(), dedupe(examples), notes


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
    return dedupe(triggers), dedupe(uses)


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
    return dedupe(triggers), dedupe(uses)


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
    return dedupe(w for w in words if w and w not in _GENERIC_NAME_WORDS and w not in STOP_WORDS)


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
    return dedupe(uses), dedupe(examples)


def dedupe(items: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for item in items:
        key = item.casefold()
        if item and key not in seen:
            seen.add(key)
            out.append(item)
    return out


# -- what an agent says it does not do, and whom it works with ----------------------------
#
# Headings of the sections that list what an agent does NOT do. Found in the corpora:
# "What This Agent Does NOT Handle" (lerianstudio-ring, 33 files, and the Go seed), "Do not
# use this skill when" (antigravity-kit skills, 30), "When NOT to Use This Agent",
# "Out of Scope", "When to Delegate" (davila7), "Limitations" sections that defer
# to other agents (davila7 documentation-expert).
_NOT_FOR_HEADING = re.compile(
    r"\b(?:does\s+not\s+handle|do(?:es)?\s+not\s+do|not\s+handled?\b|when\s+not\s+to\s+use|"
    r"(?:do\s+not|don'?t)\s+use\b|not\s+for\b|not\s+responsible|out\s+of\s+scope|"
    r"when\s+to\s+delegate|outside\s+(?:of\s+)?(?:my|this|the)\s+scope)",
    re.I,
)
# "Limitations" counts only for its items that defer to a named agent.
_LIMITS_HEADING = re.compile(r"^\W*(?:scope\s+)?limitations?\b", re.I)
_TEAM_HEADING = re.compile(
    r"\b(?:(?:interaction|integration|collaboration|working)\s+with\s+(?:other|related)\s+"
    r"(?:agents?|specialists?)|boundaries\s+with\s+related\s+agents?|related\s+agents?)\b",
    re.I,
)
# "(use Frontend Engineer)", "(use `sre`)", "Defer to `code-reviewer` or `x`",
# "consider the `documentation-engineer` or `api-documenter` agents", "→ Use x for:".
_REDIRECT = re.compile(
    r"\(\s*(?:use|see|ask|try|delegate\s+to|defer\s+to|handled\s+by|→)\s+(?P<paren>[^()]{1,160})\)"
    r"|(?:\b(?:defer(?:s)?\s+to|delegate\s+to|hand\s+off\s+to|handled\s+by|consider\s+the|"
    r"use\s+instead|instead\s+use)|(?:\u2192|->)\s*(?:use\b)?)\s*(?P<tail>[^.;:()]{1,160})",
    re.I,
)
_DELEGATE_LINE = re.compile(r"^\W*use\s+(?P<who>[\w`@./-]+(?:\s+[\w`@./-]+){0,3}?)\s+for\b", re.I)
_CODE_NAME = re.compile(r"`([A-Za-z0-9@._/-]{2,60})`")
_BOLD_NAME = re.compile(r"\*\*([A-Za-z0-9@._/ -]{2,60}?)\*\*")
_SLUG = re.compile(r"\b([a-z0-9]+(?:-[a-z0-9]+)+)\b")
# Placeholder or generic items say nothing about a request ("[Exclusions]", "The
# task is unrelated to java pro", "You need a different domain or tool outside this scope").
_GENERIC_ITEM = re.compile(
    r"^\[.*\]$|\bunrelated\s+to\b|\bdifferent\s+domain\b|\boutside\s+this\s+scope\b", re.I
)
_NAME_SPLIT = re.compile(r"\s*(?:,|\bor\b|\band\b|/(?=\s)|\|)\s*", re.I)
# A description's own "Not for …" sentence ("NOT for frontend work (use ui-engineer).").
_DESCRIPTION_NOT_FOR = re.compile(
    r"(?:^|(?<=[.;!?]\s)|(?<=\n))[^\S\n]*(?:not\s+for|do\s+not\s+use\s+(?:this\s+\w+\s+|it\s+)?"
    r"(?:for|when|to)|don'?t\s+use\s+(?:this\s+\w+\s+|it\s+)?(?:for|when|to)|not\s+intended\s+for)"
    r"\s+(?P<what>[^.\n]{3,300})(?:\.(?=\s|$)|\n|$)",
    re.I,
)
MAX_BOUNDARY_ITEMS = 64


@dataclass(frozen=True, slots=True)
class Boundaries:
    """What an agent's body says it does not do, who does it instead, and whom it works with."""

    not_for: tuple[str, ...] = ()
    redirects: tuple[tuple[str, str], ...] = ()
    collaborators: tuple[str, ...] = ()
    # The body without its not-for sections: what is indexed as evidence for the agent.
    indexed_body: str = ""


def _names_in(text: str) -> list[str]:
    """Agent names a redirect or collaboration line gives: `code`, **bold**, then slugs,
    then the plain words ("Frontend Engineer")."""
    found = _CODE_NAME.findall(text) or _BOLD_NAME.findall(text)
    if not found:
        found = _SLUG.findall(text)
    if not found:
        found = [p for p in _NAME_SPLIT.split(text) if p]
    out = []
    for both in found:
        for name in both.split(" / "):
            name = name.strip(" `*'\".,:;\u2192").removeprefix("the ").removesuffix(" agents")
            name = name.removesuffix(" agent").strip()
            if name and len(name.split()) <= 4 and not name.lower().endswith(".md"):
                out.append(name)
    return dedupe(out)


# "frontend-bff-engineer-typescript - BFF layer for frontend": the agent, then its part.
_NAME_FIRST = re.compile(
    r"^`?(?P<who>[a-z0-9]+(?:-[a-z0-9]+)+)`?\s+[-\u2013\u2014:]\s+(?P<what>.+)$"
)


def _split_redirect(item: str) -> tuple[str, list[str]]:
    """An item without its redirect, and the names the redirect gives."""
    names: list[str] = []
    first = _NAME_FIRST.match(item.strip())
    if first:
        names.append(first.group("who"))
        item = first.group("what")
    for m in _REDIRECT.finditer(item):
        names += _names_in(m.group("paren") or m.group("tail") or "")
    text = _REDIRECT.sub(" ", item)
    text = re.sub(r"[*`]", "", text)
    text = " ".join(text.split()).strip(" -:;,.\u2014\u2013")
    text = re.sub(r"^(?:for|when|if)\s+", "", text, flags=re.I)
    return text, dedupe(names)


def description_not_for(description: str) -> tuple[str, list[str], list[tuple[str, str]]]:
    """A description without its "Not for …" sentences, their items and redirects.

    Examples
    --------
    >>> description_not_for("Go APIs. Not for frontend work (use ui-engineer).")
    ('Go APIs.', ['frontend work'], [('frontend work', 'ui-engineer')])
    >>> description_not_for("Routes requests; nothing to remove.")[0]
    'Routes requests; nothing to remove.'
    """
    items: list[str] = []
    redirects: list[tuple[str, str]] = []
    for m in _DESCRIPTION_NOT_FOR.finditer(description):
        text, names = _split_redirect(m.group("what"))
        if text and not _GENERIC_ITEM.search(text):
            items.append(text)
            redirects += [(text, n) for n in names]
    if not items:
        return description, [], []
    kept = _squeeze(_DESCRIPTION_NOT_FOR.sub(" ", description)).strip()
    return kept, dedupe(items), redirects


def boundaries(body: str) -> Boundaries:
    """Read an agent body's not-for sections and collaboration tables or lists.

    Not-for sections ("What This Agent Does NOT Handle", "When NOT to Use", "Do not
    use this skill when", "Out of Scope", "When to Delegate") give items and their
    "(use X)" redirects; they are cut from the body that is indexed, so that what an
    agent says it does not do no longer counts for it. "Interaction with Other Agents"
    tables and lists give collaborators.

    Examples
    --------
    >>> b = boundaries("## Does\\n- Go APIs\\n## What This Agent Does NOT Handle\\n"
    ...                "- Docker/Kubernetes configuration (use DevOps Engineer)\\n"
    ...                "## Interaction with Other Agents\\n| Agent | Ask |\\n| --- | --- |\\n"
    ...                "| `test-engineer` | Tests |\\n")
    >>> b.not_for, b.collaborators
    (('Docker/Kubernetes configuration',), ('test-engineer',))
    >>> b.redirects
    (('Docker/Kubernetes configuration', 'DevOps Engineer'),)
    >>> b.indexed_body.split("\\n")[:2]
    ['## Does', '- Go APIs']
    """
    reader = _BodyReader()
    for line in body.split("\n"):
        reader.read(line)
    return Boundaries(
        tuple(dedupe(reader.not_for)),
        tuple(dict.fromkeys(reader.redirects)),
        tuple(dedupe(reader.collaborators))[:MAX_BOUNDARY_ITEMS],
        "\n".join(reader.kept),
    )


def _title_of(line: str) -> tuple[str, int] | None:
    """A heading line's title and level (a bold line standing alone is level 7), or None."""
    heading = _HEADING.match(line)
    if heading:
        return heading.group(2).rstrip().rstrip("#").rstrip().strip("*: "), len(heading.group(1))
    bold = _BOLD_HEADING.match(line.strip())
    if bold:
        return bold.group(1).strip("*: "), 7
    return None


def _section_kind(title: str) -> str | None:
    """What a section is about: ``"not"`` (not-for), ``"limits"``, ``"team"``, or None."""
    if _NOT_FOR_HEADING.search(title):
        return "not"
    if _LIMITS_HEADING.match(title):
        return "limits"
    if _TEAM_HEADING.search(title):
        return "team"
    return None


@dataclass(slots=True)
class _BodyReader:
    """Reads a body line by line for :func:`boundaries`: the section it is in, the lines it
    keeps for the index (all but not-for sections), and what those sections say."""

    not_for: list[str] = field(default_factory=list)
    redirects: list[tuple[str, str]] = field(default_factory=list)
    collaborators: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    mode: str | None = None
    level: int = 0
    in_code: bool = False
    target: list[str] = field(default_factory=list)  # "→ Use x for:" names the agent of items below

    def read(self, line: str) -> None:
        if line.lstrip().startswith("```"):
            self.in_code = not self.in_code
            self._keep(line)
            return
        if self.in_code:
            self._keep(line)
            return
        titled = _title_of(line)
        if titled is not None:
            self._heading(line, *titled)
            return
        self._keep(line)
        if self.mode == "team":
            self.collaborators += _collaborators_in(line)
        elif self.mode is not None:
            self._item(line)

    def _keep(self, line: str) -> None:
        if self.mode != "not":
            self.kept.append(line)

    def _heading(self, line: str, title: str, level: int) -> None:
        if self.mode is not None and level > self.level:
            # A sub-heading inside the section keeps the section (and may name the agent).
            who = _DELEGATE_LINE.match(title)
            self.target = _names_in(who.group("who")) if who else self.target
        else:
            self.target = []
            self.mode = _section_kind(title)
            if self.mode is not None:
                self.level = level
        self._keep(line)

    def _item(self, line: str) -> None:
        """One bullet of a not-for or limits section: the item and its redirects."""
        bullet = _BULLET.match(line)
        if not bullet:
            return
        text, names = _split_redirect(bullet.group(1))
        names = names or self.target
        if self.mode == "limits":
            if not names:
                return
            text = text.split(":", 1)[0] if ":" in text else text
        if not text or _GENERIC_ITEM.search(text) or len(self.not_for) >= MAX_BOUNDARY_ITEMS:
            return
        self.not_for.append(text)
        self.redirects += [(text, n) for n in names]


_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}")


def _collaborators_in(line: str) -> list[str]:
    """Agent names on one line of a collaboration table (first cell) or list."""
    stripped = line.strip()
    if stripped.startswith("|"):
        if _TABLE_RULE.match(stripped):
            return []
        cell = stripped.strip("|").split("|", 1)[0].strip()
        if cell.lower() in ("agent", "agents", "name", "who"):
            return []
        return _names_in(cell)[:1] if _CODE_NAME.search(cell) or _SLUG.search(cell) else []
    bullet = _BULLET.match(line)
    if not bullet:
        return []
    item = bullet.group(1)
    found = [
        n for f in _CODE_NAME.findall(item) or _BOLD_NAME.findall(item) for n in f.split(" / ")
    ]
    if not found:  # bare slugs only when they read as an agent's name ("frontend-developer")
        found = [s for s in _SLUG.findall(item) if s.rsplit("-", 1)[-1] in _ROLE_WORDS]
    return [
        f
        for f in (n.strip() for n in found)
        if f and len(f.split()) <= 4 and not f.lower().endswith(".md")
    ]


_ROLE_WORDS = _GENERIC_NAME_WORDS | {
    "writer",
    "reviewer",
    "designer",
    "strategist",
    "coach",
    "auditor",
    "tester",
    "planner",
    "optimizer",
    "owner",
    "coordinator",
    "documenter",
    "scientist",
    "administrator",
    "admin",
    "sre",
}
