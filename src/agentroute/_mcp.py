"""``agentroute mcp``: an MCP server over stdio that routes requests to agents and skills.

Agent clients (Claude Code, Codex, Cursor, …) find tools over the Model Context
Protocol. The server exposes two tools over the same catalogs as the command line
(``--agents PATH``, else the project's and the user's Claude Code agents and
skills; never the sample catalog, whose agents the client does not have):

* ``route(request, limit=3)``: the decision, :meth:`Decision.to_dict` (agent,
  alternatives, status, confidence, group_confidence, reason, candidates, team, …)
  with the agent's ``name`` and ``kind`` as the client knows it;
* ``list_agents(query="", limit=20, offset=0)``: a page of the catalog (name, kind,
  description, path of each), the agents whose name or description holds every
  word of ``query``, with ``total`` and ``next_offset``.

Both answer structured content (the SDK's structured output; the same object as
JSON text for older clients). Every argument is bounded; a request longer than
:data:`MAX_REQUEST_CHARS` is refused (the hook skips such prompts too) and a long
one is not echoed back whole. Text that JSON over UTF-8 cannot carry (a lone
surrogate in a request, a file name that is not UTF-8) is sent as a backslash
escape, so one odd string never stops the server. The catalog is checked for
changes at most every :data:`RELOAD_INTERVAL` seconds while serving (the files'
list and status, no file read) and reloaded when it changed; when no agents are
found, each tool answers an error naming where it looked.

It is built on the official ``mcp`` Python SDK, an optional dependency
(``pip install 'agentroute[mcp]'``); the core install never imports it. Both the
SDK's 1.x (``FastMCP``) and 2.x (``MCPServer``) spellings are supported.
"""

from __future__ import annotations

import importlib
import os
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentroute._claude import claude_code_paths, is_skill, project_root
from agentroute._errors import CatalogError
from agentroute._pipeline import find

if TYPE_CHECKING:
    from agentroute._router import Router

__all__ = [
    "MAX_LIMIT",
    "MAX_LIST_LIMIT",
    "MAX_REQUEST_CHARS",
    "RELOAD_INTERVAL",
    "Catalog",
    "build_server",
    "list_agents_page",
    "route_answer",
]

#: The most candidates the ``route`` tool returns.
MAX_LIMIT = 50
#: The most agents one ``list_agents`` page holds (a page of 480 agents was 191,546
#: characters, beyond what clients accept from one tool call).
MAX_LIST_LIMIT = 100
#: The longest request ``route`` accepts, as the hook (a pasted blob is not a request).
MAX_REQUEST_CHARS = 20_000
#: The longest ``query`` of ``list_agents``.
MAX_QUERY_CHARS = 200
#: ``list_agents``'s largest ``offset``.
MAX_OFFSET = 1_000_000
#: Seconds between two checks of the catalog for changes while serving.
RELOAD_INTERVAL = 2.0
# An answer echoes at most this much of the request (the client has it already).
_ECHO_CHARS = 200
# A description in a listing is cut to this many characters.
_DESCRIPTION_CHARS = 500

_INSTRUCTIONS = (
    "agentroute decides which specialist subagent or skill of this project should handle "
    "a request. Call `route` with the user's request: when its status is 'routed', "
    "delegate to the named agent (or use the named skill); 'ambiguous' names the two "
    "closest; 'no_match' means none fits. `list_agents` lists the catalog a page at a time."
)


class NoAgentsError(CatalogError):
    """No agents were found where the server looked (the message names where)."""


def server_class() -> Any:
    """The SDK's server class: ``MCPServer`` (mcp 2.x) or ``FastMCP`` (mcp 1.x)."""
    try:
        return importlib.import_module("mcp.server.mcpserver").MCPServer
    except ImportError:
        pass
    try:
        return importlib.import_module("mcp.server.fastmcp").FastMCP
    except ImportError:
        raise ImportError(
            "the MCP server needs the mcp package: pip install 'agentroute[mcp]'"
        ) from None


def _tool_error_class() -> type[Exception]:
    """The SDK's ``ToolError``: the one exception whose message reaches the client."""
    for module in ("mcp.server.mcpserver.exceptions", "mcp.server.fastmcp.exceptions"):
        try:
            cls: type[Exception] = importlib.import_module(module).ToolError
        except ImportError:
            continue
        return cls
    return ValueError


def wire_safe(value: Any) -> Any:
    """``value`` with every string made encodable as UTF-8: a lone surrogate (a JSON
    ``"\\ud800"`` escape, a file name that is not UTF-8) becomes its backslash escape.

    >>> wire_safe({"path": "bad\\udcffname.md", "n": [1, "ok"]})
    {'path': 'bad\\\\udcffname.md', 'n': [1, 'ok']}
    """
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-8", "backslashreplace").decode("utf-8")
        return value
    if isinstance(value, dict):
        return {wire_safe(k): wire_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [wire_safe(v) for v in value]
    return value


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _check_int(name: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer from {low} to {high}, got {value!r}")
    return value


def _check_text(name: str, value: object, limit: int) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, got {type(value).__name__}")
    if len(value) > limit:
        raise ValueError(
            f"{name} is {len(value):,} characters; at most {limit:,} are read "
            "(send the request itself, not the documents around it)"
        )
    return value


def route_answer(router: Router, request: str, limit: int = 3) -> dict[str, Any]:
    """What the ``route`` tool answers: the decision as JSON-ready data.

    >>> from agentroute import Router
    >>> route_answer(Router.from_default(), "helm chart upgrade fails")["agent"]
    'kubernetes-operator'
    """
    limit = _check_int("limit", limit, 1, MAX_LIMIT)
    request = _check_text("request", request, MAX_REQUEST_CHARS)
    d = router.route(request, limit=limit)
    out = d.to_dict()
    out["request"] = _clip(d.request, _ECHO_CHARS)
    spec = router.agent(d.agent)
    if spec is not None:
        # How the client addresses it: Claude Code knows the declared name.
        out["kind"] = "skill" if is_skill(spec) else "subagent"
        out["name"] = spec.declared_name
    result: dict[str, Any] = wire_safe(out)
    return result


def _entry(a: Any) -> dict[str, Any]:
    return {
        "agent": a.name,
        "name": a.declared_name,
        "kind": "skill" if is_skill(a) else "subagent",
        "description": _clip(a.description, _DESCRIPTION_CHARS),
        "path": a.path,
    }


def list_agents_page(
    router: Router, query: str = "", limit: int = 20, offset: int = 0
) -> dict[str, Any]:
    """What the ``list_agents`` tool answers: one page of the agents matching ``query``.

    ``query`` keeps the agents whose name or description contains every one of its
    words (case-insensitive; empty: all). The answer: ``total`` (how many match),
    ``offset``, ``next_offset`` (None on the last page) and ``agents``, each with
    ``agent`` (agentroute's name), ``name`` and ``kind`` as the client knows them,
    ``description`` (cut at 500 characters) and ``path``.

    >>> from agentroute import Router
    >>> page = list_agents_page(Router.from_default(), "kubernetes", limit=1)
    >>> page["total"], page["agents"][0]["name"]
    (1, 'kubernetes-operator')
    """
    query = _check_text("query", query, MAX_QUERY_CHARS)
    limit = _check_int("limit", limit, 1, MAX_LIST_LIMIT)
    offset = _check_int("offset", offset, 0, MAX_OFFSET)
    words = query.casefold().split()
    matching = [
        a
        for a in router.agents
        if all(w in f"{a.name} {a.declared_name} {a.description}".casefold() for w in words)
    ]
    page = matching[offset : offset + limit]
    more = offset + limit < len(matching)
    result: dict[str, Any] = wire_safe(
        {
            "total": len(matching),
            "offset": offset,
            "next_offset": offset + limit if more else None,
            "agents": [_entry(a) for a in page],
        }
    )
    return result


def _looked_in(project: Path) -> str:
    home = Path.home()

    def shown(p: Path) -> str:
        return "~/" + p.relative_to(home).as_posix() if p.is_relative_to(home) else p.as_posix()

    where = [
        project / ".claude" / "agents",
        project / ".claude" / "skills",
        home / ".claude" / "agents",
        home / ".claude" / "skills",
    ]
    return ", ".join(shown(p) for p in where)


def _status(paths: Sequence[Path]) -> tuple[tuple[str, int, int, int, int], ...]:
    """What a change to the catalog changes: its files and their status (none is read)."""
    rows = []
    for path, shown in find(list(paths)).files:
        try:
            st = os.stat(path)
        except OSError:
            rows.append((shown, -1, -1, -1, -1))
            continue
        rows.append((shown, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino))
    return tuple(rows)


class Catalog:
    """The router the tools answer with, reloaded when the catalog changes.

    ``paths``: the catalogs (``--agents``), or None for the project's and the user's
    Claude Code folders, looked up again at each check (a folder created while the
    server runs is found). ``load`` builds a router from paths (the index cache makes
    an unchanged catalog cheap). At most every ``interval`` seconds, the files' list
    and status are compared with those the router was built from.
    """

    def __init__(
        self,
        paths: Sequence[Path] | None,
        load: Callable[[Sequence[Path]], Router],
        *,
        interval: float = RELOAD_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._paths = None if paths is None else tuple(paths)
        self._load = load
        self._interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._router: Router | None = None
        self._status: tuple[tuple[str, int, int, int, int], ...] = ()
        self._checked = float("-inf")

    def where(self) -> tuple[Path, ...]:
        """The folders and files routed against now; raises :class:`NoAgentsError`."""
        if self._paths is not None:
            return self._paths
        project = project_root()
        found = claude_code_paths(project=project)
        if not found:
            raise NoAgentsError(
                f"no agents found: looked for Claude Code agents and skills in "
                f"{_looked_in(project)}; add agent files there, or start the server with "
                "--agents PATH"
            )
        return found

    def router(self) -> Router:
        """The current router: rebuilt when the catalog changed since the last check."""
        with self._lock:
            now = self._clock()
            if self._router is not None and now - self._checked < self._interval:
                return self._router
            paths = self.where()
            status = _status(paths)
            self._checked = now
            if self._router is None or status != self._status:
                self._router = self._load(paths)
                self._status = status
            return self._router


def _make_server(name: str) -> Any:
    from agentroute._version import __version__

    cls = server_class()
    try:
        return cls(name, instructions=_INSTRUCTIONS, version=__version__)
    except TypeError:  # mcp 1.x: the version lives on the low-level server
        server = cls(name, instructions=_INSTRUCTIONS)
        low = getattr(server, "_mcp_server", None)
        if low is not None:
            low.version = __version__
        return server


def build_server(catalog: Catalog) -> Any:
    """The MCP server (an SDK server object with ``run()``), answering with ``catalog``'s
    router, built on the first tool call."""
    server = _make_server("agentroute")
    tool_error = _tool_error_class()

    def current() -> Router:
        try:
            return catalog.router()
        except CatalogError as exc:  # no agents, a path gone: say so, keep serving
            raise tool_error(str(exc)) from exc

    _add_route_tool(server, current, tool_error)
    _add_list_agents_tool(server, current, tool_error)
    return server


def _add_route_tool(
    server: Any, current: Callable[[], Router], tool_error: type[Exception]
) -> None:
    """The ``route`` tool: :func:`route_answer` on the current router."""
    from typing import Annotated

    from pydantic import Field  # the SDK's own dependency

    def route(request: str, limit: int = 3) -> dict[str, Any]:
        try:
            return route_answer(current(), request, limit)
        except (ValueError, TypeError) as exc:  # a bad argument: say which, to the model
            raise tool_error(str(exc)) from exc

    # Real objects, not the strings `from __future__ import annotations` leaves: the SDK
    # reads each argument's bounds and description from them into the tool's schema.
    route.__annotations__ = {
        "request": Annotated[
            str,
            Field(
                max_length=MAX_REQUEST_CHARS,
                description="The user's request, in their words "
                f"(at most {MAX_REQUEST_CHARS:,} characters).",
            ),
        ],
        "limit": Annotated[
            int,
            Field(ge=1, le=MAX_LIMIT, description="How many candidates to return, best first."),
        ],
        "return": dict[str, Any],
    }
    server.tool(
        name="route",
        description="Choose the subagent or skill that should handle a request. Answers "
        "agent, name and kind (subagent or skill) as the client knows it, alternatives "
        "(agents doing the same job that fit as well), status (routed, ambiguous or "
        "no_match), confidence, group_confidence (that the agent or an alternative is "
        "right), reason, the best `limit` candidates with their scores, and the team when "
        "parts of the request need different agents (each member with its part and its "
        "confidence).",
        structured_output=True,
    )(route)


def _add_list_agents_tool(
    server: Any, current: Callable[[], Router], tool_error: type[Exception]
) -> None:
    """The ``list_agents`` tool: :func:`list_agents_page` of the current router."""
    from typing import Annotated

    from pydantic import Field  # the SDK's own dependency

    def list_agents(query: str = "", limit: int = 20, offset: int = 0) -> dict[str, Any]:
        try:
            return list_agents_page(current(), query, limit, offset)
        except (ValueError, TypeError) as exc:
            raise tool_error(str(exc)) from exc

    list_agents.__annotations__ = {
        "query": Annotated[
            str,
            Field(
                max_length=MAX_QUERY_CHARS,
                description="Keep the agents whose name or description contains every "
                "word of this (case-insensitive); empty: every agent.",
            ),
        ],
        "limit": Annotated[
            int, Field(ge=1, le=MAX_LIST_LIMIT, description="How many agents per page.")
        ],
        "offset": Annotated[
            int,
            Field(
                ge=0,
                le=MAX_OFFSET,
                description="How many matching agents to skip: the previous page's next_offset.",
            ),
        ],
        "return": dict[str, Any],
    }
    server.tool(
        name="list_agents",
        description="List the subagents and skills agentroute routes between, a page at a "
        "time: total (how many match query), next_offset (null on the last page) and "
        "agents, each with name, kind, description and path.",
        structured_output=True,
    )(list_agents)


def serve(paths: Sequence[Path] | None, *, cache: bool = True, encoder: str | None = None) -> None:
    """Run the server on stdin/stdout until the client closes it.

    ``paths`` None: the project's and the user's Claude Code agents and skills, looked
    up while serving. ``encoder`` (``--encoder``) adds the semantic view; its model is
    loaded once, with the router, on the first tool call, and kept for the life of the
    server.

    Raises
    ------
    CatalogNotFoundError
        Before serving, when a given path does not exist (the router itself is built
        on the first tool call, so a client's start-up is not kept waiting).
    """
    import sys

    from agentroute._router import Router

    def load(where: Sequence[Path]) -> Router:
        return Router.from_path(list(where), cache=cache, encoder=encoder)

    catalog = Catalog(paths, load)
    if paths is not None:
        find(list(paths))
    else:
        try:
            catalog.where()
        except NoAgentsError as exc:
            # Served all the same: the tools say this too, and agents added later are found.
            sys.stderr.write(f"agentroute mcp: {exc}\n")
    build_server(catalog).run("stdio")
