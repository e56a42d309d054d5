"""Files, folders and catalogs → :class:`AgentSpec` records, with diagnostics.

Loading never stops at one bad file: each file is read on its own, every
recovery or skip becomes a :class:`Diagnostic`, and ``strict=True`` turns the
first warning or error into an :class:`AgentFileError` naming the file.

Symbolic links: a linked *file* inside the folder being walked is read when its
target also lies inside that folder, and skipped (with a diagnostic) when it
points outside; linked *folders* are never followed, so link loops cannot occur.
A folder named by the caller is walked even when it is itself a link (the caller
chose it); :func:`claude_code_paths` leaves out a project's ``.claude`` folders
that link outside the project.

Only regular files are opened: FIFOs, devices and sockets (and links to them) are
skipped with a diagnostic before anything opens them, and every open is
non-blocking and checks what it opened. A walk stops, with a ``walk-limit``
diagnostic, after :data:`MAX_WALK_ENTRIES` names, :data:`MAX_WALK_FILES` agent
files or :data:`MAX_WALK_BYTES` bytes of them.
"""

from __future__ import annotations

import dataclasses
import errno
import json
import logging
import os
import re
import stat
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from agentroute import _extract as ex
from agentroute._decode import BinaryFileError, Note, decode_bytes
from agentroute._errors import AgentFileError, CatalogNotFoundError
from agentroute._spec import AgentSpec, Diagnostic, LoadResult

__all__ = [
    "DEFAULT_MAX_BYTES",
    "MAX_WALK_BYTES",
    "MAX_WALK_ENTRIES",
    "MAX_WALK_FILES",
    "PathArg",
    "claude_code_paths",
    "is_skill",
    "load_agents",
    "open_regular",
    "parse_agent",
    "project_root",
    "spec_from_mapping",
]

logger = logging.getLogger(__name__)

PathArg = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]

# Real agent files are at most ~50 KB; 2 MiB leaves room and bounds the work one
# hostile file can cause.
DEFAULT_MAX_BYTES = 2 * 1024 * 1024
# What one folder walk may cover: names listed (files and folders, agent or not),
# agent files kept, and their bytes (each counted up to the per-file cap). The largest
# real collection is 423 files and 3.6 MB; a link to /usr or a home folder is not.
MAX_WALK_ENTRIES = 200_000
MAX_WALK_FILES = 50_000
MAX_WALK_BYTES = 512 * 1024 * 1024
_NONBLOCK = getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
_MARKDOWN_SUFFIXES = frozenset({".md", ".markdown", ".mdx"})
_CATALOG_SUFFIXES = frozenset({".yaml", ".yml", ".json"})
_NOT_AGENTS = frozenset(
    {
        "readme.md",
        "changelog.md",
        "license.md",
        "contributing.md",
        "claude.md",
        "agents.md",
        "code_of_conduct.md",
        "security.md",
    }
)
_SKIP_DIRS = frozenset({"node_modules", "__pycache__", "venv"})


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
    if p.name.lower() == "skill.md" and p.parent.name:
        return p.parent.name
    return p.stem if p.suffix.lower() in _MARKDOWN_SUFFIXES else p.name


def _clean_name(name: str, path: str, diags: list[Diagnostic]) -> str:
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
    """Build the record from front-matter fields and a body."""
    name = _clean_name(_text_field(data, "name", path, diags), path, diags)
    if not name:
        name = _clean_name(_default_name(path), path, diags) if path else ""
        if data:
            diags.append(
                Diagnostic(path, "missing-name", f"no 'name' field; named {name!r} after the file")
            )
    if not name:
        diags.append(Diagnostic(path, "no-name", "no name and no file to name it after", "error"))
        return None

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
    # "Not for …" sentences say what should not route here: out of the indexed text.
    description, not_for, redirects = ex.description_not_for(description)
    bounds = ex.boundaries(body)

    triggers: list[str] = []
    uses: list[str] = []
    for key in ("triggers", "keywords", "tags"):
        t, u = ex.phrases(_list_field(data, key, path, diags))
        triggers += t
        uses += u
    t, u = ex.description_triggers(description)
    triggers += t
    uses += u
    if path and Path(path).name.lower() == "skill.md":
        t, u = ex.use_when_triggers(description)
        triggers += t
        uses += u
    skills = _list_field(data, "skills", path, diags)
    for skill in skills:
        triggers += ex.skill_triggers(skill)
    triggers += ex.name_triggers(name)
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
        triggers=tuple(ex._dedupe(triggers))[: ex.MAX_TRIGGERS],
        examples=tuple(ex._dedupe(examples)),
        use_cases=tuple(ex._dedupe(uses)),
        tools=tuple(
            _list_field(data, "tools", path, diags)
            or _list_field(data, "allowed-tools", path, diags)
        ),
        skills=tuple(skills),
        model=model,
        path=path or None,
        body=body,
        not_for=tuple(ex._dedupe([*not_for, *bounds.not_for])),
        redirects=tuple(dict.fromkeys([*redirects, *bounds.redirects])),
        collaborators=bounds.collaborators,
    )


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


def open_regular(path: Path, *, flags: int = 0) -> BinaryIO:
    """``path`` opened for binary reading, only if it is a regular file.

    The file is checked before it is opened (a device is never opened at all), opened
    without blocking (a FIFO swapped in meanwhile cannot stall the call) and checked
    again once open. ``flags`` adds ``os.open`` flags (e.g. ``O_NOFOLLOW``).

    Raises
    ------
    OSError
        When it cannot be opened or is not a regular file (a FIFO, device, socket or
        folder).
    """
    if not stat.S_ISREG(os.stat(path).st_mode):
        raise OSError(errno.EINVAL, "not a regular file (a FIFO, device, socket or folder)")
    fd = os.open(path, os.O_RDONLY | _NONBLOCK | flags)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file (a FIFO, device, socket or folder)")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


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
#: from; see the README's "Catalog files" section.
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


def _looks_like_agent(path: Path) -> bool:
    """An extension-less file is read when it opens with a front-matter fence."""
    try:
        with open_regular(path) as fh:
            head = fh.read(64)
    except OSError:
        return False
    return head.lstrip().startswith(b"---")


class _WalkLimit(Exception):
    """A walk covered what it may; the message says which bound."""


def _walk(root: Path, diags: list[Diagnostic]) -> list[tuple[Path, str, Path | None]]:
    """Agent files under ``root`` (path, shown, the folder listed when the name is no
    link, else None), sorted; linked folders are not followed, only regular files are
    kept, and the walk stops at the module's bounds (``walk-limit``)."""
    found: list[tuple[Path, str, Path | None]] = []
    try:
        _walk_into(root, diags, found)
    except _WalkLimit as limit:
        diags.append(
            Diagnostic(
                root.as_posix(),
                "walk-limit",
                f"stopped after {limit}; the rest of the folder was not read",
                "warning",
            )
        )
    return found


def _scan(top: str) -> Iterator[tuple[str, list[str], dict[str, os.DirEntry[str]]]]:
    """``os.walk(top)`` top-down, not into linked folders, errors skipped; with each
    file's ``DirEntry``, whose link flag comes with the listing and whose status is
    read once (a catalog of 10,000 files was 5 status calls a file)."""
    try:
        with os.scandir(top) as listing:
            entries = list(listing)
    except OSError:
        return
    dirnames: list[str] = []
    files: dict[str, os.DirEntry[str]] = {}
    for entry in entries:
        try:
            is_dir = entry.is_dir()
        except OSError:
            is_dir = False
        if is_dir:
            dirnames.append(entry.name)
        else:
            files[entry.name] = entry
    yield top, dirnames, files
    for d in dirnames:  # as the caller pruned it
        path = os.path.join(top, d)
        if not os.path.islink(path):
            yield from _scan(path)


def _walk_into(
    root: Path, diags: list[Diagnostic], found: list[tuple[Path, str, Path | None]]
) -> None:
    real_root = root.resolve()
    entries = 0
    total_bytes = 0
    for dirpath, dirnames, filenames in _scan(os.fspath(root)):
        # os.walk lists a folder at once; the bounds apply from the next one.
        entries += len(dirnames) + len(filenames)
        if entries > MAX_WALK_ENTRIES:
            raise _WalkLimit(f"{MAX_WALK_ENTRIES:,} names")
        here = Path(dirpath)
        keep = []
        for d in sorted(dirnames):
            sub = here / d
            if sub.is_symlink():
                diags.append(
                    Diagnostic(
                        sub.as_posix(),
                        "symlinked-folder",
                        "a linked folder is not followed",
                        "info",
                    )
                )
            elif not d.startswith(".") and d not in _SKIP_DIRS:
                if Path(d).suffix.lower() in _MARKDOWN_SUFFIXES:
                    diags.append(
                        Diagnostic(
                            sub.as_posix(),
                            "folder-named-like-file",
                            "a folder with an agent-file name; walked as a folder",
                            "info",
                        )
                    )
                keep.append(d)
        dirnames[:] = keep
        for f in sorted(filenames):
            entry = filenames[f]
            p = here / f
            shown = p.as_posix()
            suffix = p.suffix.lower()
            if f.startswith("."):
                continue
            if f.lower() in _NOT_AGENTS:
                diags.append(
                    Diagnostic(
                        shown,
                        "not-an-agent",
                        f"{f} is documentation, not an agent; skipped",
                        "info",
                    )
                )
                continue
            if suffix and suffix not in _MARKDOWN_SUFFIXES:
                continue
            # What the name leads to, before anything is opened: opening a FIFO or a
            # terminal device blocks.
            linked = entry.is_symlink()
            try:
                st = entry.stat()
            except (OSError, ValueError):
                if suffix and linked:
                    diags.append(
                        Diagnostic(
                            shown, "broken-symlink", "a link that leads nowhere; skipped", "error"
                        )
                    )
                continue
            if not stat.S_ISREG(st.st_mode):
                if not stat.S_ISDIR(st.st_mode):
                    diags.append(
                        Diagnostic(
                            shown,
                            "not-a-regular-file",
                            "a FIFO, device or socket (or a link to one), not a file; "
                            "skipped without opening it",
                            "error",
                        )
                    )
                continue
            if not suffix and not _looks_like_agent(p):
                continue
            if linked:
                try:
                    target = p.resolve(strict=True)
                except (OSError, RuntimeError):
                    diags.append(
                        Diagnostic(
                            shown, "broken-symlink", "a link that leads nowhere; skipped", "error"
                        )
                    )
                    continue
                if not target.is_relative_to(real_root):
                    diags.append(
                        Diagnostic(
                            shown,
                            "symlink-outside",
                            f"links outside {root.as_posix()}; skipped",
                            "warning",
                        )
                    )
                    continue
            if not suffix:
                diags.append(
                    Diagnostic(
                        shown,
                        "no-extension",
                        "read as Markdown although it has no .md extension",
                        "info",
                    )
                )
            if len(found) >= MAX_WALK_FILES:
                raise _WalkLimit(f"{MAX_WALK_FILES:,} agent files")
            total_bytes += min(st.st_size, DEFAULT_MAX_BYTES + 1)
            if total_bytes > MAX_WALK_BYTES:
                raise _WalkLimit(f"{MAX_WALK_BYTES:,} bytes of agent files")
            found.append((p, shown, None if linked else here))


def resolved_path(path: Path, folders: dict[Path, str]) -> str:
    """``str(path.resolve())``, resolving each folder only once (``folders`` remembers
    them): the files of a catalog share a few folders, and resolving is most of the
    cost of finding a thousand files."""
    try:
        if path.is_symlink():
            return str(path.resolve())
        return os.path.join(_real_folder(path.parent, folders), path.name)
    except (OSError, RuntimeError):
        return os.path.abspath(path)


def _real_folder(folder: Path, folders: dict[Path, str]) -> str:
    """``str(folder.resolve())``, built from the parent's (one ``lstat`` per folder)."""
    hit = folders.get(folder)
    if hit is None:
        if folder.parent == folder or folder.name in ("", ".", "..") or folder.is_symlink():
            hit = str(folder.resolve())
        else:
            hit = os.path.join(_real_folder(folder.parent, folders), folder.name)
        folders[folder] = hit
    return hit


def _as_paths(paths: PathArg) -> list[Path]:
    if isinstance(paths, (str, os.PathLike)):
        return [Path(paths)]
    if isinstance(paths, Sequence):
        return [Path(p) for p in paths]
    raise TypeError(f"paths must be a path or a sequence of paths, got {type(paths).__name__}")


def is_skill(agent: AgentSpec) -> bool:
    """Whether ``agent`` was loaded from a skill (a ``SKILL.md`` file) rather than an agent file.

    Claude Code keeps skills and subagents in separate namespaces, so a skill and a
    subagent may share a name.

    >>> is_skill(AgentSpec("pdf", path="skills/pdf/SKILL.md")), is_skill(AgentSpec("pdf"))
    (True, False)
    """
    return bool(agent.path) and Path(str(agent.path).split("#")[0]).name.lower() == "skill.md"


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
            if new in taken and file.suffix.lower() in _MARKDOWN_SUFFIXES:
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
    return read_files(files, diags, strict=strict, max_bytes=max_bytes, roots=_as_paths(paths))


def discover(paths: PathArg) -> tuple[list[tuple[Path, str]], list[Diagnostic]]:
    """The agent files ``paths`` name (walking folders), in load order, with what walking
    noticed; no file is read. ``load_agents`` is ``read_files(*discover(paths))``.

    Raises
    ------
    CatalogError
        When a given path does not exist.
    """
    diags: list[Diagnostic] = []
    # Insertion-ordered: roots in the order given (an earlier path wins a name both
    # use, as Claude Code's project agents win over the user's), the files of a
    # folder sorted, so the order a file system lists them in never matters.
    files: dict[str, tuple[Path, str]] = {}
    for root in _as_paths(paths):
        if root.is_dir():
            folders: dict[Path, str] = {}
            for p, shown, folder in sorted(_walk(root, diags), key=lambda f: f[1]):
                # A file that is no link resolves where the folder it was listed in does
                # (that folder's Path is shared by its files: resolved once, looked up fast).
                if folder is None:
                    where = resolved_path(p, folders)
                else:
                    try:
                        where = os.path.join(_real_folder(folder, folders), p.name)
                    except (OSError, RuntimeError):
                        where = os.path.abspath(p)
                files.setdefault(where, (p, shown))
        elif root.is_file():
            files.setdefault(str(root.resolve()), (root, root.as_posix()))
        elif root.exists():
            diags.append(
                Diagnostic(
                    root.as_posix(), "not-a-file", "neither a file nor a folder; skipped", "error"
                )
            )
        else:
            raise CatalogNotFoundError(f"{root.as_posix()}: no such file or folder")
    return list(files.values()), diags


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


def project_root(start: str | os.PathLike[str] | None = None) -> Path:
    """The Claude Code project folder for ``start`` (default: the current directory).

    ``$CLAUDE_PROJECT_DIR`` when it names a folder (Claude Code sets it for hooks
    and tools); else the nearest of ``start`` and its parents that holds a
    ``.claude`` folder or a ``.git`` entry; else ``start`` itself.
    """
    env = os.environ.get("CLAUDE_PROJECT_DIR")
    if env and os.path.isdir(env):
        return Path(env)
    here = Path(start) if start is not None else Path.cwd()
    for folder in (here, *here.absolute().parents):
        try:
            if (folder / ".claude").is_dir() or (folder / ".git").exists():
                return folder
        except OSError:
            continue
    return here


def claude_code_paths(
    *, project: str | os.PathLike[str] | None = None, home: str | os.PathLike[str] | None = None
) -> tuple[Path, ...]:
    """The folders where Claude Code keeps agents and skills, those that exist, in its
    order of precedence.

    Subagents: ``<project>/.claude/agents`` wins over ``<home>/.claude/agents``;
    skills: ``<home>/.claude/skills`` wins over ``<project>/.claude/skills`` (Claude
    Code's documented rules; plugin agents and skills are namespaced there and are
    not read). Given in this order to :func:`load_agents`, a shadowed agent or skill
    is left out as Claude Code leaves it out.

    A project's folders (or its ``.claude``) may be links, but only to somewhere
    inside the project: a repository is often someone else's, and a committed link
    from ``.claude/agents`` to ``/usr`` or to another project would make every
    prompt read that tree. Such a folder is left out, with a logging warning. The
    user's own folders under ``home`` are followed wherever they link (dotfiles).

    Parameters
    ----------
    project : path, keyword-only
        The project folder; :func:`project_root` of the current directory when omitted.
    home : path, keyword-only
        The user's home; ``Path.home()`` when omitted.
    """
    proj = Path(project) if project is not None else project_root()
    user = Path(home) if home is not None else Path.home()
    real_project = proj.resolve()
    out: list[Path] = []
    seen: set[Path] = set()
    order = ((proj, "agents"), (user, "agents"), (user, "skills"), (proj, "skills"))
    for base, sub in order:
        candidate = base / ".claude" / sub
        try:
            if not candidate.is_dir():
                continue
            real = candidate.resolve()
        except OSError:
            continue
        if base is proj and not real.is_relative_to(real_project):
            logger.warning(
                "agentroute: %s links outside the project (to %s); not read",
                candidate,
                real,
            )
            continue
        if real not in seen:
            seen.add(real)
            out.append(candidate)
    return tuple(out)
