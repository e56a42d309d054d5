"""The decline rules and the words of a reason: why a scored request is turned down.

:mod:`agentroute._decide` builds a :class:`Case` for each scored request; the first
of :data:`DECLINE_RULES` that declines it gives the reason, which follows
"No agent fits: ". The rules read :class:`~agentroute._decide.RouterConfig` fields only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from agentroute._language import other_language
from agentroute._score import Query

if TYPE_CHECKING:  # _decide imports this module; the config is only read here
    from agentroute._decide import RouterConfig

__all__ = [
    "DECLINE_RULES",
    "NO_KNOWN_WORDS",
    "Case",
    "Rule",
    "evidence_phrase",
    "no_catalog_words",
    "quote",
]


def quote(items: Sequence[str]) -> str:
    return ", ".join(f"'{i}'" for i in items)


NO_KNOWN_WORDS = (
    "none of the request's words appear in any agent's description, triggers or examples."
)


def no_catalog_words(text: str) -> str:
    """Why a request none of whose words the catalog knows is declined."""
    language = other_language(text)
    if language:
        return f"the request has no words of this catalog's language ({language})."
    return NO_KNOWN_WORDS


@dataclass(frozen=True, slots=True, kw_only=True)
class Case:
    """What the decline rules read about one request and its top agent."""

    config: RouterConfig
    n_agents: int
    text: str
    query: Query
    known: float  # the share of the request's terms the catalog knows
    scope: float  # the in-scope probability
    confidence: float  # as the caller sees it (after a calibration-only fit's rescale)
    group: float | None  # the confidence of the leader's group, when it has alternatives
    matched: tuple[str, ...]  # the top agent's trigger phrases in the request
    name: str  # the top agent


class Rule(NamedTuple):
    """A rule that can turn a scored request down: whether it does, and why (given
    what the top agent shares with the request, in words)."""

    declines: Callable[[Case], bool]
    reason: Callable[[Case, str], str]


def _closest(c: Case, evidence: str) -> str:
    return f"the closest, {c.name}, shares only {evidence}."


def _few_known_words(c: Case) -> bool:
    """``min_known_share``: most of the request's words are in no agent's text."""
    return c.known < c.config.min_known_share


def _few_known_words_reason(c: Case, evidence: str) -> str:
    language = other_language(c.text)
    known = f"{c.query.known_terms} of {len(c.query.terms)} known"
    if language:
        return (
            f"most of the request's words are not in this catalog's language ({language}; "
            f"only {known}); {_closest(c, evidence)}"
        )
    return (
        f"most of the request's words appear in no agent's text (only {known}); "
        f"{_closest(c, evidence)}"
    )


def _outside_the_catalog(c: Case) -> bool:
    """``min_scope``: the request reads as meant for another catalog."""
    cfg = c.config
    # Two of the agent's own trigger phrases in the request are in-scope evidence
    # the scope model cannot see (it reads scores, not triggers): a catalog with
    # long prompts scores "write e2e tests" low, yet 'e2e' and 'testing' are its
    # author's words. Measured on the four labelled collections: CLINC150 oos
    # no_match unchanged, in-scope routing up (wshobson 0.973 -> 0.976).
    trigger_backed = (
        cfg.trigger_rescue > 0
        and len(c.matched) >= cfg.trigger_rescue
        and c.scope >= cfg.trigger_rescue_scope
    )
    return c.scope < cfg.min_scope and c.n_agents >= cfg.scope_min_agents and not trigger_backed


def _outside_the_catalog_reason(c: Case, evidence: str) -> str:
    language = other_language(c.text)
    foreign = f"; most of its words are not in this catalog's language: {language}"
    return (
        f"the request reads as outside this catalog (in-scope probability {c.scope:.2f}, "
        f"below {c.config.min_scope:.2f}"
        + (foreign if language else "")
        + f"); {_closest(c, evidence)}"
    )


def _weak_evidence(c: Case) -> bool:
    """``min_confidence``: the best candidate (or its group, when it has alternatives) is
    probably not right."""
    return (c.confidence if c.group is None else c.group) < c.config.min_confidence


def _weak_evidence_reason(c: Case, evidence: str) -> str:
    return (
        f"the best candidate, {c.name}, has confidence {c.confidence:.2f}, below the "
        f"{c.config.min_confidence:.2f} threshold (weak evidence: {evidence})."
    )


# The rules that turn a scored request down, in order: the first that declines gives the
# reason (its text follows "No agent fits: "). Each reads RouterConfig fields only.
DECLINE_RULES: tuple[Rule, ...] = (
    Rule(_few_known_words, _few_known_words_reason),
    Rule(_outside_the_catalog, _outside_the_catalog_reason),
    Rule(_weak_evidence, _weak_evidence_reason),
)


def evidence_phrase(matched: Sequence[str], terms: Sequence[str], query: Query) -> str:
    parts = []
    if matched:
        parts.append(f"matched triggers {quote(matched[:4])}")
    if terms:
        parts.append(f"strongest terms {quote(terms)}")
    if query.corrections:
        fixes = ", ".join(f"'{a}' read as '{b}'" for a, b in query.corrections[:3])
        parts.append(f"({fixes})")
    return "; ".join(parts) if parts else "similar wording"
