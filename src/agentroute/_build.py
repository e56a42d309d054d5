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
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate, chain
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
from agentroute._pages import small_pages
from agentroute._similar import near_equivalents
from agentroute._spec import AgentSpec
from agentroute._text import term_surfaces, terms, tokens
from agentroute._tfidf import char_wb_ngrams, smooth_idf, sublinear, word_ngrams

if TYPE_CHECKING:
    # The bar's module stays unloaded when nothing draws one (a route imports no more).
    from agentroute._progress import Progress

__all__ = ["SLICE_AGENTS", "CountedIndex", "build_counted", "build_index"]


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


def _distinct(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)`` by one sort (NumPy 2's hash-based ``unique`` took 30 s for
    20 million integers where a sort takes 0.4 s)."""
    ordered = np.sort(values)
    return (
        ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))] if ordered.size else ordered
    )


# Below this, a sum in double of float32 squares that are each >= 1 is exact in any
# order: every square is a multiple of 2**-23 (a float32 >= 1), so every partial sum is
# one below 2**30, which a double holds exactly (2**53 units of 2**-23).
_EXACT_BELOW = 2.0**29


def _square_sums(
    rows: np.ndarray,
    cols: np.ndarray,
    squares: np.ndarray,
    n: int,
    *,
    exact_below: float = _EXACT_BELOW,
) -> np.ndarray:
    """Each row's sum of ``squares`` (float32, each >= 1) in double, as scikit-learn adds
    them: in the row's order by ``cols`` (first-seen ids, CountVectorizer's order).

    Under ``exact_below`` the sum is exact, so any order gives its bits and one
    ``bincount`` over the entries as they come is that sum; a row at or above it (tens of
    millions of characters in one agent) is added again in ``cols`` order."""
    sums: np.ndarray = np.bincount(rows, weights=squares, minlength=n)
    large = sums >= exact_below
    if large.any():
        pick = np.flatnonzero(large[rows])
        pick = pick[np.lexsort((cols[pick], rows[pick]))]
        again = np.bincount(rows[pick], weights=squares[pick], minlength=n)
        sums[large] = again[large]
    return sums


def _slices(n: int, size: int) -> Iterator[tuple[int, int]]:
    for start in range(0, n, max(1, size)):
        yield start, min(n, start + max(1, size))


class _TermCounter:
    """What ``CountVectorizer(analyzer=_analyze)`` fit on every field, then transform of
    each field, gives, counted a slice of agents at a time; the sorted vocabulary and the
    canonical float64 count matrices (columns sorted within each row) come out of
    :meth:`finish`.

    No term or bigram string is made per occurrence: each distinct token is turned into
    its term once (a provisional id, or -1 for a stop word), a bigram is the pair of its
    terms' ids packed in one integer (``(a + 1) << 32 | b``, above every term id), and the
    strings are made once per distinct column in :meth:`finish`, which sorts them as
    ``CountVectorizer`` does. Terms hold no space (a bigram's string does), so the columns
    and their strings correspond one to one.
    """

    def __init__(self, fields: Sequence[str]) -> None:
        self.term_of: dict[str, int] = {}  # token -> provisional term id, -1: no term
        self.term_id: dict[str, int] = {}  # term -> provisional id
        # Per field, per slice: entries per row, the slice's distinct column codes (sorted),
        # each entry's column among them, counts.
        self.parts: dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]] = {
            f: [] for f in fields
        }
        self.head: list[np.ndarray] = []  # term ids met in name, description and hints

    def _ids(self, docs: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """The term ids of each document's tokens (stop words dropped) and their rows."""
        toks = [tokens(d) for d in docs]
        flat = list(chain.from_iterable(toks))
        term_of = self.term_of
        new = [t for t in dict.fromkeys(flat) if t not in term_of]
        if new:
            # Tokens are re-read as the tokens they are (lower-case [a-z0-9]+ with an
            # optional ++ or #, space-separated), so this is ``terms`` of each token.
            found = {surface: term for term, surface in term_surfaces(" ".join(new))}
            term_id = self.term_id
            for t in new:
                term = found.get(t)
                term_of[t] = -1 if term is None else term_id.setdefault(term, len(term_id))
        ids = np.fromiter(map(term_of.__getitem__, flat), dtype=np.int64, count=len(flat))
        lengths = np.fromiter(map(len, toks), dtype=np.int64, count=len(toks))
        rows = np.repeat(np.arange(len(docs), dtype=np.int64), lengths)
        kept = ids >= 0
        return ids[kept], rows[kept]

    def add(self, fields: dict[str, list[str]]) -> None:
        """Count one slice: each field's documents (texts), the same agents in each."""
        for f, docs in fields.items():
            n = len(docs)
            ids, rows = self._ids(docs)
            if f != "body":
                self.head.append(_distinct(ids))
            # Unigrams, then each pair of neighbouring terms within a document.
            same = rows[1:] == rows[:-1]
            codes = np.concatenate([ids, ((ids[:-1][same] + 1) << 32) | ids[1:][same]])
            rows = np.concatenate([rows, rows[:-1][same]])
            # (row, column) counted by one sort of the slice's packed keys.
            local_codes, local = np.unique(codes, return_inverse=True)
            keys, counts = np.unique((rows << 32) | local.astype(np.int64), return_counts=True)
            self.parts[f].append(
                (
                    np.bincount(keys >> 32, minlength=n).astype(np.int64),
                    local_codes,
                    (keys & _LOW).astype(np.int32),
                    counts,
                )
            )

    def finish(self, n: int) -> tuple[tuple[str, ...], list[str], dict[str, Any]]:
        """The sorted vocabulary, the head fields' unigrams and each field's counts."""
        import scipy.sparse as sp

        if not self.term_id:
            raise ValueError("empty vocabulary; perhaps the documents only contain stop words")
        term_names = list(self.term_id)  # provisional id -> term
        self.term_of, self.term_id = {}, {}
        codes = _distinct(np.concatenate([p[1] for ps in self.parts.values() for p in ps]))
        pairs = codes >= (1 << 32)
        left = ((codes[pairs] >> 32) - 1).tolist()
        right = (codes[pairs] & _LOW).tolist()
        strings = [term_names[i] for i in codes[~pairs].tolist()]
        strings += [f"{term_names[a]} {term_names[b]}" for a, b in zip(left, right, strict=True)]
        del left, right
        names = tuple(sorted(strings))
        position = dict(zip(strings, range(len(strings)), strict=True))
        del strings
        width = len(names)
        remap = np.empty(width, dtype=np.int32)
        remap[np.fromiter(map(position.__getitem__, names), np.int64, width)] = np.arange(
            width, dtype=np.int32
        )
        del position
        head = _distinct(np.concatenate(self.head)) if self.head else np.zeros(0, np.int64)
        head_terms = [term_names[i] for i in head.tolist()]
        out: dict[str, Any] = {}
        for f, parts in self.parts.items():
            indptr = np.zeros(n + 1, dtype=np.int64)
            np.cumsum(np.concatenate([p[0] for p in parts]), out=indptr[1:])
            indices = np.empty(int(indptr[-1]), dtype=np.int32)
            data = np.empty(int(indptr[-1]), dtype=np.float64)
            at = 0
            while parts:
                lengths, local_codes, local, counts = parts.pop(0)
                final = remap[np.searchsorted(codes, local_codes)][local]
                # Sorted columns within each row: sort the slice's (row, column) keys.
                rows = np.repeat(np.arange(lengths.size, dtype=np.int64), lengths)
                order = np.argsort((rows << 32) | final, kind="stable")
                indices[at : at + final.size] = final[order]
                data[at : at + final.size] = counts[order]
                at += final.size
            out[f] = sp.csr_matrix((data, indices, indptr), shape=(n, width))
        return names, head_terms, out


class _CharCounter:
    """``CountVectorizer(analyzer="char_wb", ngram_range=(3, 5), preprocessor=normalize,
    lowercase=False, dtype=float32).fit_transform(docs)``, one distinct word at a time, a
    slice of documents at a time.

    The n-grams of a document are those of its words, so each distinct word is cut
    once. The n-grams get scikit-learn's ids (by when each was first seen in the
    corpus; slices are counted in order, so first-seen ids are those of the whole
    corpus), and the columns are the n-grams' sorted positions. Within a row, entries
    stay in the sparse product's order: its TF-IDF normalisation, the one sum over a
    row, gives the same bits in any order (:func:`_square_sums`).
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
        new = [w for w in dict.fromkeys(chain.from_iterable(doc_lists)) if w not in word_id]
        word_id.update(zip(new, range(len(word_id), len(word_id) + len(new)), strict=True))
        gram_lists = [char_wb_ngrams(w, *CHAR_NGRAMS) for w in new]
        del new
        flat = list(chain.from_iterable(gram_lists))
        # New n-grams get their ids in the order first met (dict.fromkeys keeps it).
        fresh = [g for g in dict.fromkeys(flat) if g not in first_seen]
        first_seen.update(
            zip(fresh, range(len(first_seen), len(first_seen) + len(fresh)), strict=True)
        )
        del fresh
        word_ptr += list(accumulate(map(len, gram_lists), initial=word_ptr[-1]))[1:]
        self.word_grams.append(
            np.fromiter(map(first_seen.__getitem__, flat), dtype=np.int32, count=len(flat))
        )
        del gram_lists, flat
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
        # A product has no duplicate entries; its rows are left in the product's order, not
        # CountVectorizer's (by first-seen id): the one sum that reads that order, the L2
        # norm, is exact in any order (:func:`_square_sums`).
        counts = (dw @ wg).tocsr()
        # Counts kept as uint16 where they fit (a slice's parts stay until the end).
        small = counts.data.size == 0 or int(counts.data.max()) <= np.iinfo(np.uint16).max
        self.parts.append(
            (
                np.diff(counts.indptr).astype(np.int64),
                counts.indices.astype(np.int32, copy=False),
                counts.data.astype(np.uint16 if small else np.float32),
            )
        )

    def finish(
        self, *, keep: bool = False
    ) -> tuple[tuple[str, ...], np.ndarray, Csr, np.ndarray, np.ndarray | None]:
        """The sorted n-grams, their IDF, the weights transposed (n-grams × documents):
        ``TfidfTransformer(sublinear_tf=True).fit_transform`` of the counts, then
        ``.T.tocsr()``, to the bit, computed a slice at a time into the final arrays, so
        the documents × n-grams matrix, its weights and its transpose never coexist (at
        100,000 agents each is ~3 GB); and each n-gram's sum of weights (float64), added
        in document order as ``np.bincount`` over its row adds them; with ``keep``, the
        weights' integer counts (``uint16``, one per entry; None when one does not fit)."""
        import scipy.sparse as sp

        first_seen = self.first_seen
        if not first_seen:
            raise ValueError("empty vocabulary; perhaps the documents only contain stop words")
        self.word_id, self.word_grams = {}, []
        n_grams = len(first_seen)
        names = sorted(first_seen)
        remap = np.empty(n_grams, dtype=np.int32)
        remap[np.fromiter(map(first_seen.__getitem__, names), np.int64, n_grams)] = np.arange(
            n_grams, dtype=np.int32
        )
        self.first_seen = {}
        parts = self.parts
        n_docs = sum(p[0].size for p in parts)
        df = np.zeros(n_grams, dtype=np.int64)
        for _, cols, _ in parts:
            df += np.bincount(cols, minlength=n_grams)
        idf = smooth_idf(df, n_docs, np.dtype(np.float32))
        # Row g of the transpose (sorted position) holds the df[g] documents that have it,
        # in document order: each slice fills the next places of its n-grams' rows.
        row_len = np.empty(n_grams, dtype=np.int64)
        row_len[remap] = df
        del df
        nnz = int(row_len.sum())
        indptr = np.zeros(n_grams + 1, dtype=np.int64)
        np.cumsum(row_len, out=indptr[1:])
        del row_len
        indices = np.empty(nnz, dtype=index_dtype(n_docs))
        data = np.empty(nnz, dtype=np.float32)
        # Each entry's count in the same places, for the cache writer (counts above
        # 65,535, never met in an agent file, are not kept: the writer stores floats).
        keep = keep and all(p[2].dtype == np.uint16 for p in parts)
        kept = np.empty(nnz, dtype=np.uint16) if keep else None
        fill = indptr[:-1].copy()
        sums = np.zeros(n_grams, dtype=np.float64)
        first_doc = 0
        while parts:  # each slice is weighted, placed, then let go
            lengths, cols, counts = parts.pop(0)
            values = sublinear(counts, idf[cols])
            rows = np.repeat(np.arange(lengths.size, dtype=np.int64), lengths)
            # sklearn's L2: float32 squares summed in double, each value divided in double.
            # No row is all zeros (idf > 0).
            norms = np.sqrt(_square_sums(rows, cols, values * values, lengths.size))
            values = (values / norms[rows]).astype(np.float32)
            del rows, norms
            # Unbuffered: each n-gram's weights added one after another, documents ascending
            # (slices come in document order), as a bincount over its finished row adds them.
            grams = remap[cols]
            del cols
            np.add.at(sums, grams, values.astype(np.float64))
            ptr = np.zeros(lengths.size + 1, dtype=np.int64)
            np.cumsum(lengths, out=ptr[1:])
            # Per n-gram, documents ascending; with the counts kept, the entries' places in
            # the slice travel instead of their values, and both follow them.
            moved = np.arange(values.size, dtype=np.int64) if kept is not None else values
            by_gram = sp.csr_matrix((moved, grams, ptr), shape=(lengths.size, n_grams)).tocsc()
            del moved, grams
            per = np.diff(by_gram.indptr)
            at = np.repeat(fill - by_gram.indptr[:-1], per)
            at += np.arange(by_gram.nnz)
            indices[at] = by_gram.indices + first_doc
            if kept is not None:
                data[at] = values[by_gram.data]
                kept[at] = counts[by_gram.data]
            else:
                data[at] = by_gram.data
            del values, counts
            fill += per
            first_doc += lengths.size
            del by_gram, at, per
        chars_t = Csr(data, indices, indptr.astype(pointer_dtype(nnz)), (n_grams, n_docs))
        by_name = np.empty_like(idf)  # the IDF of each n-gram by its sorted position
        by_name[remap] = idf
        return tuple(names), by_name, chars_t, sums, kept


# -- fitting ----------------------------------------------------------------------------


def _bm25f(fields: dict[str, Any], n_agents: int, config: IndexConfig) -> tuple[Any, np.ndarray]:
    """BM25F: per-field length normalisation, weighted sum, one saturation, IDF.

    Rows and columns are scaled on the stored values (``data * scale[row]``,
    ``data * idf[column]``): the products ``diags(scale) @ counts`` and ``tf @ diags(idf)``
    give, each entry being one product added to 0, the same values (zero products
    dropped as they drop them), without a sparse product's sort."""
    import scipy.sparse as sp

    total: Any = None
    for name, counts in fields.items():
        length = np.asarray(counts.sum(axis=1), dtype=np.float64).ravel()
        mean = float(length.mean()) if length.size else 0.0
        b = config.bm25_b
        norm = 1.0 - b + b * length / mean if mean > 0 else np.ones_like(length)
        scale = config.field_weights[name] / np.maximum(norm, 1e-9)
        part = sp.csr_matrix(
            (counts.data * np.repeat(scale, np.diff(counts.indptr)), counts.indices, counts.indptr),
            shape=counts.shape,
        )
        part.eliminate_zeros()
        total = part if total is None else total + part
    assert total is not None
    tf = sp.csr_matrix(total, dtype=np.float64)
    df = np.bincount(tf.indices, minlength=tf.shape[1]).astype(np.float64)
    # Lucene's non-negative IDF: a term every agent has still weighs a little.
    idf = np.log1p((n_agents - df + 0.5) / (df + 0.5))
    k1 = config.bm25_k1
    tf.data = tf.data * (k1 + 1.0) / (tf.data + k1)
    tf.data = tf.data * idf[tf.indices]
    tf.eliminate_zeros()
    tf.sort_indices()
    return tf, idf


def _transposed(matrix: Any, dtype: Any = None) -> Csr:
    return Csr.from_scipy(matrix.T.tocsr(), dtype)


@dataclass(frozen=True, slots=True, eq=False)
class CountedIndex:
    """An index about to be written to the cache, and the integer counts of its char and
    word weights (``uint16``, one per entry in the matrix's order), by matrix name
    (``chars_t``, ``word_t``; a matrix with a count above 65,535 has none): the cache
    writer takes them (:func:`agentroute._cache.write_cache`) instead of recovering them
    from the weights. Two bytes an entry: let go once written."""

    index: Index
    counts: Mapping[str, np.ndarray]


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
    with small_pages():  # the kernel's time, not ours: see agentroute._pages
        return _fit(agents, config, progress, slice_agents, keep=False).index


def build_counted(
    agents: Sequence[AgentSpec],
    *,
    config: IndexConfig | None = None,
    progress: Progress | None = None,
    slice_agents: int = SLICE_AGENTS,
) -> CountedIndex:
    """:func:`build_index` for an index about to be written to the cache: the same index,
    with its char and word weights' integer counts (:class:`CountedIndex`).

    Raises
    ------
    ValueError
        When ``agents`` is empty or names repeat.
    CatalogError
        When no agent has a word to index (also a :class:`ValueError`).
    """
    with small_pages():
        return _fit(agents, config, progress, slice_agents, keep=True)


def _fit(
    agents: Sequence[AgentSpec],
    config: IndexConfig | None,
    progress: Progress | None,
    slice_agents: int,
    *,
    keep: bool,
) -> CountedIndex:
    if not agents:
        raise ValueError("cannot build an index of no agents")
    config = IndexConfig() if config is None else config
    ordered = _ordered(agents)
    names = tuple(a.name for a in ordered)
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
    words = _words(ordered, bodies, config, slice_agents, tick, keep=keep)
    char_names, char_idf, chars_t, char_sums, char_counts = _chars(
        ordered, bodies, slice_agents, tick, keep=keep
    )
    counts = {"word_t": words.counts, "chars_t": char_counts}
    table, weights, surfaces = _trigger_table(ordered)
    fuzzy = sorted(t for t in words.head_terms if len(t) >= MIN_FUZZY_LEN and t.isalpha())
    index = Index(
        names=names,
        feature_names=Strings.from_sorted(words.feature_names),
        idf=words.idf,
        unigram=words.unigram,
        bm25_t=words.bm25_t,
        word_idf=words.word_idf,
        word_t=words.word_t,
        head_rows=words.head_rows,
        char_names=Strings.from_sorted(char_names),
        char_idf=char_idf,
        chars_t=chars_t,
        char_sums=char_sums,
        triggers=table,
        trigger_weight=weights,
        trigger_surface=surfaces,
        fuzzy_terms=tuple(fuzzy),
        copy_of=words.copy_of,
        top_idf=float(words.idf.max()) if words.idf.size else 1.0,
        similar=words.similar,
        not_for=build_table(ordered, names),
        config=config,
    )
    return CountedIndex(index=index, counts={k: v for k, v in counts.items() if v is not None})


def _ordered(agents: Sequence[AgentSpec]) -> list[AgentSpec]:
    """The agents by name, which must be unique."""
    ordered = sorted(agents, key=lambda a: a.name)
    names = [a.name for a in ordered]
    if len(set(names)) != len(names):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"agent names must be unique; repeated: {', '.join(dupes[:5])}")
    return ordered


def _term_counts(
    ordered: Sequence[AgentSpec],
    bodies: Sequence[str],
    config: IndexConfig,
    size: int,
    tick: Callable[[int], None],
) -> tuple[tuple[str, ...], list[str], dict[str, Any]]:
    """Each field's term and bigram counts, a slice of agents at a time (the first pass
    over the text): :meth:`_TermCounter.finish`."""
    n = len(ordered)
    term_counter = _TermCounter(tuple(config.field_weights))
    for start, stop in _slices(n, size):
        field_text: dict[str, list[str]] = {f: [] for f in config.field_weights}
        for i in range(start, stop):
            a = ordered[i]
            field_text["name"].append(_name_words(a))
            field_text["description"].append(a.description)
            field_text["hints"].append(_hints(a))
            field_text["body"].append(bodies[i][:MAX_BODY_CHARS])
            tick(i + 1)
        term_counter.add(field_text)
        del field_text
    if not term_counter.term_id:
        shown = [f"{a.path or a.name} ({a.name})" for a in ordered[:5]]
        more = f" and {n - 5} more" if n > 5 else ""
        raise CatalogError(
            "no agent has a word to index: names, descriptions and bodies are empty or "
            f"only stop words in {', '.join(shown)}{more}; give each agent a description "
            "that says what it does"
        )
    return term_counter.finish(n)


@dataclass(frozen=True, slots=True, eq=False)
class _Words:
    """The word side of the index: the vocabulary and what is weighted over it."""

    feature_names: tuple[str, ...]
    head_terms: list[str]  # the unigrams of names, descriptions and hints
    idf: np.ndarray  # BM25F's
    unigram: np.ndarray
    bm25_t: Csr
    word_idf: np.ndarray
    word_t: Csr
    head_rows: Csr
    copy_of: np.ndarray
    similar: Csr
    counts: np.ndarray | None  # word_t's integer counts (uint16), when kept


def _words(
    ordered: Sequence[AgentSpec],
    bodies: Sequence[str],
    config: IndexConfig,
    size: int,
    tick: Callable[[int], None],
    *,
    keep: bool,
) -> _Words:
    """Count the terms, then weigh them: BM25F, word TF-IDF, the head fields' rows, and the
    copies and near-equivalents they reveal."""
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import TfidfTransformer
    from sklearn.preprocessing import normalize as l2_rows

    n = len(ordered)
    feature_names, head_terms, counts = _term_counts(ordered, bodies, config, size, tick)
    bm25, idf = _bm25f(counts, n, config)
    unigram = np.array([" " not in t for t in feature_names], dtype=np.float64)

    everything = counts["name"] + counts["description"] + counts["hints"] + counts["body"]
    word_transformer = TfidfTransformer(sublinear_tf=True)
    unigram_counts = everything @ sp.diags(unigram)
    word = word_transformer.fit_transform(unigram_counts).tocsr()
    # The weights keep the counts' entries (each >= 1 x an idf >= 1): transposed alike,
    # the counts fall in the weights' places.
    word_counts = unigram_counts.T.tocsr().data if keep else None
    del unigram_counts
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
    kept = (
        word_counts.astype(np.uint16)
        if word_counts is not None
        and word_counts.size == word_t.nnz
        and (not word_counts.size or float(word_counts.max()) <= np.iinfo(np.uint16).max)
        else None
    )
    del word_counts
    return _Words(
        feature_names=feature_names,
        head_terms=head_terms,
        idf=idf,
        unigram=unigram,
        bm25_t=bm25_t,
        word_idf=np.asarray(word_transformer.idf_, dtype=np.float64),
        word_t=word_t,
        head_rows=head_rows,
        copy_of=copy_array,
        similar=similar,
        counts=kept,
    )


def _chars(
    ordered: Sequence[AgentSpec],
    bodies: Sequence[str],
    size: int,
    tick: Callable[[int], None],
    *,
    keep: bool,
) -> tuple[tuple[str, ...], np.ndarray, Csr, np.ndarray, np.ndarray | None]:
    """The character n-gram side (the second pass over the text):
    :meth:`_CharCounter.finish`."""
    n = len(ordered)
    char_counter = _CharCounter()
    for start, stop in _slices(n, size):
        char_docs = []
        for i in range(start, stop):
            a = ordered[i]
            char_docs.append(f"{_name_words(a)}\n{a.description}\n{bodies[i][:MAX_CHAR_BODY]}")
            tick(n + i + 1)
        char_counter.add(char_docs)
        del char_docs
    return char_counter.finish(keep=keep)


def _trigger_table(
    ordered: Sequence[AgentSpec],
) -> tuple[dict[str, tuple[int, ...]], dict[str, float], tuple[dict[str, str], ...]]:
    """The trigger phrases: key → the agents that declare it, each key's rarity weight,
    and per agent, its keys as the agent wrote them."""
    n = len(ordered)
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
    return {k: tuple(v) for k, v in sorted(table.items())}, weights, tuple(surfaces)
