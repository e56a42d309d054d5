"""Records → the fitted, immutable index the scorers read.

Three views of every agent:

* ``head``: a TF-IDF vector (word unigrams and bigrams of :func:`agentroute.text.terms`)
  of the text that says what the agent is for: name, description, triggers,
  use cases and example requests;
* ``body``: the same vectoriser over the prompt body, which is long and mostly
  generic, so it is kept apart and weighted lower;
* ``chars``: character n-grams (3–5, within words) of the head text, for
  morphology and typos;

plus a trigger table (trigger phrase → agents, weighted by rarity) and the
vocabulary that fuzzy matching corrects unknown request words against.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from agentroute.spec import AgentSpec
from agentroute.text import normalize, terms, word_ngrams

__all__ = ["Index", "build_index", "head_text"]

# Bodies beyond this many characters add little but cost time; real "when to
# use" material sits near the top.
MAX_BODY_CHARS = 20_000
# Trigger phrases are matched as contiguous term n-grams up to this length.
MAX_TRIGGER_TERMS = 4


def _analyze(doc: str | list[str]) -> list[str]:
    """The word analyser: ``terms`` plus bigrams; a list is taken as already analysed."""
    if isinstance(doc, list):
        return doc
    return word_ngrams(terms(doc), 2)


def head_text(agent: AgentSpec) -> str:
    """The text that says what an agent is for (name and description weigh double)."""
    name_words = agent.declared_name.replace("-", " ").replace("_", " ")
    parts = [
        name_words,
        name_words,
        agent.description,
        agent.description,
        " . ".join(agent.triggers),
        " . ".join(agent.use_cases),
        " . ".join(agent.examples),
        " . ".join(s.replace("-", " ") for s in agent.skills),
    ]
    return " \n ".join(p for p in parts if p)


@dataclass(frozen=True, eq=False)
class Index:
    """The fitted index of a catalog; immutable once built (share it freely).

    Attributes
    ----------
    names : tuple of str
        Agent names, in index order (sorted).
    vectorizer : TfidfVectorizer
        Fitted on heads and bodies together (one vocabulary, one IDF).
    head, body : scipy.sparse.csr_matrix
        L2-normalised TF-IDF rows, one per agent.
    char_vectorizer : TfidfVectorizer
        Character n-grams of the heads.
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
        The word vectoriser's feature names (for reasons).
    present : scipy.sparse.csc_matrix
        1 where a word feature occurs in an agent's head or body (agents × features);
        used for coverage: how much of a request an agent's text accounts for.
    """

    names: tuple[str, ...]
    vectorizer: TfidfVectorizer
    head: sp.csr_matrix
    body: sp.csr_matrix
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

    heads = [head_text(a) for a in ordered]
    bodies = [a.body[:MAX_BODY_CHARS] for a in ordered]
    head_terms = [_analyze(h) for h in heads]
    body_terms = [_analyze(b) for b in bodies]
    vectorizer = TfidfVectorizer(analyzer=_analyze, sublinear_tf=True, norm="l2", dtype=np.float32)
    both = vectorizer.fit_transform(head_terms + body_terms).tocsr()
    n = len(ordered)
    head = both[:n]
    body = both[n:]

    char_vectorizer = TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=(3, 5),
        preprocessor=normalize,
        lowercase=False,
        sublinear_tf=True,
        min_df=1,
        dtype=np.float32,
    )
    chars = char_vectorizer.fit_transform(heads).tocsr()

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

    vocabulary = frozenset(t for ts in head_terms + body_terms for t in ts if " " not in t)
    fuzzy = sorted(
        {t for ts in head_terms for t in ts if " " not in t and len(t) >= 4 and t.isalpha()}
    )
    return Index(
        names=names,
        vectorizer=vectorizer,
        head=head,
        body=body,
        char_vectorizer=char_vectorizer,
        chars=chars,
        triggers={k: tuple(v) for k, v in sorted(table.items())},
        trigger_weight=weights,
        trigger_surface=tuple(surfaces),
        vocabulary=vocabulary,
        fuzzy_terms=tuple(fuzzy),
        feature_names=vectorizer.get_feature_names_out(),
        present=((head + body) > 0).astype(np.float32).tocsc(),
    )
