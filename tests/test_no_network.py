"""Every third-party corpus loads and routes with sockets disabled, and YAML never runs code."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from agentroute import Router, load_agents
from conftest import shared_dir

SHARED = shared_dir()  # $AGENTROUTE_SHARED, else ../shared beside the clone
CORPORA = SHARED / "corpora" if SHARED is not None else None


def _no_network(*args: object, **kwargs: object) -> None:
    raise AssertionError(f"agentroute tried to use the network: {args!r}")


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("socket", "create_connection", "getaddrinfo", "socketpair", "fromfd"):
        monkeypatch.setattr(socket, name, _no_network)


def _corpora() -> list[Path]:
    if CORPORA is None:
        return []
    return sorted(p for p in CORPORA.iterdir() if p.is_dir() and p.name != "labels")


@pytest.mark.skipif(
    CORPORA is None, reason="no corpora: set AGENTROUTE_SHARED or put ../shared beside the clone"
)
@pytest.mark.parametrize("corpus", _corpora(), ids=lambda p: p.name)
def test_corpus_loads_and_routes_offline(corpus: Path, offline: None) -> None:
    result = load_agents(corpus)
    assert result.agents, corpus.name
    router = Router(result.agents, diagnostics=result.diagnostics)
    decision = router.route("review my pull request for security issues in the API")
    assert 0.0 <= decision.confidence < 1.0


def test_the_network_guard_works(offline: None) -> None:
    with pytest.raises(AssertionError, match="network"):
        socket.create_connection(("example.com", 80))


def test_yaml_python_tags_do_not_run(tmp_path: Path) -> None:
    canary = tmp_path / "pwned"
    payloads = [
        f"!!python/object/apply:os.system ['touch {canary}']",
        f"!!python/object/apply:subprocess.call [['touch', '{canary}']]",
        f"!!python/object/new:subprocess.Popen [['touch', '{canary}']]",
    ]
    for i, payload in enumerate(payloads):
        (tmp_path / f"a{i}.md").write_text(
            f"---\nname: a{i}\ndescription: {payload}\n---\nbody\n", encoding="utf-8"
        )
        (tmp_path / f"c{i}.yaml").write_text(f"- name: c{i}\n  x: {payload}\n", encoding="utf-8")
    paths = [tmp_path, *sorted(tmp_path.glob("*.yaml"))]
    result = load_agents(paths)
    assert not canary.exists()
    assert "invalid-yaml" in {d.kind for d in result.diagnostics}
