"""Agent records → the fitted :class:`~agentroute._index.Index`: counting and weighting.

The index's layout and its query-time reads live in :mod:`agentroute._index`; this module
fits one. Counting terms and character n-grams, the slow part of a fit, is done once per
distinct word and a slice of agents at a time; the counts are laid out exactly as
``CountVectorizer`` lays them out, so every weight is bit for bit what ``TfidfVectorizer``
gives (``tests/test_build.py`` checks it).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterator, Sequence
from itertools import chain
from typing import TYPE_CHECKING, Any

import numpy as np

from agentroute._errors import CatalogError
from agentroute._index import (
    CHAR_NGRAMS,
    MAX_BODY_CHARS,
    MAX_CHAR_BODY,
    MAX_TRIGGER_TERMS,
    MIN_FUZZY_LEN,
    Csr,
    Index,
    IndexConfig,
    Strings,
    _hints,
    _name_words,
    char_words,
    index_dtype,
    indexed_body,
    pointer_dtype,
)
from agentroute._negative import build_table
from agentroute._similar import near_equivalents
from agentroute._spec import AgentSpec
from agentroute._text import terms
from agentroute._tfidf import char_wb_ngrams, word_ngrams

if TYPE_CHECKING:
    # The bar's module stays unloaded when nothing draws one (a route imports no more).
    from agentroute._progress import Progress

__all__ = ["SLICE_AGENTS", "build_index"]


def _analyze(doc: str) -> list[str]:
    """The word analyser: ``terms`` plus bigrams (index and query agree)."""
    return word_ngrams(terms(doc), 1, 2)


# -- counting ---------------------------------------------------------------------------

# Agents counted at a time (build_index's ``slice_agents``). Counting keeps each
# slice's token lists and n-gram products only while the slice is counted; what stays is
# the vocabulary and compact per-slice counts, so a build's peak is about the finished
# index plus one slice (not a copy of every agent's tokens: ~27 GB at 100,000 agents). The
# matrices are those of one slice, to the bit (``tests/test_index.py`` builds with slices
# of a few agents and compares).
SLICE_AGENTS = 2_000

_LOW = np.int64(0xFFFFFFFF)


def _slices(n: int, size: int) -> Iterator[tuple[int, int]]:
    for start in range(0, n, max(1, size)):
        yield start, min(n, start + max(1, size))


class _TermCounter:
    """What ``CountVectorizer(analyzer=identity)`` fit on every field, then transform of
    each field, gives, counted a slice of agents at a time: terms get provisional ids in the
    order first seen; the sorted vocabulary and the canonical float64 count matrices
    (columns sorted within each row) come out of :meth:`finish`."""

    def __init__(self, fields: Sequence[str]) -> None:
        self.vocab: dict[str, int] = {}
        # Per field, per slice: entries per row, provisional columns, counts.
        self.parts: dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {
            f: [] for f in fields
        }

    def add(self, fields: dict[str, list[list[str]]]) -> None:
        vocab = self.vocab
        for f, docs in fields.items():
            n = len(docs)
            lengths = np.fromiter((len(d) for d in docs), dtype=np.int64, count=n)
            flat = np.fromiter(
                (vocab.setdefault(t, len(vocab)) for t in chain.from_iterable(docs)),
                dtype=np.int64,
                count=int(lengths.sum()),
            )
            # (row, provisional column) keys of the slice, counted by one sort.
            keys = (np.repeat(np.arange(n, dtype=np.int64), lengths) << 32) | flat
            keys, counts = np.unique(keys, return_counts=True)
            rows = keys >> 32
            self.parts[f].append(
                (
                    np.bincount(rows, minlength=n).astype(np.int64),
                    (keys & _LOW).astype(np.int32),
                    counts,
                )
            )

    def finish(self, n: int) -> tuple[tuple[str, ...], dict[str, Any]]:
        import scipy.sparse as sp

        if not self.vocab:
            raise ValueError("empty vocabulary; perhaps the documents only contain stop words")
        names = tuple(sorted(self.vocab))
        width = len(names)
        remap = np.empty(width, dtype=np.int32)
        remap[[self.vocab[t] for t in names]] = np.arange(width, dtype=np.int32)
        self.vocab = {}
        out: dict[str, Any] = {}
        for f, parts in self.parts.items():
            indptr = np.zeros(n + 1, dtype=np.int64)
            np.cumsum(np.concatenate([p[0] for p in parts]), out=indptr[1:])
            indices = np.empty(int(indptr[-1]), dtype=np.int32)
            data = np.empty(int(indptr[-1]), dtype=np.float64)
            at = 0
            while parts:
                lengths, cols, counts = parts.pop(0)
                # Sorted columns within each row: sort the slice's (row, column) keys.
                rows = np.repeat(np.arange(lengths.size, dtype=np.int64), lengths)
                order = np.argsort((rows << 32) | remap[cols], kind="stable")
                indices[at : at + cols.size] = remap[cols[order]]
                data[at : at + cols.size] = counts[order]
                at += cols.size
            out[f] = sp.csr_matrix((data, indices, indptr), shape=(n, width))
        return names, out


class _CharCounter:
    """``CountVectorizer(analyzer="char_wb", ngram_range=(3, 5), preprocessor=normalize,
    lowercase=False, dtype=float32).fit_transform(docs)``, one distinct word at a time, a
    slice of documents at a time.

    The n-grams of a document are those of its words, so each distinct word is cut
    once. The layout matches scikit-learn's exactly (its TF-IDF normalisation sums
    each row in this order): within a row, entries are ordered by when the n-gram was
    first seen in the corpus, and the columns are the n-grams' sorted positions. Slices
    are counted in order, so first-seen ids are those of the whole corpus.
    """

    def __init__(self) -> None:
        # Each distinct word is cut once, in the order words are first seen, so the
        # n-grams get their first-seen ids in the order scikit-learn meets them.
        self.word_id: dict[str, int] = {}
        self.first_seen: dict[str, int] = {}
        self.word_ptr: list[int] = [0]
        self.word_grams: list[np.ndarray] = []  # the n-gram ids of each new word, per slice
        self.parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def add(self, docs: Sequence[str]) -> None:
        import scipy.sparse as sp

        word_id, first_seen, word_ptr = self.word_id, self.first_seen, self.word_ptr
        doc_lists = [char_words(doc) for doc in docs]
        new_grams: list[int] = []
        for w in dict.fromkeys(chain.from_iterable(doc_lists)):
            if w not in word_id:
                word_id[w] = len(word_id)
                grams = [
                    first_seen.setdefault(g, len(first_seen))
                    for g in char_wb_ngrams(w, *CHAR_NGRAMS)
                ]
                new_grams += grams
                word_ptr.append(word_ptr[-1] + len(grams))
        self.word_grams.append(np.asarray(new_grams, dtype=np.int32))
        n_docs = len(docs)
        doc_ptr = np.zeros(n_docs + 1, dtype=np.int64)
        np.cumsum([len(d) for d in doc_lists], out=doc_ptr[1:])
        doc_words = np.fromiter(
            map(word_id.__getitem__, chain.from_iterable(doc_lists)),
            dtype=np.int64,
            count=int(doc_ptr[-1]),
        )
        del doc_lists
        # documents × words (counts) @ words × n-grams (counts) = documents × n-grams, over
        # the words of this slice only.
        words, local = np.unique(doc_words, return_inverse=True)
        dw = sp.csr_matrix(
            (np.ones(local.size, dtype=np.int64), local.astype(np.int64), doc_ptr),
            shape=(n_docs, words.size),
        )
        dw.sum_duplicates()
        every = np.concatenate(self.word_grams) if len(self.word_grams) > 1 else self.word_grams[0]
        self.word_grams = [every]
        ptr = np.asarray(word_ptr, dtype=np.int64)
        starts, lengths = ptr[words], ptr[words + 1] - ptr[words]
        wg_ptr = np.zeros(words.size + 1, dtype=np.int64)
        np.cumsum(lengths, out=wg_ptr[1:])
        at = np.repeat(starts - wg_ptr[:-1], lengths) + np.arange(int(wg_ptr[-1]), dtype=np.int64)
        wg = sp.csr_matrix(
            (np.ones(at.size, dtype=np.int64), every[at].astype(np.int64), wg_ptr),
            shape=(words.size, max(1, len(first_seen))),
        )
        wg.sum_duplicates()
        counts = (dw @ wg).tocsr()
        counts.sum_duplicates()
        counts.sort_indices()  # by first-seen id, as CountVectorizer._count_vocab leaves them
        self.parts.append(
            (
                np.diff(counts.indptr).astype(np.int64),
                counts.indices.astype(np.int32),
                counts.data.astype(np.float32),
            )
        )

    def finish(self) -> tuple[tuple[str, ...], Any]:
        import scipy.sparse as sp

        first_seen = self.first_seen
        if not first_seen:
            raise ValueError("empty vocabulary; perhaps the documents only contain stop words")
        self.word_id, self.word_grams = {}, []
        n_grams = len(first_seen)
        names = sorted(first_seen)
        remap = np.empty(n_grams, dtype=np.int32)
        remap[[first_seen[g] for g in names]] = np.arange(n_grams, dtype=np.int32)
        self.first_seen = {}
        parts = self.parts
        lengths = np.concatenate([p[0] for p in parts])
        n_docs = lengths.size
        nnz = int(lengths.sum())
        indptr = np.zeros(n_docs + 1, dtype=pointer_dtype(nnz))
        np.cumsum(lengths, out=indptr[1:])
        indices = np.empty(nnz, dtype=np.int32)
        data = np.empty(nnz, dtype=np.float32)
        at = 0
        while parts:  # each slice is copied in, then let go
            _, cols, values = parts.pop(0)
            indices[at : at + cols.size] = remap[cols]
            data[at : at + cols.size] = values
            at += cols.size
        return tuple(names), sp.csr_matrix((data, indices, indptr), shape=(n_docs, n_grams))


# -- fitting ----------------------------------------------------------------------------


def _bm25f(fields: dict[str, Any], n_agents: int, config: IndexConfig) -> tuple[Any, np.ndarray]:
    """BM25F: per-field length normalisation, weighted sum, one saturation, IDF."""
    import scipy.sparse as sp

    total: Any = None
    for name, counts in fields.items():
        length = np.asarray(counts.sum(axis=1), dtype=np.float64).ravel()
        mean = float(length.mean()) if length.size else 0.0
        b = config.bm25_b
        norm = 1.0 - b + b * length / mean if mean > 0 else np.ones_like(length)
        part = sp.diags(config.field_weights[name] / np.maximum(norm, 1e-9)) @ counts
        total = part if total is None else total + part
    assert total is not None
    tf = sp.csr_matrix(total, dtype=np.float64)
    df = np.bincount(tf.indices, minlength=tf.shape[1]).astype(np.float64)
    # Lucene's non-negative IDF: a term every agent has still weighs a little.
    idf = np.log1p((n_agents - df + 0.5) / (df + 0.5))
    k1 = config.bm25_k1
    tf.data = tf.data * (k1 + 1.0) / (tf.data + k1)
    weights = sp.csr_matrix(tf @ sp.diags(idf), dtype=np.float64)
    weights.sort_indices()
    return weights, idf


def _row_sums(matrix: Csr, entries: int = 1 << 24) -> np.ndarray:
    """Each row's sum (float64), its entries added in stored order: ``np.bincount`` of
    the row of each entry, a few million entries at a time (rows whole, so every sum is
    the one a single ``bincount`` gives) rather than a row id for every entry at once."""
    rows = matrix.shape[0]
    out = np.zeros(rows, dtype=np.float64)
    indptr = matrix.indptr.astype(np.int64)
    start = 0
    while start < rows:
        stop = max(start + 1, int(np.searchsorted(indptr, indptr[start] + entries, "right")) - 1)
        stop = min(stop, rows)
        a, b = int(indptr[start]), int(indptr[stop])
        out[start:stop] = np.bincount(
            np.repeat(np.arange(stop - start), np.diff(indptr[start : stop + 1])),
            weights=matrix.data[a:b],
            minlength=stop - start,
        )
        start = stop
    return out


def _transposed(matrix: Any, dtype: Any = None) -> Csr:
    return Csr.from_scipy(matrix.T.tocsr(), dtype)


def build_index(
    agents: Sequence[AgentSpec],
    *,
    config: IndexConfig | None = None,
    progress: Progress | None = None,
    slice_agents: int = SLICE_AGENTS,
) -> Index:
    """Fit the index over ``agents`` (which must have unique names).

    Parameters
    ----------
    agents : sequence of AgentSpec
    config : IndexConfig, keyword-only
        How to build and read it (default ``IndexConfig()``); kept on the index.
    progress : callable, keyword-only
        Called as ``progress(done, total)`` while reading the agents' text (most of
        the time a large catalog takes); for a progress bar. ``total`` is the number
        of agents (the text is read twice; each pass counts half).
    slice_agents : int, keyword-only
        Agents whose words are counted at a time: the build's peak memory, not its
        result (the same index to the bit).

    Raises
    ------
    ValueError
        When ``agents`` is empty or names repeat.
    CatalogError
        When no agent has a word to index (also a :class:`ValueError`).
    """
    if not agents:
        raise ValueError("cannot build an index of no agents")
    config = IndexConfig() if config is None else config
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import TfidfTransformer
    from sklearn.preprocessing import normalize as l2_rows

    ordered = sorted(agents, key=lambda a: a.name)
    names = tuple(a.name for a in ordered)
    if len(set(names)) != len(names):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"agent names must be unique; repeated: {', '.join(dupes[:5])}")
    n = len(ordered)
    # Reading text is ~2/3 of the work: agents for the words, then again for chars.
    # The bar counts agents (what a user knows the catalog by), each pass half of one.
    total = 2 * n
    step = max(1, n // 100)

    def tick(done: int) -> None:
        if progress is not None and (done % step == 0 or done == total):
            progress(done // 2, n)

    bodies = [indexed_body(a) for a in ordered]
    if isinstance(slice_agents, bool) or not isinstance(slice_agents, int) or slice_agents < 1:
        raise ValueError(f"slice_agents must be an integer >= 1, got {slice_agents!r}")
    size = slice_agents
    term_counter = _TermCounter(tuple(config.field_weights))
    fuzzy_set: set[str] = set()
    for start, stop in _slices(n, size):
        field_terms: dict[str, list[list[str]]] = {f: [] for f in config.field_weights}
        for i in range(start, stop):
            a = ordered[i]
            field_terms["name"].append(_analyze(_name_words(a)))
            field_terms["description"].append(_analyze(a.description))
            field_terms["hints"].append(_analyze(_hints(a)))
            field_terms["body"].append(_analyze(bodies[i][:MAX_BODY_CHARS]))
            tick(i + 1)
        fuzzy_set.update(
            t
            for f in ("name", "description", "hints")
            for ts in field_terms[f]
            for t in ts
            if " " not in t and len(t) >= MIN_FUZZY_LEN and t.isalpha()
        )
        term_counter.add(field_terms)
        del field_terms
    if not term_counter.vocab:
        shown = [f"{a.path or a.name} ({a.name})" for a in ordered[:5]]
        more = f" and {n - 5} more" if n > 5 else ""
        raise CatalogError(
            "no agent has a word to index: names, descriptions and bodies are empty or "
            f"only stop words in {', '.join(shown)}{more}; give each agent a description "
            "that says what it does"
        )
    feature_names, counts = term_counter.finish(n)
    del term_counter
    bm25, idf = _bm25f(counts, n, config)
    unigram = np.array([" " not in t for t in feature_names], dtype=np.float64)

    everything = counts["name"] + counts["description"] + counts["hints"] + counts["body"]
    word_transformer = TfidfTransformer(sublinear_tf=True)
    word = word_transformer.fit_transform(everything @ sp.diags(unigram)).tocsr()
    head_counts = counts["name"] + counts["description"] + counts["hints"]
    head = l2_rows(TfidfTransformer(sublinear_tf=True).fit_transform(head_counts)).tocsr()
    # The SciPy matrices go as soon as their stored form exists (a build's peak).
    del counts, everything, head_counts
    first: dict[tuple[str, str], int] = {}
    copy_of = [first.setdefault((a.description, a.body), i) for i, a in enumerate(ordered)]
    copy_array = np.asarray(copy_of, dtype=index_dtype(n))
    near = near_equivalents(word, [a.declared_name for a in ordered], copy_array)
    similar = Csr.from_scipy(sp.csr_matrix(near, shape=(n, n)), np.float64)
    bm25_t, word_t, head_rows = _transposed(bm25), _transposed(word), Csr.from_scipy(head)
    del bm25, word, head

    char_counter = _CharCounter()
    for start, stop in _slices(n, size):
        char_docs = []
        for i in range(start, stop):
            a = ordered[i]
            char_docs.append(f"{_name_words(a)}\n{a.description}\n{bodies[i][:MAX_CHAR_BODY]}")
            tick(n + i + 1)
        char_counter.add(char_docs)
        del char_docs
    char_names, char_counts = char_counter.finish()
    del char_counter
    char_transformer = TfidfTransformer(sublinear_tf=True)
    char_transformer.fit(char_counts)
    # In place (CSR, copy=False): the counts become the weights.
    chars = char_transformer.transform(char_counts, copy=False).tocsr()
    del char_counts

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

    fuzzy = sorted(fuzzy_set)
    chars_t = _transposed(chars)
    del chars
    return Index(
        names=names,
        feature_names=Strings.from_sorted(feature_names),
        idf=idf,
        unigram=unigram,
        bm25_t=bm25_t,
        word_idf=np.asarray(word_transformer.idf_, dtype=np.float64),
        word_t=word_t,
        head_rows=head_rows,
        char_names=Strings.from_sorted(char_names),
        char_idf=np.asarray(char_transformer.idf_),
        chars_t=chars_t,
        char_sums=_row_sums(chars_t),
        triggers={k: tuple(v) for k, v in sorted(table.items())},
        trigger_weight=weights,
        trigger_surface=tuple(surfaces),
        fuzzy_terms=tuple(fuzzy),
        copy_of=copy_array,
        top_idf=float(idf.max()) if idf.size else 1.0,
        similar=similar,
        not_for=build_table(ordered, names),
        config=config,
    )
