"""``agentroute mcp``: an MCP server over stdio that routes requests to agents and skills.

Agent clients (Claude Code, Codex, Cursor, …) find tools over the Model Context
Protocol. The server exposes two tools over the same catalogs as the command line
(``--agents PATH``, else the project's and the user's Claude Code agents and
skills, else the sample catalog):

* ``route(request, limit=3)``: the decision as JSON text, :meth:`Decision.to_dict`
  (agent, alternatives, status, confidence, group_confidence, reason, candidates, …);
* ``list_agents()``: the catalog as JSON text: name (as Claude Code knows it), kind
  (``subagent`` or ``skill``), description, path.

It is built on the official ``mcp`` Python SDK, an optional dependency
(``pip install 'agentroute[mcp]'``); the core install never imports it. Both the
SDK's 1.x (``FastMCP``) and 2.x (``MCPServer``) spellings are supported.
"""

from __future__ import annotations

import importlib
import json
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentroute._claude import is_skill

if TYPE_CHECKING:
    from agentroute._router import Router

__all__ = ["MAX_LIMIT", "build_server", "list_agents_json", "route_json"]

#: The most candidates the ``route`` tool returns.
MAX_LIMIT = 50

_INSTRUCTIONS = (
    "agentroute decides which specialist subagent or skill of this project should handle "
    "a request. Call `route` with the user's request: when its status is 'routed', "
    "delegate to the named agent (or use the named skill); 'ambiguous' names the two "
    "closest; 'no_match' means none fits. `list_agents` lists the catalog."
)


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


def route_json(router: Router, request: str, limit: int = 3) -> str:
    """What the ``route`` tool returns: the decision as JSON text.

    >>> from agentroute import Router
    >>> json.loads(route_json(Router.from_default(), "helm chart upgrade fails"))["agent"]
    'kubernetes-operator'
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be an integer from 1 to {MAX_LIMIT}, got {limit!r}")
    if not isinstance(request, str):
        raise TypeError(f"request must be a string, got {type(request).__name__}")
    d = router.route(request, limit=limit)
    out = d.to_dict()
    spec = router.agent(d.agent)
    if spec is not None:
        # How the client addresses it: Claude Code knows the declared name.
        out["kind"] = "skill" if is_skill(spec) else "subagent"
        out["name"] = spec.declared_name
    return json.dumps(out, ensure_ascii=False)


def list_agents_json(router: Router) -> str:
    """What the ``list_agents`` tool returns: the catalog as JSON text."""
    return json.dumps(
        [
            {
                "agent": a.name,
                "name": a.declared_name,
                "kind": "skill" if is_skill(a) else "subagent",
                "description": a.description,
                "path": a.path,
            }
            for a in router.agents
        ],
        ensure_ascii=False,
    )


def build_server(load: Callable[[], Router]) -> Any:
    """The MCP server (an SDK server object with ``run()``), routing with ``load()``'s
    router, which is built on the first tool call and kept."""
    server = server_class()("agentroute", instructions=_INSTRUCTIONS)
    tool_error = _tool_error_class()
    lock = threading.Lock()
    routers: list[Router] = []

    def router() -> Router:
        with lock:
            if not routers:
                routers.append(load())
            return routers[0]

    @server.tool(  # type: ignore[untyped-decorator]
        name="route",
        description="Choose the subagent or skill that should handle a request. Returns JSON: "
        "agent, name and kind (subagent or skill) as the client knows it, alternatives "
        "(agents doing the same job that fit as well), status (routed, ambiguous or "
        "no_match), confidence, group_confidence (that the agent or an alternative is "
        "right), reason, and the best `limit` candidates with their scores.",
    )
    def route(request: str, limit: int = 3) -> str:
        try:
            return route_json(router(), request, limit)
        except (ValueError, TypeError) as exc:  # a bad argument: say which, to the model
            raise tool_error(str(exc)) from exc

    @server.tool(  # type: ignore[untyped-decorator]
        name="list_agents",
        description="List the subagents and skills agentroute routes between, as JSON: "
        "name, kind, description and file of each.",
    )
    def list_agents() -> str:
        return list_agents_json(router())

    return server


def serve(paths: Sequence[Path], *, cache: bool = True, encoder: str | None = None) -> None:
    """Run the server on stdin/stdout until the client closes it.

    ``encoder`` (``--encoder``) adds the semantic view; its model is loaded once, with
    the router, on the first tool call, and kept for the life of the server.

    Raises
    ------
    CatalogNotFoundError
        Before serving, when a path does not exist (the router itself is built on
        the first tool call, so a client's start-up is not kept waiting).
    """
    from agentroute._pipeline import find
    from agentroute._router import Router

    find(list(paths))
    server = build_server(lambda: Router.from_path(list(paths), cache=cache, encoder=encoder))
    server.run("stdio")
