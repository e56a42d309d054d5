"""The evaluation report measures what it says: checked against hand-computed figures."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import pytest

from agentroute import Router, read_labels
from agentroute._evaluate import Confusion, evaluate
from agentroute._spec import AgentSpec, Candidate, Decision

REPO = Path(__file__).resolve().parents[1]
SAMPLE_LABELS = REPO / "examples" / "sample_labels.jsonl"


class ScriptedRouter:
    """Answers each request with a decision written in advance."""

    def __init__(self, answers: dict[str, tuple[str | None, str, float, list[str]]]) -> None:
        self.answers = answers

    def route_many(self, requests: Iterable[str], *, limit: int = 10) -> list[Decision]:
        out = []
        for text in requests:
            agent, status, conf, ranked = self.answers[text]
            cands = tuple(
                Candidate(agent=a, score=1.0 - 0.1 * i) for i, a in enumerate(ranked[:limit])
            )
            out.append(
                Decision(
                    request=text,
                    agent=agent,
                    status=status,  # type: ignore[arg-type]
                    confidence=conf,
                    reason="scripted",
                    candidates=cands,
                )
            )
        return out


@pytest.fixture()
def scripted() -> ScriptedRouter:
    return ScriptedRouter(
        {
            "q1": ("a", "routed", 0.95, ["a", "b"]),  # right
            "q2": ("b", "routed", 0.85, ["b", "a"]),  # wrong (a expected), a at rank 2
            "q3": ("b", "ambiguous", 0.55, ["b", "c"]),  # wrong (c expected), c at rank 2
            "q4": (None, "no_match", 0.05, ["c", "a"]),  # out of scope, abstained: right
            "q5": ("c", "routed", 0.65, ["c", "a"]),  # out of scope, routed: wrong
            "q6": (None, "no_match", 0.15, ["a", "b"]),  # missed a
        }
    )


def test_headline_figures_match_a_hand_count(scripted: ScriptedRouter) -> None:
    texts = ["q1", "q2", "q3", "q4", "q5", "q6"]
    labels = ["a", "a", "c", None, None, "a"]
    r = evaluate(labels, scripted.route_many(texts), limit=1)
    assert r.n == 6
    assert r.accuracy == pytest.approx(2 / 6)  # q1, q4
    assert r.answered_accuracy == pytest.approx(1 / 4)  # answered q1 q2 q3 q5; right: q1
    assert r.top_k_accuracy == pytest.approx(2 / 4)  # in scope q1 q2 q3 q6; top-1 right: q1, q6
    assert r.mrr == pytest.approx((1 + 0.5 + 0.5 + 1) / 4)
    assert r.abstention.oos_recall == pytest.approx(1 / 2)
    assert r.abstention.in_scope_coverage == pytest.approx(3 / 4)
    assert dict(r.status_counts) == {"routed": 3, "ambiguous": 1, "no_match": 2}


def test_coverage_precision_and_misroutes_at_a_confidence(scripted: ScriptedRouter) -> None:
    texts = ["q1", "q2", "q3", "q4", "q5", "q6"]
    labels = ["a", "a", "c", None, None, "a"]
    decisions = scripted.route_many(texts)
    assert evaluate(labels, decisions).at_confidence is None
    at = evaluate(labels, decisions, act_at=0.6).at_confidence
    assert at is not None
    # answered at >= 0.6: q1 (right), q2 (wrong), q5 (out of scope, wrong); q3 is 0.55
    assert at.answered == 3
    assert at.coverage == pytest.approx(2 / 4)  # in scope q1 q2 q3 q6 -> q1, q2
    assert at.precision == pytest.approx(1 / 3)
    assert [(m.request, m.expected, m.predicted) for m in at.misrouted] == [
        ("q2", "a", "b"),  # 0.85 first
        ("q5", None, "c"),
    ]
    report = evaluate(labels, decisions, act_at=0.6)
    assert report.to_dict()["at_confidence"]["misrouted"][0]["request"] == "q2"
    assert "misrouted at that confidence" in report.format()
    nobody = evaluate(labels, decisions, act_at=1.0).at_confidence
    assert nobody is not None and nobody.precision is None and nobody.answered == 0
    with pytest.raises(ValueError, match="act_at must be a number in"):
        evaluate(labels, decisions, act_at=1.5)
    with pytest.warns(DeprecationWarning, match="'min_confidence' is deprecated since .* 0.3"):
        old = evaluate(labels, decisions, min_confidence=0.6)  # type: ignore[call-arg]
    assert old == report


def test_per_agent_precision_recall_and_confusions(scripted: ScriptedRouter) -> None:
    texts = ["q1", "q2", "q3", "q4", "q5", "q6"]
    labels = ["a", "a", "c", None, None, "a"]
    r = evaluate(labels, scripted.route_many(texts))
    stats = {s.agent: s for s in r.per_agent}
    assert (stats["a"].precision, stats["a"].recall, stats["a"].support) == (1.0, 1 / 3, 3)
    assert (stats["b"].precision, stats["b"].recall, stats["b"].support) == (0.0, 0.0, 0)
    assert stats["b"].predicted == 2
    assert (stats["c"].precision, stats["c"].recall) == (0.0, 0.0)
    # Ties by name; None (out of scope / abstained) sorts first.
    assert r.confusions == (
        Confusion(None, "c", 1),
        Confusion("a", None, 1),
        Confusion("a", "b", 1),
        Confusion("c", "b", 1),
    )
    expected, predicted, count = r.confusions[2]
    assert (expected, predicted, count) == ("a", "b", 1)


def test_confusions_are_ordered_most_frequent_first() -> None:
    router = ScriptedRouter(
        {f"x{i}": ("b", "routed", 0.9, ["b"]) for i in range(3)}
        | {"y": ("c", "routed", 0.9, ["c"])}
    )
    r = evaluate(["a", "a", "a", "a"], router.route_many(["y", "x0", "x1", "x2"]))
    assert [tuple(c) for c in r.confusions] == [("a", "b", 3), ("a", "c", 1)]


def test_calibration_error_is_the_weighted_gap_per_bin(scripted: ScriptedRouter) -> None:
    r = evaluate(["a", "a"], scripted.route_many(["q1", "q2"]))
    # q1: conf 0.95, top right -> bin 9 gap 0.05; q2: conf 0.85, top wrong -> bin 8 gap 0.85.
    assert r.ece == pytest.approx((0.05 + 0.85) / 2)
    assert [(b.lower, b.count) for b in r.reliability] == [(0.8, 1), (0.9, 1)]


def test_also_correct_counts_a_copy_as_right(scripted: ScriptedRouter) -> None:
    r = evaluate(["a"], scripted.route_many(["q2"]), also_correct=[["b"]])
    assert r.accuracy == 1.0 and r.confusions == ()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"texts": ["q1"], "labels": []}, "same length"),
        ({"texts": ["q1"], "labels": ["a"], "limit": 0}, "limit must be a positive integer"),
        ({"texts": ["q1"], "labels": ["a"], "also_correct": []}, "one entry per label"),
    ],
)
def test_bad_inputs_are_refused_with_the_reason(
    scripted: ScriptedRouter, kwargs: dict[str, object], match: str
) -> None:
    texts = kwargs.pop("texts")
    with pytest.raises(ValueError, match=match):
        evaluate(kwargs.pop("labels"), scripted.route_many(texts), **kwargs)  # type: ignore[arg-type]


def test_router_evaluate_routes_then_calls_the_metric_function() -> None:
    router = Router.from_default()
    labels = read_labels(SAMPLE_LABELS)
    a = router.evaluate(labels.requests, labels.labels, limit=3)
    b = evaluate(labels.labels, router.route_many(labels.requests, limit=10), limit=3)
    assert a == b
    assert a.n == len(labels) == 27
    # The sample labels are a sanity check of the embedded catalog, not a benchmark.
    assert a.accuracy >= 0.7 and a.abstention.oos_recall == 1.0
    json.dumps(a.to_dict())


def test_read_labels_names_the_file_and_line(tmp_path: Path) -> None:
    good = tmp_path / "ok.jsonl"
    good.write_text(
        '{"request": "r1", "agent": "a"}\n\n{"request": "r2", "agent": null, '
        '"also_correct": ["b"]}\n',
        encoding="utf-8",
    )
    labels = read_labels(good)
    assert labels.requests == ("r1", "r2") and labels.labels == ("a", None)
    with pytest.warns(DeprecationWarning, match=r"Labels\.texts .* use Labels\.requests"):
        assert labels.texts == labels.requests
    assert labels.also_correct == ((), ("b",))
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"request": "r1", "agent": "a"}\n{"agent": "a"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.jsonl:2: expected an object"):
        read_labels(bad)
    broken = tmp_path / "broken.jsonl"
    broken.write_text("{not json\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"broken\.jsonl:1: not valid JSON"):
        read_labels(broken)


def test_metrics_need_no_router_only_labels_and_decisions(scripted: ScriptedRouter) -> None:
    """As sklearn.metrics take y_true, y_pred: decisions made anywhere (a log, another run)."""
    decisions = scripted.route_many(["q1", "q4"])
    r = evaluate(["a", None], decisions)
    assert (r.n, r.accuracy) == (2, 1.0)
    with pytest.raises(ValueError, match="labels and decisions must have the same length"):
        evaluate(["a"], decisions)


def test_the_weakest_agents_list_a_group_of_copies_once() -> None:
    # Issue 22: wshobson-like catalogs copy one agent under several names; eval listed
    # six rows of one agent. Shown once, with its other names, as candidates are.
    same = "Tunes PostgreSQL queries, indexes and slow query plans for production databases."
    agents = [AgentSpec(f"db-{i}", same) for i in range(6)]
    agents.append(AgentSpec("css", "Styles web pages with CSS grid, flexbox and layouts."))
    router = Router.from_agents(agents)
    texts = ["tune this slow postgres query plan"] * 6 + ["fix the flexbox layout"]
    labels = [f"db-{i}" for i in range(6)] + ["css"]
    report = router.evaluate(texts, labels)
    text = report.format(agents=10)
    weakest = text.split("weakest agents", 1)[1].split("\n\n", 1)[0]
    rows = [line for line in weakest.splitlines()[1:] if line.strip()]
    assert sum(line.lstrip().startswith("db-") for line in rows) == 1, text
    [row] = [line for line in rows if line.lstrip().startswith("db-")]
    assert "(= " in row and row.count("db-") == 6
    stats = {s.agent: s for s in report.per_agent}
    assert stats["db-0"].copies == ("db-1", "db-2", "db-3", "db-4", "db-5")


def test_group_figures_read_the_shown_set() -> None:
    """At the group level a request is right when the agent or an alternative is."""
    from agentroute import Candidate, Decision, evaluate

    def d(agent: str, alts: tuple[str, ...], conf: float, group: float) -> Decision:
        return Decision(
            request="r",
            agent=agent,
            status="routed",
            confidence=conf,
            reason="",
            candidates=(Candidate(agent=agent, score=1.0),),
            alternatives=alts,
            group_confidence=group,
        )

    decisions = [d("a", ("b",), 0.4, 0.9), d("c", (), 0.8, 0.8), d("e", ("f",), 0.3, 0.75)]
    rep = evaluate(["b", "c", "x"], decisions, act_at=0.7)
    at = rep.at_confidence
    assert at is not None
    assert at.answered == 1 and at.precision == 1.0  # only "c" by its own confidence
    assert at.group_answered == 3 and at.group_coverage == 1.0
    assert at.group_precision == pytest.approx(2 / 3)
    assert at.mean_set_size == pytest.approx(5 / 3)
    # group ECE: bins 0.9 (hit), 0.8 (hit), 0.75 -> 0.7 bin (miss)
    assert rep.group_ece == pytest.approx((abs(1 - 0.9) + abs(1 - 0.8) + abs(0 - 0.75)) / 3)
    assert rep.to_dict()["at_confidence"]["mean_set_size"] == pytest.approx(5 / 3, abs=1e-4)
    assert "precision of the shown set" in rep.format()
