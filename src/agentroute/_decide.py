"""The decision policy: scores → a :class:`Decision` with status, confidence and reason.

Pure functions of one immutable :class:`State`; the :class:`~agentroute.Router`
owns the state and swaps it whole.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from agentroute._calibrate import (
    MAX_LOGIT,
    Calibration,
    Signals,
    batch_signals,
    catalog_shape,
    shipped_min_scope,
    signals,
)
from agentroute._decline import (
    DECLINE_RULES,
    NO_KNOWN_WORDS,
    Case,
    evidence_phrase,
    no_catalog_words,
    quote,
)
from agentroute._index import Index
from agentroute._negative import NotForConfig, apply_not_for
from agentroute._score import (
    BATCH_MIN,
    Products,
    Query,
    Scores,
    Weights,
    analyze_query,
    matched_triggers,
    products_of,
    score,
)
from agentroute._semantic import SemanticConfig
from agentroute._signal import fuse
from agentroute._similar import group_inputs, group_members, related, twin_inputs
from agentroute._spec import AgentSpec, Candidate, Decision, Status
from agentroute._team import TeamConfig, attach_teams, parts_to_route, split_requests

if TYPE_CHECKING:  # the classifier imports scikit-learn's analysers; load it only when used
    from agentroute._classifier import Learned
    from agentroute._semantic import SemanticView

__all__ = [
    "DECIDE_SCORES",
    "PRODUCT_SCORES",
    "RouterConfig",
    "State",
    "batch_vectors",
    "route_state",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class RouterConfig:
    """The decision policy.

    Attributes
    ----------
    weights : Weights
        How the scorers combine.
    calibration : Calibration
        From scores to confidence.
    min_confidence : float
        Below this confidence the decision is ``no_match``.
    min_scope : float
        Below this in-scope probability (:meth:`Calibration.scope`) the decision
        is ``no_match``: the request is not for this catalog. The default is the
        lowest value at which the training catalogs decline on average 90 % of
        the out-of-scope requests of ``benchmarks/fit_defaults.py`` (CLINC150
        ``oos`` train/val and a bank written for it); 0.47, fitted with the calibration
        and stored beside it in ``agentroute/data/calibration.json``).
    ambiguity_margin : float
        When the runner-up's score is within this fraction of the best score,
        the decision is ``ambiguous`` (e.g. 0.05: within 5 %).
    min_known_share : float
        Below this share of the request's words known to the catalog (found in
        some agent's text, after spelling correction) the decision is
        ``no_match``; 0 (the default) turns the rule off. A request most of whose words no
        agent uses is about something else ("a good database of chess
        openings").
    scope_min_agents : int
        ``min_scope`` applies to catalogs of at least this many agents (default
        3; 0: to every catalog).
    trigger_rescue : int
        A request that contains at least this many of the top agent's own
        trigger phrases is not declined by ``min_scope`` while its in-scope
        probability is at least ``trigger_rescue_scope`` (0 turns the rescue
        off): the author's words are in-scope evidence the scope model does not
        read.
    trigger_rescue_scope : float
    not_for : NotForConfig
        How an agent's "does NOT handle" items lower its score for a request that
        matches them (and raise the agent they redirect to).
    teams : TeamConfig
        When a second agent joins a decision's team.
    max_alternatives : int
        At most this many :attr:`Decision.alternatives` (0: never any; the
        decision then is about one agent, as before 0.3).
    alternative_margin : float
        A near-equivalent of the top agent (:meth:`Router.similar`) is an
        alternative when its fused score is within this much of the top agent's
        (the fused scale runs from 0 to 1).
    semantic : SemanticConfig
        How much the semantic view counts and how it moves confidence and scope, for a
        router built with ``encoder=`` (ignored without one).

    Every rule that can turn a request down is one of these fields; a fitted
    router (:meth:`Router.fit`) obeys ``min_confidence`` and ``min_scope``
    too (its in-scope probability is one minus the learned out-of-scope
    probability).
    """

    weights: Weights = field(default_factory=Weights)
    calibration: Calibration = field(default_factory=Calibration)
    # Confidence is P(top is right); a wrong-but-related agent is still useful
    # to a caller, so the default abstains only on near-certain misses.
    min_confidence: float = 0.10
    # Fitted with the calibration, in its data file (0.47).
    min_scope: float = field(default_factory=shipped_min_scope)
    ambiguity_margin: float = 0.05
    # Off by default since issue 15: the known-word share is an input of the
    # scope model, which adapts to the catalog's size (a 4-agent catalog knows
    # few of any request's words); as a fixed rule it refused half of SNIPS's
    # in-scope requests with 7 intents as agents.
    min_known_share: float = 0.0
    # The scope model was fitted on catalogs of 4 to 850 agents; a catalog of one
    # or two agents (a few labelled examples) gives it nothing to compare with.
    scope_min_agents: int = 3
    trigger_rescue: int = 2
    trigger_rescue_scope: float = 0.3
    not_for: NotForConfig = field(default_factory=NotForConfig)
    teams: TeamConfig = field(default_factory=TeamConfig)
    max_alternatives: int = 3
    alternative_margin: float = 0.2
    semantic: SemanticConfig = field(default_factory=SemanticConfig)

    def __post_init__(self) -> None:
        for name, kind in (
            ("weights", Weights),
            ("calibration", Calibration),
            ("not_for", NotForConfig),
            ("teams", TeamConfig),
        ):
            value = getattr(self, name)
            if not isinstance(value, kind):
                raise TypeError(f"RouterConfig.{name} must be a {kind.__name__}, got {value!r}")
        for name in (
            "min_confidence",
            "min_scope",
            "ambiguity_margin",
            "min_known_share",
            "trigger_rescue_scope",
            "alternative_margin",
        ):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not 0.0 <= value <= 1.0
            ):
                raise ValueError(f"RouterConfig.{name} must be a number in [0, 1], got {value!r}")
        for name in ("scope_min_agents", "trigger_rescue", "max_alternatives"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(
                    f"RouterConfig.{name} must be a non-negative integer, got {value!r}"
                )


@dataclass(frozen=True, slots=True, eq=False)
class State:
    # A tuple, or the cache's lazily decoded records (route_state reads none of them
    # when the not-for table came with the cache).
    agents: Sequence[AgentSpec]
    index: Index
    config: RouterConfig
    # What Router.fit learned (None: never fitted); see agentroute._learn.
    learned: Learned | None = None
    # The semantic view (a router built with encoder=), else None: lexical only.
    semantic: SemanticView | None = None
    # Per group of identical copies (keyed by its first agent in index order), the
    # names of every agent in it: collections copy one agent under several names.
    copy_names: dict[int, tuple[str, ...]] = field(init=False, repr=False)
    # Per agent of such a group (by position), the names of the other copies.
    copies_of: dict[int, tuple[str, ...]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # Only the agents that have copies are visited (a warm hook makes one State for
        # 50,000 agents, of which a few hundred are copies).
        copy_of = np.asarray(self.index.copy_of)
        shared = np.flatnonzero(np.bincount(copy_of, minlength=copy_of.size)[copy_of] > 1)
        members: dict[int, list[int]] = {}
        for i, g in zip(shared.tolist(), copy_of[shared].tolist(), strict=True):
            members.setdefault(g, []).append(i)
        names = self.index.names
        groups = {g: tuple(names[i] for i in v) for g, v in members.items()}
        object.__setattr__(self, "copy_names", groups)
        object.__setattr__(
            self,
            "copies_of",
            {i: tuple(names[j] for j in v if j != i) for v in members.values() for i in v},
        )

    def depth(self, limit: int) -> int:
        """How many ranked agents :meth:`candidates` reads for ``limit`` candidates."""
        n = self.index.n_agents
        if not self.copy_names:
            return min(limit, n)
        return min(n, limit + sum(len(v) - 1 for v in self.copy_names.values()))

    def candidates(
        self, scores: np.ndarray, limit: int, order: np.ndarray | None = None
    ) -> tuple[Candidate, ...]:
        """The best ``limit`` agents by score, each group of identical copies once
        (its best-scoring member, the others named in ``copies``). ``order``: the
        head of the ranking, ``_ranked(scores, self.depth(limit))``, when the caller
        has it already."""
        names = self.index.names
        n = scores.size
        k = min(limit, n)
        if order is None:
            order = _ranked(scores, self.depth(limit))
        if not self.copy_names:
            heads = np.asarray(order)
            return tuple(
                Candidate(agent=names[j], score=value)
                for j, value in zip(heads.tolist(), scores[heads].tolist(), strict=True)
            )
        out: list[Candidate] = []
        seen: set[int] = set()
        copies_of = self.copies_of
        heads = np.asarray(order)
        for j, g, value in zip(
            heads.tolist(),
            self.index.copy_of[heads].tolist(),
            scores[heads].tolist(),
            strict=True,
        ):
            if g in seen:
                continue
            seen.add(g)
            out.append(Candidate(agent=names[j], score=value, copies=copies_of.get(j, ())))
            if len(out) == k:
                break
        return tuple(out)


def batch_vectors(state: State, texts: list[str]) -> dict[str, np.ndarray] | None:
    """The semantic view's vectors of ``texts`` and of the parts their teams may route,
    in one encoder call; None without a view (or when a learned model decides)."""
    if state.semantic is None or (state.learned is not None and state.learned.model is not None):
        return None
    return state.semantic.encode_requests([*texts, *parts_to_route(texts, state.config.teams)])


# A batch is decided this many (request, agent) scores at a time: every request of a slice
# is scored against every agent as a few requests x agents matrices, which stay in the
# processor's cache up to a few megabytes (2^19 float64 values are 4 MB). Measured with 300
# requests (CPU time, a loaded 2-core machine): at 10,000 agents 1.06-1.28 s in slices of 64
# against 1.27-1.83 s at once and 1.54-1.61 s one at a time; at 1,000 agents slices of 150
# or more cost the same as all at once, slices of 64 or fewer more. Whole: up to 524
# requests at 1,000 agents; 52 at 10,000; BATCH_MIN from 32,768 on.
DECIDE_SCORES = 1 << 19
# The products with the index are computed for this many (request, agent) scores at once,
# before the slices are decided: the rows of the index a batch reads are laid out once for
# all its requests and parts (agentroute._dense), where a slice would lay out its own.
# Four requests x agents matrices of 2^22 float64 values are 128 MB.
PRODUCT_SCORES = 1 << 22


def route_state(
    state: State,
    texts: list[str],
    limit: int,
    *,
    teams: bool = True,
    vectors: dict[str, np.ndarray] | None = None,
    max_scores: int = DECIDE_SCORES,
    max_products: int = PRODUCT_SCORES,
) -> list[Decision]:
    """Decide every request of ``texts`` against one state (the router's whole job).

    Catalog decisions pass through the not-for stage (:mod:`agentroute._negative`)
    and get their teams (:mod:`agentroute._team`; ``teams=False``: teams of one).
    ``vectors``: request vectors of the semantic view already encoded (a batch's parts
    are encoded with its requests, in one call). The requests' clause parts, which
    their teams read, are scored with them (one pass of the products for both); the
    products are computed ``max_products`` scores at a time and decided ``max_scores``
    at a time (never fewer than ``BATCH_MIN`` requests each): each request is scored
    and decided on its own, so neither changes a decision.
    """
    if not texts:
        return []
    learned = state.learned
    if learned is not None and learned.model is not None:
        return [_verdict(state.config, e) for e in _learned_evidence(state, learned, texts, limit)]
    team = state.config.teams
    split = split_requests(texts, team) if teams else [[] for _ in texts]
    # A batch scores its requests' clause parts in the same pass as the requests; a single
    # request decides its parts only if its team stage asks for them (below), as most
    # single requests' stage does not.
    eager = len(texts) > 1
    part_texts = list(dict.fromkeys(p for parts in split for p in parts)) if eager else []
    if teams and vectors is None:
        vectors = batch_vectors(state, texts)
    rows = [*texts, *part_texts]
    queries = [analyze_query(state.index, t) for t in rows]
    n = len(texts)
    groups = ((0, n, limit, teams), (n, len(rows), team.part_candidates, False))
    decided = _decide_rows(state, rows, queries, groups, vectors, (max_scores, max_products))
    decisions = decided[:n]
    if not teams:
        return decisions
    known = dict(zip(part_texts, decided[n:], strict=True))

    def parts(texts_: list[str]) -> list[Decision]:
        # Coverage parts depend on the decision: routed now (clause parts were above).
        missing = [t for t in dict.fromkeys(texts_) if t not in known]
        if missing:
            fresh = route_state(state, missing, team.part_candidates, teams=False, vectors=vectors)
            known.update(zip(missing, fresh, strict=True))
        return [known[t] for t in texts_]

    return attach_teams(
        state.agents, state.index, state.index.copy_of, decisions, parts, queries[:n], team, split
    )


def _decide_rows(
    state: State,
    rows: list[str],
    queries: list[Query],
    groups: Sequence[tuple[int, int, int, bool]],
    vectors: dict[str, np.ndarray] | None,
    sizes: tuple[int, int],
) -> list[Decision]:
    """The decisions of ``rows``: each group ``(start, stop, limit, explain)`` of them with
    its ``limit`` candidates, its reason worded when ``explain``; the decisions made a
    slice of ``sizes[0]`` scores at a time, the products computed a chunk of
    ``sizes[1]`` at a time (see :func:`route_state`)."""
    agents = max(1, state.index.n_agents)
    step = max(BATCH_MIN, sizes[0] // agents)
    chunk = max(step, sizes[1] // agents)
    out: list[Decision] = []
    for start in range(0, len(rows), chunk):
        stop = min(len(rows), start + chunk)
        made = products_of(state.index, queries[start:stop])
        for first, last, limit, explain in groups:
            for a in range(max(first, start), min(last, stop), step):
                b = min(last, stop, a + step)
                out += _decide_slice(
                    state,
                    rows[a:b],
                    queries[a:b],
                    made.rows(a - start, b - start),
                    limit,
                    explain,
                    vectors,
                )
    return out


def _decide_slice(
    state: State,
    texts: list[str],
    queries: list[Query],
    made: Products,
    limit: int,
    explain: bool,
    vectors: dict[str, np.ndarray] | None,
) -> list[Decision]:
    """The decisions of a slice of requests whose products are ``made``."""
    scores = score(state.index, queries, state.config.weights, products=made)
    scores, meaning = _meaning(state, texts, queries, scores, vectors)
    scores = apply_not_for(state.index, queries, scores, state.config.not_for)
    # A part (explain=False) is read for its agent, status and candidates: no reason.
    batch = _batch(state, queries, scores, state.depth(limit), explain=explain)
    return [
        _verdict(state.config, _catalog_evidence(state, t, q, scores, r, limit, batch, meaning))
        for r, (t, q) in enumerate(zip(texts, queries, strict=True))
    ]


@dataclass(frozen=True, slots=True)
class _Meaning:
    """The semantic view's cosines for a batch, and the lexical leaders it was fused with."""

    cosines: np.ndarray
    lexical_best: np.ndarray
    weight: float
    # Requests none of whose words the catalog knows: ranked by the view alone.
    alone: np.ndarray


def _meaning(
    state: State,
    texts: list[str],
    queries: Sequence[Query],
    scores: Scores,
    vectors: dict[str, np.ndarray] | None,
) -> tuple[Scores, _Meaning | None]:
    """``scores`` with the semantic view fused into ``combined`` (:func:`fuse`; a request
    none of whose words the catalog knows is ranked by the view alone), and the view's
    cosines (``vectors``: requests already encoded); ``scores`` itself and None for a
    router without one."""
    view = state.semantic
    if view is None:
        return scores, None
    weight = state.config.semantic.weight(catalog_shape(state.index)[1], view.texts_per_agent)
    cosines = view.score(texts, vectors)
    lexical = np.round(scores.combined, 9)
    lexical_best = np.array([int(_ranked(row, 1)[0]) for row in lexical], dtype=np.int64)
    combined = fuse(scores.combined, [(weight, cosines)])
    alone = np.array(
        [q.known_terms == 0 and bool(t.strip()) for t, q in zip(texts, queries, strict=True)],
        dtype=bool,
    )
    if alone.any():
        combined = np.where(alone[:, None], fuse(scores.combined, [(1.0, cosines)]), combined)
    fused = replace(scores, combined=combined)
    return fused, _Meaning(cosines, lexical_best, weight, alone)


def _sigmoid(z: float) -> float:
    return float(1.0 / (1.0 + np.exp(-max(-50.0, min(50.0, z)))))


@dataclass(frozen=True, slots=True, kw_only=True)
class _Evidence:
    """What one scoring path (catalog or learned) says about one request.

    :func:`_verdict` turns it into a :class:`Decision`: the one place that sets
    status and writes the reason, for fitted and unfitted routers alike.
    """

    text: str
    candidates: tuple[Candidate, ...]
    confidence: float = 0.0
    # Set when the path found a reason not to answer, worded to follow "No agent fits: ".
    decline: str | None = None
    name: str = ""
    score: float = 0.0  # the leader's score, on the scale its candidates show
    runner: str | None = None  # the best agent that differs from the leader
    runner_score: float = 0.0
    why: str = "similar wording"  # the evidence, as a phrase
    copies: tuple[str, ...] = ()  # the leader under other names
    source: str = ""  # where the scores come from, when not the catalog alone
    matched: tuple[str, ...] = ()
    terms: tuple[str, ...] = ()
    alternatives: tuple[str, ...] = ()  # the leader's near-equivalents that fit as well
    group_confidence: float | None = None  # None: the confidence (no alternatives)


def _verdict(cfg: RouterConfig, e: _Evidence) -> Decision:
    group = e.confidence if e.group_confidence is None else e.group_confidence
    if e.decline is not None:
        return Decision(
            request=e.text,
            agent=None,
            status="no_match",
            confidence=e.confidence,
            reason=f"No agent fits: {e.decline}",
            candidates=e.candidates,
            matched_triggers=e.matched,
            top_terms=e.terms,
        )
    s1, s2, name, runner = e.score, e.runner_score, e.name, e.runner
    same = f" Identical copies: {', '.join(e.copies)}." if e.copies else ""
    if e.alternatives:
        one = len(e.alternatives) == 1
        same += (
            f" {_or(e.alternatives)} {'does' if one else 'do'} the same job and "
            f"{'fits' if one else 'fit'} about as well (confidence {group:.2f} that one of "
            "them is right)."
        )
    source = f" ({e.source})" if e.source else ""
    status: Status
    if runner is not None and s1 - s2 <= cfg.ambiguity_margin * s1:
        status = "ambiguous"
        reason = (
            f"Ambiguous between {name} ({s1:.2f}) and {runner} ({s2:.2f}): the margin "
            f"{s1 - s2:.3f} is within {cfg.ambiguity_margin:.0%} of the best score{source}; "
            f"{name} leads on {e.why}.{same}"
        )
    else:
        status = "routed"
        via = f", {e.source}" if e.source else ""
        label = f"{name} (or {', '.join(e.alternatives)})" if e.alternatives else name
        reason = f"Routed to {label} (confidence {e.confidence:.2f}{via}): {e.why}.{same}"
        if runner is not None:
            reason += f" Runner-up {runner} scored {s2:.2f} (margin {s1 - s2:.2f})."
    return Decision(
        request=e.text,
        agent=name,
        status=status,
        confidence=e.confidence,
        reason=reason,
        candidates=e.candidates,
        matched_triggers=e.matched,
        top_terms=e.terms,
        alternatives=e.alternatives,
        group_confidence=group,
    )


def _or(names: Sequence[str]) -> str:
    """``a``, ``a or b``, ``a, b or c``."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


_EMPTY = "the request is empty."


def _learned_evidence(
    state: State, learned: Learned, texts: list[str], limit: int
) -> list[_Evidence]:
    """The classifier's view (blended with the catalog when ``blend < 1``)."""
    from agentroute._classifier import agent_probs, blend_probs

    model = learned.model
    assert model is not None
    index, cfg = state.index, state.config
    names = index.names
    n = len(names)
    rows = [model.margins_one(t) for t in texts]
    clf = agent_probs(model, names, np.vstack([m for m, _ in rows]), learned.temperature)
    catalog = None
    if learned.blend < 1.0:
        queries = [analyze_query(index, t) for t in texts]
        catalog = score(index, queries, cfg.weights).combined
    probs = blend_probs(clf, catalog, learned.blend, learned.catalog_temperature)
    out: list[_Evidence] = []
    k = min(limit, n)
    column_of = {c: i for i, c in enumerate(model.classes)}
    for r, text in enumerate(texts):
        p = np.round(probs[r, :n], 9)
        order = _ranked(p, max(k, 2))
        candidates = tuple(Candidate(agent=names[j], score=float(p[j])) for j in order[:k])
        if not text.strip():
            out.append(_Evidence(text=text, candidates=(), decline=_EMPTY))
            continue
        best = int(order[0])
        conf = float(p[best])
        oos = float(probs[r, n])
        name = names[best]
        column = column_of.get(name, -1)
        terms = model.top_terms(text, column) if column >= 0 else ()
        why = f"strongest terms {quote(terms)}" if terms else "similar wording"
        decline: str | None = None
        if rows[r][1] == 0:
            decline = "nothing in the request resembles the labelled requests."
        elif oos > conf:
            decline = (
                f"the request reads like those labelled out of scope "
                f"(probability {oos:.2f}; the closest agent, {name}, {conf:.2f})."
            )
        elif 1.0 - oos < cfg.min_scope:
            decline = (
                f"the request reads as outside this catalog (in-scope probability "
                f"{1.0 - oos:.2f}, below {cfg.min_scope:.2f}); the closest agent is {name}."
            )
        elif conf < max(learned.threshold, cfg.min_confidence):
            which = "learned " if learned.threshold >= cfg.min_confidence else ""
            bar = max(learned.threshold, cfg.min_confidence)
            decline = (
                f"the best candidate, {name}, has confidence {conf:.2f}, "
                f"below the {which}{bar:.2f} threshold ({why})."
            )
        out.append(
            _Evidence(
                text=text,
                candidates=candidates,
                confidence=conf,
                decline=decline,
                name=name,
                score=conf,
                runner=names[order[1]] if n > 1 else None,
                runner_score=float(p[order[1]]) if n > 1 else 0.0,
                why=why,
                source="learned from labelled requests",
                terms=terms,
            )
        )
    return out


def _top_terms(
    index: Index, cols: np.ndarray, weights: np.ndarray, query: Query
) -> tuple[str, ...]:
    """The request's terms and bigrams (vocabulary columns ``cols``) that earned the agent
    most of its BM25F score (``weights``: the agent's weight of each).

    BM25F reads every field (name, description, hints, body), so whatever the
    agent matched on is named, as the request wrote it.
    """
    if cols.size == 0:
        return ()
    order = np.lexsort((cols, -weights))
    out: list[str] = []
    covered: set[str] = set()
    for k in order:
        if weights[k] <= 0.0:
            break
        parts = index.feature_names[int(cols[k])].split(" ")
        if all(p in covered for p in parts):
            continue
        covered.update(parts)
        out.append(" ".join(query.surfaces.get(p, p) for p in parts))
        if len(out) == 4:
            break
    return tuple(out)


def _ranked(combined: np.ndarray, k: int) -> np.ndarray:
    """The first ``k`` agents by score, ties by position: the head of
    ``np.lexsort((np.arange(n), -combined))`` without sorting every agent."""
    n = combined.size
    if k >= n or n <= 256:
        return np.lexsort((np.arange(n), -combined))[:k]
    kth = np.partition(combined, n - k)[n - k]
    pool = np.flatnonzero(combined >= kth)  # every tie with the k-th best is kept
    return pool[np.lexsort((pool, -combined[pool]))][:k]


def _ranked_rows(combined: np.ndarray, k: int) -> list[np.ndarray]:
    """:func:`_ranked` of each row of ``combined`` (a batch sorted or partitioned at once)."""
    rows, n = combined.shape
    if rows < 2:
        return [_ranked(row, k) for row in combined]
    if k >= n or n <= 256:
        # A stable sort of the negated scores: ties by position, as lexsort breaks them.
        return list(np.argsort(-combined, axis=1, kind="stable")[:, :k])
    kth = np.partition(combined, n - k, axis=1)[:, n - k]
    out: list[np.ndarray] = []
    for row, bar in zip(combined, kth.tolist(), strict=True):
        pool = np.flatnonzero(row >= bar)  # every tie with the k-th best is kept
        out.append(pool[np.lexsort((pool, -row[pool]))][:k])
    return out


@dataclass(frozen=True, slots=True, eq=False)
class _Batch:
    """What the catalog path reads about a whole batch before it decides each request:
    each computed for every request at once (a few array operations, not a few per
    request)."""

    combined: np.ndarray  # the fused scores as ranked (rounded to 9 places)
    heads: list[np.ndarray]  # per request, the head of its ranking (see _ranked_rows)
    best: np.ndarray  # per request, its top agent (ties: the first by name)
    rival: np.ndarray  # per request, the best agent that is no copy of it (-1: none)
    signals: list[Signals]
    # Per request, the top agent's BM25F weight of each of its terms, when the reason is
    # worded (explain); a part's decision is read for its agent, status and candidates.
    explain: bool
    weights: tuple[np.ndarray, ...]


def _batch(
    state: State, queries: Sequence[Query], scores: Scores, depth: int, explain: bool
) -> _Batch:
    index = state.index
    combined = np.round(scores.combined, 9)
    heads = _ranked_rows(combined, depth)
    rows = np.arange(combined.shape[0])
    best = combined.argmax(axis=1)  # the first of the best: the head of _ranked
    copy_of = index.copy_of
    if state.copy_names:
        others = np.where(copy_of[None, :] == copy_of[best][:, None], -1.0, combined)
    else:
        others = combined.copy()
        others[rows, best] = -1.0
    rival = others.argmax(axis=1)  # the first (by name) of the best that differ
    rival[others[rows, rival] < 0.0] = -1
    shape = catalog_shape(index)
    if len(queries) >= BATCH_MIN:
        sig = batch_signals(combined, scores, best, queries, shape)
    else:  # a few requests: a handful of scalar reductions each costs less
        sig = [
            signals(combined[r], scores, r, int(best[r]), q, shape) for r, q in enumerate(queries)
        ]
    weights: tuple[np.ndarray, ...] = ()
    if explain:
        sizes = [c.size for c in scores.present]
        cols = np.concatenate(scores.present) if sizes else np.zeros(0, dtype=np.int64)
        flat = index.bm25_t.pairs(cols, np.repeat(best, sizes))
        weights = tuple(np.split(flat, np.cumsum(sizes)[:-1])) if sizes else ()
    return _Batch(combined, heads, best, rival, sig, explain, weights)


@dataclass(frozen=True, slots=True)
class _Confidence:
    """One request's calibrated confidence and in-scope probability (the semantic view's
    evidence folded in, when the router has one)."""

    raw: float  # the calibration's confidence, before a calibration-only fit's rescale
    confidence: float  # as the caller sees it
    scope: float
    closeness: str  # the semantic view's evidence, as a phrase ("" without one)


def _confidence(
    state: State, sig: Signals, row: int, best: int, meaning: _Meaning | None
) -> _Confidence:
    cfg = state.config
    raw = cfg.calibration.confidence(sig)
    # A calibration-only fit rescales confidence monotonically; min_confidence
    # reads the confidence the caller sees, so it means the same on every router.
    rescale = _rescale(state)
    scope = cfg.calibration.scope(sig)
    if meaning is None or state.semantic is None:
        return _Confidence(raw, rescale(raw), scope, "")
    sem = cfg.semantic
    top, z, agree = state.semantic.inputs_for(
        meaning.cosines[row], best, int(meaning.lexical_best[row])
    )
    logit = (
        sem.confidence_scale * _logit(raw)
        + sem.confidence_intercept
        + sem.confidence_top * top
        + sem.confidence_z * z
        + sem.confidence_agree * agree
    )
    confidence = rescale(_sigmoid(min(logit, MAX_LOGIT)))
    scope = _sigmoid(
        sem.scope_scale * _logit(scope)
        + sem.scope_intercept
        + sem.scope_top * top
        + sem.scope_z * z
    )
    return _Confidence(raw, confidence, scope, f"closest in meaning to its description: {top:.2f}")


def _rescale(state: State) -> Callable[[float], float]:
    return state.learned.rescale if state.learned is not None else float


_TWIN_INPUTS = frozenset({"twin_mass", "twin_count"})


@dataclass(frozen=True, slots=True)
class _Group:
    """The agents doing the leader's job (copies, near-equivalents): they do not make the
    decision ambiguous; those that fit about as well are its alternatives."""

    same_job: np.ndarray | None  # the mask of related(); None when alternatives are off
    members: tuple[int, ...]  # the alternatives
    confidence: float | None  # that one of the group is right; None without alternatives


def _group(
    state: State, combined: np.ndarray, best: int, sig: Signals, conf: _Confidence
) -> _Group:
    index, cfg = state.index, state.config
    if cfg.max_alternatives <= 0:
        return _Group(None, (), None)
    same_job = related(index, best)
    members = group_members(
        index, combined, best, margin=cfg.alternative_margin, limit=cfg.max_alternatives
    )
    if not members:
        return _Group(same_job, members, None)
    mass, group_margin = group_inputs(combined, best, members, same_job)
    # The twins' inputs only for a group model that reads them (the shipped one does not).
    reads_twins = not _TWIN_INPUTS.isdisjoint(cfg.calibration.group.inputs)
    twin_mass, twin_count = twin_inputs(index, combined, best) if reads_twins else (0.0, 0.0)
    group_sig = replace(
        sig,
        top_logit=_logit(conf.raw),
        group_mass=mass,
        group_margin=group_margin,
        group_size=float(len(members)),
        twin_mass=twin_mass,
        twin_count=twin_count,
    )
    group = max(conf.confidence, _rescale(state)(cfg.calibration.group_confidence(group_sig)))
    return _Group(same_job, members, group)


def _runner(
    index: Index, combined: np.ndarray, rival: int, same_job: np.ndarray | None
) -> tuple[str | None, float]:
    """The runner-up and its score: the best agent that differs from the leader (``rival``,
    -1: none), or, when that one is a near-equivalent, the best outside the leader's job."""
    if same_job is not None and rival >= 0 and same_job[rival]:
        others = np.where(same_job, -1.0, combined)
        rival = int(np.argmax(others))
        rival = rival if others[rival] >= 0.0 else -1
    if rival < 0:
        return None, 0.0
    return index.names[rival], float(combined[rival])


def _catalog_evidence(
    state: State,
    text: str,
    query: Query,
    scores: Scores,
    row: int,
    limit: int,
    batch: _Batch,
    meaning: _Meaning | None = None,
) -> _Evidence:
    """One request's evidence; without ``batch.explain``, no reason is worded (the
    decision is a part's, read for its agent, status and candidates only)."""
    index, cfg = state.index, state.config
    combined = batch.combined[row]
    order = batch.heads[row]
    candidates = state.candidates(combined, limit, order)

    if not text.strip():  # every score is 0: a list would be the catalog's first names
        return _Evidence(text=text, candidates=(), decline=_EMPTY)
    best = int(order[0])  # the head of the ranking (what _ranked(combined, 1) gives)
    s1 = float(combined[best])
    if meaning is not None and meaning.alone[row]:
        return _alone_evidence(
            state, text, candidates, meaning.cosines[row], combined, best, row, batch
        )
    if query.known_terms == 0 or s1 <= 0.0:
        why = no_catalog_words(text) if batch.explain else NO_KNOWN_WORDS
        return _Evidence(text=text, candidates=candidates, decline=why)
    sig = batch.signals[row]
    conf = _confidence(state, sig, row, best, meaning)
    group = _group(state, combined, best, sig, conf)
    matched_keys = matched_triggers(index, scores.matched[row], best)
    surface = index.trigger_surface[best]
    matched = tuple(surface[key] for key in matched_keys)
    name = index.names[best]
    runner, runner_score = _runner(index, combined, int(batch.rival[row]), group.same_job)
    case = Case(
        config=cfg,
        n_agents=index.n_agents,
        text=text,
        query=query,
        known=sig.known,
        scope=conf.scope,
        confidence=conf.confidence,
        group=group.confidence,
        matched=matched,
        name=name,
    )
    rule = next((r for r in DECLINE_RULES if r.declines(case)), None)
    declines = rule is not None
    # Without explain (a part, read for its agent, status and candidates), no wording.
    decline: str | None = "" if declines else None
    terms: tuple[str, ...] = ()
    copies: tuple[str, ...] = ()
    why = "similar wording"
    if batch.explain:
        terms = _top_terms(index, scores.present[row], batch.weights[row], query)
        why = evidence_phrase(matched, terms, query)
        if conf.closeness:
            why = conf.closeness if why == "similar wording" else f"{why}; {conf.closeness}"
        if rule is not None:
            decline = rule.reason(case, why)
        # Copies of the leader (same description and body under another name, as
        # collections ship one agent in several plugins) are equally right: they are
        # named, but ambiguity is measured against the best agent that differs.
        same_names = state.copy_names.get(int(index.copy_of[best]), ())
        copies = tuple(x for x in same_names if x != name)[:3]
    return _Evidence(
        text=text,
        candidates=candidates,
        confidence=conf.confidence,
        decline=decline,
        name=name,
        score=s1,
        runner=runner,
        runner_score=runner_score,
        why=why,
        copies=copies,
        matched=matched,
        terms=terms,
        alternatives=tuple(index.names[j] for j in group.members) if not declines else (),
        group_confidence=group.confidence if not declines else None,
    )


def _alone_evidence(
    state: State,
    text: str,
    candidates: tuple[Candidate, ...],
    cosines: np.ndarray,
    combined: np.ndarray,
    best: int,
    row: int,
    batch: _Batch,
) -> _Evidence:
    """A request none of whose words the catalog knows, with a semantic view: judged by
    the view alone (``SemanticConfig.alone_confidence``), never by the lexical rules."""
    sem = state.config.semantic
    name, top = state.index.names[best], float(cosines[best])
    rival = int(batch.rival[row])
    conf = sem.alone_confidence(top, float(cosines[rival]) if rival >= 0 else 0.0)
    closeness = (
        f"closest in meaning to its description: {top:.2f}; no word in common with any agent"
    )
    bar = max(sem.alone_min_confidence, state.config.min_confidence)
    decline = None
    if conf < bar:
        decline = (
            f"none of the request's words appear in any agent's text, and the closest in "
            f"meaning, {name} ({top:.2f}), has confidence {conf:.2f}, below {bar:.2f}."
        )
    runner, runner_score = _runner(state.index, combined, rival, None)
    return _Evidence(
        text=text,
        candidates=candidates,
        confidence=conf,
        decline=decline,
        name=name,
        score=float(combined[best]),
        runner=runner,
        runner_score=runner_score,
        why=closeness,
    )


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1.0 - 1e-6)
    return math.log(p / (1.0 - p))
