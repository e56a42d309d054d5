"""Records → the fitted, immutable index the scorers read.

Every agent is read as four fields, each a list of :func:`agentroute._text.terms`
with their bigrams:

* ``name``: the declared name's words;
* ``description``: the cleaned description;
* ``hints``: triggers, use cases, example requests and skills;
* ``body``: the prompt body (capped at :data:`MAX_BODY_CHARS`).

Three views are built over one shared vocabulary, so a request is counted once:

* ``bm25``: BM25F weights (agents × terms). Field counts are length-normalised
  per field, weighted (:attr:`IndexConfig.field_weights`), summed, then saturated. A request's
  score is the sum over its terms, divided by the best score any agent could
  reach, so it lies in [0, 1];
* ``word``: a sublinear TF-IDF vector of the unigrams of all fields (cosine);
* ``chars``: character n-grams (3–5, within words) of name, description and
  body, for morphology and typos.

Plus ``head``, a TF-IDF vector of name, description and hints alone (what an
agent says it is for; ``agentroute lint`` compares agents by it), a trigger table (trigger
phrase → agents) and the vocabulary that fuzzy matching corrects unknown
request words against.

The weights are fitted with scikit-learn's ``TfidfTransformer`` and SciPy, but
the fitted index holds plain NumPy arrays only: the matrices a request reads are
stored transposed (term → agents), so scoring a request touches the few rows of
its own terms, and routing one request (and loading a cached index) never
imports scikit-learn; SciPy only for batches, or once a process routes more than a
few requests (see :data:`agentroute._score.SCIPY_AFTER`).
Counting terms and character n-grams, the slow part of a fit, is done here
once per distinct word; the counts are laid out exactly as ``CountVectorizer``
lays them out, so every weight is bit for bit what
``TfidfVectorizer`` gives (``tests/test_index.py`` checks it).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain
from typing import TYPE_CHECKING, Any

import numpy as np

from agentroute._errors import CatalogError
from agentroute._negative import NotForTable, build_table
from agentroute._similar import near_equivalents
from agentroute._spec import AgentSpec, check_numbers
from agentroute._text import MAX_TRIGGER_WORDS, normalize, terms
from agentroute._tfidf import char_wb_ngrams, word_ngrams

if TYPE_CHECKING:
    import scipy.sparse as sp

    # The bar's module stays unloaded when nothing draws one (a route imports no more).
    from agentroute._progress import Progress

__all__ = ["Csr", "Index", "IndexConfig", "Strings", "build_index", "head_text"]

# Bodies beyond this many characters add little but cost time; real "when to
# use" material sits near the top.
MAX_BODY_CHARS = 20_000
# Character n-grams cost ~10x more per character than words: they read the
# top of the body only. 6,000 characters kept top-1 on the dev collections
# within 0.01 of the full 20,000 and cut the index build ~3x.
MAX_CHAR_BODY = 6_000
# Trigger phrases are matched as contiguous term n-grams up to this length, the
# length the loader keeps a phrase as a trigger (longer ones are use cases).
MAX_TRIGGER_TERMS = MAX_TRIGGER_WORDS
# Character n-gram lengths (scikit-learn's ``char_wb`` analyser).
CHAR_NGRAMS = (3, 5)
# rapidfuzz ratio (0-100) above which an unknown request word is read as a known
# one, and the shortest word corrected. fuzz.ratio of two words cannot reach the
# cutoff when their lengths differ too much; the candidates of each length are
# prepared once (see ``fuzzy_for``), with a hair of slack for float round-off.
FUZZY_CUTOFF = 85.0
MIN_FUZZY_LEN = 4
_FUZZY_RATIO_FLOOR = FUZZY_CUTOFF - 0.1
# Words whose char n-gram columns an index remembers (see ``Index.char_columns``).
_MAX_REMEMBERED_WORDS = 1 << 16
# Vocabulary look-ups (about three a request) after which a process builds the
# whole dictionary: cheaper than binary searches from then on (see Strings).
_DICT_AFTER = 64


@dataclass(frozen=True, slots=True, kw_only=True)
class IndexConfig:
    """How an index is built and read; stored on it (:attr:`Index.config`), so a
    saved router rebuilds the same index.

    Attributes
    ----------
    name_weight, description_weight, hints_weight, body_weight : float
        BM25F field weights. What an agent says it is for (name, description)
        weighs more per word than its long prompt body. Measured on the
        development collections (wshobson, dl-ezo, voltagent, examples removed):
        body-only BM25 gives top-1 0.548/0.479/0.629, these weights
        0.556/0.493/0.686; the result is flat around them (name 1-5, description
        1-3), so they are not a fitted optimum.
    bm25_k1, bm25_b : float
        Okapi constants: the usual k1; b = 0.75 beat 0.3 and 1.0 on the dev
        collections.
    preselect_min_agents, preselect : int
        From ``preselect_min_agents`` agents on, a request's char view is read
        for the ``preselect`` agents leading on BM25F + word only (see
        :mod:`agentroute._lexical`, "large catalogs"): at 10,000 agents 24 ms
        pre-selected against 15-17 ms exact, at 20,000 about even, so the
        threshold sits above both (decisions at 20,000 agents with it lowered:
        200 of 200 equal to exact, ``benchmarks/speed.py``).

    >>> IndexConfig(bm25_b=1.5)
    Traceback (most recent call last):
    ...
    ValueError: IndexConfig.bm25_b must be a finite number in [0, 1], got 1.5
    """

    name_weight: float = 2.0
    description_weight: float = 2.0
    hints_weight: float = 1.0
    body_weight: float = 0.5
    bm25_k1: float = 1.2
    bm25_b: float = 0.75
    preselect_min_agents: int = 50_000
    preselect: int = 1_000

    def __post_init__(self) -> None:
        check_numbers(self, ("name_weight", "description_weight", "hints_weight", "body_weight"))
        check_numbers(self, ("bm25_k1",), hi=100.0)
        check_numbers(self, ("bm25_b",), hi=1.0)
        check_numbers(self, ("preselect_min_agents", "preselect"), lo=1, integer=True)
        if not any(self.field_weights.values()):
            raise ValueError("at least one of IndexConfig's field weights must be positive")

    @property
    def field_weights(self) -> dict[str, float]:
        """Field → BM25F weight, in the order the fields are read."""
        return {
            "name": self.name_weight,
            "description": self.description_weight,
            "hints": self.hints_weight,
            "body": self.body_weight,
        }


def _analyze(doc: str) -> list[str]:
    """The word analyser: ``terms`` plus bigrams (index and query agree)."""
    return word_ngrams(terms(doc), 1, 2)


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


def indexed_body(agent: AgentSpec) -> str:
    """The body as evidence for the agent: without the sections that say what it does
    NOT do (an agent whose body lists "Docker/Kubernetes configuration (use DevOps
    Engineer)" is no match for a Kubernetes request). Bodies with no such item are
    read whole, so their index is what it was before not-for sections were parsed."""
    if not agent.not_for:
        return agent.body
    # The loader cut the same sections when it read the file; they are cut again here
    # rather than kept on the record: a record's body can be replaced
    # (``dataclasses.replace``) and a stored cut would then index the old text. The
    # second cut costs 0-3 % of a build on the real collections.
    from agentroute._extract import boundaries

    return boundaries(agent.body).indexed_body


def head_text(agent: AgentSpec) -> str:
    """The text that says what an agent is for: name, description, triggers, use cases."""
    parts = [_name_words(agent), agent.description, _hints(agent)]
    return " \n ".join(p for p in parts if p)


def char_words(text: str) -> list[str]:
    """The words the character n-grams are read from (normalised, white space split)."""
    # normalize() has already collapsed white space, so scikit-learn's
    # ``_white_spaces.sub(" ", ...)`` before the split would change nothing.
    return normalize(text).split()


@dataclass(frozen=True, eq=False)
class Csr:
    """A compressed sparse row matrix as three NumPy arrays; no SciPy needed to read it.

    Rows hold their entries in any order; :meth:`gather` keeps the order given.
    """

    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray
    shape: tuple[int, int]

    def gather(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Column indices and values of ``rows``, concatenated in the order given, and
        the number of entries of each row."""
        starts = self.indptr[rows]
        ends = self.indptr[rows + 1]
        lengths = ends - starts
        if rows.size == 0:
            return self.indices[:0], self.data[:0], lengths
        # A request has tens to hundreds of rows: concatenating slices beats building an
        # index array of every position (measured 1.3x on the char rows at 1,000 agents).
        spans = [slice(a, b) for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]
        indices, data = self.indices, self.data
        return (
            np.concatenate([indices[s] for s in spans]),
            np.concatenate([data[s] for s in spans]),
            lengths,
        )

    def lookup(self, rows: np.ndarray, col: int) -> np.ndarray:
        """The value at ``col`` of each of ``rows`` (0.0 where absent), for rows whose
        column indices are sorted (every matrix :func:`build_index` makes): a binary
        search per row, whatever the rows' lengths."""
        out = np.zeros(rows.size, dtype=np.float64)
        indptr, indices = self.indptr, self.indices
        starts, ends = indptr[rows], indptr[rows + 1]
        if int((ends - starts).sum()) <= 1 << 16:
            # Short rows (most catalogs): one gather and a mask beat a search per row.
            agents, values, lengths = self.gather(rows)
            hit = agents == col
            out[np.repeat(np.arange(rows.size), lengths)[hit]] = values[hit]
            return out
        for k, (a, b) in enumerate(
            zip(indptr[rows].tolist(), indptr[rows + 1].tolist(), strict=True)
        ):
            i = a + int(np.searchsorted(indices[a:b], col))
            if i < b and indices[i] == col:
                out[k] = self.data[i]
        return out

    def pairs(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """The value at ``(rows[k], cols[k])`` for every k (0.0 where absent), for rows
        whose column indices are sorted (see :meth:`positions`).

        >>> m = Csr(np.array([1.0, 2.0, 3.0]), np.array([0, 2, 1]), np.array([0, 2, 3]), (2, 3))
        >>> m.pairs(np.array([0, 0, 1, 1]), np.array([2, 1, 1, 0])).tolist()
        [2.0, 0.0, 3.0, 0.0]
        """
        at = self.positions(rows, cols)
        out = np.zeros(rows.size, dtype=np.float64)
        hit = at >= 0
        out[hit] = self.data[at[hit]]
        return out

    def positions(
        self, rows: np.ndarray, cols: np.ndarray, *, max_gather: int = 1 << 14
    ) -> np.ndarray:
        """Where entry ``(rows[k], cols[k])`` is stored, for every k (-1 where absent), for
        rows whose column indices are sorted (every matrix :func:`build_index` makes): one
        binary search per pair, all pairs a step at a time (a batch's look-ups cost
        ~log2(columns) NumPy calls, not a few per pair); rows of at most ``max_gather``
        entries in all are read whole instead."""
        out = np.full(rows.size, -1, dtype=np.int64)
        if rows.size == 0 or self.indices.size == 0:
            return out
        lo = self.indptr[rows].astype(np.int64)
        end = self.indptr[rows + 1].astype(np.int64)
        want = cols.astype(np.int64)
        indices = self.indices
        lengths = end - lo
        if int(lengths.sum()) <= max_gather:
            # Short rows (a request or two): one gather and a comparison beat the
            # ~log2(columns) steps of the search.
            got = np.concatenate(
                [indices[a:b] for a, b in zip(lo.tolist(), end.tolist(), strict=True)]
            )
            pair = np.repeat(np.arange(rows.size), lengths)
            hit = np.flatnonzero(got == np.repeat(want, lengths))
            starts = np.cumsum(lengths) - lengths
            out[pair[hit]] = lo[pair[hit]] + hit - starts[pair[hit]]
            return out
        hi = end.copy()
        last = indices.size - 1
        while True:
            active = lo < hi
            if not active.any():
                break
            mid = (lo + hi) // 2
            less = active & (indices[np.minimum(mid, last)] < want)
            lo = np.where(less, mid + 1, lo)
            hi = np.where(active & ~less, mid, hi)
        hit = lo < end
        hit[hit] = indices[lo[hit]] == want[hit]
        out[hit] = lo[hit]
        return out

    def to_scipy(self) -> sp.csr_matrix:
        import scipy.sparse as sp

        return sp.csr_matrix((self.data, self.indices, self.indptr), shape=self.shape)

    @classmethod
    def from_scipy(cls, matrix: Any, dtype: Any = None) -> Csr:
        """The compact form: the smallest column index and row pointer types that hold
        the matrix (``uint16`` agent ids up to 65,536 agents)."""
        m = matrix.tocsr()
        data = np.ascontiguousarray(m.data if dtype is None else m.data.astype(dtype))
        rows, cols = (int(m.shape[0]), int(m.shape[1]))
        return cls(
            data,
            np.ascontiguousarray(m.indices, dtype=index_dtype(cols)),
            np.ascontiguousarray(m.indptr, dtype=pointer_dtype(int(m.nnz))),
            (rows, cols),
        )


def index_dtype(width: int) -> np.dtype[Any]:
    """The smallest unsigned type for column indices below ``width``, else ``int32``."""
    return np.dtype(np.uint16) if width <= 1 << 16 else np.dtype(np.int32)


def pointer_dtype(nnz: int) -> np.dtype[Any]:
    return np.dtype(np.int32) if nnz < 1 << 31 else np.dtype(np.int64)


class Strings:
    """A sorted vocabulary as a few fixed-width UTF-8 arrays: position → string, and
    strings → positions by binary search (``np.searchsorted``), with no dictionary to
    build in each process.

    Strings are kept in buckets by encoded length (up to 8, 16, 32, ... bytes), each a
    sorted array of that width with the vocabulary position of each entry, so a few
    long terms do not widen every entry. Every value ends in ``\x01`` so that none ends
    in NUL (which NumPy strips).

    Examples
    --------
    >>> v = Strings.from_sorted(["api", "go", "rest api", "a very long term indeed"])
    >>> v.find(["go", "java", "api", "a very long term indeed"]).tolist()
    [1, -1, 0, 3]
    >>> v[2], len(v)
    ('rest api', 4)
    """

    __slots__ = ("_calls", "_named", "_names", "_table", "keys", "positions")

    def __init__(self, keys: Sequence[np.ndarray], positions: Sequence[np.ndarray]) -> None:
        #: Per bucket, the encoded strings in byte order (``S8``, ``S16``, ...) and
        #: ``positions``: each one's place in the whole vocabulary (``int32``).
        self.keys = tuple(keys)
        self.positions = tuple(positions)
        self._named: dict[int, str] = {}  # columns already decoded (few: reasons name them)
        # A process that keeps routing (an orchestrator, a batch) is better served by
        # one dictionary than by binary searches: it is built after _DICT_AFTER
        # look-ups, which a one-shot CLI or hook call never reaches.
        self._calls = 0
        self._table: dict[str, int] | None = None
        self._names: list[str] | None = None  # position → string, with the dictionary

    @staticmethod
    def _encode(value: str) -> bytes:
        return value.encode("utf-8", "surrogatepass") + b"\x01"

    @staticmethod
    def _width(size: int) -> int:
        return max(8, 1 << (size - 1).bit_length())

    @classmethod
    def from_sorted(cls, values: Sequence[str]) -> Strings:
        encoded = [cls._encode(v) for v in values]
        buckets: dict[int, list[int]] = {}
        for i, e in enumerate(encoded):
            buckets.setdefault(cls._width(len(e)), []).append(i)
        keys, positions = [], []
        for width in sorted(buckets):
            members = buckets[width]
            k = np.array([encoded[i] for i in members], dtype=f"S{width}")
            p = np.array(members, dtype=np.int32)
            order = np.argsort(k, kind="stable")  # byte order (sorted already, bar NUL)
            keys.append(k[order])
            positions.append(p[order])
        return cls(keys, positions)

    def __len__(self) -> int:
        return sum(int(k.size) for k in self.keys)

    def __getitem__(self, column: int) -> str:
        names = self._names
        if names is not None and 0 <= column < len(names):
            return names[column]
        named = self._named.get(column)
        if named is None:
            named = self._name(column)
            if len(self._named) >= _MAX_REMEMBERED_WORDS:
                self._named.clear()
            self._named[column] = named
        return named

    def _name(self, column: int) -> str:
        # Positions rise within a bucket (byte order is the vocabulary's order), bar
        # strings with NUL in them: a binary search in each bucket, then a scan.
        for keys, positions in zip(self.keys, self.positions, strict=True):
            at = int(np.searchsorted(positions, column))
            if at < positions.size and positions[at] == column:
                return bytes(keys[at])[:-1].decode("utf-8", "surrogatepass")
        for keys, positions in zip(self.keys, self.positions, strict=True):
            hit = np.flatnonzero(positions == column)
            if hit.size:
                return bytes(keys[int(hit[0])])[:-1].decode("utf-8", "surrogatepass")
        raise IndexError(column)

    def __iter__(self) -> Iterator[str]:
        return (self[i] for i in range(len(self)))

    def _dictionary(self) -> dict[str, int]:
        """Every string → its position; also fills the position → string list (the
        strings are decoded once for both)."""
        table: dict[str, int] = {}
        names: list[str] = [""] * len(self)
        for keys, positions in zip(self.keys, self.positions, strict=True):
            for key, at in zip(keys.tolist(), positions.tolist(), strict=True):
                value = key[:-1].decode("utf-8", "surrogatepass")
                table[value] = at
                names[at] = value
        self._names = names
        return table

    def find(self, values: Sequence[str]) -> np.ndarray:
        """The column of each value, -1 for those not in the vocabulary."""
        out = np.full(len(values), -1, dtype=np.int64)
        if not values:
            return out
        table = self._table
        if table is None:
            self._calls += 1
            if self._calls > _DICT_AFTER:
                table = self._table = self._dictionary()
        if table is not None:
            return np.fromiter((table.get(v, -1) for v in values), np.int64, len(values))
        encoded = [self._encode(v) for v in values]
        sizes = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
        # The bucket width of each: the next power of two, at least 8.
        widths = np.maximum(8, 1 << np.ceil(np.log2(sizes)).astype(np.int64))
        for keys, positions in zip(self.keys, self.positions, strict=True):
            width = keys.dtype.itemsize
            mine = np.flatnonzero(widths == width)
            if not mine.size or not keys.size:
                continue
            query = np.array([encoded[i] for i in mine.tolist()], dtype=f"S{width}")
            at = np.minimum(np.searchsorted(keys, query), keys.size - 1)
            hit = keys[at] == query
            out[mine[hit]] = positions[at[hit]]
        return out


@dataclass(frozen=True, eq=False)
class Index:
    """The fitted index of a catalog; immutable once built (share it freely).

    Only NumPy arrays, tuples and dictionaries: it can be saved as arrays and
    JSON (:mod:`agentroute._cache`) and read without scikit-learn.

    Attributes
    ----------
    names : tuple of str
        Agent names, in index order (sorted).
    feature_names : Strings
        The shared vocabulary of terms and bigrams, sorted; a column per entry.
    idf : numpy.ndarray
        BM25 inverse document frequency per vocabulary column (> 0).
    unigram : numpy.ndarray
        1.0 for the vocabulary columns that are single terms, else 0.0.
    bm25_t : Csr
        Saturated, IDF-weighted BM25F weights, transposed (vocabulary × agents).
        Its pattern is also where a term occurs anywhere in an agent's text
        (used for coverage: how much of a request an agent's text accounts for).
    word_idf : numpy.ndarray
        IDF over whole agents (sublinear tf); only the unigram columns are read.
    word_t : Csr
        L2-normalised TF-IDF of whole agents (unigrams only), transposed.
    head_rows : Csr
        L2-normalised TF-IDF rows of :func:`head_text` (agents × vocabulary).
    char_names : Strings
        The character n-grams of name, description and body, sorted.
    char_idf : numpy.ndarray
        Their IDF (float32, as scikit-learn keeps it).
    chars_t : Csr
        L2-normalised character n-gram TF-IDF, transposed (n-grams × agents).
    char_sums : numpy.ndarray
        Each n-gram's sum over agents (float64): a request's mean char score over
        the whole catalog is its vector times these, divided by the agent count.
    triggers : dict
        Trigger key (space-joined terms) → tuple of agent positions.
    trigger_weight : dict
        Trigger key → weight in (0, 1]: rarer triggers weigh more.
    trigger_surface : tuple of dict
        Per agent, trigger key → the phrase as written.
    fuzzy_terms : tuple of str
        Terms of names, descriptions and triggers that unknown request words
        are corrected to (sorted, for determinism).
    copy_of : numpy.ndarray
        Per agent, the first agent with the same description and body (collections
        copy one agent under several names, and copies are equally right).
    similar : Csr
        Per agent, its near-equivalents (agents × agents, symmetric): the agents that
        do the same job, with their word cosine (1.0 for copies); see
        :mod:`agentroute._similar`.
    top_idf : float
        The largest BM25 IDF (what an unknown word counts).
    not_for : NotForTable
        Every agent's not-for items, their redirects and its collaborators
        (:mod:`agentroute._negative`), resolved to agent positions.
    config : IndexConfig
        How it was built, and how scoring reads it.
    """

    names: tuple[str, ...]
    feature_names: Strings
    idf: np.ndarray
    unigram: np.ndarray
    bm25_t: Csr
    word_idf: np.ndarray
    word_t: Csr
    head_rows: Csr
    char_names: Strings
    char_idf: np.ndarray
    chars_t: Csr
    char_sums: np.ndarray
    triggers: dict[str, tuple[int, ...]]
    trigger_weight: dict[str, float]
    trigger_surface: tuple[dict[str, str], ...]
    fuzzy_terms: tuple[str, ...]
    copy_of: np.ndarray
    top_idf: float
    similar: Csr
    not_for: NotForTable
    config: IndexConfig = field(default_factory=IndexConfig)

    @property
    def n_agents(self) -> int:
        return len(self.names)

    @cached_property
    def _columns_seen(self) -> dict[str, int]:
        return {}

    def columns(self, grams: Sequence[str]) -> np.ndarray:
        """The vocabulary column of each term or bigram (-1: unknown).

        Each gram is searched once and remembered (requests repeat their words); a
        stream of new words empties the table rather than growing it.
        """
        seen = self._columns_seen
        # Each gram is read once from the shared table (another thread may empty it at
        # any moment: a Router is shared between threads); what is missing is searched.
        found: list[int | None] = list(map(seen.get, grams))
        if None in found:
            new = list(dict.fromkeys(g for g, j in zip(grams, found, strict=True) if j is None))
            local = dict(zip(new, self.feature_names.find(new).tolist(), strict=True))
            if len(seen) + len(new) > _MAX_REMEMBERED_WORDS:
                seen.clear()
            seen.update(local)
            found = [local[g] if j is None else j for g, j in zip(grams, found, strict=True)]
        return np.array(found, dtype=np.int64).reshape(len(grams))

    def known(self, terms: Sequence[str]) -> set[str]:
        """Which of ``terms`` (single terms) the index knows."""
        distinct = sorted(set(terms))
        return {t for t, j in zip(distinct, self.columns(distinct).tolist(), strict=True) if j >= 0}

    def column(self, term: str) -> int | None:
        """The column of a term or bigram, or None.

        >>> idx = build_index([AgentSpec("db", "Tunes slow sql queries.")])
        >>> idx.feature_names[idx.column("sql")], idx.column("zzz")
        ('sql', None)
        """
        j = int(self.columns([term])[0])
        return j if j >= 0 else None

    def knows(self, term: str) -> bool:
        """Whether ``term`` is a single term of the vocabulary."""
        return " " not in term and self.column(term) is not None

    def coverage_idf(self, cols: np.ndarray) -> np.ndarray:
        """The BM25 IDF of single-term columns, 0 for bigrams."""
        out: np.ndarray = self.idf[cols] * self.unigram[cols]
        return out

    # Derived look-up tables: built on first use, never stored. Two threads may both
    # build one; both get equal tables, so the race is harmless.
    @cached_property
    def _fuzzy_by_length(self) -> dict[int, tuple[str, ...]]:
        return {}

    def fuzzy_for(self, length: int) -> tuple[str, ...]:
        """The fuzzy terms a word of ``length`` characters could match, in sorted order.

        ``fuzz.ratio`` is ``200·common/(len1 + len2)``, at most ``200·min/(len1 + len2)``:
        words of very different lengths can never reach the cutoff, so they are left
        out. The survivors keep their sorted order, so ``extractOne`` picks the same
        word it picks from the full list.
        """
        table = self._fuzzy_by_length
        hit = table.get(length)
        if hit is None:
            hit = tuple(
                t
                for t in self.fuzzy_terms
                if 200.0 * min(len(t), length) / (len(t) + length) >= _FUZZY_RATIO_FLOOR
            )
            table[length] = hit
        return hit

    @cached_property
    def word_char_columns(self) -> dict[str, np.ndarray]:
        """Word → the columns of its character n-grams (filled by :meth:`char_columns`)."""
        return {}

    def char_columns(self, words: Sequence[str]) -> list[np.ndarray]:
        """The char n-gram columns of each word (unknown n-grams left out), remembered.

        Requests repeat their words; cutting and looking up each word's n-grams once
        halves the cost of a request's char vector, and the new words of a request are
        looked up together, in one search. Bounded: a stream of new words empties the
        table rather than growing it.
        """
        table = self.word_char_columns
        # As in ``columns``: a local table, since another thread may empty the shared one.
        local: dict[str, np.ndarray] = {}
        new: list[str] = []
        for w in dict.fromkeys(words):
            v = table.get(w)
            if v is None:
                new.append(w)
            else:
                local[w] = v
        if new:
            grams = [char_wb_ngrams(w, *CHAR_NGRAMS) for w in new]
            flat = self.char_names.find([g for gs in grams for g in gs])
            ends = np.cumsum([len(gs) for gs in grams]).tolist()
            found: dict[str, np.ndarray] = {}
            for w, a, b in zip(new, [0, *ends[:-1]], ends, strict=True):
                part = flat[a:b]
                found[w] = part[part >= 0]
            local.update(found)
            if len(table) + len(found) > _MAX_REMEMBERED_WORDS:
                table.clear()
            table.update(found)
        return [local[w] for w in words]

    # SciPy views of the transposed matrices, for batches (they share the arrays).
    @cached_property
    def bm25_scipy(self) -> sp.csr_matrix:
        return self.bm25_t.to_scipy()

    @cached_property
    def bm25_pattern(self) -> sp.csr_matrix:
        """Where each term occurs in an agent's text (1.0), for coverage."""
        import scipy.sparse as sp

        t = self.bm25_t
        ones = np.ones(t.data.size, dtype=np.float64)
        return sp.csr_matrix((ones, t.indices, t.indptr), shape=t.shape)

    @cached_property
    def word_scipy(self) -> sp.csr_matrix:
        return self.word_t.to_scipy()

    @cached_property
    def chars_scipy(self) -> sp.csr_matrix:
        return self.chars_t.to_scipy()

    @cached_property
    def head(self) -> sp.csr_matrix:
        """:attr:`head_rows` as a SciPy matrix (for the linter; imports SciPy)."""
        return self.head_rows.to_scipy()


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
