"""Negative evidence: a request an agent disowns counts against it, its redirect for."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from agentroute import AgentSpec, NotForConfig, Router
from agentroute._negative import (
    apply_not_for,
    match_strength,
    matches,
    resolve_name,
)
from agentroute._score import analyze_query, score

MIN_MATCH = NotForConfig().min_match
ON = NotForConfig()

DEVOPS = """---
name: devops-engineer
description: DevOps engineer. Handles containerization, Helm charts, Kubernetes manifests and
  CI/CD pipelines.
---
# DevOps Engineer
Writes Dockerfiles, docker-compose files, Kubernetes manifests and CI pipelines.
"""


@pytest.fixture(scope="module")
def seeds_and_devops(seeds: Path, tmp_path_factory: pytest.TempPathFactory) -> Router:
    extra = tmp_path_factory.mktemp("devops") / "devops-engineer.md"
    extra.write_text(DEVOPS, "utf-8")
    return Router.from_path([seeds, extra], cache=False)


@pytest.fixture(scope="module")
def seeds_only(seeds: Path) -> Router:
    return Router.from_path(seeds, cache=False)


def test_kubernetes_config_does_not_go_to_the_go_engineer(seeds_and_devops: Router) -> None:
    d = seeds_and_devops.route("set up the Kubernetes config")
    assert d.agent is not None and d.agent != "backend-engineer-golang"
    scores = {c.agent: c.score for c in d.candidates}
    assert scores.get("backend-engineer-golang", 0.0) < scores["devops-engineer"]


def test_the_redirect_gains_and_the_disowning_agent_loses(seeds_and_devops: Router) -> None:
    router = seeds_and_devops
    index = router.index
    q = [analyze_query(index, "configure docker and kubernetes for the service")]
    before = score(index, q, router.config.weights)
    after = apply_not_for(index, q, before, ON)
    go = index.names.index("backend-engineer-golang")
    ops = index.names.index("devops-engineer")
    assert after.combined[0, go] < before.combined[0, go]
    assert after.combined[0, ops] > before.combined[0, ops]


def test_requests_matching_no_item_keep_their_scores(seeds_and_devops: Router) -> None:
    router = seeds_and_devops
    index = router.index
    q = [analyze_query(index, "add idempotency keys to the ledger transfer handler")]
    before = score(index, q, router.config.weights)
    after = apply_not_for(index, q, before, ON)
    assert after is before


def test_the_not_for_text_no_longer_scores_the_go_engineer(seeds_only: Router) -> None:
    # Before not-for sections were parsed, 'kubernetes' reached the Go engineer only
    # through its "does NOT handle" section.
    index = seeds_only.index
    column = index.column("kubernetes")
    go = index.names.index("backend-engineer-golang")
    assert column is not None  # the other seed mentions Kubernetes
    lo, hi = index.bm25_t.indptr[column], index.bm25_t.indptr[column + 1]
    owners = index.bm25_t.indices[lo:hi]
    assert go not in owners and owners.size > 0


def test_redirects_resolve_by_normalised_name(seeds_and_devops: Router) -> None:
    table = seeds_and_devops.index.not_for
    names = seeds_and_devops.index.names
    targets = {
        item: {names[j] for j in table.redirect[k]} for k, (_, item, _) in enumerate(table.items)
    }
    assert targets["Docker/Kubernetes configuration"] == {"devops-engineer"}
    assert targets["Frontend/UI development"] == set()  # no frontend engineer in this catalog


def test_collaborators_resolve_against_the_catalog(seeds_and_devops: Router) -> None:
    table = seeds_and_devops.index.not_for
    names = seeds_and_devops.index.names
    mine = table.collaborators[names.index("backend-specialist")]
    assert [names[j] for j in mine] == ["devops-engineer"]


def test_resolve_name_prefers_the_same_folder() -> None:
    agents = [
        AgentSpec("sre@a", declared_name="sre", path="a/sre.md"),
        AgentSpec("sre@b", declared_name="sre", path="b/sre.md"),
    ]
    assert resolve_name("SRE", agents, "b/go.md") == [1]
    assert resolve_name("SRE", agents) == [0, 1]
    assert resolve_name("", agents) == []


def test_match_strength_is_an_f1_of_shares(seeds_and_devops: Router) -> None:
    index = seeds_and_devops.index
    item = ("docker", "kubernetes", "configuration")
    assert match_strength(index, ("set", "kubernetes", "config"), item) >= MIN_MATCH
    # One shared word in a long request is weak evidence.
    long = ("ledger", "transfer", "idempotency", "handler", "postgres", "kubernetes")
    assert match_strength(index, long, item) < MIN_MATCH
    assert match_strength(index, (), item) == 0.0
    assert match_strength(index, ("ledger",), item) == 0.0


def test_scores_stay_in_range(seeds_and_devops: Router) -> None:
    router = seeds_and_devops
    q = [analyze_query(router.index, t) for t in ("Docker/Kubernetes configuration", "CI/CD")]
    before = score(router.index, q, router.config.weights)
    s = apply_not_for(router.index, q, before, ON)
    assert np.all((s.combined >= 0.0) & (s.combined <= 1.0))


@pytest.mark.parametrize("min_match", [MIN_MATCH, 0.2, 0.8])
def test_matches_equal_item_by_item_strengths(corpora: Path, min_match: float) -> None:
    """``matches`` works term by term and passes items over by bounds computed for the
    whole table at once; it must give exactly the strengths :func:`match_strength`
    gives item by item, at any ``min_match``."""
    router = Router.from_path(corpora / "lerianstudio-ring")
    index = router.index
    table = index.not_for
    assert len(table.items) > 100
    texts = [item for _, item, _ in table.items]
    # Items alone match strongly; items inside longer requests, weakly or not at all;
    # a request naming dozens of items has more matching words than the bounds tell
    # apart one by one.
    requests = [
        *texts[::2],
        *(
            f"{a} and also {b} {agent.description}"
            for a, b, agent in zip(texts[1::3], texts[2::3], router.agents, strict=False)
        ),
        " ".join(texts[:80]),
    ]
    hits = 0
    for text in requests:
        query = analyze_query(index, text)
        expected = {}
        for k, (_, _, item_terms) in enumerate(table.items):
            m = match_strength(index, query.terms, item_terms)
            if m >= min_match:
                expected[k] = m
        assert matches(table, index, query, min_match) == expected
        hits += len(expected)
    assert hits > len(requests) // 2


# -- the table as the index cache stores it ---------------------------------------------------


def test_a_table_round_trips_through_its_parts() -> None:
    from agentroute._build import build_index
    from agentroute._negative import build_table, table_from_parts, table_parts

    agents = (
        AgentSpec(
            "api",
            description="Python REST APIs",
            not_for=("Kubernetes clusters", "frontend styling"),
            redirects=(("Kubernetes clusters", "Cluster Ops"),),
            collaborators=("cluster-ops",),
        ),
        AgentSpec("cluster-ops", description="Kubernetes operations"),
    )
    index = build_index(agents)
    table = index.not_for
    assert table.items == build_table(agents, index.names).items
    again = table_from_parts(json.loads(json.dumps(table_parts(table))), index.names)
    assert again.items == table.items and again.redirect == table.redirect == ((1,), ())
    assert again.collaborators == table.collaborators == ((1,), ())
    assert again.by_prefix == table.by_prefix and again.position == table.position


@pytest.mark.parametrize(
    ("parts", "why"),
    [
        ([], "not an object"),
        ({"items": [], "redirect": [[]], "collaborators": []}, "malformed"),
        ({"items": [[5, "x", ["x"]]], "redirect": [[]], "collaborators": []}, "item"),
        ({"items": [[0, "x", []]], "redirect": [[]], "collaborators": []}, "item"),
        ({"items": [[True, "x", ["x"]]], "redirect": [[]], "collaborators": []}, "item"),
        ({"items": [[0, "x", ["x"]]], "redirect": [[9]], "collaborators": []}, "redirect"),
        ({"items": [], "redirect": [], "collaborators": [[0, [2]]]}, "collaborators"),
        ({"items": [], "redirect": [], "collaborators": [[-1, [0]]]}, "collaborator entry"),
        ({"items": [], "redirect": [], "collaborators": [7]}, "collaborator entry"),
    ],
)
def test_malformed_table_parts_are_refused(parts: object, why: str) -> None:
    from agentroute._negative import table_from_parts

    with pytest.raises(ValueError, match=why):
        table_from_parts(parts, ["a", "b"])


def test_the_table_is_part_of_the_index_and_travels_with_it() -> None:
    """Built once by build_index and kept as a field: a router sent to a worker process
    (batch jobs, Dask) routes with it, without rebuilding it from every record."""
    import pickle

    from agentroute._build import build_index

    agents = (
        AgentSpec("api", description="Python REST APIs", not_for=("Kubernetes clusters",)),
        AgentSpec("cluster-ops", description="Kubernetes operations"),
    )
    index = build_index(agents)
    assert [item for _, item, _ in index.not_for.items] == ["Kubernetes clusters"]
    copy = pickle.loads(pickle.dumps(index))
    assert copy.not_for.items == index.not_for.items
    assert copy.not_for.position == {"api": 0, "cluster-ops": 1}


def test_the_not_for_settings_are_the_routers_config(seeds_and_devops: Router) -> None:
    """``RouterConfig.not_for`` is read, not a module global: with the stage off the
    disowning agent keeps its score; a smaller penalty takes less off."""
    from agentroute import RouterConfig

    text = "configure docker and kubernetes for the service"

    def go_score(not_for: NotForConfig) -> float:
        router = Router(seeds_and_devops.agents, config=RouterConfig(not_for=not_for))
        d = router.route(text, limit=50)
        return next(c.score for c in d.candidates if c.agent == "backend-engineer-golang")

    off = go_score(NotForConfig(enabled=False))
    on = go_score(NotForConfig())
    assert on < go_score(NotForConfig(penalty=0.1)) < off


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"min_match": 0.0}, r"NotForConfig\.min_match must be a finite number in \[1e-06, 1\]"),
        ({"penalty": 2}, r"NotForConfig\.penalty must be a finite number in \[0, 1\], got 2"),
        ({"enabled": 1}, r"NotForConfig\.enabled must be True or False, got 1"),
    ],
)
def test_bad_not_for_settings_are_refused_by_name(change: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        NotForConfig(**change)  # type: ignore[arg-type]


class _Names(list[str]):
    """Names that count how often they are walked through."""

    walked = 0

    def __iter__(self):  # type: ignore[no-untyped-def]
        _Names.walked += 1
        return super().__iter__()


def test_a_table_read_from_parts_maps_the_names_when_first_asked() -> None:
    # A warm hook at 50,000 agents reads the table and routes without the name map (the
    # team stage reads it when it runs): building it on every read was a third of the
    # table's cost.
    from agentroute._build import build_index
    from agentroute._negative import table_from_parts, table_parts

    agents = (
        AgentSpec("a", description="Python APIs", not_for=("kubernetes clusters",)),
        AgentSpec("b", description="Kubernetes operations"),
    )
    parts = table_parts(build_index(agents).not_for)
    names = _Names(["a", "b"])
    table = table_from_parts(parts, names)
    assert _Names.walked == 0
    assert table.position == {"a": 0, "b": 1} and _Names.walked == 1
    assert table.by_prefix == {"clus": (0,), "kube": (0,)}
