"""Measure a router on labelled requests: accuracy, ranking, calibration, abstention.

A label is the name of the agent that should handle a request, or ``None`` for
a request no agent should take (out of scope). A decision is *right* when its
agent is the label (or one of the request's ``also_correct`` agents), or when
it abstains (``no_match``) on an out-of-scope request.

>>> import agentroute
>>> router = agentroute.Router.from_default()
>>> decisions = router.route_many(["our kubernetes pods keep crashing", "bake me a cake"])
>>> report = evaluate(["kubernetes-operator", None], decisions)
>>> report.n, report.accuracy, report.abstention.oos_recall
(2, 1.0, 1.0)
"""

from __future__ import annotations

import json
import logging
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from agentroute._deprecated import renamed, renamed_attribute

if TYPE_CHECKING:
    from agentroute._spec import Decision

__all__ = [
    "Abstention",
    "AgentStats",
    "AtConfidence",
    "Confusion",
    "EvaluationReport",
    "Labels",
    "Misroute",
    "ReliabilityBin",
    "evaluate",
    "read_labels",
]

logger = logging.getLogger(__name__)

# MRR reads this many candidates whatever top-k accuracy looks at.
MRR_DEPTH = 10
# Labelled requests routed at a time: a progress callback reports as work advances, and
# decisions are counted and dropped a chunk at a time (a decision is ~2 KB).
CHUNK = 256

# Ten equal-width bins is the usual choice for expected calibration error; finer
# bins are mostly empty on the few hundred labels a catalog has.
ECE_BINS = 10


@dataclass(frozen=True, slots=True)
class AgentStats:
    """Precision and recall of one agent.

    ``precision``: of the requests routed to the agent (``routed`` or
    ``ambiguous``), the fraction for which it was a right answer (None, shown
    "n/a", when it was never chosen). ``recall``: of the requests labelled with the agent, the
    fraction answered rightly (0.0 without support). ``support``: how many
    requests carry its label.
    """

    agent: str
    precision: float | None
    recall: float
    support: int
    predicted: int = 0
    #: The agent's identical copies under other names (as :attr:`Candidate.copies`):
    #: the report lists a group of copies once.
    copies: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Confusion:
    """``count`` requests labelled ``expected`` went to ``predicted``.

    ``expected`` is None for out-of-scope requests, ``predicted`` None for an
    abstention. Unpacks as ``expected, predicted, count``.
    """

    expected: str | None
    predicted: str | None
    count: int

    def __iter__(self) -> Iterator[str | int | None]:
        return iter((self.expected, self.predicted, self.count))


@dataclass(frozen=True, slots=True)
class ReliabilityBin:
    """One confidence bin: its bounds, size, mean confidence and top-1 accuracy."""

    lower: float
    upper: float
    count: int
    confidence: float
    accuracy: float


@dataclass(frozen=True, slots=True)
class Abstention:
    """How well the router knows when to say "no agent fits".

    Attributes
    ----------
    oos_recall : float or None
        Of the out-of-scope requests (label ``None``), the fraction that got
        ``no_match``; None when the labels contain no out-of-scope request.
    in_scope_coverage : float or None
        Of the in-scope requests (labelled with an agent), the fraction that did
        *not* get ``no_match``; None when every label is ``None``.
    n_oos, n_in_scope : int
        The two denominators.
    """

    oos_recall: float | None
    in_scope_coverage: float | None
    n_oos: int
    n_in_scope: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Misroute:
    """A request answered wrongly: its text, the right agent (None: out of scope),
    the agent chosen and the confidence it was chosen with."""

    request: str
    expected: str | None
    predicted: str
    confidence: float


@dataclass(frozen=True, slots=True, kw_only=True)
class AtConfidence:
    """What a caller acting only on answers of confidence >= ``threshold`` gets
    (e.g. a hook that injects the agent at 0.7).

    Attributes
    ----------
    threshold : float
    coverage : float or None
        Of the in-scope requests, the fraction answered (not ``no_match``) with
        confidence >= ``threshold``; None when no request is in scope.
    precision : float or None
        Of all requests so answered (in scope or not), the fraction answered
        rightly; None when none was.
    answered : int
        How many requests were so answered.
    misrouted : tuple of Misroute
        The ones answered wrongly, most confident first.
    group_coverage : float or None
        The same at the group level: of the in-scope requests, the fraction
        answered with ``group_confidence >= threshold`` (the agent and its
        alternatives shown, as the hook does).
    group_precision : float or None
        Of the requests so answered, the fraction whose shown set (the agent and
        its alternatives) holds a right agent.
    group_answered : int
    mean_set_size : float or None
        The mean number of agents shown (1 + alternatives) over those answers.
    """

    threshold: float
    coverage: float | None
    precision: float | None
    answered: int
    misrouted: tuple[Misroute, ...]
    group_coverage: float | None = None
    group_precision: float | None = None
    group_answered: int = 0
    mean_set_size: float | None = None


@dataclass(frozen=True, slots=True)
class EvaluationReport:
    """What :func:`evaluate` measured.

    Attributes
    ----------
    n : int
        Labelled requests.
    accuracy : float
        Fraction of all requests answered rightly (a right agent, or an
        abstention on an out-of-scope request).
    answered_accuracy : float
        Of the decisions that named an agent (not ``no_match``), the fraction
        that named a right one: what a caller acting on every answer gets
        (0.0 when the router always abstained).
    top_k_accuracy : float
        Of the in-scope requests, the fraction with a right agent among the first
        ``k`` candidates, abstention ignored (0.0 when none is in scope).
    k : int
    mrr : float
        Mean reciprocal rank of the first right candidate over in-scope requests
        (0 when it is not among the candidates returned).
    ece : float
        Expected calibration error over ten equal bins: the gap between
        ``confidence`` and whether the top candidate was right, weighted by bin
        size. Out-of-scope requests count as "top candidate wrong".
    reliability : tuple of ReliabilityBin
        The bins behind ``ece``, for a reliability diagram (empty bins omitted).
    per_agent : tuple of AgentStats
        Every agent that was expected or predicted, by name.
    confusions : tuple of Confusion
        Wrong answers grouped by (expected, predicted), most frequent first.
    abstention : Abstention
    status_counts : tuple of (str, int)
        How many decisions were ``routed``, ``ambiguous`` and ``no_match``.
    at_confidence : AtConfidence or None
        Coverage and precision at ``act_at`` when :func:`evaluate` was given
        one.
    group_ece : float
        The expected calibration error of ``group_confidence``: the gap between
        it and whether the top candidate or one of the decision's alternatives
        was right (equal to ``ece`` when no decision had alternatives).
    """

    n: int
    accuracy: float
    answered_accuracy: float
    top_k_accuracy: float
    k: int
    mrr: float
    ece: float
    reliability: tuple[ReliabilityBin, ...]
    per_agent: tuple[AgentStats, ...]
    confusions: tuple[Confusion, ...]
    abstention: Abstention
    status_counts: tuple[tuple[str, int], ...]
    at_confidence: AtConfidence | None = None
    group_ece: float = 0.0

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dictionary (floats rounded to 4 places)."""

        def r(x: float | None) -> float | None:
            return None if x is None else round(x, 4)

        return {
            "n": self.n,
            "accuracy": r(self.accuracy),
            "answered_accuracy": r(self.answered_accuracy),
            "top_k_accuracy": r(self.top_k_accuracy),
            "k": self.k,
            "mrr": r(self.mrr),
            "ece": r(self.ece),
            "group_ece": r(self.group_ece),
            "reliability": [
                {
                    "lower": b.lower,
                    "upper": b.upper,
                    "count": b.count,
                    "confidence": r(b.confidence),
                    "accuracy": r(b.accuracy),
                }
                for b in self.reliability
            ],
            "per_agent": [
                {
                    "agent": s.agent,
                    "precision": r(s.precision),
                    "recall": r(s.recall),
                    "support": s.support,
                    "predicted": s.predicted,
                    "copies": list(s.copies),
                }
                for s in self.per_agent
            ],
            "confusions": [
                {"expected": c.expected, "predicted": c.predicted, "count": c.count}
                for c in self.confusions
            ],
            "abstention": {
                "oos_recall": r(self.abstention.oos_recall),
                "in_scope_coverage": r(self.abstention.in_scope_coverage),
                "n_oos": self.abstention.n_oos,
                "n_in_scope": self.abstention.n_in_scope,
            },
            "status_counts": dict(self.status_counts),
            **(
                {}
                if self.at_confidence is None
                else {"at_confidence": _at_dict(self.at_confidence)}
            ),
        }

    def format(self, *, confusions: int = 10, agents: int = 10) -> str:
        """A plain-text report: headline figures, weakest agents, worst confusions."""
        a = self.abstention
        lines = [
            f"requests          {self.n}",
            f"accuracy          {self.accuracy:.3f}",
            f"when answering    {self.answered_accuracy:.3f}",
            f"top-{self.k} accuracy    {self.top_k_accuracy:.3f}",
            f"MRR               {self.mrr:.3f}",
            f"calibration (ECE) {self.ece:.3f}",
            f"group ECE         {self.group_ece:.3f}",
            "statuses          " + ", ".join(f"{s} {c}" for s, c in self.status_counts),
            "in-scope coverage " + _pct(a.in_scope_coverage, a.n_in_scope),
            "out-of-scope recall " + _pct(a.oos_recall, a.n_oos),
        ]
        scored = [s for s in self.per_agent if s.support > 0]
        if scored and agents > 0:
            weakest: list[AgentStats] = []
            shown: set[str] = set()
            for s in sorted(
                scored,
                key=lambda s: (s.recall, -1.0 if s.precision is None else s.precision, s.agent),
            ):
                # Identical copies fail together: the weakest of them stands for all.
                if s.agent not in shown and len(weakest) < agents:
                    weakest.append(s)
                shown.update((s.agent, *s.copies))
            lines.append("")
            lines.append(f"weakest agents (of {len(scored)} with labels): precision recall support")
            width = max(len(s.agent) for s in weakest)
            lines += [
                f"  {s.agent:<{width}}  "
                f"{' n/a' if s.precision is None else f'{s.precision:.2f}'}  "
                f"{s.recall:.2f}  {s.support}"
                + (f"  (= {', '.join(s.copies)})" if s.copies else "")
                for s in weakest
            ]
        if self.confusions and confusions > 0:
            lines.append("")
            lines.append("worst confusions: expected -> chosen (count)")
            lines += [
                f"  {c.expected or '(out of scope)'} -> {c.predicted or '(no match)'}  {c.count}"
                for c in self.confusions[:confusions]
            ]
        at = self.at_confidence
        if at is not None:
            lines.append("")
            lines.append(
                f"at confidence >= {at.threshold:.2f}: in-scope coverage "
                + ("n/a" if at.coverage is None else f"{at.coverage:.3f}")
                + ", precision "
                + ("n/a" if at.precision is None else f"{at.precision:.3f}")
                + f" ({at.answered} answered, {len(at.misrouted)} wrong)"
            )
            lines.append(
                f"at group confidence >= {at.threshold:.2f}: in-scope coverage "
                + ("n/a" if at.group_coverage is None else f"{at.group_coverage:.3f}")
                + ", precision of the shown set "
                + ("n/a" if at.group_precision is None else f"{at.group_precision:.3f}")
                + ", mean set "
                + ("n/a" if at.mean_set_size is None else f"{at.mean_set_size:.2f}")
                + f" ({at.group_answered} answered)"
            )
            if at.misrouted and confusions > 0:
                lines.append("misrouted at that confidence: request -> chosen (expected)")
                lines += [
                    f"  {m.confidence:.2f}  {m.request[:80]!r} -> {m.predicted} "
                    f"({m.expected or 'out of scope'})"
                    for m in at.misrouted[:confusions]
                ]
        return "\n".join(lines)


def _at_dict(at: AtConfidence) -> dict[str, object]:
    return {
        "threshold": at.threshold,
        "coverage": None if at.coverage is None else round(at.coverage, 4),
        "precision": None if at.precision is None else round(at.precision, 4),
        "answered": at.answered,
        "group_coverage": None if at.group_coverage is None else round(at.group_coverage, 4),
        "group_precision": None if at.group_precision is None else round(at.group_precision, 4),
        "group_answered": at.group_answered,
        "mean_set_size": None if at.mean_set_size is None else round(at.mean_set_size, 4),
        "misrouted": [
            {
                "request": m.request,
                "expected": m.expected,
                "predicted": m.predicted,
                "confidence": round(m.confidence, 4),
            }
            for m in at.misrouted
        ],
    }


def check_act_at(value: float | None) -> float | None:
    """``value`` as a float in [0, 1], or None; ValueError naming the argument otherwise."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise ValueError(f"act_at must be a number in [0, 1], got {value!r}")
    return float(value)


def _pct(value: float | None, n: int) -> str:
    return "n/a (no such labels)" if value is None else f"{value:.3f} (of {n})"


def correct_sets(
    labels: Sequence[str | None],
    n_decisions: int,
    limit: int,
    also_correct: Sequence[Iterable[str]] | None,
) -> list[frozenset[str]]:
    if len(labels) != n_decisions:
        raise ValueError(
            f"labels and decisions must have the same length, got {len(labels)} and {n_decisions}"
        )
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError(f"limit must be a positive integer, got {limit!r}")
    for i, label in enumerate(labels):
        if label is not None and not isinstance(label, str):
            raise TypeError(f"labels[{i}] must be a str or None, got {type(label).__name__}")
    if also_correct is None:
        extra: list[frozenset[str]] = [frozenset()] * len(labels)
    else:
        if len(also_correct) != len(labels):
            raise ValueError(
                f"also_correct must have one entry per label, got {len(also_correct)} "
                f"for {len(labels)} labels"
            )
        extra = [frozenset(a) for a in also_correct]
    return [right_set(label, more) for label, more in zip(labels, extra, strict=True)]


@renamed("0.3", min_confidence="act_at")
def evaluate(
    labels: Sequence[str | None],
    decisions: Sequence[Decision],
    *,
    limit: int = 3,
    also_correct: Sequence[Iterable[str]] | None = None,
    act_at: float | None = None,
) -> EvaluationReport:
    """Compare decisions with the right answers, as ``sklearn.metrics`` takes ``y_true, y_pred``.

    Parameters
    ----------
    labels : sequence of str or None
        The right agent for each request; None when no agent should take it.
    decisions : sequence of Decision
        The router's answers, in the same order (e.g. ``router.route_many(texts,
        limit=10)``: MRR reads as many candidates as a decision carries).
    limit : int, keyword-only
        How many candidates ``top_k_accuracy`` looks at (default 3).
    also_correct : sequence of iterables of str, keyword-only
        Per request, other agents that are also right (e.g. one agent copied
        under several names).
    act_at : float, keyword-only
        Also report coverage, precision and the misrouted requests when only
        answers of at least this confidence are acted on, as a hook acting at
        this bar would (:attr:`EvaluationReport.at_confidence`). Not the
        router's own abstain bar, :attr:`RouterConfig.min_confidence`: answers
        below ``act_at`` are still answers. ``min_confidence=`` is its 0.2
        spelling (deprecated).

    Returns
    -------
    EvaluationReport

    Raises
    ------
    ValueError
        When lengths differ, ``limit`` is not a positive integer or
        ``act_at`` is not in [0, 1].

    See Also
    --------
    Router.evaluate : routes the requests, then calls this.
    """
    decisions = list(decisions)
    labels = list(labels)
    right_sets = correct_sets(labels, len(decisions), limit, also_correct)
    threshold = check_act_at(act_at)
    return _report(decisions, labels, right_sets, limit, threshold)


def right_set(label: str | None, also_correct: Iterable[str] = ()) -> frozenset[str]:
    """The agents that are right for a request labelled ``label`` (none when out of scope)."""
    return frozenset() if label is None else frozenset({label, *also_correct})


def evaluate_stream(
    route_many: Callable[[list[str], int], list[Decision]],
    rows: Iterable[tuple[str, str | None, frozenset[str]]],
    *,
    limit: int,
    act_at: float | None,
    total: int,
    progress: Callable[[int, int], None] | None = None,
) -> EvaluationReport:
    """Route ``(request, label, right agents)`` rows :data:`CHUNK` at a time and count
    the answers: the one evaluation loop (``Router.evaluate`` and ``agentroute eval``).

    ``route_many(requests, limit)`` decides a chunk; rows are read as they come and
    never kept, so a labels file of any length is evaluated in the memory of its
    catalog. ``progress(done, total)`` is called after each chunk.
    """
    tally = Tally(limit, act_at)
    batch: list[tuple[str, str | None, frozenset[str]]] = []

    def flush() -> None:
        decisions = route_many([text for text, _, _ in batch], max(limit, MRR_DEPTH))
        for d, (_, label, right) in zip(decisions, batch, strict=True):
            tally.add(d, label, right)
        batch.clear()
        if progress is not None:
            progress(tally.n, total)

    for row in rows:
        batch.append(row)
        if len(batch) == CHUNK:
            flush()
    if batch:
        flush()
    return tally.report()


def _report(
    decisions: Sequence[Decision],
    labels: Sequence[str | None],
    right_sets: Sequence[frozenset[str]],
    k: int,
    act_at: float | None = None,
) -> EvaluationReport:
    tally = Tally(k, act_at)
    for d, label, right in zip(decisions, labels, right_sets, strict=True):
        tally.add(d, label, right)
    return tally.report()


class Tally:
    """What an :class:`EvaluationReport` needs, added one decision at a time.

    Only counts are kept (per agent, per confusion, per reliability bin), never the
    requests or decisions, so evaluating a labels file of any length takes the
    memory of its catalog, not of its lines.
    """

    def __init__(self, k: int, act_at: float | None = None) -> None:
        self.k = k
        # At act_at: requests answered, answered in scope, answered rightly, and
        # the wrong answers (the only requests kept: a report lists them).
        self.act_at = act_at
        self.at_answered = self.at_in_scope = self.at_right = 0
        self.misrouted: list[Misroute] = []
        self.n = self.correct = 0
        self.in_scope = self.topk_hits = self.oos = self.oos_abstained = self.covered = 0
        self.rr_sum = 0.0
        self.support: Counter[str] = Counter()
        self.predicted: Counter[str] = Counter()
        self.predicted_right: Counter[str] = Counter()
        self.recalled: Counter[str] = Counter()
        self.confusions: Counter[tuple[str | None, str | None]] = Counter()
        self.statuses: Counter[str] = Counter()
        # Each agent seen with identical copies (a candidate's copies): the others' names.
        self.copies: dict[str, tuple[str, ...]] = {}
        # Per reliability bin: count, summed confidence, summed top-1 hits.
        self.bins: list[list[float]] = [[0, 0.0, 0.0] for _ in range(ECE_BINS)]
        # The same for group_confidence and the shown set (agent and alternatives).
        self.group_bins: list[list[float]] = [[0, 0.0, 0.0] for _ in range(ECE_BINS)]
        self.group_answered = self.group_in_scope = self.group_right = self.group_shown = 0

    def add(self, d: Decision, label: str | None, right: frozenset[str]) -> None:
        """Count one decision; ``right``: the agents that are right for it."""
        k = self.k
        self.n += 1
        self.statuses[d.status] += 1
        abstained = d.status == "no_match"
        chosen = None if abstained else d.agent
        ranked = [c.agent for c in d.candidates]
        for c in d.candidates:
            if c.copies and c.agent not in self.copies:
                twins = sorted({c.agent, *c.copies})
                for name in twins:
                    self.copies[name] = tuple(x for x in twins if x != name)
        conf = d.confidence
        b = self.bins[min(ECE_BINS - 1, max(0, int(conf * ECE_BINS)))]
        b[0] += 1
        b[1] += conf
        b[2] += bool(ranked) and ranked[0] in right
        group = d.group_confidence
        top = ranked[0] if ranked else None
        shown = (top, *d.alternatives) if top is not None else ()
        hit = any(a in right for a in shown)
        g = self.group_bins[min(ECE_BINS - 1, max(0, int(group * ECE_BINS)))]
        g[0] += 1
        g[1] += group
        g[2] += hit
        if self.act_at is not None and chosen is not None and group >= self.act_at:
            self.group_answered += 1
            self.group_in_scope += label is not None
            self.group_right += hit
            self.group_shown += 1 + len(d.alternatives)
        if chosen is not None:
            self.predicted[chosen] += 1
            if chosen in right:
                self.predicted_right[chosen] += 1
        if label is None:
            self.oos += 1
            ok = abstained
            self.oos_abstained += ok
        else:
            self.in_scope += 1
            self.support[label] += 1
            self.covered += not abstained
            ok = chosen is not None and chosen in right
            self.recalled[label] += ok
            if any(a in right for a in ranked[:k]):
                self.topk_hits += 1
            rank = next((i for i, a in enumerate(ranked, 1) if a in right), None)
            self.rr_sum += 0.0 if rank is None else 1.0 / rank
        self.correct += ok
        if not ok:
            self.confusions[(label, chosen)] += 1
        if self.act_at is not None and chosen is not None and conf >= self.act_at:
            self.at_answered += 1
            self.at_in_scope += label is not None
            if chosen in right:
                self.at_right += 1
            else:
                self.misrouted.append(
                    Misroute(request=d.request, expected=label, predicted=chosen, confidence=conf)
                )

    def _at_confidence(self) -> AtConfidence | None:
        if self.act_at is None:
            return None
        return AtConfidence(
            threshold=self.act_at,
            coverage=self.at_in_scope / self.in_scope if self.in_scope else None,
            precision=self.at_right / self.at_answered if self.at_answered else None,
            answered=self.at_answered,
            misrouted=tuple(sorted(self.misrouted, key=lambda m: (-m.confidence, m.request))),
            group_coverage=self.group_in_scope / self.in_scope if self.in_scope else None,
            group_precision=self.group_right / self.group_answered if self.group_answered else None,
            group_answered=self.group_answered,
            mean_set_size=self.group_shown / self.group_answered if self.group_answered else None,
        )

    def report(self) -> EvaluationReport:
        n, k = self.n, self.k
        in_scope, oos = self.in_scope, self.oos
        predicted, predicted_right = self.predicted, self.predicted_right
        bins = tuple(
            ReliabilityBin(
                lower=i / ECE_BINS,
                upper=(i + 1) / ECE_BINS,
                count=int(c),
                confidence=s / c,
                accuracy=h / c,
            )
            for i, (c, s, h) in enumerate(self.bins)
            if c
        )
        ece = sum(b.count * abs(b.accuracy - b.confidence) for b in bins) / n if n else 0.0
        group_ece = sum(abs(h - s) for c, s, h in self.group_bins if c) / n if n else 0.0
        names = sorted(set(self.support) | set(predicted))
        per_agent = tuple(
            AgentStats(
                agent=a,
                precision=predicted_right[a] / predicted[a] if predicted[a] else None,
                recall=self.recalled[a] / self.support[a] if self.support[a] else 0.0,
                support=self.support[a],
                predicted=predicted[a],
                copies=self.copies.get(a, ()),
            )
            for a in names
        )
        ordered = sorted(
            self.confusions.items(), key=lambda kv: (-kv[1], kv[0][0] or "", kv[0][1] or "")
        )
        return EvaluationReport(
            n=n,
            accuracy=self.correct / n if n else 0.0,
            answered_accuracy=(
                sum(predicted_right.values()) / sum(predicted.values()) if predicted else 0.0
            ),
            top_k_accuracy=self.topk_hits / in_scope if in_scope else 0.0,
            k=k,
            mrr=self.rr_sum / in_scope if in_scope else 0.0,
            ece=ece,
            reliability=bins,
            per_agent=per_agent,
            confusions=tuple(Confusion(e, p, c) for (e, p), c in ordered),
            abstention=Abstention(
                oos_recall=self.oos_abstained / oos if oos else None,
                in_scope_coverage=self.covered / in_scope if in_scope else None,
                n_oos=oos,
                n_in_scope=in_scope,
            ),
            status_counts=tuple((s, self.statuses[s]) for s in ("routed", "ambiguous", "no_match")),
            at_confidence=self._at_confidence(),
            group_ece=group_ece,
        )


@dataclass(frozen=True, slots=True)
class Labels:
    """Labelled requests read by :func:`read_labels`, as parallel tuples.

    Attributes
    ----------
    requests : tuple of str
        The requests (``texts`` in 0.2: that name still reads them, with a
        :class:`DeprecationWarning`, until 0.4).
    labels : tuple of (str or None)
        The agent that should take each request; None when no agent should.
    also_correct : tuple of tuple of str
        Other agents that are right for each request as well.
    """

    requests: tuple[str, ...]
    labels: tuple[str | None, ...]
    also_correct: tuple[tuple[str, ...], ...]

    texts = renamed_attribute("Labels", "texts", "requests")

    def __len__(self) -> int:
        return len(self.requests)


def read_labels(path: str | os.PathLike[str]) -> Labels:
    """Read a JSON Lines labels file.

    Each line is ``{"request": str, "agent": str or null, "also_correct": [str, ...]}``
    (``also_correct`` optional, other keys ignored); blank lines are skipped.

    Raises
    ------
    ValueError
        Naming the file and line, for a line that is not such an object.
    OSError
        When the file cannot be read.
    """
    requests: list[str] = []
    labels: list[str | None] = []
    extra: list[tuple[str, ...]] = []
    for request, agent, more in iter_labels(path):
        requests.append(request)
        labels.append(agent)
        extra.append(more)
    return Labels(tuple(requests), tuple(labels), tuple(extra))


def iter_labels(path: str | os.PathLike[str]) -> Iterator[tuple[str, str | None, tuple[str, ...]]]:
    """The ``(request, agent, also_correct)`` of each line of a labels file, one at a time
    (see :func:`read_labels`; same errors, raised when the bad line is reached)."""
    shown = os.fspath(path)
    with open(path, encoding="utf-8-sig") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError as exc:
                raise ValueError(f"{shown}:{lineno}: not valid JSON ({exc})") from None
            except RecursionError:
                raise ValueError(f"{shown}:{lineno}: not valid JSON (nested too deeply)") from None
            if not isinstance(obj, dict) or not isinstance(obj.get("request"), str):
                raise ValueError(
                    f'{shown}:{lineno}: expected an object with a "request" string, '
                    f"got {line.strip()[:60]!r}"
                )
            agent = obj.get("agent")
            if agent is not None and not isinstance(agent, str):
                raise ValueError(f'{shown}:{lineno}: "agent" must be a string or null')
            more = obj.get("also_correct") or []
            if not isinstance(more, list) or not all(isinstance(a, str) for a in more):
                raise ValueError(f'{shown}:{lineno}: "also_correct" must be a list of strings')
            yield obj["request"], agent, tuple(more)
