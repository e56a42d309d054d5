"""Claude Code ``UserPromptSubmit`` hook: suggest the subagent for a prompt.

Claude Code runs the hook command before every prompt, with JSON on stdin::

    {"session_id": "…", "transcript_path": "…", "cwd": "/path/to/project",
     "permission_mode": "default", "hook_event_name": "UserPromptSubmit",
     "prompt": "the user's text"}

When one of the project's or user's subagents (``.claude/agents/``) clearly fits
the prompt, the hook prints the JSON that adds context for the model::

    {"hookSpecificOutput": {"hookEventName": "UserPromptSubmit",
                            "additionalContext": "agentroute: …"}}

and nothing otherwise. It never fails the prompt: any error yields no output and
exit status 0 (exit status 2 would block the prompt in Claude Code).

The router is obtained through :data:`load_router`, a plain callable (the index
cache itself lives in :meth:`Router.from_path`), so an embedding application can
change how agents are loaded without touching the rest.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentroute._load import claude_code_paths

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


def _default_load_router(paths: Sequence[Path], *, cache: bool = True) -> Router:
    from agentroute._router import Router

    # The hook runs before every prompt: the index is cached on disk (see
    # Router.from_path) so a call costs an import and a read, not a build.
    return Router.from_path(list(paths), cache=cache)


#: ``load_router(paths, *, cache) -> Router``: how the hook gets a router for the
#: agent folders (``cache``: use the on-disk index cache). Replace it to change how
#: loading works; ``--no-cache`` reaches it as ``cache=False``.
load_router: Callable[..., Router] = _default_load_router


def agent_folders(
    data: dict[str, Any], *, agents: Sequence[str] | None = None, home: str | None = None
) -> tuple[Path, ...]:
    """The folders to route against: ``agents`` when given, else the project's
    (``cwd`` from the hook input) and the user's ``.claude/agents``.

    Skills folders are left out: the hook suggests subagents, and Claude Code
    already offers skills by their own descriptions.
    """
    if agents:
        return tuple(Path(a) for a in agents)
    cwd = data.get("cwd")
    project = cwd if isinstance(cwd, str) and cwd else None
    found = claude_code_paths(project=project, home=home)
    return tuple(p for p in found if p.name == "agents")


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


def suggestion(d: Decision) -> str:
    """The note added to the prompt's context: one sentence, the agent and why.

    Examples
    --------
    >>> from agentroute._spec import Decision
    >>> note = suggestion(Decision(request="fix the helm chart", agent="k8s-operator",
    ...     status="routed", confidence=0.91, reason="", matched_triggers=("helm",)))
    >>> note[:63]
    'agentroute: the k8s-operator subagent fits this request (confid'
    >>> note[63:]
    "ence 0.91; matched 'helm'). Consider delegating to it."
    """
    if d.matched_triggers:
        why = "matched " + ", ".join(f"'{_printable(t, 40)}'" for t in d.matched_triggers[:3])
    elif d.top_terms:
        why = "on " + ", ".join(f"'{_printable(t, 40)}'" for t in d.top_terms[:3])
    else:
        why = "similar wording"
    return (
        f"agentroute: the {_printable(d.agent or '', 80)} subagent fits this request "
        f"(confidence {d.confidence:.2f}; {why}). Consider delegating to it."
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
        logger.debug("no .claude/agents folder for project %r", data.get("cwd"))
        return None
    router = load_router(folders, cache=cache)
    d = router.route(text, limit=2)
    logger.debug("decision: %r %s", d, d.reason)
    if d.status != "routed" or d.agent is None or d.confidence < min_confidence:
        return None
    return {
        "hookSpecificOutput": {
            "hookEventName": "UserPromptSubmit",
            "additionalContext": suggestion(d),
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
