"""Teams: which agents take which part of a request that spans specialists.

"Build the orders API, then write integration tests for it" needs a backend
agent and a test writer. After the whole request is decided, :func:`attach_teams`

1. cuts the request into parts (:func:`split_parts`): on clause marks ("and
   then", "then", ";", "also", sentence ends, numbered or bulleted steps) and,
   inside a clause, on "and" or a comma between two stretches of content words;
2. routes each part on its own, through the same scorer, not-for stage and
   decision policy as a whole request;
3. keeps an agent other than the decision's as a member only when it wins a part
   with evidence (calibrated confidence of at least
   :attr:`TeamConfig.min_part_confidence`)
   that the decision's agent does not cover (scores below ``cover_ratio`` of
   the part's winner there), or, for an agent the decision's agent names as a
   collaborator ("Interaction with Other Agents"), when it is within
   ``collaborator_ratio`` of that part's winner.

Everything else is a team of one, so a single-agent request keeps its decision
as it was; the decision's agent is always the first member. The reason gains one
sentence that says who takes which part.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from agentroute._index import Index
from agentroute._score import MAX_REQUEST_CHARS, Query
from agentroute._spec import AgentSpec, Decision, TeamMember, check_numbers
from agentroute._text import terms

__all__ = [
    "TeamConfig",
    "attach_teams",
    "parts_to_route",
    "split_parts",
    "split_requests",
    "team_for",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class TeamConfig:
    """When a second agent joins a decision's team (:attr:`RouterConfig.teams`).

    The numbers were tuned on the dev half of ``benchmarks/data/teams``
    (``python benchmarks/teams.py --tune``); a share or ratio above 1 turns its
    rule off.

    Attributes
    ----------
    min_part_confidence : float
        A member must be this confident (calibrated, for its part alone) to join.
        0.3-0.5 all kept single-agent requests a team of one on >= 95 % of every
        labelled collection; lower values add members nobody asked for.
    cover_ratio : float
        The decision's agent covers a part where it scores at least this share of
        the part's best fused score: no second agent is needed there.
    collaborator_ratio : float
        A collaborator named by the decision's agent joins for a part where it
        scores within this share of the part's best (and is confident enough).
    min_uncovered_share : float
        Coverage: in a request of one clause, the words the decision's agent's text
        lacks are routed as a part of their own when they carry this share of the
        request's IDF ...
    min_coverage_confidence : float
        ... and their winner joins only at this higher confidence (no clause mark
        backs it).
    min_part_terms : int
        A part needs this many content terms to be routed alone ("it", "them" are
        not parts).
    max_parts : int
        At most this many parts are routed (bounds the work one long request causes).
    part_candidates : int
        Candidates read per part: the decision's agent scoring below these is "not
        covering".
    """

    min_part_confidence: float = 0.3
    cover_ratio: float = 0.9
    collaborator_ratio: float = 0.85
    min_uncovered_share: float = 0.5
    min_coverage_confidence: float = 0.8
    min_part_terms: int = 2
    max_parts: int = 6
    part_candidates: int = 25

    def __post_init__(self) -> None:
        check_numbers(
            self,
            (
                "min_part_confidence",
                "cover_ratio",
                "collaborator_ratio",
                "min_uncovered_share",
                "min_coverage_confidence",
            ),
        )
        check_numbers(self, ("min_part_terms",), integer=True)
        check_numbers(self, ("max_parts", "part_candidates"), lo=1, integer=True)


_STEP = re.compile(r"(?im)^\s*(?:[-*+\u2022]|\d+[.)]|step\s+\d+\s*[:.)-]?)\s+")
# Inside a clause, "and" or a comma starts a new part only before a verb ("build X
# and write Y"), not between nouns ("Docker and Kubernetes"); a new sentence starts
# a part only with a verb or a sequence word: "We need RAG. Design the pipeline"
# is one part, "We need RAG. Then design the pipeline" two. Question sentences
# ("Can you ...?", "How do we ...?") are context for the request, never a part.
_PART_START = frozenset(
    [
        "add",
        "analyse",
        "analyze",
        "audit",
        "automate",
        "build",
        "check",
        "clean",
        "configure",
        "convert",
        "create",
        "debug",
        "deploy",
        "design",
        "document",
        "draft",
        "explain",
        "find",
        "fix",
        "generate",
        "implement",
        "improve",
        "investigate",
        "make",
        "measure",
        "migrate",
        "monitor",
        "optimise",
        "optimize",
        "plan",
        "prepare",
        "profile",
        "refactor",
        "research",
        "review",
        "rewrite",
        "run",
        "scan",
        "secure",
        "set",
        "setup",
        "ship",
        "summarise",
        "summarize",
        "test",
        "track",
        "translate",
        "tune",
        "update",
        "upgrade",
        "validate",
        "verify",
        "write",
        "compare",
        "estimate",
        "calculate",
        "forecast",
        "assess",
        "evaluate",
        "identify",
        "integrate",
        "train",
        "publish",
        "launch",
        "schedule",
        "send",
        "harden",
        "provision",
        "containerize",
        "containerise",
        "diagnose",
        "troubleshoot",
    ]
)
# Sequence words that start a part wherever they stand ("X then Y", "X and then Y"),
# and those that do only after a comma or "and" ("X, also Y", "X and also Y"): a bare
# "next" or "also" is often inside a clause ("Next.js", "a service that also logs").
_SEQUENCE = r"(?:and\s+)?(?:then|afterwards|after\s+that)\b"
_SEQUENCE_JOINED = r"(?:also|next|finally|plus|as\s+well\s+as)\b"
_STRONG = re.compile(
    r"\s*(?:;|\n+|,?\s+"
    + _SEQUENCE
    + r",?|(?:,\s*(?:and\s+)?|\s+and\s+)"
    + _SEQUENCE_JOINED
    + r",?)\s*",
    re.I,
)
_SENTENCE = re.compile(
    r"(?<=[.!?])\s+(?="
    + _SEQUENCE
    + "|"
    + _SEQUENCE_JOINED
    + r"|(?:"
    + "|".join(sorted(_PART_START))
    + r")\b)",
    re.I,
)
# What every cut below needs somewhere in the request (a clause mark, a sentence end,
# a joining word): a request without any is one part, whatever the patterns say.
_MAY_SPLIT = re.compile(r"[;\n.!?,&]|\b(?:and|then|afterwards|after)\b", re.I)
_WEAK = re.compile(r"\s*(?:,\s*(?:and\s+)?|\s+and\s+|\s+&\s+)\s*", re.I)
# What a match of _STRONG, _WEAK or _SENTENCE needs somewhere in the text (each word
# stands between two word boundaries in every match): a text without it is not cut,
# and the search of the costlier pattern is skipped (tests/test_team.py checks it).
_MAY_STRONG = re.compile(r"[;\n]|\b(?:then|afterwards|after|also|next|finally|plus|as)\b", re.I)
_MAY_WEAK = re.compile(r"[,&]|\band\b", re.I)
_MAY_SENTENCE = re.compile(r"[.!?]\s")
_JOINED = re.compile(r",|&|\b(?:and|with|plus)\b", re.I)
# Words that start a part without content ("Also, please ...").
_LEAD = re.compile(r"^(?:and|also|then|please|plus|finally|next|first|after\s+that)\b[\s,]*", re.I)


def _clean(part: str) -> str:
    part = part.strip(" \t\n,;.:-")
    while True:
        stripped = _LEAD.sub("", part).strip(" \t\n,;.:-")
        if stripped == part:
            return part
        part = stripped


def _weak_split(clause: str, min_part_terms: int) -> list[str]:
    """A clause cut at "and" / commas that start a new verb phrase, words kept as written."""
    if _MAY_WEAK.search(clause) is None:
        part = _clean(clause)
        return [part] if part else []
    pieces: list[str] = []
    at = 0
    for m in _WEAK.finditer(clause):
        left, right = clause[at : m.start()], clause[m.end() :]
        first = right.split(" ", 1)[0].casefold().strip("'\"") if right else ""
        if first in _PART_START and len(terms(left)) >= min_part_terms:
            pieces.append(left)
            at = m.end()
    pieces.append(clause[at:])
    return [p for p in (_clean(p) for p in pieces) if p]


def _strong_split(sentence: str) -> list[str]:
    """``_STRONG.split(sentence)``, without the search where no clause mark can match."""
    return _STRONG.split(sentence) if _MAY_STRONG.search(sentence) else [sentence]


_BLANKS = re.compile(r"[^\S\n]+")


_DEFAULT = TeamConfig()


def split_parts(text: str, config: TeamConfig = _DEFAULT) -> list[str]:
    """The parts of a request that might belong to different agents (a part of fewer
    than ``config.min_part_terms`` content terms joins the one before it).

    Examples
    --------
    >>> split_parts("Build the orders API, then write integration tests for it")
    ['Build the orders API', 'write integration tests for it']
    >>> split_parts("1. profile the slow query\\n2. add a dashboard for it")
    ['profile the slow query', 'add a dashboard for it']
    >>> split_parts("design and implement the payment service")
    ['design and implement the payment service']
    >>> split_parts("We need RAG for our docs. Design the retrieval pipeline. Then write tests")
    ['We need RAG for our docs. Design the retrieval pipeline', 'write tests']
    >>> split_parts("configure Docker and Kubernetes for the service")
    ['configure Docker and Kubernetes for the service']
    """
    # The clause patterns below have runs of optional blanks on both sides of a join,
    # which backtrack cubically on a long run of blanks (1,000 spaces took 12 s):
    # read what the scorer reads, with each run of blanks (not newlines, which mark
    # steps) made one space.
    text = _BLANKS.sub(" ", text[:MAX_REQUEST_CHARS])
    stepped = _STEP.sub("\n", text)
    cut = _SENTENCE.split(stepped) if _MAY_SENTENCE.search(stepped) else [stepped]
    sentences = [x for x in cut if x.strip()]
    # A sentence that does not start with a verb ("We need RAG for our docs.") is the
    # context of the next one, not a part of its own.
    merged: list[str] = []
    for k, sentence in enumerate(sentences):
        if merged and merged[-1].endswith("\x00"):
            merged[-1] = merged[-1][:-1] + " " + sentence
        else:
            merged.append(sentence)
        first = _clean(sentence).split(" ", 1)[0].casefold()
        if k + 1 < len(sentences) and first not in _PART_START and "\n" not in sentence.strip():
            merged[-1] += "\x00"
    out: list[str] = []
    for clause in (c for m in merged for c in _strong_split(m.rstrip("\x00"))):
        clause = _clean(clause)
        if not clause:
            continue
        for piece in _weak_split(clause, config.min_part_terms):
            # A part with too few content words ("do it") joins the one before it,
            # unless a verb that names a task starts it ("write the migration;
            # document it": documenting is a part of its own).
            first = piece.split(" ", 1)[0].casefold()
            if out and first not in _PART_START and len(terms(piece)) < config.min_part_terms:
                out[-1] = f"{out[-1]}; {piece}"
            else:
                out.append(piece)
    if len(out) <= 1:
        return [text.strip()] if text.strip() else []
    return out


def split_requests(texts: Sequence[str], config: TeamConfig) -> list[list[str]]:
    """Per request of ``texts``, the clause parts :func:`attach_teams` routes when it is
    decided (:func:`split_parts`, at most ``config.max_parts``), or [] for a request of
    one part.

    >>> split_requests(["fix the login bug", "Build the API, then write tests"], TeamConfig())
    [[], ['Build the API', 'write tests']]
    """
    out: list[list[str]] = []
    for text in texts:
        # A request with no clause mark has one part: it is not cut at all.
        parts = split_parts(text, config)[: config.max_parts] if _MAY_SPLIT.search(text) else []
        out.append(parts if len(parts) >= 2 else [])
    return out


def parts_to_route(texts: Sequence[str], config: TeamConfig) -> list[str]:
    """The parts :func:`attach_teams` would route if each request of ``texts`` were decided
    (its clause parts; coverage parts depend on the decision and are not known yet): what
    the semantic view encodes in the same batch as the requests.

    >>> parts_to_route(["fix the login bug", "Build the API, then write tests"], TeamConfig())
    ['Build the API', 'write tests']
    """
    return [p for parts in split_requests(texts, config) for p in parts]


def _scores_of(d: Decision) -> dict[str, float]:
    return {c.agent: c.score for c in d.candidates}


def team_for(
    decision: Decision,
    parts: Sequence[str],
    part_decisions: Sequence[Decision],
    copies: Callable[[str, str], bool],
    collaborators: Callable[[str], frozenset[str]],
    config: TeamConfig,
    need: float,
) -> tuple[TeamMember, ...]:
    """The team for one decided request, from its parts' own decisions; a part's winner
    joins at confidence ``need`` or more."""
    lead = decision.agent
    if lead is None:
        return ()
    alone = (
        TeamMember(
            agent=lead,
            part=decision.request.strip(),
            confidence=decision.confidence,
            alternatives=decision.alternatives,
            group_confidence=decision.group_confidence,
        ),
    )
    if len(parts) < 2:
        return alone
    friends = collaborators(lead)
    # Per agent taking a part with a group: the group and its confidence.
    groups: dict[str, tuple[tuple[str, ...], float]] = {
        lead: (decision.alternatives, decision.group_confidence)
    }
    # Per part, who takes it: the lead when it covers the part, else the part's
    # winner (and a runner-up nearly tied with it), each with its confidence.
    owners: list[dict[str, float]] = []
    for d in part_decisions:
        owner, group = _part_owner(decision, lead, d, copies, friends, config, need)
        if group is not None:
            groups.setdefault(next(iter(owner)), group)
        owners.append(owner)
    if all(list(o) == [lead] for o in owners):
        return alone
    if not any(lead in o for o in owners):
        # The lead owns no part outright: it takes the part it scores best on, relative
        # to that part's winner, so that every member has a part.
        owners[_lead_part(lead, part_decisions)] = {lead: decision.confidence}
    return _members(decision, lead, parts, owners, groups) or alone


def _part_owner(
    decision: Decision,
    lead: str,
    d: Decision,
    copies: Callable[[str, str], bool],
    friends: frozenset[str],
    config: TeamConfig,
    need: float,
) -> tuple[dict[str, float], tuple[tuple[str, ...], float] | None]:
    """Who takes the part decided as ``d``, with its confidence, and the group it brings
    (its alternatives and the group's confidence; None when it takes the part alone)."""
    scores = _scores_of(d)
    best = d.candidates[0] if d.candidates else None
    lead_here = {lead: decision.confidence}
    if best is None or best.score <= 0.0 or (d.agent is None and not d.confidence):
        return {lead: 0.0}, None
    # A part declined alone ("reads as outside this catalog") still belongs to a
    # request the catalog took: its best candidate may take it, if confident.
    winner = best.agent
    mine = scores.get(lead, 0.0)
    same_job = winner in decision.alternatives or lead in d.alternatives
    if (
        winner == lead
        or copies(winner, lead)
        or same_job
        or mine >= config.cover_ratio * best.score
    ):
        return lead_here, None
    # A part may be taken by a group: its winner and the agents doing the same job,
    # never by a second agent beside them (issue 22: a near-tied runner-up used to
    # join for the same part).
    if d.group_confidence >= need:
        return {winner: d.confidence}, (d.alternatives, d.group_confidence)
    # A collaborator the lead names, close to the part's best, with evidence.
    friend = next(
        (
            c
            for c in d.candidates
            if c.agent in friends and c.score >= config.collaborator_ratio * best.score
        ),
        None,
    )
    friend_conf = d.confidence * friend.score / best.score if friend is not None else 0.0
    if friend is not None and friend_conf >= need / 2:
        return {friend.agent: friend_conf}, None
    return lead_here, None


def _lead_part(lead: str, part_decisions: Sequence[Decision]) -> int:
    """The part the lead scores best on, relative to that part's winner."""
    ratios = [
        _scores_of(d).get(lead, 0.0) / d.candidates[0].score
        if d.candidates and d.candidates[0].score > 0
        else 0.0
        for d in part_decisions
    ]
    return int(np.argmax(ratios))


def _members(
    decision: Decision,
    lead: str,
    parts: Sequence[str],
    owners: Sequence[dict[str, float]],
    groups: dict[str, tuple[tuple[str, ...], float]],
) -> tuple[TeamMember, ...]:
    """The lead, then each agent that took a part (by confidence, then name), with the
    parts it took; empty when the lead took them all."""
    taken: dict[str, list[str]] = {}
    best_conf: dict[str, float] = {}
    for part, took in zip(parts, owners, strict=True):
        for who, share in took.items():
            taken.setdefault(who, []).append(part)
            best_conf[who] = max(best_conf.get(who, 0.0), share)
    if len(taken) < 2:
        return ()
    others = sorted((a for a in taken if a != lead), key=lambda a: (-best_conf[a], a))
    members = [
        TeamMember(
            agent=lead,
            part="; ".join(taken[lead]),
            confidence=decision.confidence,
            alternatives=decision.alternatives,
            group_confidence=decision.group_confidence,
        )
    ]
    members += [
        _member(a, "; ".join(taken[a]), round(best_conf[a], 9), taken, groups.get(a))
        for a in others
    ]
    return tuple(members)


def _member(
    agent: str,
    part: str,
    confidence: float,
    taken: Mapping[str, object],
    group: tuple[tuple[str, ...], float] | None,
) -> TeamMember:
    """A member that took ``part``, with the group it brought (less the agents that
    took parts of their own; emptied so, the member stands alone). The group is at
    least as sure as the member (another of its parts may have given it more)."""
    if group is not None:
        alternatives = tuple(x for x in group[0] if x not in taken)
        if alternatives:
            return TeamMember(
                agent=agent,
                part=part,
                confidence=confidence,
                alternatives=alternatives,
                group_confidence=max(group[1], confidence),
            )
    return TeamMember(agent=agent, part=part, confidence=confidence)


def _stretches(index: Index, asks: Sequence[tuple[int, str]], config: TeamConfig) -> list[str]:
    """Per ``(agent, text)``: the piece of ``text`` between two of its joins ("and",
    "with", a comma) whose words the agent's text lacks most (at least two of them,
    carrying at least ``config.min_uncovered_share`` of the piece's IDF), as written;
    else "". Every piece's words are looked up at once (one search of every (term,
    agent) pair of the batch, where a piece at a time cost a search each)."""
    pieces = [(k, piece) for k, (_, text) in enumerate(asks) for piece in _JOINED.split(text)]
    words = [list(dict.fromkeys(terms(piece))) for _, piece in pieces]
    sizes = [len(w) for w in words]
    cols = index.columns([t for w in words for t in w])
    owner = np.array([asks[k][0] for k, _ in pieces], dtype=np.int64)
    agents = np.repeat(owner, sizes)
    known = cols >= 0
    has = np.zeros(cols.size, dtype=bool)
    has[known] = index.bm25_t.positions(cols[known], agents[known]) >= 0
    best = [""] * len(asks)
    best_weight = [0.0] * len(asks)
    at = 0
    for (k, piece), size in zip(pieces, sizes, strict=True):
        mine = known[at : at + size]
        lacks = ~has[at : at + size][mine]
        idf = index.idf[cols[at : at + size][mine]]
        at += size
        if not idf.size:
            continue
        weight, total = float(idf[lacks].sum()), float(idf.sum())
        if (
            int(lacks.sum()) >= config.min_part_terms
            and total > 0.0
            and weight / total >= config.min_uncovered_share
            and weight > best_weight[k]
        ):
            best[k], best_weight[k] = _clean(piece), weight
    return best


def uncovered(index: Index, agent: int, q: Query, config: TeamConfig) -> str:
    """The stretch of a one-clause request that the agent's text does not account for,
    when it is enough to be a part of its own ("a computer vision pipeline for defects
    and an NLP classifier for tickets", led by an NLP agent: "a computer vision
    pipeline for defects"); else "".

    The part is a piece of the request as written, between two of its joins, never
    the leftover words gathered from all over it ("table testcontainers" was one).
    """
    return uncovered_many(index, [(agent, q)], config)[0]


def uncovered_many(
    index: Index, asks: Sequence[tuple[int, Query]], config: TeamConfig
) -> list[str]:
    """:func:`uncovered` of each ``(agent, request)``, with one look-up of every
    (term, agent) pair of the batch (the stretch is looked for only where the whole
    request lacks enough)."""
    distinct = [list(dict.fromkeys(q.terms)) for _, q in asks]
    sizes = [len(d) for d in distinct]
    cols = index.columns([t for d in distinct for t in d])
    agents = np.repeat(np.array([a for a, _ in asks], dtype=np.int64), sizes)
    known = cols >= 0
    has = np.zeros(cols.size, dtype=bool)
    has[known] = index.bm25_t.positions(cols[known], agents[known]) >= 0
    idf = np.zeros(cols.size, dtype=np.float64)
    idf[known] = index.idf[cols[known]]
    enough: list[int] = []
    at = 0
    for k, terms_ in enumerate(distinct):
        missing = 0
        weight = total = 0.0
        for j in range(at, at + len(terms_)):
            if not known[j]:
                continue
            total += float(idf[j])
            if not has[j]:
                missing += 1
                weight += float(idf[j])
        at += len(terms_)
        if (
            missing >= config.min_part_terms
            and total > 0.0
            and weight / total >= config.min_uncovered_share
        ):
            enough.append(k)
    out = [""] * len(asks)
    found = _stretches(index, [(asks[k][0], asks[k][1].text) for k in enough], config)
    for k, stretch in zip(enough, found, strict=True):
        out[k] = stretch
    return out


def team_reason(team: Sequence[TeamMember]) -> str:
    """One sentence: who takes which part."""
    said = "; ".join(f"{m.agent} takes '{m.part}'" for m in team)
    return f" Team of {len(team)}: {said}."


def attach_teams(
    agents: Sequence[AgentSpec],
    index: Index,
    copy_of: np.ndarray,
    decisions: list[Decision],
    route_parts: Callable[[list[str]], list[Decision]],
    queries: Sequence[Query],
    config: TeamConfig,
    split: Sequence[list[str]] | None = None,
) -> list[Decision]:
    """``decisions`` (of the requests ``queries``) with their teams; ``route_parts``
    decides parts (without teams, ``config.part_candidates`` candidates each);
    ``split``: each request's clause parts when known (:func:`split_requests`)."""
    table = index.not_for
    position = table.position
    # (decision, its parts, the parts' decisions already known, the confidence a member needs)
    todo: list[tuple[int, list[str], list[Decision], float]] = []
    joined: list[int] = []
    for i, d in enumerate(decisions):
        if d.agent is None:
            continue
        parts = split_requests([d.request], config)[0] if split is None else split[i]
        if parts:
            todo.append((i, parts, [], config.min_part_confidence))
        elif _JOINED.search(d.request):
            # Coverage: only a request that joins things ("X and Y", "X, Y", "X with Y")
            # can hold a second part without a clause mark.
            joined.append(i)
    asks = [(position[str(decisions[i].agent)], queries[i]) for i in joined]
    rests = uncovered_many(index, asks, config) if asks else []
    for i, rest in zip(joined, rests, strict=True):
        if rest:
            # The whole request is its lead's part, already decided: only the rest is routed.
            d = decisions[i]
            todo.append((i, [d.request.strip(), rest], [d], config.min_coverage_confidence))
    if not todo:
        return decisions
    todo.sort(key=lambda item: item[0])
    flat = [p for _, parts, known, _ in todo for p in parts[len(known) :]]
    routed = route_parts(flat)

    def copies(a: str, b: str) -> bool:
        ia, ib = position.get(a), position.get(b)
        return ia is not None and ib is not None and copy_of[ia] == copy_of[ib]

    def collaborators(a: str) -> frozenset[str]:
        i = position.get(a)
        if i is None or i >= len(table.collaborators):
            return frozenset()
        return frozenset(index.names[j] for j in table.collaborators[i])

    out = list(decisions)
    at = 0
    for i, parts, known, need in todo:
        fresh = len(parts) - len(known)
        mine = [*known, *routed[at : at + fresh]]
        at += fresh
        d = decisions[i]
        team = team_for(d, parts, mine, copies, collaborators, config, need)
        if len(team) > 1:
            out[i] = replace(d, team=team, reason=d.reason + team_reason(team))
    return out
