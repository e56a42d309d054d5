"""Negative evidence: what an agent says it does NOT do counts against it at route time.

Agent files divide work among themselves: "What This Agent Does NOT Handle —
Docker/Kubernetes configuration (use DevOps Engineer)". The loader reads those
items into :attr:`AgentSpec.not_for` and :attr:`AgentSpec.redirects`
(:mod:`agentroute._extract`); this module, one small stage after the fused score,

* matches a request against every agent's not-for items (IDF-weighted term
  overlap, see :func:`match_strength`),
* lowers the fused score of an agent whose item the request matches, and
* raises the score of the agent the item redirects to, when that agent is in
  the catalog (its name matched after normalisation: "DevOps Engineer" is
  ``devops-engineer``).

A request that matches no item (strength below :attr:`NotForConfig.min_match`) keeps its
scores bit for bit, so its decision is unchanged. The table is built once, with
the index (:func:`build_table`, called by :func:`agentroute._build.build_index`),
and is the index's ``not_for`` field. The index cache stores it
(:func:`table_parts`, :func:`table_from_parts`), so a router read from the cache
routes without decoding every agent's record.
"""

from __future__ import annotations

import itertools
import re
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from agentroute._spec import AgentSpec, check_numbers
from agentroute._text import terms

if TYPE_CHECKING:  # the index builds the table (build_table): no import cycle at run time
    from agentroute._index import Index
    from agentroute._score import Query, Scores

__all__ = [
    "NotForConfig",
    "NotForTable",
    "apply_not_for",
    "build_table",
    "match_strength",
    "resolve_name",
    "table_from_parts",
    "table_parts",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class NotForConfig:
    """How an agent's not-for items move a request's scores (:attr:`RouterConfig.not_for`).

    Attributes
    ----------
    enabled : bool
        False skips the stage: every agent keeps its fused score.
    min_match : float
        How strongly a request must match a not-for item before it counts: the F1
        of the IDF-weighted share of the item the request covers and the share of
        the request the item covers. Picked on the dev half of
        ``benchmarks/data/not_for.jsonl`` (the requests of even line numbers;
        ``python benchmarks/teams.py`` reports both halves): 0.5 keeps one rare
        shared word ("kubernetes" in "kubernetes pods crash") from counting,
        while "set up the Kubernetes config" (0.77 against "Docker/Kubernetes
        configuration") does.
    penalty : float
        How much a full match (strength 1) takes off the agent's fused score,
        which is relative to the request's best agent (best = 1). A half penalty
        moves an agent that led by the whole fused scale below most of the field;
        measured on the dev half, 0.3 left 4 of 20 requests with the agent that
        disowns them, 0.5 none.
    redirect_bonus : float
        How much a full match adds to the agent the item redirects to: half the
        penalty, so that the redirect wins a near tie but cannot lift an agent the
        request has no other evidence for above one it clearly fits.
    """

    enabled: bool = True
    min_match: float = 0.5
    penalty: float = 0.5
    redirect_bonus: float = 0.25

    def __post_init__(self) -> None:
        if not isinstance(self.enabled, bool):
            raise ValueError(f"NotForConfig.enabled must be True or False, got {self.enabled!r}")
        # 0 would count every item a request shares a word with (and the skip bound).
        check_numbers(self, ("min_match",), lo=1e-6, hi=1.0)
        check_numbers(self, ("penalty", "redirect_bonus"), hi=1.0)


# Request and item words of at least this length match when one begins the other
# ("config" / "configuration", "deploy" / "deployment").
MIN_PREFIX = 4

# Slack under the bound :func:`matches` skips items by (far above float round-off).
_BOUND_MARGIN = 1e-6
# How far an item's share summed in another order may be from the in-order sum (a few
# units in the last place of a number below 1).
_SUM_SLACK = 1e-9
# Request words told apart by one bit each when items are passed over by their F1.
_MAX_BITS = 62

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def _key(name: str) -> str:
    return _NON_ALNUM.sub("", name.casefold())


@dataclass(frozen=True, slots=True)
class NotForTable:
    """Every not-for item of a catalog, its terms, and who it redirects to.

    ``items[i]`` is ``(agent position, item text, item terms)``; ``redirect[i]``
    the positions of the catalog agents item ``i`` names; ``collaborators[a]``
    the positions of agent ``a``'s resolved collaborators; ``names``: the agents in
    index order (:attr:`position` maps them back, built when first read: a warm hook
    at 50,000 agents routes without it).
    """

    items: tuple[tuple[int, str, tuple[str, ...]], ...]
    redirect: tuple[tuple[int, ...], ...]
    collaborators: tuple[tuple[int, ...], ...]
    names: Sequence[str]
    # Every distinct item term, and those of MIN_PREFIX letters or more by their first
    # MIN_PREFIX letters: whether a request word matches any item is one look-up.
    item_terms: frozenset[str] = field(init=False)
    terms_by_prefix: dict[str, tuple[str, ...]] = field(init=False)
    # Request words already answered by relates() (requests, and a request's parts,
    # repeat their words); bounded like the index's look-up tables.
    _related: dict[str, bool] = field(init=False, repr=False)
    # Built when first read (see by_prefix and position).
    _lazy: dict[str, Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        every = frozenset(itertools.chain.from_iterable(t for _, _, t in self.items))
        prefix: dict[str, list[str]] = {}
        for t in sorted(every):
            if len(t) >= MIN_PREFIX:
                prefix.setdefault(t[:MIN_PREFIX], []).append(t)
        object.__setattr__(self, "item_terms", every)
        object.__setattr__(self, "terms_by_prefix", {p: tuple(v) for p, v in prefix.items()})
        object.__setattr__(self, "_related", {})
        object.__setattr__(self, "_lazy", {})

    @property
    def by_prefix(self) -> dict[str, tuple[int, ...]]:
        """The items holding a term, by the term's first :data:`MIN_PREFIX` letters."""
        if "by_prefix" not in self._lazy:
            self._lazy["by_prefix"] = _by_prefix_map(self.items)
        by_prefix: dict[str, tuple[int, ...]] = self._lazy["by_prefix"]
        return by_prefix

    @property
    def position(self) -> dict[str, int]:
        """Agent name -> index position."""
        if "position" not in self._lazy:
            self._lazy["position"] = {name: i for i, name in enumerate(self.names)}
        position: dict[str, int] = self._lazy["position"]
        return position

    @property
    def empty(self) -> bool:
        return not self.items

    def relates(self, word: str) -> bool:
        """Whether a request term matches a term of some item (equal, or one of at least
        :data:`MIN_PREFIX` letters begins the other, as :func:`match_strength` reads it)."""
        seen = self._related
        answer = seen.get(word)
        if answer is None:
            answer = word in self.item_terms or (
                len(word) >= MIN_PREFIX
                and any(
                    word.startswith(b) or b.startswith(word)
                    for b in self.terms_by_prefix.get(word[:MIN_PREFIX], ())
                )
            )
            if len(seen) >= 1 << 16:
                seen.clear()
            seen[word] = answer
        return answer


def name_keys(agents: Sequence[AgentSpec]) -> dict[str, list[int]]:
    """Each normalised name and declared name → the positions of the agents bearing it."""
    keys: dict[str, list[int]] = {}
    for i, a in enumerate(agents):
        for k in dict.fromkeys((_key(a.name), _key(a.declared_name))):
            keys.setdefault(k, []).append(i)
    return keys


def resolve_name(
    name: str,
    agents: Sequence[AgentSpec],
    near: str | None = None,
    *,
    keys: dict[str, list[int]] | None = None,
) -> list[int]:
    """Positions of the agents a written name ("DevOps Engineer", ``sre``) refers to.

    Names are compared without case and non-alphanumerics, against each agent's
    name and declared name. When several agents share it (copies in several
    folders), those in the folder of ``near`` (a path) are preferred.

    Examples
    --------
    >>> agents = [AgentSpec("backend-engineer-golang"), AgentSpec("devops-engineer")]
    >>> resolve_name("DevOps Engineer", agents)
    [1]
    >>> resolve_name("Frontend Engineer", agents)
    []
    """
    key = _key(name)
    if not key:
        return []
    # A catalog resolves many names: ``keys`` (from :func:`name_keys`) saves a pass
    # over every agent for each of them.
    hits = list((name_keys(agents) if keys is None else keys).get(key, ()))
    if len(hits) > 1 and near is not None:
        folder = PurePosixPath(near).parent
        same = [i for i in hits if PurePosixPath(agents[i].path or "").parent == folder]
        hits = same or hits
    return hits


def _by_prefix_map(items: Sequence[tuple[int, str, tuple[str, ...]]]) -> dict[str, tuple[int, ...]]:
    prefix: dict[str, list[int]] = {}
    for k, (_agent, _item, item_terms) in enumerate(items):
        for t in item_terms:
            prefix.setdefault(t[:MIN_PREFIX], []).append(k)
    return {p: tuple(dict.fromkeys(v)) for p, v in sorted(prefix.items())}


def build_table(agents: Sequence[AgentSpec], names: Sequence[str]) -> NotForTable:
    """The catalog's :class:`NotForTable`, for the agents ``names`` (in index order):
    built once, by :func:`agentroute._build.build_index`, and kept on the index."""
    position = {name: i for i, name in enumerate(names)}
    ordered = sorted(agents, key=lambda a: position.get(a.name, len(position)))
    keys = name_keys(ordered)
    items: list[tuple[int, str, tuple[str, ...]]] = []
    redirect: list[tuple[int, ...]] = []
    collaborators: list[tuple[int, ...]] = []
    for a in ordered:
        me = position.get(a.name)
        if me is None:
            collaborators.append(())
            continue
        targets: dict[str, set[int]] = {}
        for item, who in a.redirects:
            for j in resolve_name(who, ordered, a.path, keys=keys):
                if j != me:
                    targets.setdefault(item, set()).add(j)
        for item in a.not_for:
            item_terms = tuple(dict.fromkeys(terms(item)))
            if not item_terms:
                continue
            items.append((me, item, item_terms))
            redirect.append(tuple(sorted(targets.get(item, ()))))
        mine = {j for who in a.collaborators for j in resolve_name(who, ordered, a.path, keys=keys)}
        collaborators.append(tuple(sorted(mine - {me})))
    return NotForTable(tuple(items), tuple(redirect), tuple(collaborators), tuple(names))


def table_parts(table: NotForTable) -> dict[str, list[Any]]:
    """What :func:`table_from_parts` needs to rebuild ``table``, as JSON-ready lists
    (the prefix map and the positions are derived; collaborators only where some)."""
    return {
        "items": [[a, item, list(t)] for a, item, t in table.items],
        "redirect": [list(r) for r in table.redirect],
        "collaborators": [[i, list(c)] for i, c in enumerate(table.collaborators) if c],
    }


def _positions(value: object, n: int, what: str) -> tuple[int, ...]:
    if not isinstance(value, list) or not all(
        type(j) is int and 0 <= j < n
        for j in value  # bool is not a position
    ):
        raise ValueError(f"{what} is not a list of agent positions")
    return tuple(value)


def table_from_parts(parts: object, names: Sequence[str]) -> NotForTable:
    """The :class:`NotForTable` that :func:`table_parts` wrote, for the agents ``names``
    (in index order), every value checked (it comes from a file).

    Raises
    ------
    ValueError
        When a part is malformed or names a position out of range.

    Examples
    --------
    >>> from agentroute._build import build_index
    >>> agents = (
    ...     AgentSpec("a", description="Python APIs", not_for=("kubernetes clusters",)),
    ...     AgentSpec("b", description="Kubernetes operations"),
    ... )
    >>> table = build_index(agents).not_for
    >>> again = table_from_parts(table_parts(table), ["a", "b"])
    >>> again.items == table.items and again.by_prefix == table.by_prefix
    True
    """
    if not isinstance(parts, dict):
        raise ValueError("the not-for table is not an object")
    n = len(names)
    raw_items, raw_redirect, raw_collab = (
        parts.get("items"),
        parts.get("redirect"),
        parts.get("collaborators"),
    )
    if not (
        isinstance(raw_items, list)
        and isinstance(raw_redirect, list)
        and isinstance(raw_collab, list)
        and len(raw_redirect) == len(raw_items)
    ):
        raise ValueError("the not-for table is malformed")
    # Every value checked by passes over them all in C (tens of thousands of items at
    # 50,000 agents: checked one by one they were most of a warm hook's cache read).
    if not (set(map(type, raw_items)) <= {list} and set(map(len, raw_items)) <= {3}):
        raise ValueError("a not-for item is malformed")
    agents, texts, words = zip(*raw_items, strict=True) if raw_items else ((), (), ())
    if not (
        _are_positions(agents, n)
        and set(map(type, texts)) <= {str}
        and set(map(type, words)) <= {list}
        and all(words)
        and _are_words(itertools.chain.from_iterable(words))
    ):
        raise ValueError("a not-for item is malformed")
    items = tuple(zip(agents, texts, map(tuple, words), strict=True))
    if not (
        set(map(type, raw_redirect)) <= {list}
        and _are_positions(list(itertools.chain.from_iterable(raw_redirect)), n)
    ):
        raise ValueError("a redirect is not a list of agent positions")
    redirect = tuple(map(tuple, raw_redirect))
    collaborators: list[tuple[int, ...]] = [()] * n
    for entry in raw_collab:
        if not (isinstance(entry, list) and len(entry) == 2):
            raise ValueError("a collaborator entry is malformed")
        (i,) = _positions([entry[0]], n, "a collaborator entry")
        collaborators[i] = _positions(entry[1], n, "collaborators")
    return NotForTable(items, redirect, tuple(collaborators), names)


def _are_positions(values: Sequence[object], n: int) -> bool:
    """Whether every value is an int (not a bool) in ``[0, n)``."""
    if not set(map(type, values)) <= {int}:
        return False
    ints = cast("Sequence[int]", values)
    return not ints or (min(ints) >= 0 and max(ints) < n)


def _are_words(values: Iterable[object]) -> bool:
    """Whether every value is a non-empty string."""
    words = list(values)
    return set(map(type, words)) <= {str} and all(words)


def _idf(index: Index, term: str) -> float:
    j = index.column(term)
    return float(index.idf[j]) if j is not None else index.top_idf


def _hits(terms_a: Sequence[str], terms_b: set[str], by_prefix: dict[str, list[str]]) -> list[str]:
    """The terms of ``terms_a`` that equal, begin or are begun by a term of ``terms_b``."""
    out = []
    for a in terms_a:
        if a in terms_b or (
            len(a) >= MIN_PREFIX
            and any(a.startswith(b) or b.startswith(a) for b in by_prefix.get(a[:MIN_PREFIX], ()))
        ):
            out.append(a)
    return out


def _by_prefix(terms_: Sequence[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for t in terms_:
        if len(t) >= MIN_PREFIX:
            out.setdefault(t[:MIN_PREFIX], []).append(t)
    return out


def match_strength(index: Index, request_terms: Sequence[str], item_terms: Sequence[str]) -> float:
    """How well a request matches one not-for item, in [0, 1].

    The F1 of two IDF-weighted shares: of the item's terms the request contains,
    and of the request's terms the item contains (so a long request that merely
    mentions a word of the item matches weakly). Words of at least
    :data:`MIN_PREFIX` letters match when one begins the other.
    """
    request = list(dict.fromkeys(request_terms))
    item = list(dict.fromkeys(item_terms))
    if not request or not item:
        return 0.0
    item_hit = _hits(item, set(request), _by_prefix(request))
    if not item_hit:
        return 0.0
    req_hit = _hits(request, set(item), _by_prefix(item))
    p = sum(_idf(index, t) for t in item_hit) / sum(_idf(index, t) for t in item)
    r = sum(_idf(index, t) for t in req_hit) / sum(_idf(index, t) for t in request)
    return 2.0 * p * r / (p + r)


def _idf_table(index: Index, words: Sequence[str]) -> dict[str, float]:
    """:func:`_idf` of each of ``words``, looked up in one search."""
    distinct = list(dict.fromkeys(words))
    top = index.top_idf
    idf = index.idf
    return {
        t: (float(idf[j]) if j >= 0 else top)
        for t, j in zip(distinct, index.columns(distinct).tolist(), strict=True)
    }


@dataclass(frozen=True, slots=True, eq=False)
class _Flat:
    """The table's items as arrays, for one index: each item's words (positions in
    ``words``, in the item's order), where each item starts and which item each entry
    belongs to, and the IDF of each word (what :func:`_idf` gives) and of each item
    (summed in any order: read only to pass over items, within _SUM_SLACK)."""

    table: NotForTable
    words: dict[str, int]
    starts: np.ndarray
    item_words: np.ndarray
    entry_item: np.ndarray  # per entry of item_words, its item
    word_idf: np.ndarray
    item_idf: np.ndarray


# Per index (its IDF), the flattened items of its table; built on the first request that
# shares enough with some item.
_FLAT: weakref.WeakKeyDictionary[Index, _Flat] = weakref.WeakKeyDictionary()


def _flat(table: NotForTable, index: Index) -> _Flat:
    flat = _FLAT.get(index)
    if flat is not None and flat.table is table:
        return flat
    ordered = sorted(table.item_terms)
    words = dict(zip(ordered, range(len(ordered)), strict=True))
    each = [t for _, _, t in table.items]
    lengths = np.fromiter(map(len, each), dtype=np.int64, count=len(each))
    starts = np.zeros(lengths.size, dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    item_words = np.fromiter(
        map(words.__getitem__, itertools.chain.from_iterable(each)),
        dtype=np.int64,
        count=int(lengths.sum()),
    )
    idf = _idf_table(index, ordered)
    word_idf = np.array([idf[t] for t in ordered], dtype=np.float64)
    # Each item's IDF summed in one pass (in the item's order below eight words, NumPy's
    # pairwise sum above): read only to pass over items, within _SUM_SLACK.
    item_idf = (
        np.add.reduceat(word_idf[item_words], starts)
        if lengths.size
        else np.zeros(0, dtype=np.float64)
    )
    entry_item = np.repeat(np.arange(lengths.size, dtype=np.int64), lengths)
    flat = _Flat(table, words, starts, item_words, entry_item, word_idf, item_idf)
    _FLAT[index] = flat
    return flat


def matches(table: NotForTable, index: Index, query: Query, min_match: float) -> dict[int, float]:
    """Item position → match strength (at least ``min_match``) for one request.

    The same strengths as :func:`match_strength` item by item, computed term by term:
    which item words each request word matches is worked out once per request, every
    item's share of its words the request matches is one array operation over the
    table, and only the items that share enough are read one by one (a large catalog
    has hundreds of candidate items sharing a few words with a request).
    """
    if table.empty or not query.terms:
        return {}
    # The request's share of any item is at most the IDF share of its words that match
    # some item word: most requests match none, or too little, and are passed over
    # without looking at a single item (see the bound below).
    request = list(dict.fromkeys(query.terms))
    linked = [a for a in request if table.relates(a)]
    if not linked:
        return {}
    idf = _idf_table(index, request)
    total = sum(idf[t] for t in request)
    # The F1 of two shares is at most 2x / (1 + x) for either share x, which is below
    # min_match for x < min_match / (2 - min_match) (1/3 at 0.5): such a request, or item,
    # can be passed over without computing the other share. The bound keeps a margin far
    # above float round-off, so no strength that reaches min_match is skipped.
    floor = min_match / (2.0 - min_match) - _BOUND_MARGIN
    if sum(idf[t] for t in linked) / total < floor:
        return {}
    flat = _flat(table, index)
    # Per request word, the item words it matches (equal, or one begins the other, as
    # _hits reads it: the relation is symmetric).
    related: dict[str, set[str]] = {}
    for a in linked:
        near = {a} if a in flat.words else set()
        if len(a) >= MIN_PREFIX:
            near.update(
                b
                for b in table.terms_by_prefix.get(a[:MIN_PREFIX], ())
                if a.startswith(b) or b.startswith(a)
            )
        related[a] = near
    # Per item word, which linked request words match it (one bit each, while they fit).
    linked = [a for a in linked if related[a]]
    bits = np.zeros(len(flat.words), dtype=np.int64)
    for i, a in enumerate(linked[:_MAX_BITS]):
        bits[[flat.words[b] for b in related[a]]] |= 1 << i
    for a in linked[_MAX_BITS:]:  # a long request: the rest share one bit (no skipping)
        bits[[flat.words[b] for b in related[a]]] |= 1 << _MAX_BITS
    held = bits[flat.item_words]
    at = np.flatnonzero(held)
    if not at.size:
        return {}
    held = held[at]
    # Each item's shares (of its IDF the request matches, of the request's IDF it
    # matches) summed in any order, and their F1: read only to pass over the items that
    # cannot reach min_match (the slack covers the difference from the in-order sums
    # computed below).
    order, inverse = np.unique(flat.entry_item[at], return_inverse=True)
    found = np.bincount(inverse, weights=flat.word_idf[flat.item_words[at]])
    shares: np.ndarray = found / flat.item_idf[order]
    if len(linked) <= _MAX_BITS:
        back = np.zeros(order.size, dtype=np.float64)
        for i, a in enumerate(linked):
            mask = (held >> i) & 1
            back += idf[a] * (np.bincount(inverse, weights=mask, minlength=order.size) > 0)
        back /= total
        both = shares + back
        f1 = np.divide(2.0 * shares * back, both, out=np.zeros_like(both), where=both > 0.0)
        order = order[(shares >= floor - _SUM_SLACK) & (f1 >= min_match - _SUM_SLACK)]
    else:
        order = order[shares >= floor - _SUM_SLACK]
    if not order.size:
        return {}
    order_list = order.tolist()
    items = table.items
    idf.update(_idf_table(index, [b for k in order_list for b in items[k][2] if b not in idf]))
    matched = {b for near in related.values() for b in near}
    out: dict[int, float] = {}
    for k in order_list:
        item = items[k][2]
        item_hit = [b for b in item if b in matched]
        p = sum(idf[t] for t in item_hit) / sum(idf[t] for t in item)
        if p < floor:
            continue
        req_hit = [a for a in linked if not related[a].isdisjoint(item)]
        r = sum(idf[t] for t in req_hit) / total
        m = 2.0 * p * r / (p + r)
        if m >= min_match:
            out[k] = m
    return out


def apply_not_for(
    index: Index, queries: Sequence[Query], scores: Scores, config: NotForConfig
) -> Scores:
    """``scores`` with each request's not-for matches applied to its fused row.

    Per agent, its strongest matching item counts (two items of one agent do not
    add up); a redirect target gains the strongest match that names it.
    """
    if not config.enabled:
        return scores
    table = index.not_for
    if table.empty:
        return scores
    combined: np.ndarray | None = None
    for r, q in enumerate(queries):
        hits = matches(table, index, q, config.min_match)
        if not hits:
            continue
        against: dict[int, float] = {}
        towards: dict[int, float] = {}
        for k, m in hits.items():
            agent = table.items[k][0]
            against[agent] = max(against.get(agent, 0.0), m)
            for j in table.redirect[k]:
                towards[j] = max(towards.get(j, 0.0), m)
        if combined is None:
            combined = scores.combined.copy()
        row = combined[r]
        for j, m in towards.items():
            if j not in against:
                row[j] += config.redirect_bonus * m
        for agent, m in against.items():
            row[agent] -= config.penalty * m
        np.clip(row, 0.0, 1.0, out=row)
    if combined is None:
        return scores
    return replace(scores, combined=combined)
