"""Pure, vectorised scorers: request → per-agent scores in [0, 1].

* ``word``: cosine of TF-IDF vectors (request vs the agent's head text);
* ``body``: the same against the agent's prompt body;
* ``char``: cosine of character n-gram vectors (morphology, typos);
* ``trigger``: the agent's trigger phrases found in the request, after
  unknown request words are corrected to the index vocabulary by rapidfuzz
  (``kubernets`` → ``kubernetes``), weighted by how rare each trigger is.

:func:`score` combines them with :class:`Weights` into one score per agent.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import fuzz, process

from agentroute.index import MAX_TRIGGER_TERMS, Index
from agentroute.text import term_surfaces, word_ngrams

__all__ = ["MAX_REQUEST_CHARS", "Query", "Scores", "Weights", "analyze_query", "score"]

# Only this much of a request is scored: routing needs the gist, and the cap
# bounds the time a hostile 10 MB request can take.
MAX_REQUEST_CHARS = 4_000
# rapidfuzz ratio (0-100) above which an unknown word is read as a known one.
FUZZY_CUTOFF = 85.0
MIN_FUZZY_LEN = 4


@dataclass(frozen=True, slots=True)
class Weights:
    """How the scorers combine; non-negative, normalised to sum to 1.

    Examples
    --------
    >>> Weights(word=2, body=0, char=1, trigger=1).normalized()
    Weights(word=0.5, body=0.0, char=0.25, trigger=0.25)
    """

    # Measured on the development collections (wshobson, dl-ezo, voltagent):
    # the prompt body carries most of the signal there.
    word: float = 0.10
    body: float = 0.70
    char: float = 0.10
    trigger: float = 0.10

    def __post_init__(self) -> None:
        for name in ("word", "body", "char", "trigger"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise ValueError(f"Weights.{name} must be a finite number >= 0, got {value!r}")
        if self.word + self.body + self.char + self.trigger <= 0:
            raise ValueError("at least one of the Weights must be positive")

    def normalized(self) -> Weights:
        total = self.word + self.body + self.char + self.trigger
        return Weights(
            self.word / total, self.body / total, self.char / total, self.trigger / total
        )


@dataclass(frozen=True, slots=True)
class Query:
    """A request as the scorers see it."""

    text: str
    terms: tuple[str, ...]
    surfaces: dict[str, str] = field(default_factory=dict)
    corrections: tuple[tuple[str, str], ...] = ()
    known_terms: int = 0


def analyze_query(index: Index, text: str) -> Query:
    """Terms of a request, with unknown words corrected to the index vocabulary.

    Examples
    --------
    >>> from agentroute.index import build_index
    >>> from agentroute.spec import AgentSpec
    >>> idx = build_index([AgentSpec("db", "PostgreSQL query tuning")])
    >>> q = analyze_query(idx, "postgress queries are slow")
    >>> q.terms, q.corrections
    (('postgres', 'query', 'slow'), (('postgress', 'postgres'),))
    """
    clipped = text[:MAX_REQUEST_CHARS]
    out: list[str] = []
    surfaces: dict[str, str] = {}
    corrections: list[tuple[str, str]] = []
    known = 0
    cache: dict[str, str | None] = {}
    for term, surface in term_surfaces(clipped):
        if term not in index.vocabulary and len(term) >= MIN_FUZZY_LEN and term.isalpha():
            if term not in cache:
                hit = process.extractOne(
                    term, index.fuzzy_terms, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF
                )
                cache[term] = hit[0] if hit else None
            fixed = cache[term]
            if fixed is not None:
                if (surface, fixed) not in corrections:
                    corrections.append((surface, fixed))
                term = fixed
        if term in index.vocabulary:
            known += 1
        out.append(term)
        surfaces.setdefault(term, surface)
    return Query(clipped, tuple(out), surfaces, tuple(corrections), known)


@dataclass(frozen=True, slots=True, eq=False)
class Scores:
    """Per-request, per-agent scores (rows: requests, columns: agents in index order)."""

    combined: np.ndarray
    word: np.ndarray
    body: np.ndarray
    char: np.ndarray
    trigger: np.ndarray
    coverage: np.ndarray
    matched: tuple[dict[int, tuple[str, ...]], ...]
    query_vectors: object  # scipy.sparse.csr_matrix of the word vectoriser


def _trigger_scores(
    index: Index, queries: Sequence[Query]
) -> tuple[np.ndarray, tuple[dict[int, tuple[str, ...]], ...]]:
    raw = np.zeros((len(queries), index.n_agents), dtype=np.float64)
    matched: list[dict[int, tuple[str, ...]]] = []
    for r, q in enumerate(queries):
        grams = set(word_ngrams(q.terms, MAX_TRIGGER_TERMS))
        hits: dict[int, list[str]] = {}
        for key in sorted(grams.intersection(index.triggers)):
            # A phrase of several words is stronger evidence than a single word.
            weight = index.trigger_weight[key] * (1.0 + 0.5 * key.count(" "))
            for agent in index.triggers[key]:
                raw[r, agent] += weight
                hits.setdefault(agent, []).append(key)
        matched.append({a: tuple(ks) for a, ks in hits.items()})
    return -np.expm1(-raw), tuple(matched)


def _coverage(index: Index, queries: Sequence[Query]) -> np.ndarray:
    """Share of each request's term weight (IDF) that an agent's text contains.

    Unknown words count with the highest IDF: a request about something no agent
    mentions is poorly covered by every agent, however long its prompt.
    """
    vocab = index.vectorizer.vocabulary_
    idf = index.vectorizer.idf_
    top_idf = float(idf.max())
    out = np.zeros((len(queries), index.n_agents), dtype=np.float64)
    for r, q in enumerate(queries):
        unique = sorted(set(q.terms))
        if not unique:
            continue
        cols = [vocab[t] for t in unique if t in vocab]
        total = float(idf[cols].sum()) + top_idf * (len(unique) - len(cols))
        if cols:
            hit = index.present[:, cols] @ idf[cols]
            out[r] = np.asarray(hit, dtype=np.float64).ravel() / total
    np.clip(out, 0.0, 1.0, out=out)
    return out


def score(index: Index, queries: Sequence[Query], weights: Weights) -> Scores:
    """Score every agent for every query; every array is in [0, 1] and finite."""
    w = weights.normalized()
    qv = index.vectorizer.transform([word_ngrams(q.terms, 2) for q in queries])
    word = np.asarray((qv @ index.head.T).todense(), dtype=np.float64)
    body = np.asarray((qv @ index.body.T).todense(), dtype=np.float64)
    qc = index.char_vectorizer.transform([q.text for q in queries])
    char = np.asarray((qc @ index.chars.T).todense(), dtype=np.float64)
    trigger, matched = _trigger_scores(index, queries)
    combined = w.word * word + w.body * body + w.char * char + w.trigger * trigger
    # Cosines of non-negative unit vectors lie in [0, 1]; clip float round-off.
    np.clip(combined, 0.0, 1.0, out=combined)
    coverage = _coverage(index, queries)
    return Scores(combined, word, body, char, trigger, coverage, matched, qv)
