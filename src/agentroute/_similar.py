"""Near-equivalent agents: which agents of a catalog do the same job.

People install several collections at once, and each brings its own Kubernetes
agent, its own Postgres agent, its own code reviewer. Such agents split a
request's probability between them, so the top agent's confidence is low exactly
when the choice is safe. The index learns, once per catalog, which agents are
near-equivalents; the decision (:mod:`agentroute._decide`) then answers with the
group of those that fit the request about as well as the top one.

Two agents are near-equivalents when

* they are identical copies (same description and body, :attr:`Index.copy_of`);
* their whole texts overlap strongly: TF-IDF cosine of their words at least
  :data:`MIN_TEXT`; or
* their names say the same thing once the role words are set aside
  (``kubernetes-expert`` / ``kubernetes-specialist``, ``ruby-pro`` /
  ``ruby-expert``: :func:`name_core`), or one name says it after a prefix
  (plugin collections name an agent after its plugin:
  ``cicd-automation-deployment-engineer`` / ``deployment-engineer``,
  ``api-scaffolding-django-pro`` / ``django-expert``: :func:`name_cores`), and
  their texts overlap at least :data:`MIN_NAMED`.

Each agent keeps at most :data:`NEIGHBOURS` of them (the most similar; copies
always) and the relation is made symmetric. The cosines are computed a block of
agents at a time against the whole catalog and only the best few of each row are
kept, so a catalog of 10,000 agents never holds an n × n matrix.

>>> from agentroute._build import build_index
>>> from agentroute._spec import AgentSpec
>>> index = build_index([
...     AgentSpec("kubernetes-expert", "Kubernetes clusters, pods, helm charts and deployments."),
...     AgentSpec("kubernetes-specialist", "Operates Kubernetes: pods, helm, autoscaling."),
...     AgentSpec("css-pro", "Styles web pages with CSS grid, flexbox and responsive layouts."),
... ])
>>> similar_names(index, "kubernetes-expert")
('kubernetes-specialist',)
>>> similar_names(index, "css-pro")
()
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from agentroute._index import Index

__all__ = [
    "MIN_NAMED",
    "MIN_TEXT",
    "NEIGHBOURS",
    "ROLE_WORDS",
    "group_inputs",
    "group_members",
    "name_core",
    "name_cores",
    "near_equivalents",
    "related",
    "similar_names",
    "similar_of",
    "twin_inputs",
]

# Word-cosine bars, read off pairs of the nine corpus collections installed together
# (judged by hand): at 0.5 and above most pairs do one job (csharp-developer /
# dotnet-core-expert, java-architect / spring-boot-engineer, c-sharp-pro / csharp-pro)
# and the rest are close neighbours (jest-expert / vitest-expert) that a request
# tells apart by score; between 0.4 and 0.5 most pairs only share a field
# (portfolio-manager / risk-analyst). Agents whose names say the same thing are
# near-equivalents from a much lower overlap: their bodies are written by different
# authors in different styles (kubernetes-expert / kubernetes-specialist: 0.45,
# react-pro / react-specialist: 0.36, mcp-developer / mcp-expert: 0.33), while
# pairs that only share a word of the name are not (vue-expert / vue-nuxt-expert).
MIN_TEXT = 0.5
MIN_NAMED = 0.15
# At most this many near-equivalents per agent (copies aside): a crowded catalog
# has three or four agents per job, not more.
NEIGHBOURS = 8
# Agents whose shared heavy words are counted at once.
_BLOCK = 512
# Candidate pairs: agents that share one of their heaviest words (the words that weigh
# most in their TF-IDF vectors) are compared; at most this many per agent, those that
# share the most.
_TOP_TERMS = 24
_CANDIDATES = 64
# Words that say what an agent is, not what it does: ``kubernetes-expert`` and
# ``kubernetes-specialist`` both do Kubernetes.
ROLE_WORDS = frozenset(
    {
        "agent",
        "analyst",
        "architect",
        "assistant",
        "consultant",
        "dev",
        "developer",
        "engineer",
        "expert",
        "guru",
        "helper",
        "lead",
        "master",
        "pro",
        "professional",
        "senior",
        "specialist",
        "wizard",
    }
)
_WORD = re.compile(r"[a-z0-9+#]+")


def name_core(name: str) -> str:
    """What a name says an agent does: its words without role words, sorted and joined
    ('' when nothing is left). A ``name@folder`` suffix (a renamed duplicate) is dropped.

    >>> name_core("kubernetes-expert"), name_core("Kubernetes Specialist")
    ('kubernetes', 'kubernetes')
    >>> name_core("postgres-pro"), name_core("expert"), name_core("code-reviewer@team")
    ('postgres', '', 'code reviewer')
    """
    base = name.rpartition("@")[0] or name
    words = [w for w in _WORD.findall(base.casefold()) if w not in ROLE_WORDS]
    return " ".join(sorted(set(words)))


def name_cores(name: str) -> frozenset[str]:
    """What a name says an agent does, read from each of its word suffixes: the
    :func:`name_core` of the whole name and of every tail of its words (a prefix such as
    a plugin's name set aside); '' is never one.

    >>> sorted(name_cores("api-scaffolding-django-pro"))
    ['api django scaffolding', 'django', 'django scaffolding']
    >>> sorted(name_cores("vue-nuxt-expert"))
    ['nuxt', 'nuxt vue']
    """
    base = name.rpartition("@")[0] or name
    words = _WORD.findall(base.casefold())
    out = {name_core("-".join(words[k:])) for k in range(len(words))}
    out.discard("")
    return frozenset(out)


def _named_alike(
    core_a: str, tails_a: frozenset[str], core_b: str, tails_b: frozenset[str]
) -> bool:
    """Whether two names say the same thing: equal cores, or one's core is what the
    other says after a prefix."""
    return bool(core_a) and bool(core_b) and (core_a in tails_b or core_b in tails_a)


def _top_terms(rows: Any, m: int) -> Any:
    """Each row's ``m`` heaviest columns, as a binary matrix of the same shape."""
    import scipy.sparse as sp

    n = rows.shape[0]
    cols: list[np.ndarray] = []
    ptr = [0]
    indptr, indices, data = rows.indptr, rows.indices, rows.data
    for i in range(n):
        a, b = int(indptr[i]), int(indptr[i + 1])
        c, v = indices[a:b], data[a:b]
        if b - a > m:
            c = np.sort(c[np.lexsort((c, -v))[:m]])
        cols.append(c)
        ptr.append(ptr[-1] + c.size)
    flat = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
    return sp.csr_matrix((np.ones(flat.size), flat, np.asarray(ptr)), shape=rows.shape)


def _cosines(rows: Any, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """The dot products of rows ``left[k]`` and ``right[k]`` (L2-normalised: cosines)."""
    out = np.zeros(left.size)
    step = 4096
    for s in range(0, left.size, step):
        a, b = rows[left[s : s + step]], rows[right[s : s + step]]
        out[s : s + step] = np.asarray(a.multiply(b).sum(axis=1)).ravel()
    return out


def _candidates(
    rows: Any, cores: Sequence[str], tails: Sequence[frozenset[str]]
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs ``i < j`` worth a cosine: sharing one of their :data:`_TOP_TERMS` heaviest
    words (the best :data:`_CANDIDATES` per agent by how many), or named alike (one's
    name core among the other's :func:`name_cores`)."""
    n = rows.shape[0]
    top = _top_terms(rows, _TOP_TERMS)
    top_t = top.T.tocsr()
    left: list[np.ndarray] = []
    right: list[np.ndarray] = []
    for start in range(0, n, _BLOCK):
        stop = min(n, start + _BLOCK)
        shared = (top[start:stop] @ top_t).tocsr()
        for r in range(stop - start):
            i = start + r
            a, b = int(shared.indptr[r]), int(shared.indptr[r + 1])
            cols, counts = shared.indices[a:b], shared.data[a:b]
            if cols.size > _CANDIDATES:
                cols = cols[np.lexsort((cols, -counts))[:_CANDIDATES]]
            cols = cols[cols > i]
            left.append(np.full(cols.size, i, dtype=np.int64))
            right.append(cols.astype(np.int64))
    by_core: dict[str, list[int]] = {}
    for i, core in enumerate(cores):
        if core:
            by_core.setdefault(core, []).append(i)
    by_tail: dict[str, list[int]] = {}
    for i, said in enumerate(tails):
        for tail in said:
            if tail in by_core:
                by_tail.setdefault(tail, []).append(i)
    for core, group in by_core.items():
        others = np.asarray(by_tail.get(core, group), dtype=np.int64)
        for i in group:
            rest = others[others != i]
            left.append(np.minimum(rest, i))
            right.append(np.maximum(rest, i))
    if not left:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    pairs = np.unique(np.stack([np.concatenate(left), np.concatenate(right)], axis=1), axis=0)
    return pairs[:, 0], pairs[:, 1]


def near_equivalents(
    word_rows: Any, declared: Sequence[str], copy_of: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The near-equivalent relation of a catalog as CSR parts ``(data, indices, indptr)``.

    Parameters
    ----------
    word_rows : scipy.sparse matrix
        The agents' L2-normalised TF-IDF word vectors (agents × vocabulary).
    declared : sequence of str
        Each agent's name as its file declares it (for :func:`name_core`).
    copy_of : numpy.ndarray
        :attr:`Index.copy_of`.

    Returns
    -------
    tuple of numpy.ndarray
        Row ``i`` holds agent ``i``'s near-equivalents (columns sorted) and their word
        cosines (1.0 for identical copies). Symmetric.
    """
    import scipy.sparse as sp

    n = word_rows.shape[0]
    rows = sp.csr_matrix(word_rows, dtype=np.float64)
    rows.sort_indices()
    cores = [name_core(d) for d in declared]
    tails = [name_cores(d) for d in declared]
    left, right = _candidates(rows, cores, tails)
    cos = np.clip(_cosines(rows, left, right), 0.0, 1.0)
    # Whether the names say the same thing matters only between the two bars.
    same_core = np.zeros(left.size, dtype=bool)
    between = np.flatnonzero((cos >= MIN_NAMED) & (cos < MIN_TEXT))
    same_core[between] = np.fromiter(
        (
            _named_alike(cores[i], tails[i], cores[j], tails[j])
            for i, j in zip(left[between].tolist(), right[between].tolist(), strict=True)
        ),
        bool,
        between.size,
    )
    copies = copy_of[left] == copy_of[right]
    keep = ~copies & ((cos >= MIN_TEXT) | (same_core & (cos >= MIN_NAMED)))
    left, right, cos = left[keep], right[keep], np.maximum(cos[keep], 1e-6)
    # At most NEIGHBOURS per agent, the most similar, from either side of the pair.
    both_i = np.concatenate([left, right])
    both_j = np.concatenate([right, left])
    both_v = np.concatenate([cos, cos])
    order = np.lexsort((both_j, -both_v, both_i))
    both_i, both_j, both_v = both_i[order], both_j[order], both_v[order]
    rank = np.arange(both_i.size) - np.searchsorted(both_i, both_i, side="left")
    kept = rank < NEIGHBOURS
    # Symmetric: a pair kept by either of its agents is kept for both (a dict, so a
    # pair kept by both is stored once).
    found: dict[tuple[int, int], float] = {}
    kept_i, kept_j, kept_v = both_i[kept].tolist(), both_j[kept].tolist(), both_v[kept].tolist()
    for i, j, v in zip(kept_i, kept_j, kept_v, strict=True):
        found[(i, j)] = v
        found[(j, i)] = v
    groups: dict[int, list[int]] = {}
    for i, g in enumerate(copy_of.tolist()):
        groups.setdefault(int(g), []).append(i)
    for members in groups.values():
        for i in members:
            for j in members:
                if i != j:
                    found[(i, j)] = 1.0
    keys = sorted(found)
    pairs = sp.csr_matrix(
        ([found[k] for k in keys], ([k[0] for k in keys], [k[1] for k in keys])), shape=(n, n)
    )
    pairs.sort_indices()
    return pairs.data.astype(np.float64), pairs.indices, pairs.indptr


def similar_of(index: Index, i: int) -> tuple[np.ndarray, np.ndarray]:
    """Agent ``i``'s near-equivalents (positions) and their similarity, best first
    (ties by position); read-only arrays, each row sorted once per index
    (:attr:`Index.similar_rows`)."""
    rows = index.similar_rows
    found = rows.get(i)
    if found is None:
        agents, vals, _ = index.similar.gather(np.array([i], dtype=np.int64))  # this row only
        cols = agents.astype(np.int64)
        order = np.lexsort((cols, -vals))
        found = (cols[order], vals[order])
        for a in found:
            a.setflags(write=False)
        rows[i] = found
    return found


def similar_names(index: Index, name: str) -> tuple[str, ...]:
    """The agents of ``index`` that do the same job as ``name``, most similar first.

    Raises
    ------
    KeyError
        When no agent of the index is called ``name``.
    """
    import bisect

    names = index.names
    i = bisect.bisect_left(names, name)
    if i >= len(names) or names[i] != name:
        raise KeyError(f"no agent named {name!r} in this catalog")
    cols, _ = similar_of(index, i)
    return tuple(names[j] for j in cols.tolist())


def group_members(
    index: Index, combined: np.ndarray, best: int, *, margin: float, limit: int
) -> tuple[int, ...]:
    """The alternatives to ``best`` for one request: its near-equivalents that score
    within ``margin`` of it on the fused scale (best first, ties by position), one per
    group of identical copies and none a copy of ``best``, at most ``limit``."""
    if limit <= 0:
        return ()
    cols, _ = similar_of(index, best)
    if cols.size == 0:
        return ()
    s1 = float(combined[best])
    copy_of = index.copy_of
    cols = cols[(copy_of[cols] != copy_of[best]) & (combined[cols] >= s1 - margin)]
    cols = cols[combined[cols] > 0.0]
    if cols.size == 0:
        return ()
    cols = cols[np.lexsort((cols, -combined[cols]))]
    out: list[int] = []
    seen: set[int] = set()
    for j in cols.tolist():
        g = int(copy_of[j])
        if g not in seen:
            seen.add(g)
            out.append(j)
            if len(out) == limit:
                break
    return tuple(out)


def related(index: Index, best: int) -> np.ndarray:
    """A mask of the agents that do the job of ``best`` (itself, its copies and its
    near-equivalents): none of them makes a decision ambiguous."""
    mask: np.ndarray = np.asarray(index.copy_of == index.copy_of[best])
    cols, _ = similar_of(index, best)
    mask[cols] = True
    return mask


def group_inputs(
    combined: np.ndarray, best: int, members: Sequence[int], same: np.ndarray
) -> tuple[float, float]:
    """``(group_mass, group_margin)`` of a request whose top agent ``best`` has the
    alternatives ``members``: the log of the group's share of ``softmax(fused / 0.05)``
    over the top agent's share, and the fused margin from the top agent to the best
    agent outside the group (``same``: the mask of :func:`related`)."""
    s1 = float(combined[best])
    mass = 1.0 + float(np.exp((combined[list(members)] - s1) / 0.05).sum())
    outside = combined[~same]
    rival = float(outside.max()) if outside.size else 0.0
    return float(np.log(mass)), s1 - rival


def twin_inputs(index: Index, combined: np.ndarray, best: int) -> tuple[float, float]:
    """``(twin_mass, twin_count)`` of a request whose top agent is ``best``, over *every*
    near-equivalent of it (not only those within the margin; one per group of identical
    copies, none a copy of ``best``): the log of ``1 +`` their share of
    ``softmax(fused / 0.05)`` over the top agent's, and the log of ``1 +`` how many they
    are. Both read the leader's own neighbourhood, not the whole catalog, so they do not
    drift with the catalog's size: a crowded catalog's strict label is as likely to name
    any twin of the job as the top one."""
    cols, _ = similar_of(index, best)
    copy_of = index.copy_of
    cols = cols[copy_of[cols] != copy_of[best]]
    if cols.size == 0:
        return 0.0, 0.0
    s1 = float(combined[best])
    groups = copy_of[cols]
    scores = combined[cols]
    order = np.lexsort((-scores, groups))
    first = np.ones(order.size, dtype=bool)
    first[1:] = groups[order][1:] != groups[order][:-1]
    kept = scores[order][first]
    mass = float(np.exp(np.minimum(kept - s1, 0.0) / 0.05).sum())
    return float(np.log1p(mass)), float(np.log1p(kept.size))
