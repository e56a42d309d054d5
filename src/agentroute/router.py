"""The routing policy: scores → a :class:`Decision` with confidence and reason.

The router holds one immutable state (agents, index, configuration) and swaps
it whole, so routing from many threads never sees a half-built index.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path

import numpy as np

from agentroute.errors import CatalogError
from agentroute.evaluate import EvaluationReport, evaluate
from agentroute.index import Index, build_index
from agentroute.load import PathArg, load_agents
from agentroute.score import Query, Scores, Weights, analyze_query, score
from agentroute.spec import AgentSpec, Candidate, Decision, Diagnostic, Status

__all__ = ["Calibration", "Router", "RouterConfig", "default_catalog_path"]


@dataclass(frozen=True, slots=True)
class Calibration:
    """Maps the evidence for the top candidate to a probability of being right.

    ``confidence = sigmoid(intercept + top·s1 + margin·(s1 − s2) + coverage·c1)``,
    where ``s1``/``s2`` are the best two combined scores and ``c1`` the share of
    the request (IDF-weighted) that the best candidate's text contains. The
    defaults were fitted by logistic regression on the development collections
    (wshobson, dl-ezo, voltagent; CLINC150 ``oos`` val utterances as negatives).
    """

    intercept: float = -4.06
    top: float = 7.71
    margin: float = 0.93
    coverage: float = 3.60

    def __call__(self, s1: float, s2: float, c1: float) -> float:
        z = self.intercept + self.top * s1 + self.margin * (s1 - s2) + self.coverage * c1
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


@dataclass(frozen=True, slots=True)
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
    ambiguity_margin : float
        When the runner-up's score is within this fraction of the best score,
        the decision is ``ambiguous`` (e.g. 0.05: within 5 %).
    """

    weights: Weights = field(default_factory=Weights)
    calibration: Calibration = field(default_factory=Calibration)
    min_confidence: float = 0.30
    ambiguity_margin: float = 0.05

    def __post_init__(self) -> None:
        for name in ("min_confidence", "ambiguity_margin"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
                raise ValueError(f"RouterConfig.{name} must be a number in [0, 1], got {value!r}")


@dataclass(frozen=True, slots=True, eq=False)
class _State:
    agents: tuple[AgentSpec, ...]
    index: Index
    config: RouterConfig


def default_catalog_path() -> Path:
    """The folder of the small sample catalog shipped inside the package."""
    return Path(str(resources.files("agentroute") / "data" / "agents"))


class Router:
    """Routes free-text requests to the agent best suited to handle them.

    Parameters
    ----------
    agents : sequence of AgentSpec
        The catalog; names must be unique.
    diagnostics : sequence of Diagnostic, keyword-only
        What loading the catalog reported (kept for :attr:`diagnostics`).
    config : RouterConfig, keyword-only
        The decision policy; defaults to ``RouterConfig()``.

    Examples
    --------
    >>> router = Router.from_default()
    >>> d = router.route("our kubernetes pods keep crashing after the helm upgrade")
    >>> d.agent, d.status
    ('kubernetes-operator', 'routed')
    >>> router.route("").status
    'no_match'
    """

    def __init__(
        self,
        agents: Sequence[AgentSpec],
        *,
        diagnostics: Sequence[Diagnostic] = (),
        config: RouterConfig | None = None,
    ) -> None:
        if not agents:
            raise CatalogError("a router needs at least one agent; none were given or loaded")
        cfg = RouterConfig() if config is None else config
        ordered = tuple(sorted(agents, key=lambda a: a.name))
        self._diagnostics = tuple(diagnostics)
        self._state = _State(ordered, build_index(ordered), cfg)

    # -- construction -------------------------------------------------------------
    @classmethod
    def from_path(
        cls, paths: PathArg, *, strict: bool = False, config: RouterConfig | None = None
    ) -> Router:
        """Load agents from files, folders or catalogs (see :func:`load_agents`) and index them.

        Raises
        ------
        CatalogError
            When a path does not exist or no agent could be loaded.
        AgentFileError
            In strict mode, for the first file that needed recovery.
        """
        result = load_agents(paths, strict=strict)
        if not result.agents:
            shown = [
                os.fspath(p) for p in ([paths] if isinstance(paths, (str, os.PathLike)) else paths)
            ]
            raise CatalogError(
                f"no agent could be loaded from {', '.join(shown)} "
                f"({len(result.diagnostics)} diagnostic(s))"
            )
        return cls(result.agents, diagnostics=result.diagnostics, config=config)

    @classmethod
    def from_agents(
        cls, agents: Iterable[AgentSpec], *, config: RouterConfig | None = None
    ) -> Router:
        """Index records built in code."""
        return cls(tuple(agents), config=config)

    @classmethod
    def from_default(cls, *, config: RouterConfig | None = None) -> Router:
        """The sample catalog shipped with the package (a dozen software agents)."""
        return cls.from_path(default_catalog_path(), config=config)

    # -- state ----------------------------------------------------------------------
    @property
    def agents(self) -> tuple[AgentSpec, ...]:
        """The indexed records, sorted by name."""
        return self._state.agents

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        """What loading the catalog recovered or skipped."""
        return self._diagnostics

    @property
    def config(self) -> RouterConfig:
        return self._state.config

    @property
    def index(self) -> Index:
        return self._state.index

    def with_config(self, config: RouterConfig) -> Router:
        """A router sharing this one's index, with another decision policy."""
        clone = object.__new__(Router)
        clone._diagnostics = self._diagnostics
        clone._state = replace(self._state, config=config)
        return clone

    def __repr__(self) -> str:
        return f"<Router agents={len(self.agents)} diagnostics={len(self.diagnostics)}>"

    # -- routing --------------------------------------------------------------------
    def route(self, request: str, *, top: int = 5) -> Decision:
        """Choose the agent for one request.

        Parameters
        ----------
        request : str
            Free text; empty, unknown words or megabytes are all fine (only the
            first 4,000 characters are scored).
        top : int, keyword-only
            How many candidates to return.

        Returns
        -------
        Decision
            Never raises for any string; ``confidence`` is never NaN.
        """
        return self.route_many([request], top=top)[0]

    def route_many(self, requests: Iterable[str], *, top: int = 5) -> list[Decision]:
        """Route many requests at once: the same decisions as :meth:`route`, faster."""
        if isinstance(top, bool) or not isinstance(top, int) or top < 1:
            raise ValueError(f"top must be a positive integer, got {top!r}")
        texts = list(requests)
        for i, t in enumerate(texts):
            if not isinstance(t, str):
                raise TypeError(f"requests[{i}] must be a str, got {type(t).__name__}")
        state = self._state
        if not texts:
            return []
        queries = [analyze_query(state.index, t) for t in texts]
        scores = score(state.index, queries, state.config.weights)
        return [
            _decide(state, t, q, scores, r, top)
            for r, (t, q) in enumerate(zip(texts, queries, strict=True))
        ]

    def evaluate(
        self,
        texts: Sequence[str],
        labels: Sequence[str | None],
        *,
        k: int = 3,
        also_correct: Sequence[Iterable[str]] | None = None,
    ) -> EvaluationReport:
        """Route labelled requests and measure the answers.

        See :func:`agentroute.evaluate.evaluate` for the figures reported.

        ``labels[i]`` is the right agent for ``texts[i]``, or None when no agent
        should take it.
        """
        return evaluate(self, texts, labels, k=k, also_correct=also_correct)


def _top_terms(index: Index, scores: Scores, row: int, agent: int, query: Query) -> tuple[str, ...]:
    qv = scores.query_vectors[row]  # type: ignore[index]
    contrib = qv.multiply(index.head[agent]).tocoo()
    if contrib.nnz == 0:
        return ()
    order = np.lexsort((contrib.col, -contrib.data))
    out: list[str] = []
    covered: set[str] = set()
    for k in order:
        feature = str(index.feature_names[contrib.col[k]])
        parts = feature.split(" ")
        if all(p in covered for p in parts):
            continue
        covered.update(parts)
        out.append(" ".join(query.surfaces.get(p, p) for p in parts))
        if len(out) == 3:
            break
    return tuple(out)


def _quote(items: Sequence[str]) -> str:
    return ", ".join(f"'{i}'" for i in items)


def _decide(state: _State, text: str, query: Query, scores: Scores, row: int, top: int) -> Decision:
    index, cfg = state.index, state.config
    combined = np.round(scores.combined[row], 9)
    order = np.lexsort((np.arange(index.n_agents), -combined))
    k = min(top, index.n_agents)
    candidates = tuple(Candidate(index.names[j], float(combined[j])) for j in order[:k])

    if not text.strip():
        return Decision(
            text, None, "no_match", 0.0, "No agent fits: the request is empty.", candidates
        )
    best = int(order[0])
    s1 = float(combined[best])
    s2 = float(combined[order[1]]) if index.n_agents > 1 else 0.0
    c1 = float(scores.coverage[row, best])
    if query.known_terms == 0 or s1 <= 0.0:
        return Decision(
            text,
            None,
            "no_match",
            0.0,
            "No agent fits: none of the request's words appear in any agent's description, "
            "triggers or examples.",
            candidates,
        )
    confidence = cfg.calibration(s1, s2, c1)

    matched_keys = scores.matched[row].get(best, ())
    surface = index.trigger_surface[best]
    matched = tuple(surface[key] for key in matched_keys)
    terms = _top_terms(index, scores, row, best, query)
    evidence = _evidence(matched, terms, query)
    name = index.names[best]

    status: Status
    if confidence < cfg.min_confidence:
        status = "no_match"
        reason = (
            f"No agent fits: the best candidate, {name}, has confidence {confidence:.2f}, "
            f"below the {cfg.min_confidence:.2f} threshold"
            + (f" (weak evidence: {evidence})." if evidence else ".")
        )
        return Decision(text, None, status, confidence, reason, candidates, matched, terms)

    runner = index.names[order[1]] if index.n_agents > 1 else None
    if runner is not None and s1 - s2 <= cfg.ambiguity_margin * s1:
        status = "ambiguous"
        reason = (
            f"Ambiguous between {name} ({s1:.2f}) and {runner} ({s2:.2f}): the margin "
            f"{s1 - s2:.3f} is within {cfg.ambiguity_margin:.0%} of the best score; "
            f"{name} leads on {evidence}."
        )
    else:
        status = "routed"
        reason = f"Routed to {name} (confidence {confidence:.2f}): {evidence}."
        if runner is not None:
            reason += f" Runner-up {runner} scored {s2:.2f} (margin {s1 - s2:.2f})."
    return Decision(text, name, status, confidence, reason, candidates, matched, terms)


def _evidence(matched: Sequence[str], terms: Sequence[str], query: Query) -> str:
    parts = []
    if matched:
        parts.append(f"matched triggers {_quote(matched[:4])}")
    if terms:
        parts.append(f"strongest terms {_quote(terms)}")
    if query.corrections:
        fixes = ", ".join(f"'{a}' read as '{b}'" for a, b in query.corrections[:3])
        parts.append(f"({fixes})")
    return "; ".join(parts) if parts else "similar wording"
