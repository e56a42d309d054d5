"""Records → the fitted, immutable index the scorers read.

Every agent is read as four fields, each a list of :func:`agentroute.text.terms`
with their bigrams:

* ``name``: the declared name's words;
* ``description``: the cleaned description;
* ``hints``: triggers, use cases, example requests and skills;
* ``body``: the prompt body (capped at :data:`MAX_BODY_CHARS`).

Three views are built over one shared vocabulary, so a request is counted once:

* ``bm25``: BM25F weights (agents × terms). Field counts are length-normalised
  per field, weighted (:data:`FIELD_WEIGHTS`), summed, then saturated. A request's
  score is the sum over its terms, divided by the best score any agent could
  reach, so it lies in [0, 1];
* ``word``: a sublinear TF-IDF vector of the unigrams of all fields (cosine);
* ``chars``: character n-grams (3–5, within words) of name, description and
  body, for morphology and typos.

Plus ``head``, a TF-IDF vector of name, description and hints alone (what an
agent says it is for, used to explain a decision), a trigger table (trigger
phrase → agents) and the vocabulary that fuzzy matching corrects unknown
request words against.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer, TfidfVectorizer
from sklearn.preprocessing import normalize as l2_rows

from agentroute.spec import AgentSpec
from agentroute.text import normalize, terms, word_ngrams

__all__ = ["FIELD_WEIGHTS", "Index", "build_index", "head_text"]

# Bodies beyond this many characters add little but cost time; real "when to
# use" material sits near the top.
MAX_BODY_CHARS = 20_000
# Character n-grams cost ~10x more per character than words: they read the
# top of the body only. 6,000 characters kept top-1 on the dev collections
# within 0.01 of the full 20,000 and cut the index build ~3x.
MAX_CHAR_BODY = 6_000
# Trigger phrases are matched as contiguous term n-grams up to this length.
MAX_TRIGGER_TERMS = 4
# BM25F field weights. What an agent says it is for (name, description) weighs
# more per word than its long prompt body. Measured on the development
# collections (wshobson, dl-ezo, voltagent, examples removed): body-only BM25
# gives top-1 0.548/0.479/0.629, these weights 0.556/0.493/0.686; the result is
# flat around them (name 1–5, description 1–3), so they are not a fitted optimum.
FIELD_WEIGHTS: dict[str, float] = {"name": 2.0, "description": 2.0, "hints": 1.0, "body": 0.5}
# Okapi constants: the usual k1; b = 0.75 beat 0.3 and 1.0 on the dev collections.
BM25_K1 = 1.2
BM25_B = 0.75


def _identity(doc: list[str]) -> list[str]:
    return doc


def _analyze(doc: str) -> list[str]:
    """The word analyser: ``terms`` plus bigrams (index and query agree)."""
    return word_ngrams(terms(doc), 2)


def _name_words(agent: AgentSpec) -> str:
    return agent.declared_name.replace("-", " ").replace("_", " ")


def _hints(agent: AgentSpec) -> str:
    parts = [
        " . ".join(agent.triggers),
        " . ".join(agent.use_cases),
        " . ".join(agent.examples),
        " . ".join(s.replace("-", " ") for s in agent.skills),
    ]
    return " \n ".join(p for p in parts if p)


def head_text(agent: AgentSpec) -> str:
    """The text that says what an agent is for: name, description, triggers, use cases."""
    parts = [_name_words(agent), agent.description, _hints(agent)]
    return " \n ".join(p for p in parts if p)


@dataclass(frozen=True, eq=False)
class Index:
    """The fitted index of a catalog; immutable once built (share it freely).

    Attributes
    ----------
    names : tuple of str
        Agent names, in index order (sorted).
    counter : CountVectorizer
        The shared vocabulary of terms and bigrams (``vocabulary_``).
    idf : numpy.ndarray
        BM25 inverse document frequency per vocabulary column (> 0).
    bm25 : scipy.sparse.csr_matrix
        Saturated, IDF-weighted BM25F term weights (agents × vocabulary).
    unigram : numpy.ndarray
        1.0 for the vocabulary columns that are single terms, else 0.0.
    word_transformer : TfidfTransformer
        IDF of the unigrams over whole agents (sublinear tf).
    word : scipy.sparse.csr_matrix
        L2-normalised TF-IDF rows of whole agents (unigrams only).
    head : scipy.sparse.csr_matrix
        L2-normalised TF-IDF rows of :func:`head_text` (terms and bigrams).
    char_vectorizer : TfidfVectorizer
        Character n-grams of name, description and body.
    chars : scipy.sparse.csr_matrix
    triggers : dict
        Trigger key (space-joined terms) → tuple of agent positions.
    trigger_weight : dict
        Trigger key → weight in (0, 1]: rarer triggers weigh more.
    trigger_surface : tuple of dict
        Per agent, trigger key → the phrase as written.
    vocabulary : frozenset of str
        Every single term the index knows.
    fuzzy_terms : tuple of str
        Terms of names, descriptions and triggers that unknown request words
        are corrected to (sorted, for determinism).
    feature_names : numpy.ndarray
        The vocabulary's terms, by column.
    present : scipy.sparse.csc_matrix
        1 where a term occurs anywhere in an agent's text (agents × vocabulary);
        used for coverage: how much of a request an agent's text accounts for.
    """

    names: tuple[str, ...]
    counter: CountVectorizer
    idf: np.ndarray
    bm25: sp.csr_matrix
    unigram: np.ndarray
    word_transformer: TfidfTransformer
    word: sp.csr_matrix
    head: sp.csr_matrix
    char_vectorizer: TfidfVectorizer
    chars: sp.csr_matrix
    triggers: dict[str, tuple[int, ...]]
    trigger_weight: dict[str, float]
    trigger_surface: tuple[dict[str, str], ...]
    vocabulary: frozenset[str]
    fuzzy_terms: tuple[str, ...]
    feature_names: np.ndarray
    present: sp.csc_matrix

    @property
    def n_agents(self) -> int:
        return len(self.names)


def _bm25f(fields: dict[str, sp.csr_matrix], n_agents: int) -> tuple[sp.csr_matrix, np.ndarray]:
    """BM25F: per-field length normalisation, weighted sum, one saturation, IDF."""
    total: sp.csr_matrix | None = None
    for name, counts in fields.items():
        length = np.asarray(counts.sum(axis=1), dtype=np.float64).ravel()
        mean = float(length.mean()) if length.size else 0.0
        norm = 1.0 - BM25_B + BM25_B * length / mean if mean > 0 else np.ones_like(length)
        part = sp.diags(FIELD_WEIGHTS[name] / np.maximum(norm, 1e-9)) @ counts
        total = part if total is None else total + part
    assert total is not None
    tf = sp.csr_matrix(total, dtype=np.float64)
    df = np.bincount(tf.indices, minlength=tf.shape[1]).astype(np.float64)
    # Lucene's non-negative IDF: a term every agent has still weighs a little.
    idf = np.log1p((n_agents - df + 0.5) / (df + 0.5))
    tf.data = tf.data * (BM25_K1 + 1.0) / (tf.data + BM25_K1)
    weights = sp.csr_matrix(tf @ sp.diags(idf), dtype=np.float64)
    weights.sort_indices()
    return weights, idf


def build_index(agents: Sequence[AgentSpec]) -> Index:
    """Fit the index over ``agents`` (which must have unique names).

    Raises
    ------
    ValueError
        When ``agents`` is empty or names repeat.
    """
    if not agents:
        raise ValueError("cannot build an index of no agents")
    ordered = sorted(agents, key=lambda a: a.name)
    names = tuple(a.name for a in ordered)
    if len(set(names)) != len(names):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"agent names must be unique; repeated: {', '.join(dupes[:5])}")
    n = len(ordered)

    field_terms = {
        "name": [_analyze(_name_words(a)) for a in ordered],
        "description": [_analyze(a.description) for a in ordered],
        "hints": [_analyze(_hints(a)) for a in ordered],
        "body": [_analyze(a.body[:MAX_BODY_CHARS]) for a in ordered],
    }
    counter = CountVectorizer(analyzer=_identity, dtype=np.float64)
    counter.fit([ts for f in field_terms.values() for ts in f])
    counts = {f: counter.transform(ts).tocsr() for f, ts in field_terms.items()}
    bm25, idf = _bm25f(counts, n)
    feature_names = counter.get_feature_names_out()
    unigram = np.array([" " not in t for t in feature_names], dtype=np.float64)

    everything = counts["name"] + counts["description"] + counts["hints"] + counts["body"]
    word_transformer = TfidfTransformer(sublinear_tf=True)
    word = word_transformer.fit_transform(everything @ sp.diags(unigram)).tocsr()
    head_counts = counts["name"] + counts["description"] + counts["hints"]
    head = l2_rows(TfidfTransformer(sublinear_tf=True).fit_transform(head_counts)).tocsr()

    char_vectorizer = TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=(3, 5),
        preprocessor=normalize,
        lowercase=False,
        sublinear_tf=True,
        dtype=np.float32,
    )
    char_docs = [f"{_name_words(a)}\n{a.description}\n{a.body[:MAX_CHAR_BODY]}" for a in ordered]
    chars = char_vectorizer.fit_transform(char_docs).tocsr()

    table: dict[str, list[int]] = defaultdict(list)
    surfaces: list[dict[str, str]] = []
    for i, agent in enumerate(ordered):
        mine: dict[str, str] = {}
        for phrase in agent.triggers:
            key_terms = terms(phrase)
            if not key_terms or len(key_terms) > MAX_TRIGGER_TERMS:
                continue
            key = " ".join(key_terms)
            if key not in mine:
                mine[key] = phrase
                table[key].append(i)
        surfaces.append(mine)
    # Rarity weight: a trigger owned by one agent weighs 1; one shared by every
    # agent weighs near 0 (it cannot tell agents apart).
    top = math.log1p(n)
    weights = {k: math.log1p(n / len(v)) / top for k, v in table.items()}

    vocabulary = frozenset(str(t) for t, u in zip(feature_names, unigram, strict=True) if u)
    fuzzy = sorted(
        {
            t
            for f in ("name", "description", "hints")
            for ts in field_terms[f]
            for t in ts
            if " " not in t and len(t) >= 4 and t.isalpha()
        }
    )
    return Index(
        names=names,
        counter=counter,
        idf=idf,
        bm25=bm25,
        unigram=unigram,
        word_transformer=word_transformer,
        word=word,
        head=head,
        char_vectorizer=char_vectorizer,
        chars=chars,
        triggers={k: tuple(v) for k, v in sorted(table.items())},
        trigger_weight=weights,
        trigger_surface=tuple(surfaces),
        vocabulary=vocabulary,
        fuzzy_terms=tuple(fuzzy),
        feature_names=feature_names,
        present=(everything > 0).astype(np.float64).tocsc(),
    )
