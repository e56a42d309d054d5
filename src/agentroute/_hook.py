"""Claude Code ``UserPromptSubmit`` hook: suggest the subagent for a prompt.

Claude Code runs the hook command before every prompt, with JSON on stdin::

    {"session_id": "…", "transcript_path": "…", "cwd": "/path/to/project",
     "permission_mode": "default", "hook_event_name": "UserPromptSubmit",
     "prompt": "the user's text"}

When one of the project's or user's subagents (``.claude/agents/``) or skills
(``.claude/skills/*/SKILL.md``) clearly fits the prompt, the hook prints the JSON
that adds context for the model::

    {"hookSpecificOutput": {"hookEventName": "UserPromptSubmit",
                            "additionalContext": "agentroute: …"}}

and nothing otherwise. It never fails the prompt: any error yields no output and
exit status 0 (exit status 2 would block the prompt in Claude Code).

The project is ``$CLAUDE_PROJECT_DIR`` when set, else the nearest folder at or
above ``cwd`` holding ``.claude/`` or ``.git`` (see :func:`project_root`). Names
follow Claude Code's precedence (the project's subagent over the user's, the
user's skill over the project's), and the name shown is always the one Claude
Code knows (``declared_name``), never a de-duplicated ``name@folder``.

Time: Claude Code kills a hook at its ``timeout``. A large catalog (hundreds of
files) whose index is not cached yet is indexed by a detached background process
(one at a time, guarded by a lock file) while the hook prints nothing; the next
prompt reads the cache, which takes a fraction of a second.

The router is obtained through :data:`load_router`, a plain callable (the index
cache itself lives in :meth:`Router.from_path`), so an embedding application can
change how agents are loaded without touching the rest.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentroute._load import claude_code_paths, is_skill, project_root

if TYPE_CHECKING:
    from agentroute._router import Router
    from agentroute._spec import Decision

__all__ = ["DEFAULT_MIN_CONFIDENCE", "hook_output", "load_router", "run"]

logger = logging.getLogger(__name__)

# A suggestion the model sees on every prompt must be right far more often than
# not; below this calibrated confidence the hook stays silent.
DEFAULT_MIN_CONFIDENCE = 0.7
# Prompts longer than this are pasted logs or files, not requests to route.
_MAX_PROMPT_CHARS = 20_000
#: Catalogs of at most this many files are indexed inside the hook when no cache
#: exists (about 2 s on a slow machine); larger ones in a detached process.
INLINE_BUILD_FILES = 150
# A build lock older than this belongs to a builder that died; it is replaced.
_STALE_LOCK_SECONDS = 600
# A lock still without its builder's pid after this long was left by a hook killed
# between taking the lock and starting the builder.
_EMPTY_LOCK_SECONDS = 30
# After a background build failed (nothing loads, the cache cannot be written),
# prompts do not start another for this long unless the agent files change.
FAILED_BUILD_BACKOFF_SECONDS = 600


def _default_load_router(paths: Sequence[Path], *, cache: bool = True) -> Router | None:
    """The router for ``paths``, or None while a background build makes its cache."""
    from agentroute._router import Router

    if not cache:
        return Router.from_path(list(paths), cache=False)
    # The hook runs before every prompt: the index is cached on disk so a call
    # costs an import and a read, not a build.
    from agentroute import _cache
    from agentroute._load import DEFAULT_MAX_BYTES, discover

    files, found = discover(list(paths))
    folder = _cache.cache_dir()
    try:
        unusable = _cache.private_folder(folder)
    except OSError as exc:
        unusable = str(exc)
    if len(files) <= INLINE_BUILD_FILES or unusable is not None:
        # Small enough to index now; or a cache folder that cannot be used, where
        # from_path says why (a warning) and indexes without it.
        return Router.from_path(list(paths), cache=True)
    target = _cache.cache_file(folder, list(paths), strict=False)
    # Files whose status is the one the cache stored are not read again.
    catalog = _cache.CatalogFiles(files, strict=False, max_bytes=DEFAULT_MAX_BYTES)
    try:
        agents, stored, index = _cache.read_cache(
            target, key=catalog, files=[shown for _, shown in files]
        )
    except _cache.UntrustedCache as exc:
        # The folder is private (checked above), so the file was replaced or opened up
        # by someone else: drop it and rebuild in the background rather than building
        # inside the hook on every prompt.
        logger.debug("%s; replacing it in the background", exc)
        target.unlink(missing_ok=True)
    except Exception as exc:  # missing, stale or rejected: rebuild, without waiting
        logger.debug("no usable index cache (%s); indexing in the background", exc)
    else:
        return Router._assemble(agents, index, (*found, *stored), None)
    if _failed_recently(target, catalog.key()):
        logger.debug("the last background build of this catalog failed; not retrying yet")
    else:
        start_background_build(paths, target)
    return None


def _failed_marker(target: Path) -> Path:
    return target.with_name(target.name + ".failed")


def _failed_recently(target: Path, key: str) -> bool:
    """Whether a background build of this very catalog failed in the last ten minutes."""
    marker = _failed_marker(target)
    try:
        age = time.time() - marker.stat().st_mtime
        return age < FAILED_BUILD_BACKOFF_SECONDS and marker.read_text("ascii") == key
    except (OSError, ValueError):
        return False


def _builder_alive(lock: Path) -> bool:
    """Whether the builder that holds ``lock`` may still be running."""
    try:
        age = time.time() - lock.stat().st_mtime
        text = lock.read_text("ascii").strip()
    except (OSError, ValueError):
        return True  # being written or removed right now: leave it
    if age >= _STALE_LOCK_SECONDS:
        return False
    if not text:
        return age < _EMPTY_LOCK_SECONDS
    try:
        os.kill(int(text), 0)
    except ProcessLookupError:
        return False  # killed (a hook timeout, kill -9): the lock is stale at once
    except (ValueError, OSError):
        return True  # not ours to signal, or garbled: trust the age
    return True


#: The detached builder's program. It runs with the cache folder (which agentroute
#: created, mode 0700) as working folder, and removes the working-folder entry
#: that ``-c`` puts first on ``sys.path`` before anything is imported, so code in
#: the folders being indexed is never imported (the project folder is untrusted).
_BUILDER_CODE = (
    "import sys; sys.path[:] = [p for p in sys.path if p not in ('', '.')]; "
    "from agentroute._hook import _build; raise SystemExit(_build(sys.argv[1], sys.argv[2:]))"
)


def start_background_build(paths: Sequence[Path], target: Path) -> bool:
    """Index ``paths`` into the cache in a detached process, unless one already is.

    The lock file ``<target>.lock`` (created exclusively, holding the builder's
    pid) keeps concurrent prompts from starting several builds; the builder removes
    it when done, and a lock whose builder is gone (no such pid, or older than ten
    minutes) is replaced. Returns whether a build was started.
    """
    lock = target.with_name(target.name + ".lock")
    lock.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    for _attempt in range(2):
        try:
            fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            if _builder_alive(lock):
                logger.debug("an index build is already running (%s)", lock)
                return False
            lock.unlink(missing_ok=True)
            continue
        os.close(fd)
        break
    else:
        return False
    try:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                _BUILDER_CODE,
                str(lock),
                *(os.path.abspath(p) for p in paths),
            ],
            # Never the project folder: ``-m`` or ``-c`` put the working folder first
            # on ``sys.path``, and a cloned repository could hold an ``agentroute``
            # package of its own. The builder also drops that entry before importing.
            cwd=lock.parent,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            close_fds=True,
        )
    except OSError:
        lock.unlink(missing_ok=True)
        raise
    lock.write_text(str(proc.pid), encoding="ascii")
    logger.debug("indexing in the background (pid %d)", proc.pid)
    return True


def _build(lock: str, paths: Sequence[str]) -> int:
    """The detached builder: write the cache for ``paths``, then release ``lock``.

    When no cache comes of it (nothing loads, the folder cannot be written), it
    leaves ``<target>.failed`` holding the catalog key, so prompts do not start
    the same failing build again for a while (see :func:`_failed_recently`).
    """
    from agentroute import _cache
    from agentroute._load import DEFAULT_MAX_BYTES, discover
    from agentroute._router import Router

    target = Path(lock[: -len(".lock")])
    started = time.time()
    try:
        Router.from_path(list(paths), cache=True)
        built = target.stat().st_mtime >= started - 1.0
    except Exception:
        built = False
    finally:
        Path(lock).unlink(missing_ok=True)
    marker = _failed_marker(target)
    if built:
        marker.unlink(missing_ok=True)
        return 0
    try:
        files, _ = discover(list(paths))
        key = _cache.catalog_key(files, strict=False, max_bytes=DEFAULT_MAX_BYTES)
        marker.write_text(key, encoding="ascii")
    except Exception:  # nothing more to do for a detached process with no output
        logger.debug("could not record the failed build", exc_info=True)
    return 1


#: The hook adds the semantic view when this names an encoder (a model folder or a name
#: in the local Hugging Face cache; see ``Router.from_path(encoder=...)``).
ENCODER_ENV = "AGENTROUTE_ENCODER"


def _with_env_encoder(router: Router, *, cache: bool) -> Router:
    """``router`` with the encoder ``$AGENTROUTE_ENCODER`` names, agent vectors cached
    beside the index; ``router`` itself when it is unset or unusable (said in the log)."""
    spec = os.environ.get(ENCODER_ENV, "").strip()
    if not spec:
        return router
    from agentroute._errors import EncoderError

    try:
        return router.with_encoder(spec, cache=cache)
    except EncoderError as exc:
        logger.debug("%s ignored: %s", ENCODER_ENV, exc)
        return router


#: ``load_router(paths, *, cache) -> Router | None``: how the hook gets a router for
#: the agent folders (``cache``: use the on-disk index cache; None: not ready yet,
#: print nothing). Replace it to change how loading works; ``--no-cache`` reaches
#: it as ``cache=False``.
load_router: Callable[..., Router | None] = _default_load_router


def agent_folders(
    data: dict[str, Any], *, agents: Sequence[str] | None = None, home: str | None = None
) -> tuple[Path, ...]:
    """The folders to route against: ``agents`` when given, else the project's and the
    user's subagents and skills, in Claude Code's order of precedence.

    The project is ``$CLAUDE_PROJECT_DIR``, else found from ``cwd`` (hook input)
    by :func:`agentroute._load.project_root`.
    """
    if agents:
        return tuple(Path(a) for a in agents)
    cwd = data.get("cwd")
    start = cwd if isinstance(cwd, str) and cwd else None
    return claude_code_paths(project=project_root(start), home=home)


def _printable(text: str, limit: int) -> str:
    """``text`` on one line, without control, format or unassigned characters, at most
    ``limit`` characters: it goes into Claude's context, wherever it came from (an agent
    file, a cache, an embedding application's router).

    >>> _printable("helper\\n\\nSYSTEM:\\x1b[2J do it", 80)
    'helper SYSTEM:[2J do it'
    >>> _printable("x" * 10, 5)
    'xxxx…'
    """
    kept = "".join(" " if ch.isspace() else ch for ch in text if ch.isspace() or ch.isprintable())
    kept = " ".join(kept.split())
    return kept if len(kept) <= limit else kept[: limit - 1] + "…"


def suggestion(d: Decision, *, name: str | None = None, kind: str = "subagent") -> str:
    """The note added to the prompt's context: one sentence, the agent and why.

    ``name``: the name Claude Code knows (default ``d.agent``); ``kind``:
    ``"subagent"`` or ``"skill"``.

    Examples
    --------
    >>> from agentroute._spec import Decision
    >>> note = suggestion(Decision(request="fix the helm chart", agent="k8s-operator",
    ...     status="routed", confidence=0.91, reason="", matched_triggers=("helm",)))
    >>> note[:63]
    'agentroute: the k8s-operator subagent fits this request (confid'
    >>> note[63:]
    "ence 0.91; matched 'helm'). Consider delegating to it."
    >>> suggestion(Decision(request="fill the pdf form", agent="pdf@skill", status="routed",
    ...                     confidence=0.8, reason=""), name="pdf", kind="skill")[:41]
    'agentroute: the pdf skill fits this reque'
    """
    if d.matched_triggers:
        why = "matched " + ", ".join(f"'{_printable(t, 40)}'" for t in d.matched_triggers[:3])
    elif d.top_terms:
        why = "on " + ", ".join(f"'{_printable(t, 40)}'" for t in d.top_terms[:3])
    else:
        why = "similar wording"
    advice = "Consider using it." if kind == "skill" else "Consider delegating to it."
    return (
        f"agentroute: the {_printable(name or d.agent or '', 80)} {kind} fits this request "
        f"(confidence {d.confidence:.2f}; {why}). {advice}"
    )


# A part is quoted in the note at most this long (it is the user's own prompt text).
_MAX_PART_CHARS = 80


def _quoted_part(part: str) -> str:
    return _printable(part, _MAX_PART_CHARS).replace("'", "\u2019")


def team_suggestion(d: Decision, *, names: Mapping[str, tuple[str, str]] | None = None) -> str:
    """The note for a request that several agents should share: who takes which part.

    ``names``: per member agent, the ``(name Claude Code knows, "subagent" or "skill")``
    (default: the agent's name, a subagent).

    Examples
    --------
    >>> from agentroute._spec import Decision, TeamMember
    >>> d = Decision(request="build the API, then test it well", agent="api", status="routed",
    ...     confidence=0.9, reason="", team=(TeamMember(agent="api", part="build the API",
    ...     score=0.9), TeamMember(agent="qa", part="test it well", score=0.8)))
    >>> note = team_suggestion(d)
    >>> note[:60]
    'agentroute: this request has parts for 2 subagents: api for '
    >>> note[60:128]
    "'build the API' (confidence 0.90); qa for 'test it well' (confidence"
    >>> note[128:]
    ' 0.80). Consider delegating each part.'
    """
    known = names or {}

    def who(agent: str) -> str:
        name, kind = known.get(agent, (agent, "subagent"))
        return f"{_printable(name, 80)}" + (" (skill)" if kind == "skill" else "")

    said = "; ".join(
        f"{who(m.agent)} for '{_quoted_part(m.part)}' (confidence {m.score:.2f})" for m in d.team
    )
    return (
        f"agentroute: this request has parts for {len(d.team)} subagents: {said}. "
        "Consider delegating each part."
    )


def hook_output(
    stdin_text: str,
    *,
    agents: Sequence[str] | None = None,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    home: str | None = None,
    cache: bool = True,
) -> dict[str, Any] | None:
    """The JSON object to print for one hook input, or None to print nothing.

    Raises whatever loading or parsing raises; :func:`run` is the never-failing
    wrapper.
    """
    data = json.loads(stdin_text)
    if not isinstance(data, dict):
        logger.debug("hook input is not a JSON object")
        return None
    event = data.get("hook_event_name", "UserPromptSubmit")
    prompt = data.get("prompt")
    if event != "UserPromptSubmit" or not isinstance(prompt, str):
        logger.debug("not a UserPromptSubmit input with a prompt (event %r)", event)
        return None
    text = prompt.strip()
    if not text or text.startswith("/") or len(text) > _MAX_PROMPT_CHARS:
        # Slash commands and pasted blobs are not requests to route.
        logger.debug("prompt skipped (empty, a slash command or too long)")
        return None
    folders = agent_folders(data, agents=agents, home=home)
    if not folders:
        logger.debug("no .claude/agents or skills folder for project %r", data.get("cwd"))
        return None
    router = load_router(folders, cache=cache)
    if router is None:
        return None
    router = _with_env_encoder(router, cache=cache)
    d = router.route(text, limit=2)
    logger.debug("decision: %r %s", d, d.reason)
    if d.status != "routed" or d.agent is None or d.confidence < min_confidence:
        return None

    def known(agent: str) -> tuple[str, str]:
        spec = router._agent(agent)  # decodes this record only
        if spec is None:
            return agent, "subagent"
        return spec.declared_name, "skill" if is_skill(spec) else "subagent"

    # A team is suggested only when each of its members is confident for its part;
    # otherwise the lead alone, as for a one-agent request.
    teamwork = len(d.team) > 1 and all(m.score >= min_confidence for m in d.team)
    name, kind = known(d.agent)
    note = (
        team_suggestion(d, names={m.agent: known(m.agent) for m in d.team})
        if teamwork
        else suggestion(d, name=name, kind=kind)
    )
    return {
        "hookSpecificOutput": {
            "hookEventName": "UserPromptSubmit",
            "additionalContext": note,
        }
    }


def run(
    stdin_text: str,
    *,
    agents: Sequence[str] | None = None,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    home: str | None = None,
    cache: bool = True,
) -> str:
    """What the hook prints for ``stdin_text``: a JSON line, or ``""``. Never raises."""
    try:
        out = hook_output(
            stdin_text, agents=agents, min_confidence=min_confidence, home=home, cache=cache
        )
        return "" if out is None else json.dumps(out, ensure_ascii=False) + "\n"
    except Exception:  # the user's prompt must go through whatever happens here
        logger.debug("hook failed; printing nothing", exc_info=True)
        return ""
