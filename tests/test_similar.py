"""Near-equivalents: which agents do the same job, learned once per catalog."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from agentroute import AgentSpec, Router
from agentroute._build import build_index
from agentroute._similar import (
    MIN_NAMED,
    MIN_TEXT,
    NEIGHBOURS,
    name_core,
    name_cores,
    near_equivalents,
    similar_of,
    twin_inputs,
)

TWINS = [
    AgentSpec(
        "kubernetes-expert",
        "Kubernetes clusters: pods, deployments, helm charts, autoscaling and ingress.",
        body="Debug crashing pods, OOMKilled containers, helm upgrades and rollouts.",
    ),
    AgentSpec(
        "kubernetes-specialist",
        "Operates Kubernetes: helm releases, pods that crash, node pools and ingress.",
        body="Fix failing rollouts, memory limits, helm values and cluster networking.",
    ),
    AgentSpec(
        "postgres-pro",
        "Tunes PostgreSQL: slow queries, indexes, EXPLAIN plans, vacuum and replication.",
    ),
    AgentSpec("css-pro", "Styles web pages with CSS grid, flexbox and responsive layouts."),
    AgentSpec("copy-a", "Writes release notes from merged pull requests.", body="B"),
    AgentSpec("copy-b", "Writes release notes from merged pull requests.", body="B"),
]


def test_name_core_sets_role_words_and_folders_aside() -> None:
    assert name_core("kubernetes-expert") == name_core("Kubernetes_Specialist") == "kubernetes"
    assert name_core("react-pro@team") == "react"
    assert name_core("senior-engineer") == ""
    assert name_core("code-reviewer") == "code reviewer"


def test_name_cores_read_the_name_after_a_prefix() -> None:
    assert name_cores("cicd-automation-deployment-engineer") >= {"deployment"}
    assert "django" in name_cores("api-scaffolding-django-pro")
    assert "" not in name_cores("senior-engineer") and name_cores("expert") == frozenset()
    assert "vue" not in name_cores("vue-nuxt-expert")  # a shared word is not the same job


PLUGINS = [
    AgentSpec(
        "cicd-automation-deployment-engineer",
        "Deployment engineer: CI/CD pipelines, GitOps, progressive delivery and rollbacks.",
        body="Design release pipelines with canary deployments and automated rollback.",
    ),
    AgentSpec(
        "deployment-engineer",
        "Builds deployment automation: release pipelines, blue-green and canary rollouts.",
        body="Own the path from merge to production with zero-downtime deploys.",
    ),
    AgentSpec(
        "vue-nuxt-expert",
        "Vue and Nuxt applications: server-side rendering, composables and routing.",
    ),
    AgentSpec("vue-expert", "Vue components, the composition API, Pinia stores and routing."),
    TWINS[3],
]


def test_a_plugin_prefixed_name_is_the_agent_it_names() -> None:
    """Plugin collections prefix an agent's name with its plugin's: the deployment engineer
    of a plugin and a collection's own do the same job (before: strangers, their texts
    overlapping too little for the text rule)."""
    router = Router.from_agents(PLUGINS)
    assert router.similar("deployment-engineer") == ("cicd-automation-deployment-engineer",)
    assert router.similar("vue-expert") == ()


def test_twins_copies_and_strangers() -> None:
    router = Router.from_agents(TWINS)
    assert router.similar("kubernetes-expert") == ("kubernetes-specialist",)
    assert router.similar("kubernetes-specialist") == ("kubernetes-expert",)
    assert router.similar("copy-a") == ("copy-b",)  # identical copies do the same job
    assert router.similar("css-pro") == ()
    assert router.similar("postgres-pro") == ()
    with pytest.raises(KeyError, match="no agent named 'nobody'"):
        router.similar("nobody")
    with pytest.raises(TypeError, match="name must be a str"):
        router.similar(3)  # type: ignore[arg-type]


def test_the_relation_does_not_depend_on_file_order() -> None:
    a = build_index(TWINS).similar
    b = build_index(list(reversed(TWINS))).similar
    assert np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices)
    assert np.array_equal(a.data, b.data)


def _reference(
    rows: sp.csr_matrix, declared: list[str], copy_of: np.ndarray
) -> set[tuple[int, int]]:
    """Every pair by the rule, from the dense n x n cosines (what the sparse search avoids)."""
    cos = (rows @ rows.T).toarray()
    cores = [name_core(d) for d in declared]
    tails = [name_cores(d) for d in declared]
    out = set()
    n = rows.shape[0]
    for i in range(n):
        for j in range(n):
            if i == j:
                continue
            named = bool(cores[i] and cores[j]) and (cores[i] in tails[j] or cores[j] in tails[i])
            if (
                copy_of[i] == copy_of[j]
                or cos[i, j] >= MIN_TEXT
                or (named and cos[i, j] >= MIN_NAMED)
            ):
                out.add((i, j))
    return out


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=0, max_value=2**31 - 1))
def test_the_sparse_search_finds_what_the_dense_one_finds(seed: int) -> None:
    """On small random catalogs (fewer neighbours than the cap), the candidate search
    loses no pair the dense cosines give, and the relation is symmetric."""
    rng = np.random.default_rng(seed)
    n, v = 30, 60
    dense = rng.random((n, v)) * (rng.random((n, v)) < 0.15)
    dense[:, 0] += 0.01  # no empty row
    for i in range(0, n, 5):  # some near-copies
        dense[i + 1] = dense[i] * rng.uniform(0.8, 1.2, v)
    rows = sp.csr_matrix(dense / np.linalg.norm(dense, axis=1, keepdims=True))
    declared = [f"{['kafka', 'vue', 'go'][i % 3]}-{['pro', 'expert'][i % 2]}-{i}" for i in range(n)]
    copy_of = np.arange(n)
    data, indices, indptr = near_equivalents(rows, declared, copy_of)
    got = sp.csr_matrix((data, indices, indptr), shape=(n, n))
    pairs = set(zip(*got.nonzero(), strict=True))
    assert pairs == {(j, i) for i, j in pairs}  # symmetric
    want = _reference(rows, declared, copy_of)
    degree = np.bincount([i for i, _ in want], minlength=n)
    if degree.max() <= NEIGHBOURS:
        assert {(int(i), int(j)) for i, j in pairs} == want


def test_a_catalog_without_near_equivalents_has_none_and_no_alternatives() -> None:
    router = Router.from_default()
    assert all(router.similar(a.name) == () for a in router.agents)
    d = router.route("our kubernetes pods keep crashing after the helm upgrade")
    assert d.alternatives == () and d.group_confidence == d.confidence


def test_the_cache_keeps_the_relation(tmp_path: object) -> None:
    import shutil
    from pathlib import Path

    folder = Path(str(tmp_path)) / "agents"
    folder.mkdir()
    for a in TWINS:
        (folder / f"{a.name}.md").write_text(
            f"---\nname: {a.name}\ndescription: {a.description}\n---\n{a.body}\n", "utf-8"
        )
    cache = Path(str(tmp_path)) / "cache"
    first = Router.from_path(folder, cache=cache)
    again = Router.from_path(folder, cache=cache)  # read from the cache
    assert again.similar("kubernetes-expert") == first.similar("kubernetes-expert")
    assert again.similar("copy-a") == ("copy-b",)
    shutil.rmtree(cache)


def test_a_row_is_sorted_once_and_handed_out_read_only() -> None:
    """A route reads its leader's row twice and a batch's leaders repeat: the sorted row
    is kept with the index it was read from (no module-level table), and nobody can
    change it for the next reader."""
    index = Router.from_default().index
    cols, vals = similar_of(index, 0)
    again = similar_of(index, 0)
    assert again[0] is cols and again[1] is vals
    assert index.similar_rows[0][0] is cols and index.similar_rows[0][1] is vals
    assert not cols.flags.writeable and not vals.flags.writeable
    fresh, _, _ = index.similar.gather(np.array([0], dtype=np.int64))
    assert sorted(cols.tolist()) == sorted(fresh.astype(np.int64).tolist())


def test_twin_inputs_weigh_every_twin_of_the_leader_once_per_copy_group() -> None:
    """``twin_inputs`` read every near-equivalent of the top agent, however far below it
    scores (the margin leaves those out of the alternatives), each group of identical
    copies once and never the leader's own copies."""
    index = build_index(TWINS)
    names = list(index.names)
    combined = np.zeros(len(names))
    k8s, spec = names.index("kubernetes-expert"), names.index("kubernetes-specialist")
    combined[k8s], combined[spec] = 0.9, 0.4  # far outside any margin
    mass, count = twin_inputs(index, combined, k8s)
    assert count == pytest.approx(np.log(2.0))
    assert mass == pytest.approx(np.log1p(np.exp(-0.5 / 0.05)))
    # The leader's identical copy is not a twin; a stranger has none.
    a, b = names.index("copy-a"), names.index("copy-b")
    combined[a] = combined[b] = 0.8
    assert twin_inputs(index, combined, a) == (0.0, 0.0)
    assert twin_inputs(index, combined, names.index("css-pro")) == (0.0, 0.0)
