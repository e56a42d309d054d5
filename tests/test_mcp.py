"""`agentroute mcp` end to end: spawned over stdio and driven by the MCP SDK's own client."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from agentroute import Router
from agentroute._mcp import list_agents_json, route_json
from agentroute._router import default_catalog_path

SURE = "our kubernetes pods keep crashing after the helm upgrade"


def _is_error(result: Any) -> bool:
    # mcp 2.x spells it is_error, mcp 1.x isError.
    return bool(getattr(result, "is_error", getattr(result, "isError", False)))


def _text(result: Any) -> str:
    assert not _is_error(result), result
    [block] = [c for c in result.content if getattr(c, "type", None) == "text"]
    return str(block.text)


async def _session(argv: list[str], cwd: Path, env: dict[str, str]) -> dict[str, Any]:
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    params = StdioServerParameters(command=sys.executable, args=argv, env=env, cwd=str(cwd))
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        tools = await session.list_tools()
        routed = await session.call_tool("route", {"request": SURE, "limit": 2})
        declined = await session.call_tool("route", {"request": "bake a cake"})
        listed = await session.call_tool("list_agents", {})
        bad = await session.call_tool("route", {"request": SURE, "limit": 0})
        return {
            "tools": sorted(t.name for t in tools.tools),
            "routed": json.loads(_text(routed)),
            "declined": json.loads(_text(declined)),
            "listed": json.loads(_text(listed)),
            "bad_is_error": _is_error(bad),
            "bad_says": " ".join(getattr(c, "text", "") for c in bad.content),
        }


@pytest.mark.slow  # starts processes
def test_the_mcp_server_routes_over_stdio(tmp_path: Path) -> None:
    pytest.importorskip(
        "mcp", reason="the mcp extra is not installed (pip install agentroute[mcp])"
    )
    env = {
        **os.environ,
        "HOME": str(tmp_path / "home"),
        "AGENTROUTE_CACHE_DIR": str(tmp_path / "cache"),
    }
    env.pop("CLAUDE_PROJECT_DIR", None)
    argv = ["-m", "agentroute", "mcp", "--agents", str(default_catalog_path())]
    got = asyncio.run(asyncio.wait_for(_session(argv, tmp_path, env), timeout=120))
    assert got["tools"] == ["list_agents", "route"]
    routed = got["routed"]
    router = Router.from_default()
    expected = router.route(SURE, limit=2).to_dict()
    assert {k: routed[k] for k in expected} == expected
    assert routed["kind"] == "subagent" and routed["name"] == "kubernetes-operator"
    assert len(routed["candidates"]) == 2
    assert got["declined"]["status"] == "no_match" and got["declined"]["agent"] is None
    assert [a["name"] for a in got["listed"]] == [a.name for a in router.agents]
    assert got["bad_is_error"]
    assert "limit must be an integer from 1 to 50, got 0" in got["bad_says"]  # the reason too


@pytest.mark.slow  # starts processes
def test_a_missing_catalog_fails_before_serving(tmp_path: Path) -> None:
    pytest.importorskip("mcp", reason="the mcp extra is not installed")
    proc = subprocess.run(
        [sys.executable, "-m", "agentroute", "mcp", "--agents", str(tmp_path / "nope")],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 2
    assert "nope: no such file or folder" in proc.stderr and "Traceback" not in proc.stderr


def test_the_tools_answer_what_the_router_answers() -> None:
    router = Router.from_default()
    assert json.loads(route_json(router, SURE))["status"] == "routed"
    with pytest.raises(ValueError, match="limit must be an integer from 1 to 50, got 0"):
        route_json(router, SURE, 0)
    listed = json.loads(list_agents_json(router))
    assert {a["kind"] for a in listed} == {"subagent"}


def test_without_the_sdk_the_command_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from agentroute import _cli as cli
    from agentroute import _mcp

    def missing() -> object:
        raise ImportError("the MCP server needs the mcp package: pip install 'agentroute[mcp]'")

    monkeypatch.setattr(_mcp, "server_class", missing)
    assert cli.main(["mcp", "--agents", str(default_catalog_path())]) == 2
    assert "pip install 'agentroute[mcp]'" in capsys.readouterr().err
