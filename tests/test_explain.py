""" "Why not X?": Router.explain and `agentroute route --explain`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentroute import Explanation, Router
from agentroute import _cli as cli
from agentroute._explain import VIEWS
from agentroute._router import default_catalog_path

REQUEST = "fix the flaky login test"


def test_every_agent_is_placed_where_the_route_ranks_it(router: Router) -> None:
    d = router.route(REQUEST, limit=len(router.agents))
    ranked = [c.agent for c in d.candidates]
    for name in (a.name for a in router.agents):
        e = router.explain(REQUEST, name)
        assert isinstance(e, Explanation)
        assert e.n_agents == len(router.agents) and e.top == ranked[0] == d.agent
        assert e.rank == ranked.index(name) + 1, name
        assert [v for v, _ in e.views] == list(VIEWS) and all(0 <= s <= 1 for _, s in e.views)
        assert e.decision == router.route(REQUEST)
        if e.rank > 1:
            assert e.score <= e.top_score and f"{e.top} leads with" in e.summary
    loser = router.explain(REQUEST, "kubernetes-operator")
    assert loser.matched_terms == () and set(loser.missing_terms) == {
        "fix",
        "flaky",
        "login",
        "test",
    }
    winner = router.explain(REQUEST, "test-engineer")
    assert winner.rank == 1 and "it leads the ranking" in winner.summary
    assert set(winner.matched_terms) | set(winner.missing_terms) == set(loser.missing_terms)


def test_a_not_for_item_and_its_redirect_are_named(tmp_path: Path) -> None:
    (tmp_path / "go-dev.md").write_text(
        "---\nname: go-dev\ndescription: Builds Go services and Kubernetes operators in Go.\n---\n"
        "## What This Agent Does NOT Handle\n\n"
        "- Kubernetes cluster configuration and Helm charts (use devops-engineer)\n",
        encoding="utf-8",
    )
    (tmp_path / "devops-engineer.md").write_text(
        "---\nname: devops-engineer\ndescription: Runs CI/CD pipelines and cloud servers.\n---\n",
        encoding="utf-8",
    )
    router = Router.from_path(tmp_path)
    e = router.explain("configure the Kubernetes cluster and its Helm charts", "go-dev")
    assert e.not_for and "Helm charts" in e.not_for[0][0]
    assert e.penalty > 0 and e.redirects == ("devops-engineer",)
    assert "not for" in e.summary and "devops-engineer" in e.summary
    data = e.to_dict()
    assert json.loads(json.dumps(data)) == data and data["redirects"] == ["devops-engineer"]


def test_an_unknown_agent_is_an_error_naming_the_closest(router: Router) -> None:
    with pytest.raises(
        ValueError,
        match="no agent named 'kubernetes' in this catalog; closest: kubernetes-operator",
    ):
        router.explain(REQUEST, "kubernetes")


def test_route_explain_on_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    sample = str(default_catalog_path())
    argv = ["route", "--agents", sample, "--explain", "kubernetes-operator", REQUEST]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert out.startswith("kubernetes-operator\trank ")
    assert "test-engineer leads with" in out and "missing terms: fix, flaky, login, test" in out
    assert "decision: test-engineer (routed" in out
    assert cli.main([*argv, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["top"] == "test-engineer"
    assert cli.main(["route", "--agents", sample, "--explain", "nope", REQUEST]) == 2
    assert "no agent named 'nope'" in capsys.readouterr().err
    assert cli.main(["route", "--agents", sample, "--explain", "test-engineer", "-"]) == 2
    assert "--explain AGENT needs one REQUEST" in capsys.readouterr().err
