""" "Why not X?": where one agent stands for a request, and what keeps it from the top.

:func:`explain` reads the same stages a route reads (the query, each view's score,
the fusion, the not-for stage) for one request, and reports them for one agent of
the catalog against the agent that leads: ``Router.explain(request, agent)`` and
``agentroute route --explain AGENT "…"``. It decides nothing: the decision itself
is :meth:`Router.route`'s, carried along.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from agentroute._decide import State
from agentroute._lexical import LEXICAL
from agentroute._negative import apply_not_for, matches
from agentroute._score import analyze_query, matched_triggers, score
from agentroute._spec import Decision

__all__ = ["VIEWS", "Explanation", "explain"]

#: The per-agent views a route reads (the lexical signals), in the order reported.
VIEWS = tuple(s.name for s in LEXICAL)


@dataclass(frozen=True, slots=True, kw_only=True)
class Explanation:
    """Where ``agent`` stands for ``request``; see :meth:`Router.explain`.

    Attributes
    ----------
    request, agent : str
    rank : int
        1 for the agent that leads the fused ranking (ties broken by name), of ``n_agents``.
    score : float
        The agent's fused score, in [0, 1] (after the not-for stage).
    top, top_score :
        The agent that leads and its fused score (``agent`` itself when ``rank`` is 1).
    views, top_views : tuple of (str, float)
        The score of each view (:data:`VIEWS`) for ``agent`` and for ``top``.
    matched_terms, missing_terms : tuple of str
        The request's words the catalog knows that the agent's text has, and lacks.
    matched_triggers : tuple of str
        The agent's trigger phrases found in the request.
    not_for : tuple of (str, float)
        The agent's "not for" items the request matched, with the match strength.
    penalty : float
        How much the not-for stage moved its fused score down (negative: up, as the
        redirect target of another agent's item).
    redirects : tuple of str
        The agents its matched items send such requests to.
    decision : Decision
        What :meth:`Router.route` answers for the request.
    summary : str
        One paragraph: where it ranks and what stands between it and the top.
    """

    request: str
    agent: str
    rank: int
    n_agents: int
    score: float
    top: str
    top_score: float
    views: tuple[tuple[str, float], ...]
    top_views: tuple[tuple[str, float], ...]
    matched_terms: tuple[str, ...]
    missing_terms: tuple[str, ...]
    matched_triggers: tuple[str, ...]
    not_for: tuple[tuple[str, float], ...]
    penalty: float
    redirects: tuple[str, ...]
    decision: Decision
    summary: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data (scores rounded to 4 places)."""
        return {
            "request": self.request,
            "agent": self.agent,
            "rank": self.rank,
            "n_agents": self.n_agents,
            "score": round(self.score, 4),
            "top": self.top,
            "top_score": round(self.top_score, 4),
            "views": {k: round(v, 4) for k, v in self.views},
            "top_views": {k: round(v, 4) for k, v in self.top_views},
            "matched_terms": list(self.matched_terms),
            "missing_terms": list(self.missing_terms),
            "matched_triggers": list(self.matched_triggers),
            "not_for": [{"item": item, "strength": round(m, 4)} for item, m in self.not_for],
            "penalty": round(self.penalty, 4),
            "redirects": list(self.redirects),
            "decision": {
                "agent": self.decision.agent,
                "status": self.decision.status,
                "confidence": round(self.decision.confidence, 4),
            },
            "summary": self.summary,
        }


def _quote(items: Sequence[str], limit: int = 6) -> str:
    shown = ", ".join(f"'{t}'" for t in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _summary(e: dict[str, Any]) -> str:
    agent, rank, n = e["agent"], e["rank"], e["n_agents"]
    said = [f"{agent} ranks {_ordinal(rank)} of {n} with a fused score of {e['score']:.3f}"]
    if rank == 1:
        said[0] += "; it leads the ranking."
    else:
        ahead = e["top_score"] - e["score"]
        said[0] += f"; {e['top']} leads with {e['top_score']:.3f}, {ahead:.3f} ahead."
        gaps = sorted(
            ((t - a, k) for (k, a), (_, t) in zip(e["views"], e["top_views"], strict=True)),
            reverse=True,
        )
        if gaps and gaps[0][0] > 0:
            gap, view = gaps[0]
            said.append(f"The widest gap is the {view} view ({gap:.2f} behind).")
    if e["missing_terms"]:
        said.append(f"Its text lacks {_quote(e['missing_terms'])} of the request's words.")
    if not e["matched_terms"] and not e["matched_triggers"]:
        said.append("None of the request's words are in its text.")
    if e["not_for"]:
        item, m = e["not_for"][0]
        said.append(
            f"The request matches its 'not for' item '{item}' (strength {m:.2f}), "
            f"which lowered its score by {e['penalty']:.3f}"
            + (f" and sends such requests to {', '.join(e['redirects'])}" if e["redirects"] else "")
            + "."
        )
    elif e["penalty"] < 0:
        said.append(
            f"Another agent's 'not for' item sends this request its way (+{-e['penalty']:.3f})."
        )
    return " ".join(said)


def explain(state: State, request: str, position: int, decision: Decision) -> Explanation:
    """The :class:`Explanation` of the agent at index ``position`` for ``request``."""
    index = state.index
    q = analyze_query(index, request)
    raw = score(index, [q], state.config.weights)
    after = apply_not_for(index, [q], raw, state.config.not_for)
    combined = np.round(after.combined[0], 9)
    n = combined.size
    # Best first, ties by name (index order is name order), as a route ranks.
    order = np.lexsort((np.arange(n), -combined))
    rank = int(np.flatnonzero(order == position)[0]) + 1
    top = int(order[0])

    def views(j: int) -> tuple[tuple[str, float], ...]:
        return tuple((v, float(after.views[v][0, j])) for v in VIEWS)

    distinct = list(dict.fromkeys(q.terms))
    cols = index.columns(distinct)
    known = cols >= 0
    has = np.zeros(len(distinct), dtype=bool)
    if known.any():
        has[known] = index.bm25_t.positions(cols[known], np.full(int(known.sum()), position)) >= 0
    surface = [q.surfaces.get(t, t) for t in distinct]
    matched = tuple(s for s, k, h in zip(surface, known, has, strict=True) if k and h)
    missing = tuple(s for s, k, h in zip(surface, known, has, strict=True) if k and not h)
    keys = matched_triggers(index, after.matched[0], position)
    triggers = tuple(index.trigger_surface[position][key] for key in keys)

    table = index.not_for
    hits = {} if table.empty else matches(table, index, q, state.config.not_for.min_match)
    mine = sorted(
        ((table.items[k][1], m, k) for k, m in hits.items() if table.items[k][0] == position),
        key=lambda x: (-x[1], x[0]),
    )
    redirects = sorted({index.names[j] for _, _, k in mine for j in table.redirect[k]})
    fields: dict[str, Any] = {
        "request": request,
        "agent": index.names[position],
        "rank": rank,
        "n_agents": n,
        "score": float(combined[position]),
        "top": index.names[top],
        "top_score": float(combined[top]),
        "views": views(position),
        "top_views": views(top),
        "matched_terms": matched,
        "missing_terms": missing,
        "matched_triggers": triggers,
        "not_for": tuple((item, float(m)) for item, m, _ in mine),
        "penalty": float(raw.combined[0, position] - after.combined[0, position]),
        "redirects": tuple(redirects),
    }
    return Explanation(**fields, decision=decision, summary=_summary(fields))
