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

import functools
import json
import logging
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentroute._claude import claude_code_name, claude_code_paths, is_skill, project_root
from agentroute._errors import CatalogError, IndexFormatError

if TYPE_CHECKING:
    from agentroute._router import Router
    from agentroute._spec import Decision, TeamMember

__all__ = ["DEFAULT_ACT_AT", "hook_output", "load_router", "misconfigured", "run"]

logger = logging.getLogger(__name__)

# Below this calibrated confidence the hook stays silent (`hook --act-at`). Chosen on a
# dev install with fresh prompts judged by hand (benchmarks/README.md, "A dev set of fresh
# prompts"): from 0.7 to 0.5 the hook spoke on 0.18 -> 0.32 of in-scope prompts with what it
# named as acceptable (0.77 -> 0.80); below 0.5 the added suggestions were right about half
# the time. The confidence is calibrated on strict single-agent labels, so on crowded
# installs it understates how often a person would accept the answer. Not
# RouterConfig.min_confidence: the router answers below it, the hook does not act.
DEFAULT_ACT_AT = 0.5
# Prompts longer than this are pasted logs or files, not requests to route.
_MAX_PROMPT_CHARS = 20_000
#: Catalogs of at most this many files are indexed inside the hook when no cache
#: exists (about 2 s on a slow machine); larger ones in a detached process.
INLINE_BUILD_FILES = 150
#: ... and of at most this many bytes (150 files of wshobson's median size are
#: about 1 MB).
INLINE_BUILD_BYTES = 1 << 20
# A build lock older than this belongs to a builder that died; it is replaced.
_STALE_LOCK_SECONDS = 600
# A lock still without its builder's pid after this long was left by a hook killed
# between taking the lock and starting the builder.
_EMPTY_LOCK_SECONDS = 30
# Clocks differ a little between processes on one machine (and network folders);
# a lock dated further ahead than this is not trusted.
_LOCK_CLOCK_SKEW_SECONDS = 60
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
    from agentroute import _pipeline as pipeline
    from agentroute._cache import UntrustedCache, cache_dir
    from agentroute._router import from_built

    found = pipeline.find(list(paths))
    folder, problem = pipeline.usable_folder(cache_dir())
    if problem is not None:
        instead = f"caching in {folder} instead" if folder is not None else "no folder is usable"
        _say_once(f"the cache folder {cache_dir()} is not used ({problem}); {instead}")
    # Counted first: a large catalog's listing builds no path string a file for this.
    if len(found.listing) <= INLINE_BUILD_FILES and _small(found.listing.paths):
        # Small enough to index now (from_path reads or writes the same cache).
        return Router.from_path(list(paths), cache=folder if folder is not None else False)
    if folder is None:
        # Building a large catalog inside the hook on every prompt would take seconds
        # and memory each time, near Claude Code's timeout: stay silent instead.
        logger.debug("no usable cache folder for a large catalog; not routing")
        return None
    # Files whose status is the one the cache stored are not read again.
    slot = pipeline.cache_slot(found, folder, strict=False)
    try:
        # Lazily: a warm call reads (and checks) the blocks its request touches.
        built = pipeline.read_cached(found, slot, strict=False, lazy=True)
    except UntrustedCache as exc:
        # The folder is private (checked above), so the file was replaced or opened up
        # by someone else: drop it and rebuild in the background rather than building
        # inside the hook on every prompt.
        logger.debug("%s; replacing it in the background", exc)
        slot.target.unlink(missing_ok=True)
    except Exception as exc:  # missing, stale or rejected: rebuild, without waiting
        logger.debug("no usable index cache (%s); indexing in the background", exc)
    else:
        return from_built(built)
    if _failed_recently(slot.target, slot.key()):
        logger.debug("the last background build of this catalog failed; not retrying yet")
    else:
        start_background_build(paths, slot.target)
    return None


_SAID: set[str] = set()


def _say_once(message: str) -> None:
    """A debug message said once per process (the hook may be called in a loop)."""
    if message not in _SAID:
        _SAID.add(message)
        logger.debug("%s", message)


def _small(paths: Sequence[str | os.PathLike[str]]) -> bool:
    """Whether a cold catalog is indexed inside the hook: few files, and few bytes
    (150 files of 2 MB took 32 s and 796 MB: counting files alone let them through)."""
    if len(paths) > INLINE_BUILD_FILES:
        return False
    total = 0
    for path in paths:
        try:
            total += os.stat(path).st_size
        except OSError:
            continue
        if total > INLINE_BUILD_BYTES:
            return False
    return True


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


def _lock_pid(text: str) -> int | None:
    """The builder's pid in a lock's text (``"<token> <pid>"``, or a bare pid), if any."""
    parts = text.split()
    if len(parts) == 2 or (len(parts) == 1 and parts[0].isdigit()):
        try:
            return int(parts[-1])
        except ValueError:
            return None
    return None


def _builder_alive(lock: Path) -> bool:
    """Whether the builder that holds ``lock`` may still be running."""
    try:
        age = time.time() - lock.stat().st_mtime
        text = lock.read_text("ascii").strip()
    except (OSError, ValueError):
        return True  # being written or removed right now: leave it
    if age >= _STALE_LOCK_SECONDS or age < -_LOCK_CLOCK_SKEW_SECONDS:
        # Old, or dated in the future (a clock set back, a planted file): a lock
        # that would otherwise block every build for as long as it is "young".
        return False
    pid = _lock_pid(text)
    if pid is None:
        return age < _EMPTY_LOCK_SECONDS
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False  # killed (a hook timeout, kill -9): the lock is stale at once
    except (ValueError, OSError, OverflowError):
        return True  # not ours to signal, or garbled: trust the age
    return True


def _release(lock: Path, token: str) -> None:
    """Remove ``lock`` if it is still the one taken with ``token``: a builder that
    outlived its lock (judged stale) must not remove a newer builder's."""
    try:
        text = lock.read_text("ascii")
    except (OSError, ValueError):
        return
    if text.split()[:1] == [token]:
        lock.unlink(missing_ok=True)


#: The detached builder's program. It runs with the cache folder (which agentroute
#: created, mode 0700) as working folder, and removes the working-folder entry
#: that ``-c`` puts first on ``sys.path`` before anything is imported, so code in
#: the folders being indexed is never imported (the project folder is untrusted).
_BUILDER_CODE = (
    "import sys; sys.path[:] = [p for p in sys.path if p not in ('', '.')]; "
    "from agentroute._hook import _build; "
    "raise SystemExit(_build(sys.argv[1], sys.argv[2], sys.argv[3:]))"
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
    # The lock holds a token of this build (then its pid), so the builder removes
    # its own lock and never a newer builder's.
    token = "t" + secrets.token_hex(8)
    for _attempt in range(2):
        try:
            fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            if _builder_alive(lock):
                logger.debug("an index build is already running (%s)", lock)
                return False
            lock.unlink(missing_ok=True)
            continue
        try:
            os.write(fd, token.encode("ascii"))
        finally:
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
                token,
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
        _release(lock, token)
        raise
    try:  # without O_CREAT: a quick builder may be done, and its lock gone, already
        fd = os.open(lock, os.O_WRONLY | os.O_TRUNC)
    except FileNotFoundError:
        pass
    else:
        try:
            os.write(fd, f"{token} {proc.pid}".encode("ascii"))
        finally:
            os.close(fd)
    logger.debug("indexing in the background (pid %d)", proc.pid)
    return True


def _build(lock: str, token: str, paths: Sequence[str]) -> int:
    """The detached builder: write the cache for ``paths``, then release ``lock``
    (only if it still holds ``token``: see :func:`_release`).

    When no cache comes of it (nothing loads, the folder cannot be written), it
    leaves ``<target>.failed`` holding the catalog key, so prompts do not start
    the same failing build again for a while (see :func:`_failed_recently`).
    """
    from agentroute import _pipeline as pipeline
    from agentroute._router import Router

    target = Path(lock[: -len(".lock")])
    started = time.time()
    try:
        Router.from_path(list(paths), cache=True)
        built = target.stat().st_mtime >= started - 1.0
    except Exception:
        built = False
    finally:
        _release(Path(lock), token)
    marker = _failed_marker(target)
    if built:
        marker.unlink(missing_ok=True)
        return 0
    try:
        found = pipeline.find(list(paths))
        key = pipeline.cache_slot(found, target.parent, strict=False).key()
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
    by :func:`agentroute._claude.project_root`.
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


def suggestion(
    d: Decision,
    *,
    name: str | None = None,
    kind: str = "subagent",
    alternatives: Sequence[str] = (),
) -> str:
    """The note added to the prompt's context: one sentence, the agent and why.

    ``name``: the name Claude Code knows (default ``d.agent``); ``kind``:
    ``"subagent"`` or ``"skill"``; ``alternatives``: the names Claude Code knows
    of the decision's alternatives (agents doing the same job), named after it
    with the group's confidence.

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
    >>> d = Decision(request="tune this query", agent="postgres-pro", status="routed",
    ...     confidence=0.48, reason="", alternatives=("database-optimizer",),
    ...     group_confidence=0.86)
    >>> suggestion(d, alternatives=d.alternatives)[56:121]
    '(or database-optimizer, which does the same job; confidence 0.86 '
    """
    if d.matched_triggers:
        why = "matched " + ", ".join(f"'{_printable(t, 40)}'" for t in d.matched_triggers[:3])
    elif d.top_terms:
        why = "on " + ", ".join(f"'{_printable(t, 40)}'" for t in d.top_terms[:3])
    else:
        why = "similar wording"
    advice = "Consider using it." if kind == "skill" else "Consider delegating to it."
    who = _printable(name or d.agent or "", 80)
    if alternatives:
        others = ", ".join(_printable(a, 80) for a in alternatives)
        does = "does" if len(alternatives) == 1 else "do"
        which = "which" if len(alternatives) == 1 else "which all"
        return (
            f"agentroute: the {who} {kind} fits this request (or {others}, {which} {does} "
            f"the same job; confidence {d.group_confidence:.2f} for the group; {why}). {advice}"
        )
    return (
        f"agentroute: the {who} {kind} fits this request "
        f"(confidence {d.confidence:.2f}; {why}). {advice}"
    )


# A part is quoted in the note at most this long (it is the user's own prompt text).
_MAX_PART_CHARS = 80


def _quoted_part(part: str) -> str:
    return _printable(part, _MAX_PART_CHARS).replace("'", "\u2019")


def _vouched(m: TeamMember, named: Callable[[str], bool]) -> tuple[tuple[str, ...], float]:
    """The alternatives of team member ``m`` a note names (those ``named`` accepts), and
    the confidence its part counts at: the group's when one is named, else its own.

    >>> from agentroute._spec import TeamMember
    >>> m = TeamMember(agent="qa", part="test it", confidence=0.5, alternatives=("tester",),
    ...                group_confidence=0.8)
    >>> _vouched(m, lambda a: True), _vouched(m, lambda a: False)
    ((('tester',), 0.8), ((), 0.5))
    """
    others = tuple(a for a in m.alternatives if named(a))
    return others, (m.group_confidence if others else m.confidence)


def team_suggestion(d: Decision, *, names: Mapping[str, tuple[str, str]] | None = None) -> str:
    """The note for a request that several agents should share: who takes which part.

    ``names``: per member agent and alternative, the ``(name Claude Code knows,
    "subagent" or "skill")`` (default: the agent's name, a subagent); when given, an
    alternative it does not hold is not named, and a member left without one speaks
    for itself alone.

    Examples
    --------
    >>> from agentroute._spec import Decision, TeamMember
    >>> d = Decision(request="build the API, then test it well", agent="api", status="routed",
    ...     confidence=0.9, reason="", team=(TeamMember(agent="api", part="build the API",
    ...     confidence=0.9), TeamMember(agent="qa", part="test it well", confidence=0.8)))
    >>> note = team_suggestion(d)
    >>> note[:60]
    'agentroute: this request has parts for 2 subagents: api for '
    >>> note[60:128]
    "'build the API' (confidence 0.90); qa for 'test it well' (confidence"
    >>> note[128:]
    ' 0.80). Consider delegating each part.'

    A part a group may take names the group, at the group's confidence:

    >>> d = Decision(request="build the API, then test it well", agent="api", status="routed",
    ...     confidence=0.9, reason="", team=(TeamMember(agent="api", part="build the API",
    ...     confidence=0.9), TeamMember(agent="qa", part="test it well", confidence=0.5,
    ...     alternatives=("tester",), group_confidence=0.8)))
    >>> team_suggestion(d)[95:161]
    "qa (or tester) for 'test it well' (confidence 0.80 for the group)."
    """
    known = names or {}

    def who(agent: str) -> str:
        name, kind = known.get(agent, (agent, "subagent"))
        return f"{_printable(name, 80)}" + (" (skill)" if kind == "skill" else "")

    def takes(m: TeamMember) -> str:
        part = f"'{_quoted_part(m.part)}'"
        others, sure = _vouched(m, lambda a: not names or a in known)
        if not others:
            return f"{who(m.agent)} for {part} (confidence {sure:.2f})"
        return (
            f"{who(m.agent)} (or {', '.join(map(who, others))}) for {part} "
            f"(confidence {sure:.2f} for the group)"
        )

    said = "; ".join(takes(m) for m in d.team)
    return (
        f"agentroute: this request has parts for {len(d.team)} subagents: {said}. "
        "Consider delegating each part."
    )


def hook_output(
    stdin_text: str,
    *,
    agents: Sequence[str] | None = None,
    act_at: float = DEFAULT_ACT_AT,
    home: str | None = None,
    cache: bool = True,
) -> dict[str, Any] | None:
    """The JSON object to print for one hook input, or None to print nothing.

    ``act_at``: the confidence the decision's group (for a team, each member for its
    part) must reach before the hook suggests anything (``hook --act-at``).

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
    try:
        return _answer(router, text, act_at)
    except IndexFormatError as exc:
        # The cache is read lazily (each block checked when a route first reads it):
        # a damaged block shows up here. Drop the file so that the next prompt rebuilds
        # it in the background, and say nothing now.
        logger.debug("the index cache is damaged (%s); dropped", exc)
        if cache:
            _drop_cache(folders)
        return None


def _drop_cache(folders: Sequence[Path]) -> None:
    from agentroute import _pipeline as pipeline
    from agentroute._cache import cache_dir

    folder, _ = pipeline.usable_folder(cache_dir())
    if folder is not None:
        slot = pipeline.cache_slot(pipeline.find(list(folders)), folder, strict=False)
        slot.target.unlink(missing_ok=True)


def _answer(router: Router, text: str, act_at: float) -> dict[str, Any] | None:
    d = router.route(text, limit=2)
    logger.debug("decision: %r %s", d, d.reason)
    # The group speaks when it is sure (the agent or an alternative is right); an
    # alternative Claude Code could not address is not named, and without one the
    # agent's own confidence must reach the bar.
    if d.status != "routed" or d.agent is None or d.group_confidence < act_at:
        return None

    @functools.cache
    def known(agent: str) -> tuple[str, str]:
        spec = router.agent(agent)  # decodes this record only, once a call
        if spec is None:
            return agent, "subagent"
        return spec.declared_name, "skill" if is_skill(spec) else "subagent"

    def addressable(agent: str) -> bool:
        return claude_code_name(known(agent)[0])

    # A team is suggested only when each of its members is confident for its part;
    # otherwise the lead alone, as for a one-agent request.
    name, kind = known(d.agent)
    if not addressable(d.agent):
        logger.debug("%r is not a Claude Code name; the hook does not name it", name)
        return None
    others = tuple(
        dict.fromkeys(
            n for n in (known(a)[0] for a in d.alternatives) if claude_code_name(n) and n != name
        )
    )
    if not others and d.confidence < act_at:
        return None
    # Each part must be sure: its agent alone, or its group (named only when Claude Code
    # can address an alternative).
    teamwork = (
        len(d.team) > 1
        and all(addressable(m.agent) for m in d.team)
        and all(_vouched(m, addressable)[1] >= act_at for m in d.team)
    )
    note = (
        team_suggestion(
            d,
            names={a: known(a) for m in d.team for a in (m.agent, *_vouched(m, addressable)[0])},
        )
        if teamwork
        else suggestion(d, name=name, kind=kind, alternatives=others)
    )
    return {
        "hookSpecificOutput": {
            "hookEventName": "UserPromptSubmit",
            "additionalContext": note,
        }
    }


#: A misconfigured hook says so again at most this often (per problem).
MISCONFIGURED_REPEAT_SECONDS = 86_400


def misconfigured_note(problem: str) -> str:
    """The text a misconfigured hook shows the user.

    >>> misconfigured_note("unrecognized arguments: --min-confidnce 0.5")[:58]
    "agentroute's hook is misconfigured and suggests nothing: u"
    """
    return _printable(
        f"agentroute's hook is misconfigured and suggests nothing: {problem}. Fix the "
        "`agentroute hook` command in .claude/settings.json (`agentroute doctor` checks it).",
        600,
    )


def misconfigured(problem: str, *, now: float | None = None) -> str:
    """What the hook prints when its own command is wrong (an unknown option, an
    ``--agents`` path that does not exist): Claude Code's ``systemMessage``, which
    it shows to the user (and does not add to Claude's context), once a day per
    problem; ``""`` when said already (remembered by a marker file in the cache
    folder). Stderr alone is never shown, so such a hook used to be silent forever.
    """
    import hashlib

    from agentroute import _pipeline as pipeline
    from agentroute._cache import cache_dir

    text = misconfigured_note(problem)
    folder, _ = pipeline.usable_folder(cache_dir())
    if folder is not None:
        key = hashlib.sha256(problem.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        marker = folder / f"hook-misconfigured-{key}"
        current = time.time() if now is None else now
        try:
            if current - marker.stat().st_mtime < MISCONFIGURED_REPEAT_SECONDS:
                return ""
        except OSError:
            pass
        try:
            marker.touch()
            os.utime(marker, (current, current))
        except OSError:  # cannot remember: say it each time rather than never
            pass
    return json.dumps({"systemMessage": text}, ensure_ascii=False) + "\n"


def run(
    stdin_text: str,
    *,
    agents: Sequence[str] | None = None,
    act_at: float = DEFAULT_ACT_AT,
    home: str | None = None,
    cache: bool = True,
) -> str:
    """What the hook prints for ``stdin_text``: a JSON line, or ``""``. Never raises."""
    try:
        out = hook_output(stdin_text, agents=agents, act_at=act_at, home=home, cache=cache)
        return "" if out is None else json.dumps(out, ensure_ascii=False) + "\n"
    except CatalogError as exc:
        if agents:  # the hook's own --agents: its command is wrong, say so to the user
            logger.debug("hook misconfigured", exc_info=True)
            try:
                return misconfigured(str(exc))
            except Exception:
                return ""
        logger.debug("hook failed; printing nothing", exc_info=True)
        return ""
    except Exception:  # the user's prompt must go through whatever happens here
        logger.debug("hook failed; printing nothing", exc_info=True)
        return ""
