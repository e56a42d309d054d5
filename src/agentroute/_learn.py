"""Learning from labelled requests: what :meth:`Router.fit` searches.

:meth:`Router.fit` calls :func:`fit_state`, which compares the unfitted router, the
labelled requests indexed as their agents' examples, and the learned layer below on
held-out labelled requests, and keeps a way only when it decides more of them rightly
(issue 23: with one to five labels per agent the learned layer alone lowered accuracy
on new requests, ``benchmarks/few_labels.py``). The learned layer is
:func:`fit_learned`, which returns a frozen
:class:`~agentroute._classifier.Learned` the router keeps in its state (routing
reads only :mod:`agentroute._classifier`; this module and its solver load when
fitting):

* with enough examples (:data:`MIN_AGENTS` agents with :data:`MIN_EXAMPLES` each,
  and :data:`MIN_HELDOUT` held-out in-scope requests to check it on), an
  :class:`ExampleModel`: stemmed word (1-2) and ``char_wb`` (2-5) sublinear TF-IDF
  blocks, one-vs-rest ``LinearSVC(C=1)``; requests labelled ``None`` train one
  extra "out of scope" column. Its margins become probabilities by a softmax with
  a temperature fitted on held-out requests (minimum NLL over a fixed grid);
* the blend weight ``λ`` of those probabilities against the catalog scorer's
  (``softmax(combined / T)``), chosen on the held-out requests by top-1 accuracy
  (ties to the larger ``λ``: the classifier alone is the fast path);
* the abstain threshold on the blended confidence: the best held-out in-scope
  accuracy among thresholds that decline :data:`MIN_OOS_RECALL` of the held-out
  out-of-scope requests (0 when none is held out);
* with fewer examples, only a Platt rescaling of the catalog router's
  confidence, monotone, so its decisions stay exactly those of the unfitted router.

Everything is deterministic: labels sorted, fixed grids, a split by position.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np
import scipy.sparse as sp
from sklearn.svm import LinearSVC

from agentroute._build import build_index
from agentroute._classifier import (
    MAX_CHARS,
    ExampleModel,
    Learned,
    agent_probs,
    blend_probs,
    softmax,
)
from agentroute._decide import State, route_state
from agentroute._score import analyze_query, score
from agentroute._spec import AgentSpec, Decision
from agentroute._tfidf import NgramTfidf

__all__ = [
    "BLENDS",
    "MIN_AGENTS",
    "MIN_EXAMPLES",
    "MIN_HELDOUT",
    "MIN_OOS_RECALL",
    "check_labels",
    "fit_learned",
    "fit_state",
    "learned_layer",
    "train_model",
]

logger = logging.getLogger(__name__)

# A classifier needs something to separate: at least two agents with three
# examples each. Below that only the confidence is recalibrated.
MIN_EXAMPLES = 3
MIN_AGENTS = 2
# Without this many held-out in-scope requests the blend and threshold would be
# chosen on noise: keep the catalog's decisions and only recalibrate.
MIN_HELDOUT = 20
# Every HOLDOUT_EVERY-th labelled request of each label is held out when no
# validation set is given (a 20 % stratified split, by position: deterministic).
HOLDOUT_EVERY = 5
BLENDS = (0.0, 0.25, 0.5, 0.75, 0.9, 1.0)
# LinearSVC margins live around [-1.5, 1.5]: useful temperatures are below 1.
TEMPERATURES = tuple(float(t) for t in np.geomspace(0.01, 2.0, 60))
CATALOG_TEMPERATURES = tuple(float(t) for t in np.geomspace(0.005, 1.0, 60))
# The feature blocks (kind, n_min, n_max). Stemmed words beat scikit-learn's
# tokens on CLINC150 val (93.3 vs 93.1 top-1; 93.0 vs 92.2 at OOS recall 0.6).
BLOCKS: tuple[tuple[str, int, int], ...] = (("stem", 1, 2), ("char_wb", 2, 5))
SVC_C = 1.0
# What Router.fit asks of its abstain threshold: decline this share of the
# held-out out-of-scope requests. They are few (CLINC150 val: 100), so it asks
# more than the 0.5 it aims at; on CLINC150 test that gave 0.494
# (benchmarks/intents.py).
MIN_OOS_RECALL = 0.6


def train_model(texts: Sequence[str], labels: Sequence[str | None]) -> ExampleModel:
    """Fit the classifier; ``None`` labels train the out-of-scope column."""
    clipped = [t[:MAX_CHARS] for t in texts]
    classes = tuple(sorted({lab for lab in labels if lab is not None}))
    has_oos = any(lab is None for lab in labels)
    column = {c: i for i, c in enumerate(classes)}
    y = np.array([len(classes) if lab is None else column[lab] for lab in labels])
    fitted = [NgramTfidf.fit(clipped, kind, lo, hi) for kind, lo, hi in BLOCKS]
    x = sp.hstack([m for _, m in fitted], format="csr")
    est = LinearSVC(C=SVC_C, random_state=0)
    est.fit(x, y)
    coef = np.asarray(est.coef_, dtype=np.float64)
    intercept = np.asarray(est.intercept_, dtype=np.float64)
    if coef.shape[0] == 1:  # two columns: scikit-learn keeps one row, for the second
        coef = np.vstack([-coef, coef])
        intercept = np.array([-intercept[0], intercept[0]])
    return ExampleModel(
        classes,
        has_oos,
        tuple(b for b, _ in fitted),
        np.ascontiguousarray(coef.T, dtype=np.float32),
        intercept,
    )


def check_labels(
    requests: Sequence[str],
    labels: Sequence[str | None],
    names: Sequence[str],
    what: str = "labels",
) -> None:
    """Raise ValueError/TypeError for mismatched lengths, bad types or unknown agent names."""
    if len(requests) != len(labels):
        raise ValueError(
            f"requests and {what} must have the same length, got {len(requests)} and {len(labels)}"
        )
    for i, (t, lab) in enumerate(zip(requests, labels, strict=True)):
        if not isinstance(t, str):
            raise TypeError(f"requests[{i}] must be a str, got {type(t).__name__}")
        if lab is not None and not isinstance(lab, str):
            raise TypeError(f"{what}[{i}] must be a str or None, got {type(lab).__name__}")
    known = set(names)
    unknown = sorted({lab for lab in labels if lab is not None and lab not in known})
    if unknown:
        shown = ", ".join(repr(u) for u in unknown[:10])
        more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
        raise ValueError(
            f"{what} name {len(unknown)} agent(s) the router does not have: {shown}{more} "
            f"(use None for a request no agent should take)"
        )


def _best_temperature(
    scores: np.ndarray, y: np.ndarray, grid: Sequence[float], fallback: float
) -> float:
    if y.size == 0:
        return fallback
    best_t, best_nll = fallback, math.inf
    rows = np.arange(y.size)
    for t in grid:
        p = softmax(scores / t)
        nll = float(-np.log(np.clip(p[rows, y], 1e-12, None)).mean())
        if nll < best_nll - 1e-12:
            best_t, best_nll = t, nll
    return best_t


def choose_threshold(
    probs: np.ndarray, y: np.ndarray, n_agents: int, min_oos_recall: float
) -> float:
    """Best held-out in-scope accuracy among thresholds declining ``min_oos_recall`` of OOS."""
    oos = y == n_agents
    if not oos.any():
        return 0.0
    top = probs[:, :n_agents].argmax(axis=1)
    conf = probs[np.arange(len(probs)), top]
    forced = probs[:, -1] > conf
    ins = ~oos
    correct = (top == y) & ins
    best: tuple[float, float] | None = None  # (accuracy, -threshold)
    for thr in np.unique(np.concatenate([[0.0], conf])):
        abstain = forced | (conf < thr)
        if float(abstain[oos].mean()) < min_oos_recall:
            continue
        acc = float((correct & ~abstain)[ins].mean()) if ins.any() else 0.0
        if best is None or (acc, -float(thr)) > best:  # ties: the lower threshold
            best = (acc, -float(thr))
    return -best[1] if best is not None else float(np.nextafter(conf.max(), 1.0))


def _platt(conf: np.ndarray, right: np.ndarray) -> tuple[float, float]:
    """Fit ``sigmoid(a·logit(conf) + b)`` to right/wrong; identity when it cannot be trusted."""
    if conf.size < 10 or right.all() or not right.any():
        return (1.0, 0.0)
    from sklearn.linear_model import LogisticRegression

    c = np.clip(conf, 1e-6, 1 - 1e-6)
    z = np.log(c / (1 - c))[:, None]
    lr = LogisticRegression(C=1.0).fit(z, right.astype(int))
    a, b = float(lr.coef_[0, 0]), float(lr.intercept_[0])
    return (a, b) if a > 0 and math.isfinite(a) and math.isfinite(b) else (1.0, 0.0)


def split_heldout(labels: Sequence[str | None]) -> np.ndarray:
    """Boolean mask: every :data:`HOLDOUT_EVERY`-th request of each label is held out."""
    seen: Counter[str | None] = Counter()
    mask = np.zeros(len(labels), dtype=bool)
    for i, lab in enumerate(labels):
        seen[lab] += 1
        mask[i] = seen[lab] % HOLDOUT_EVERY == 0
    return mask


CatalogScores = Callable[[Sequence[str], frozenset[str]], np.ndarray]
CatalogTop = Callable[[Sequence[str]], tuple[list[str | None], np.ndarray]]
Judge = Callable[[Learned | None, Sequence[str], Sequence[str | None], frozenset[str]], float]


def fit_learned(
    names: Sequence[str],
    agent_examples: Sequence[tuple[str, str]],
    texts: Sequence[str],
    labels: Sequence[str | None],
    *,
    validation: tuple[Sequence[str], Sequence[str | None]] | None,
    catalog_scores: CatalogScores,
    catalog_top: CatalogTop,
    min_oos_recall: float = MIN_OOS_RECALL,
    judge: Judge | None = None,
) -> Learned:
    """Learn what the labelled requests support (see the module docstring).

    Parameters
    ----------
    names : agent names in index order.
    agent_examples : ``(text, agent)`` pairs from the agents' own example requests.
    texts, labels : the labelled requests (``None``: no agent should take it).
    validation : held-out labelled requests for the blend, temperature and
        threshold; None to hold out every fifth request of each label.
    catalog_scores : ``(texts, excluded) -> (n, n_agents)`` fused catalog scores,
        from an index without the ``excluded`` example texts (no leak of held-out
        requests into the catalog).
    catalog_top : ``texts -> (agents, confidences)``: the unfitted router's answers.
    judge : ``(learned, texts, labels, excluded) -> accuracy`` of the router with
        ``learned`` (None: the catalog alone) on an index without ``excluded``; when
        given, the classifier's ``validation`` holds its held-out accuracy and the
        catalog's, in that order.
    """
    pairs, extra, train, held = _split(texts, labels, agent_examples, validation)
    pool = train + extra
    if not _enough(pool, held):
        return _calibration_only(texts, labels, catalog_top)

    n = len(names)
    model = train_model([t for t, _ in pool], [lab for _, lab in pool])
    h_texts = [t for t, _ in held]
    position = {name: i for i, name in enumerate(names)}
    y = np.array([n if lab is None else position[lab] for _, lab in held])
    temperature, clf = _classifier_probs(model, names, held)

    excluded = frozenset(t for t, _ in held) if validation is None else frozenset()
    catalog = catalog_scores(h_texts, excluded)
    ins = y < n
    cat_t = _best_temperature(catalog[ins], y[ins], CATALOG_TEMPERATURES, 0.05)
    lam = _best_blend(clf, catalog, y, cat_t, temperature)
    if lam == 0.0:
        return _calibration_only(texts, labels, catalog_top)
    probs = blend_probs(clf, catalog, lam, cat_t)
    threshold = choose_threshold(probs, y, n, min_oos_recall)
    learned = Learned(
        model,
        temperature=temperature,
        catalog_temperature=cat_t,
        blend=lam,
        threshold=threshold,
        n_labels=len(pairs),
        kind="classifier",
    )
    if judge is not None:  # the classifier against the catalog alone, on the held-out part
        h_labels = [lab for _, lab in held]
        scores = (
            ("classifier", judge(learned, h_texts, h_labels, excluded)),
            ("catalog", judge(None, h_texts, h_labels, excluded)),
        )
        learned = replace(learned, validation=scores)
    if validation is None:  # the held-out fifth has done its job: learn from all of it
        everything = pairs + extra
        model = train_model([t for t, _ in everything], [lab for _, lab in everything])
        learned = replace(learned, model=model)
    return learned


Pairs = list[tuple[str, str | None]]


def _split(
    texts: Sequence[str],
    labels: Sequence[str | None],
    agent_examples: Sequence[tuple[str, str]],
    validation: tuple[Sequence[str], Sequence[str | None]] | None,
) -> tuple[Pairs, Pairs, Pairs, Pairs]:
    """``(pairs, extra, train, held)``: the labelled requests sorted, the agents' own
    examples they lack, and the training and held-out parts."""
    # Sorted, so the split and the solver see the same sequence whatever the input order.
    pairs = sorted(zip(texts, labels, strict=True), key=lambda p: (p[1] is None, p[1] or "", p[0]))
    seen = set(pairs)
    extra: Pairs = sorted(
        {(t, a) for t, a in agent_examples if (t, a) not in seen}, key=lambda p: (p[1], p[0])
    )
    if validation is None:
        held_mask = split_heldout([lab for _, lab in pairs])
        held = [p for p, h in zip(pairs, held_mask, strict=True) if h]
        train = [p for p, h in zip(pairs, held_mask, strict=True) if not h]
    else:
        held = list(zip(validation[0], validation[1], strict=True))
        train = pairs
    return pairs, extra, train, held


def _enough(pool: Pairs, held: Pairs) -> bool:
    """Whether the examples support a classifier (else: a calibration-only fit)."""
    counts = Counter(lab for _, lab in pool if lab is not None)
    agents = sum(1 for c in counts.values() if c >= MIN_EXAMPLES)
    n_held_in = sum(1 for _, lab in held if lab is not None)
    if agents >= MIN_AGENTS and n_held_in >= MIN_HELDOUT:
        return True
    logger.info(
        "fit: calibration only (%d agents with >= %d examples, %d held-out requests)",
        agents,
        MIN_EXAMPLES,
        n_held_in,
    )
    return False


def _classifier_probs(
    model: ExampleModel, names: Sequence[str], held: Pairs
) -> tuple[float, np.ndarray]:
    """The classifier's temperature, fitted on the held-out requests it can name, and its
    probabilities over the agents (and out of scope) for every held-out request."""
    margins = np.vstack([model.margins_one(t)[0] for t, _ in held])
    column = {c: i for i, c in enumerate(model.classes)}
    y_model = np.array(
        [
            (len(model.classes) if lab is None else column.get(lab, -1))
            if (lab is not None or model.has_oos)
            else -1
            for _, lab in held
        ]
    )
    keep = y_model >= 0
    temperature = _best_temperature(margins[keep], y_model[keep], TEMPERATURES, 0.1)
    return temperature, agent_probs(model, names, margins, temperature)


def _best_blend(
    clf: np.ndarray, catalog: np.ndarray, y: np.ndarray, cat_t: float, temperature: float
) -> float:
    """The blend of classifier and catalog with the best held-out top-1 (ties: the larger)."""
    n = catalog.shape[1]
    ins = y < n
    best: tuple[float, float] | None = None
    for lam in BLENDS:
        p = blend_probs(clf, catalog, lam, cat_t)
        acc = float((p[ins, :n].argmax(axis=1) == y[ins]).mean())
        logger.debug("fit: blend %.2f gives held-out top-1 %.4f", lam, acc)
        if best is None or (acc, lam) > best:
            best = (acc, lam)
    assert best is not None
    logger.info(
        "fit: blend %.2f (held-out top-1 %.4f), temperature %.4f", best[1], best[0], temperature
    )
    return best[1]


def _calibration_only(
    texts: Sequence[str], labels: Sequence[str | None], catalog_top: CatalogTop
) -> Learned:
    agents, conf = catalog_top(texts)
    right = np.array([a is not None and a == lab for a, lab in zip(agents, labels, strict=True)])
    return Learned(None, platt=_platt(conf, right), n_labels=len(texts), kind="calibration")


# -- what Router.fit runs: the ways to use labels, compared on held-out requests ----------

# Indexing the labels or rescaling confidence is kept only when it decides at least this
# many more held-out requests rightly: in benchmarks/few_labels.py every such win was of
# one request, and on new requests those went either way (davila7 +0.002 top-1, dl-ezo
# -0.009 at one label per agent; davila7 -0.010 at two).
MIN_GAIN = 2
# Labelled requests are cross-fitted in this many folds to judge indexing them as examples:
# each fold is routed by an index holding the other folds' requests (FOLDS index builds).
FOLDS = 2


def fit_state(
    state: State,
    texts: Sequence[str],
    labels: Sequence[str | None],
    *,
    validation: tuple[Sequence[str], Sequence[str | None]] | None,
    min_oos_recall: float = MIN_OOS_RECALL,
) -> State:
    """``state`` fitted to the labelled requests: what :meth:`Router.fit` returns.

    Three ways to use labels are compared on requests the fit holds out; each is kept
    only when it decides more of them rightly than what it would replace (the
    examples and the rescaling by at least :data:`MIN_GAIN` requests: smaller wins and
    ties went either way on new requests, ``benchmarks/few_labels.py``), so the
    result is never worse on them than the unfitted router:

    1. the unfitted router (an earlier fit's added examples taken out);
    2. the labelled in-scope requests added to their agents' example requests and
       indexed (judged on ``validation``, else cross-fitted in :data:`FOLDS` folds);
    3. on top of the better of those, :func:`fit_learned` (a classifier when the
       labels are enough for one, else a rescaled confidence), judged on its own
       held-out fifth (or ``validation``).

    The result's :class:`Learned` says which was kept (``kind``) and what each scored
    (``validation``).
    """
    base = _unfitted(state)
    pairs = sorted(zip(texts, labels, strict=True), key=lambda p: (p[1] or "", p[0]))
    held = pairs if validation is None else list(zip(*validation, strict=True))
    judged: dict[str, list[tuple[State, Pairs]]] = {"unfitted": [(base, held)]}
    scores: list[tuple[str, float]] = [("unfitted", _accuracy(judged["unfitted"]))]
    chosen, kind, added = base, "unfitted", _new_examples(base, pairs)
    if added:
        with_examples = _with_examples(base, added)
        if validation is None:  # cross-fitted: each fold routed without its own labels
            folds = [pairs[f::FOLDS] for f in range(min(FOLDS, len(pairs)))]
            judged["examples"] = [
                (_with_examples(base, [p for p in added if p not in set(fold)]), fold)
                for fold in folds
            ]
        else:
            judged["examples"] = [(with_examples, held)]
        scores.append(("examples", _accuracy(judged["examples"])))
        if _gains(scores[-1][1], scores[0][1], judged["examples"]):
            chosen, kind = with_examples, "examples"
    # A confidence rescaling is fitted on what the chosen router answers to requests it
    # has not indexed: out of fold for the examples, else the unfitted router's answers.
    source = judged[kind] if validation is None else [(base, pairs)]

    def catalog_top(batch: Sequence[str]) -> tuple[list[str | None], np.ndarray]:
        answers = _answers(source)
        return [answers[t][0] for t in batch], np.array([answers[t][1] for t in batch])

    learned = learned_layer(
        chosen, texts, labels, validation, min_oos_recall, catalog_top=catalog_top
    )
    if learned.model is not None:
        # Judged on the classifier's own held-out part, against the same router without it.
        results = dict(learned.validation)
        scores.append(("classifier", results["classifier"]))
        keep = results["classifier"] > results["catalog"]
    elif learned.platt != (1.0, 0.0):
        # A rescaled confidence moves decisions only across the confidence bars.
        scores.append(("calibration", _accuracy(judged[kind], learned)))
        keep = _gains(scores[-1][1], _accuracy(judged[kind]), judged[kind])
    else:
        keep = False
    if keep:
        kind = learned.kind
    else:
        learned = Learned(None, n_labels=learned.n_labels)
    kept = tuple(added) if chosen is not base else ()
    logger.info("fit: kept %s (held-out accuracy %s)", kind, scores)
    final = replace(learned, examples=kept, kind=kind, validation=tuple(scores))
    return replace(chosen, learned=final)


def _unfitted(state: State) -> State:
    """``state`` without what a fit learned: its added examples out, no learned layer."""
    learned = state.learned
    if learned is None or not learned.examples:
        return replace(state, learned=None)
    added: dict[str, set[str]] = {}
    for text, agent in learned.examples:
        added.setdefault(agent, set()).add(text)
    agents = tuple(
        replace(a, examples=tuple(e for e in a.examples if e not in added[a.name]))
        if a.name in added
        else a
        for a in state.agents
    )
    return _reindexed(state, agents)


def _reindexed(state: State, agents: tuple[AgentSpec, ...]) -> State:
    """A state over ``agents`` (same names and order), its index (and view) rebuilt."""
    out = State(agents, build_index(agents, config=state.index.config), state.config)
    if state.semantic is not None:
        from agentroute._semantic import build_view

        out = replace(out, semantic=build_view(agents, state.semantic.encoder))
    return out


def _new_examples(state: State, pairs: Sequence[tuple[str, str | None]]) -> list[tuple[str, str]]:
    """The labelled in-scope requests their agent does not have as an example yet."""
    have = {(e, a.name) for a in state.agents for e in a.examples}
    out: list[tuple[str, str]] = []
    for text, agent in pairs:
        if agent is not None and text.strip() and (text, agent) not in have:
            have.add((text, agent))
            out.append((text, agent))
    return out


def _with_examples(state: State, added: Sequence[tuple[str, str]]) -> State:
    extra: dict[str, list[str]] = {}
    for text, agent in added:
        extra.setdefault(agent, []).append(text)
    agents = tuple(
        replace(a, examples=(*a.examples, *extra[a.name])) if a.name in extra else a
        for a in state.agents
    )
    return _reindexed(state, agents)


def _accuracy(judged: Sequence[tuple[State, Pairs]], learned: Learned | None = None) -> float:
    """Share of the held-out requests decided rightly, each set routed by its state (with
    ``learned``): the labelled agent (or one of its identical copies), or no agent where
    the label is None."""
    total = sum(len(held) for _, held in judged)
    if total == 0:
        return 0.0
    right = 0
    for state, held in judged:
        if held:
            decisions = _decide(replace(state, learned=learned), held)
            right += int(_right(state, decisions, [lab for _, lab in held]).sum())
    return right / total


def _gains(new: float, old: float, judged: Sequence[tuple[State, Pairs]]) -> bool:
    """Whether accuracy ``new`` is right on at least :data:`MIN_GAIN` more of the held-out
    requests of ``judged`` than ``old``."""
    total = sum(len(held) for _, held in judged)
    return round((new - old) * total) >= MIN_GAIN


def _decide(state: State, held: Pairs) -> list[Decision]:
    return route_state(state, [t for t, _ in held], 1, teams=False)


def _answers(judged: Sequence[tuple[State, Pairs]]) -> dict[str, tuple[str | None, float]]:
    """Per held-out request, the first candidate and the confidence its state gives."""
    out: dict[str, tuple[str | None, float]] = {}
    for state, held in judged:
        for (text, _), d in zip(held, _decide(state, held), strict=True):
            out[text] = (d.candidates[0].agent if d.candidates else None, d.confidence)
    return out


def _right(state: State, decisions: Sequence[Decision], labels: Sequence[str | None]) -> np.ndarray:
    position = {name: i for i, name in enumerate(state.index.names)}
    out = np.zeros(len(labels), dtype=bool)
    for i, (d, lab) in enumerate(zip(decisions, labels, strict=True)):
        if lab is None or d.agent is None:
            out[i] = d.agent is None and lab is None
        else:
            out[i] = d.agent == lab or d.agent in state.copies_of.get(position[lab], ())
    return out


def learned_layer(
    state: State,
    texts: Sequence[str],
    labels: Sequence[str | None],
    validation: tuple[Sequence[str], Sequence[str | None]] | None,
    min_oos_recall: float,
    *,
    catalog_top: CatalogTop | None = None,
) -> Learned:
    """:func:`fit_learned` over ``state`` (its catalog scores from an index without the
    held-out requests when they are among its agents' examples): what ``Router.fit``
    returned before it compared it with the unfitted router (issue 23)."""
    base = replace(state, learned=None)
    agents = tuple(state.agents)
    examples = [(e, a.name) for a in agents for e in a.examples]
    indexed = {e for e, _ in examples}
    without: dict[frozenset[str], State] = {}

    def excluding(excluded: frozenset[str]) -> State:
        if not excluded & indexed:
            return base
        if excluded not in without:
            cut = tuple(
                replace(a, examples=tuple(e for e in a.examples if e not in excluded))
                for a in agents
            )
            without[excluded] = _reindexed(base, cut)
        return without[excluded]

    def catalog_scores(batch: Sequence[str], excluded: frozenset[str]) -> np.ndarray:
        index = excluding(excluded).index
        queries = [analyze_query(index, t) for t in batch]
        combined: np.ndarray = score(index, queries, state.config.weights).combined
        return combined

    def routed_top(batch: Sequence[str]) -> tuple[list[str | None], np.ndarray]:
        decisions = route_state(base, list(batch), 1)
        tops = [d.candidates[0].agent if d.candidates else None for d in decisions]
        return tops, np.array([d.confidence for d in decisions])

    def judge(
        learned: Learned | None,
        batch: Sequence[str],
        truth: Sequence[str | None],
        excluded: frozenset[str],
    ) -> float:
        return _accuracy([(excluding(excluded), list(zip(batch, truth, strict=True)))], learned)

    return fit_learned(
        state.index.names,
        examples,
        list(texts),
        list(labels),
        validation=None if validation is None else (list(validation[0]), list(validation[1])),
        catalog_scores=catalog_scores,
        catalog_top=routed_top if catalog_top is None else catalog_top,
        min_oos_recall=min_oos_recall,
        judge=judge,
    )
