"""Files, folders and catalogs → :class:`AgentSpec` records, with diagnostics.

Loading never stops at one bad file: each file is read on its own, every
recovery or skip becomes a :class:`Diagnostic`, and ``strict=True`` turns the
first warning or error into an :class:`AgentFileError` naming the file.

Finding the files (walking folders, opening only regular files) is
:mod:`agentroute._fs`; where Claude Code keeps them is :mod:`agentroute._claude`.
"""

from __future__ import annotations

import dataclasses
import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from agentroute import _extract as ex
from agentroute._claude import SKILL_FILE, is_skill
from agentroute._decode import BinaryFileError, Note, decode_bytes
from agentroute._errors import AgentFileError
from agentroute._fs import (
    DEFAULT_MAX_BYTES,
    MARKDOWN_SUFFIXES,
    PathArg,
    as_paths,
    discover,
    open_regular,
)
from agentroute._spec import AgentSpec, Diagnostic, LoadResult

__all__ = [
    "CATALOG_FIELDS",
    "clean_name",
    "load_agents",
    "parse_agent",
    "raise_first_problem",
    "read_files",
    "spec_from_mapping",
]

_CATALOG_SUFFIXES = frozenset({".yaml", ".yml", ".json"})


def _diag(path: str, note: Note) -> Diagnostic:
    kind, message, severity = note
    if severity not in ("info", "warning", "error"):
        severity = "warning"
    return Diagnostic(path=path, kind=kind, message=message, severity=severity)  # type: ignore[arg-type]


def _text_field(data: Mapping[str, Any], key: str, path: str, diags: list[Diagnostic]) -> str:
    value = data.get(key)
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, (int, float, bool)):
        return str(value)
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        diags.append(Diagnostic(path, "field-type", f"{key!r} is a list; its items were joined"))
        return " ".join(str(v) for v in value)
    diags.append(
        Diagnostic(path, "field-type", f"{key!r} is a {type(value).__name__}; it was ignored")
    )
    return ""


def _list_field(data: Mapping[str, Any], key: str, path: str, diags: list[Diagnostic]) -> list[str]:
    value = data.get(key)
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [v.strip() for v in re.split(r"[,\n]", value) if v.strip()]
    if isinstance(value, (list, tuple)):
        out = []
        for item in value:
            if isinstance(item, (str, int, float)) and str(item).strip():
                out.append(str(item).strip())
            elif isinstance(item, Mapping) and len(item) == 1:
                # "- Bash: git *" style entries: keep the key.
                out.append(str(next(iter(item))).strip())
        if len(out) < len(value):
            diags.append(
                Diagnostic(
                    path, "field-type", f"{key!r} has items that are not text; they were ignored"
                )
            )
        return out
    diags.append(
        Diagnostic(path, "field-type", f"{key!r} is a {type(value).__name__}; it was ignored")
    )
    return []


def _first_paragraph(body: str) -> str:
    for block in re.split(r"\n\s*\n", body):
        lines = [ln.strip() for ln in block.strip().split("\n") if ln.strip()]
        text = " ".join(ln for ln in lines if not ln.startswith(("#", "```", "---", "|", "<")))
        text = re.sub(r"[*_`>]+", "", text).strip()
        if len(text.split()) >= 3:
            return text
    return ""


_HEADING_MARKS = re.compile(r"#{1,6}[ \t]+(?=\S)")


def _first_heading(body: str) -> str:
    # Line by line and trimmed in code: ``^#+\s+(.+?)\s*$`` backtracks cubically
    # on a heading with a long run of spaces inside.
    for line in body.split("\n"):
        m = _HEADING_MARKS.match(line)
        if m:
            return line[m.end() :].strip().strip("*# ")
    return ""


def _default_name(path: str) -> str:
    p = Path(path)
    if p.name.lower() == SKILL_FILE and p.parent.name:
        return p.parent.name
    return p.stem if p.suffix.lower() in MARKDOWN_SUFFIXES else p.name


def clean_name(name: str, path: str, diags: list[Diagnostic]) -> str:
    """``name`` without control and invisible format characters, on one line.

    A name is printed by the CLI and used as a key: an escape sequence, a NUL or
    a right-to-left override in it could rewrite a terminal line or make two
    names look alike.
    """
    kept = "".join(
        " " if ch.isspace() else ch
        for ch in name
        if ch.isspace() or unicodedata.category(ch) not in ("Cc", "Cf", "Cs")
    )
    removed = len(name) - len(kept)
    kept = " ".join(kept.split())
    if removed:
        diags.append(
            Diagnostic(
                path,
                "control-characters",
                f"the name held {removed} control or invisible character(s); they were removed",
            )
        )
    return kept


def _record(
    data: Mapping[str, Any], body: str, path: str, diags: list[Diagnostic]
) -> AgentSpec | None:
    """Build the record from front-matter fields and a body (diagnostics in field order)."""
    name = _name(data, path, diags)
    if not name:
        diags.append(Diagnostic(path, "no-name", "no name and no file to name it after", "error"))
        return None
    description, examples = _description(data, body, path, diags)
    # "Not for …" sentences say what should not route here: out of the indexed text.
    description, not_for, redirects = ex.description_not_for(description)
    bounds = ex.boundaries(body)
    triggers, uses, skills = _triggers(data, name, description, path, diags)
    body_uses, body_examples = ex.body_sections(body)
    t, u = ex.phrases(body_uses)
    triggers += t
    uses += u
    examples += _list_field(data, "examples", path, diags)
    examples += body_examples

    model = _text_field(data, "model", path, diags) or None
    return AgentSpec(
        name=name,
        description=description,
        triggers=tuple(ex.dedupe(triggers))[: ex.MAX_TRIGGERS],
        examples=tuple(ex.dedupe(examples)),
        use_cases=tuple(ex.dedupe(uses)),
        tools=tuple(
            _list_field(data, "tools", path, diags)
            or _list_field(data, "allowed-tools", path, diags)
        ),
        skills=tuple(skills),
        model=model,
        path=path or None,
        body=body,
        not_for=tuple(ex.dedupe([*not_for, *bounds.not_for])),
        redirects=tuple(dict.fromkeys([*redirects, *bounds.redirects])),
        collaborators=bounds.collaborators,
    )


def _name(data: Mapping[str, Any], path: str, diags: list[Diagnostic]) -> str:
    """The agent's name: the ``name`` field, else the file's; "" when there is neither."""
    name = clean_name(_text_field(data, "name", path, diags), path, diags)
    if name and not any(ch.isalnum() for ch in name) and path:
        # ``name: [`` in broken YAML is recovered line by line as the name "[": a name
        # with no letter or digit is YAML debris, not a name anyone would address.
        stem = clean_name(_default_name(path), path, diags)
        diags.append(
            Diagnostic(
                path, "invalid-name", f"the name {name!r} has no letter or digit; named {stem!r}"
            )
        )
        name = stem
    if not name:
        name = clean_name(_default_name(path), path, diags) if path else ""
        if data:
            diags.append(
                Diagnostic(path, "missing-name", f"no 'name' field; named {name!r} after the file")
            )
    return name


def _description(
    data: Mapping[str, Any], body: str, path: str, diags: list[Diagnostic]
) -> tuple[str, list[str]]:
    """The cleaned description (the body's first paragraph or heading without the field)
    and the example requests it held."""
    raw_description = _text_field(data, "description", path, diags)
    if not raw_description:
        paragraph = _first_paragraph(body)
        raw_description = paragraph or _first_heading(body)
        if data:
            used = (
                "the body's first paragraph was used"
                if paragraph
                else "the first heading was used"
                if raw_description
                else "none could be found"
            )
            diags.append(Diagnostic(path, "missing-description", f"no 'description' field; {used}"))
    description, examples, repairs = ex.clean_description(raw_description)
    for repair in repairs:
        diags.append(Diagnostic(path, "escaped-newlines", repair, "info"))
    return description, examples


def _triggers(
    data: Mapping[str, Any], name: str, description: str, path: str, diags: list[Diagnostic]
) -> tuple[list[str], list[str], list[str]]:
    """Trigger phrases and use cases from the fields, the description, the skills and the
    name; and the skills as declared."""
    triggers: list[str] = []
    uses: list[str] = []
    for key in ("triggers", "keywords", "tags"):
        t, u = ex.phrases(_list_field(data, key, path, diags))
        triggers += t
        uses += u
    t, u = ex.description_triggers(description)
    triggers += t
    uses += u
    if path and Path(path).name.lower() == SKILL_FILE:
        t, u = ex.use_when_triggers(description)
        triggers += t
        uses += u
    skills = _list_field(data, "skills", path, diags)
    for skill in skills:
        triggers += ex.skill_triggers(skill)
    triggers += ex.name_triggers(name)
    return triggers, uses, skills


def parse_agent(text: str, *, path: str = "<string>") -> LoadResult:
    """Parse one agent definition (Markdown with optional YAML front matter).

    Parameters
    ----------
    text : str
        The file's text.
    path : str, keyword-only
        Where it came from; used for diagnostics and, without a ``name`` field,
        for the name.

    Returns
    -------
    LoadResult
        At most one agent, and the diagnostics.

    Examples
    --------
    >>> res = parse_agent("---\\nname: db\\ndescription: Triggers on sql, postgres.\\n---\\nBody",
    ...                   path="db.md")
    >>> res.agents[0].name, res.agents[0].triggers
    ('db', ('sql', 'postgres', 'db'))
    """
    # YAML is imported when a file is parsed, not when the package is: a call served
    # from the index cache reads no agent file.
    from agentroute._frontmatter import parse_front_matter, split_front_matter

    diags: list[Diagnostic] = []
    fm, body, notes = split_front_matter(text)
    diags.extend(_diag(path, n) for n in notes)
    one_line = any(n[0] == "newlines-lost" for n in notes)
    data: dict[str, Any] = {}
    if fm is None:
        if body.strip():
            diags.append(
                Diagnostic(
                    path,
                    "no-front-matter",
                    "no YAML front matter; name taken from the file, description from "
                    "the first paragraph",
                )
            )
        else:
            diags.append(Diagnostic(path, "empty", "the file is empty", "error"))
            return LoadResult((), tuple(diags))
    else:
        data, fm_notes = parse_front_matter(fm, one_line=one_line)
        diags.extend(_diag(path, n) for n in fm_notes)
    record = _record(data, body, path, diags)
    return LoadResult((record,) if record else (), tuple(diags))


def _read_file(path: Path, shown: str, max_bytes: int) -> tuple[str | None, list[Diagnostic]]:
    try:
        with open_regular(path) as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        return None, [
            Diagnostic(shown, "unreadable", f"cannot read: {exc.strerror or exc}", "error")
        ]
    if len(data) > max_bytes:
        return None, [
            Diagnostic(shown, "too-large", f"larger than {max_bytes} bytes; skipped", "error")
        ]
    try:
        text, notes = decode_bytes(data)
    except BinaryFileError as exc:
        return None, [Diagnostic(shown, "binary", f"{exc}; skipped", "error")]
    return text, [_diag(shown, n) for n in notes]


def _catalog_entries(
    path: Path, shown: str, text: str
) -> tuple[list[tuple[str, dict[str, Any], str]], list[Diagnostic]]:
    """Entries of a YAML/JSON catalog: a list of agents or ``{agents: [...]}``."""
    import yaml

    from agentroute._frontmatter import safe_load

    diags: list[Diagnostic] = []
    is_json = path.suffix.lower() == ".json"
    try:
        data: Any = json.loads(text) if is_json else safe_load(text)
    except (ValueError, RecursionError, yaml.YAMLError) as exc:
        mark = getattr(exc, "problem_mark", None)
        lineno = getattr(exc, "lineno", None)
        if mark is not None:
            where = f" at line {mark.line + 1}, column {mark.column + 1}"
        elif isinstance(lineno, int):
            where = f" at line {lineno}, column {getattr(exc, 'colno', 0)}"
        else:
            where = ""
        problem = getattr(exc, "problem", None) or getattr(exc, "msg", None) or str(exc)
        problem = str(problem).split("\n")[0]
        return [], [
            Diagnostic(
                shown,
                "invalid-catalog",
                f"not valid {'JSON' if is_json else 'YAML'}{where} ({problem}); skipped",
                "error",
            )
        ]
    if isinstance(data, dict):
        data = data.get("agents", data)
    if isinstance(data, dict):
        # {name: {description: ...}, ...}
        data = [
            dict(v, name=v.get("name", k))
            if isinstance(v, dict)
            else {"name": k, "description": str(v)}
            for k, v in data.items()
        ]
    if not isinstance(data, list):
        return [], [
            Diagnostic(
                shown,
                "invalid-catalog",
                "expected a list of agents or a mapping with 'agents'",
                "error",
            )
        ]
    entries = []
    for i, item in enumerate(data):
        where = f"{shown}#{i}"
        if not isinstance(item, dict):
            diags.append(
                Diagnostic(where, "invalid-entry", "entry is not a mapping; skipped", "error")
            )
            continue
        _check_keys(item, where, diags)
        body = item.get("body", item.get("prompt", ""))
        entries.append(
            (where, {str(k): v for k, v in item.items()}, body if isinstance(body, str) else "")
        )
    return entries, diags


#: The fields a catalog entry (or a mapping given to ``Router.from_agents``) is read
#: from; see docs/catalog.md, "Fields".
CATALOG_FIELDS = (
    "name",
    "description",
    "triggers",
    "keywords",
    "tags",
    "examples",
    "skills",
    "tools",
    "allowed-tools",
    "model",
    "body",
    "prompt",
)
# Claude Code front-matter fields that routing does not use: accepted silently.
_IGNORED_FIELDS = frozenset(
    {
        "color",
        "permissionMode",
        "disallowedTools",
        "hooks",
        "disabled",
        "mcpServers",
        "memory",
        "license",
        "version",
        "author",
        "category",
        "id",
        "metadata",
        "argument-hint",
    }
)


def _check_keys(data: Mapping[str, Any], where: str, diags: list[Diagnostic]) -> None:
    """Report keys that are not catalog fields: a typo like ``descripton`` must not vanish."""
    import difflib

    unknown = [str(k) for k in data if k not in CATALOG_FIELDS and k not in _IGNORED_FIELDS]
    plain = []
    for key in unknown:
        close = difflib.get_close_matches(key.lower(), CATALOG_FIELDS, n=1, cutoff=0.75)
        if close:
            diags.append(
                Diagnostic(
                    where,
                    "unknown-field",
                    f"unknown field {key!r} (did you mean {close[0]!r}?); ignored",
                )
            )
        else:
            plain.append(key)
    if plain:
        diags.append(
            Diagnostic(
                where,
                "unknown-field",
                "unknown field(s) " + ", ".join(repr(k) for k in plain[:5]) + "; ignored",
                "info",
            )
        )


def spec_from_mapping(data: Mapping[str, Any], *, where: str) -> LoadResult:
    """One agent from a mapping of catalog fields (as a YAML/JSON catalog entry is read).

    ``where`` names it in diagnostics. Triggers are extracted from the description
    as for a file; unknown keys are reported.

    >>> res = spec_from_mapping({"name": "db", "descripton": "Tunes SQL."}, where="agents[0]")
    >>> res.agents[0].name, [d.message for d in res.diagnostics][0]
    ('db', "unknown field 'descripton' (did you mean 'description'?); ignored")
    """
    diags: list[Diagnostic] = []
    fields = {str(k): v for k, v in data.items()}
    _check_keys(fields, where, diags)
    body = fields.get("body", fields.get("prompt", ""))
    record = _record(fields, body if isinstance(body, str) else "", "", diags)
    diags = [dataclasses.replace(d, path=where) if not d.path else d for d in diags]
    return LoadResult((record,) if record else (), tuple(diags))


def _origin(path: Path, roots: Sequence[Path]) -> tuple[int, Path | None]:
    """The rank and root of the first of ``roots`` that ``path`` came from."""
    for rank, root in enumerate(roots):
        if path == root or path.is_relative_to(root):
            return rank, root
    return len(roots), None


def _qualifier(path: Path, root: Path | None) -> str:
    """What a renamed duplicate is qualified with: its folder relative to its root."""
    folder = path.parent
    if root is not None and path != root and folder.is_relative_to(root):
        rel = folder.relative_to(root).as_posix()
        if rel and rel != ".":
            return rel
    return folder.name or "dup"


def _dedupe_names(
    agents: list[tuple[AgentSpec, Path]],
    diags: list[Diagnostic],
    roots: Sequence[Path] = (),
) -> list[AgentSpec]:
    """Apply the name rules (see :func:`load_agents`): shadow across roots, rename within one."""
    # (name, kind) -> rank of the root that defined it first.
    owner: dict[tuple[str, bool], int] = {}
    taken: set[str] = set()
    kept: list[tuple[AgentSpec, Path, int, Path | None]] = []
    for agent, file in agents:
        rank, root = _origin(file, roots)
        key = (agent.name, is_skill(agent))
        first = owner.setdefault(key, rank)
        if first != rank:
            # An earlier path defines this name: as Claude Code does with a project
            # agent and a user agent of one name, the earlier one wins outright.
            what = "a skill" if key[1] else "an agent"
            # A warning, as lint reports it: a file the user wrote is never used.
            diags.append(
                Diagnostic(
                    agent.path or agent.name,
                    "shadowed",
                    f"{roots[first].as_posix()} also has {what} named {agent.name!r}, "
                    "which takes precedence; this one is not used",
                    "warning",
                )
            )
            continue
        kept.append((agent, file, rank, root))
    out: list[AgentSpec] = []
    for agent, file, _rank, root in kept:
        name = agent.name
        if name in taken:
            qualifier = "skill" if is_skill(agent) else _qualifier(file, root)
            new = f"{name}@{qualifier}"
            if new in taken and file.suffix.lower() in MARKDOWN_SUFFIXES:
                new = f"{name}@{qualifier}/{_default_name(file.as_posix())}"
            k = 2
            base = new
            while new in taken:
                new = f"{base}#{k}"
                k += 1
            diags.append(
                Diagnostic(
                    agent.path or name,
                    "duplicate-name",
                    f"another agent is already named {name!r}; renamed {new!r}",
                )
            )
            agent = dataclasses.replace(agent, name=new, declared_name=name)
            name = new
        taken.add(name)
        out.append(agent)
    return out


def load_agents(
    paths: PathArg,
    *,
    strict: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> LoadResult:
    """Load agent definitions from files, folders (recursively) and catalogs.

    Parameters
    ----------
    paths : path or sequence of paths
        Markdown agent files (``.md``; ``SKILL.md`` skills), folders walked
        recursively, and YAML/JSON catalogs (a list of agents, or a mapping with
        an ``agents`` list).
    strict : bool, keyword-only
        Raise :class:`AgentFileError` on the first warning or error instead of
        recovering or skipping.
    max_bytes : int, keyword-only
        Files larger than this are skipped with a diagnostic.

    Returns
    -------
    LoadResult
        The agents in path order (names made unique) and every diagnostic.

    Notes
    -----
    Names are made unique by two rules, so that which agent answers to a name
    never depends on how a folder is spelled or on the order files are listed in:

    * **Across paths, the earlier path wins** (Claude Code's rule: a project's
      ``.claude/agents`` shadows the user's). An agent whose name an earlier path
      already defines is left out, with a ``shadowed`` diagnostic (a warning). Skills
      (``SKILL.md``) and agents are separate namespaces, as in Claude Code: a
      skill is shadowed only by a skill; a skill that shares a subagent's name is
      kept as ``name@skill``.
    * **Within one path**, files are taken in sorted path order: the first keeps
      the name, each later one is renamed ``name@<its folder relative to that
      path>`` (``name@<folder>/<file>`` when that is taken too) with a
      ``duplicate-name`` diagnostic; ``declared_name`` keeps the name as written.

    Raises
    ------
    CatalogError
        When a given path does not exist.
    AgentFileError
        In strict mode, for the first file that needed recovery or was skipped.
    """
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1:
        raise ValueError(f"max_bytes must be a positive integer, got {max_bytes!r}")
    files, diags = discover(paths)
    return read_files(files, diags, strict=strict, max_bytes=max_bytes, roots=as_paths(paths))


def raise_first_problem(diagnostics: Sequence[Diagnostic], *, path: str | None = None) -> None:
    """Strict mode: raise :class:`AgentFileError` for the first warning or error."""
    for d in diagnostics:
        if d.severity != "info":
            raise AgentFileError(path or d.path, f"{d.kind}: {d.message}")


def read_files(
    files: Sequence[tuple[Path, str]],
    diagnostics: Sequence[Diagnostic] = (),
    *,
    strict: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
    roots: Sequence[Path] = (),
) -> LoadResult:
    """Parse the files :func:`discover` found; see :func:`load_agents`.

    ``roots``: the paths given to :func:`discover`, in order; they decide which of
    two agents of one name is shadowed or renamed.
    """
    diags = list(diagnostics)
    agents: list[tuple[AgentSpec, Path]] = []
    for p, shown in files:
        file_diags: list[Diagnostic] = []
        text, read_diags = _read_file(p, shown, max_bytes)
        file_diags += read_diags
        if text is not None:
            if p.suffix.lower() in _CATALOG_SUFFIXES:
                entries, cat_diags = _catalog_entries(p, shown, text)
                file_diags += cat_diags
                for where, data, body in entries:
                    record = _record(data, body, where, file_diags)
                    if record is not None:
                        agents.append((record, p))
            else:
                result = parse_agent(text, path=shown)
                file_diags += result.diagnostics
                agents.extend((a, p) for a in result.agents)
        if strict:
            raise_first_problem(file_diags, path=shown)
        diags += file_diags

    unique = _dedupe_names(agents, diags, roots)
    if strict:
        # What walking the folders noticed, and the renames just made.
        raise_first_problem(diags)
    return LoadResult(tuple(unique), tuple(diags))
