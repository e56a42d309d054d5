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

The weights are fitted (:func:`agentroute._build.build_index`) with scikit-learn's
``TfidfTransformer`` and SciPy, but the fitted index holds plain NumPy arrays only: the
matrices a request reads are stored transposed (term → agents), so scoring a request
touches the few rows of its own terms, and routing one request (and loading a cached
index) never imports scikit-learn; SciPy only for batches, or once a process routes more than a
few requests (see :data:`agentroute._score.SCIPY_AFTER`).
Every weight is bit for bit what ``TfidfVectorizer`` gives (``tests/test_build.py``
checks it).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from agentroute._negative import NotForTable
from agentroute._spec import AgentSpec, check_numbers
from agentroute._text import MAX_TRIGGER_WORDS, fold
from agentroute._tfidf import char_wb_ngrams

if TYPE_CHECKING:
    import scipy.sparse as sp

__all__ = ["Csr", "Index", "IndexConfig", "Strings", "char_words", "head_text", "indexed_body"]

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
    # normalize() collapses white space, so scikit-learn's ``_white_spaces.sub(" ", ...)``
    # before the split would change nothing; and a split of the folded text gives the
    # same words without joining them first.
    return fold(text).split()


@dataclass(frozen=True, eq=False)
class Csr:
    """A compressed sparse row matrix as three NumPy arrays; no SciPy needed to read it.

    Rows hold their entries in any order; :meth:`gather` keeps the order given.
    """

    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray
    shape: tuple[int, int]

    @property
    def nnz(self) -> int:
        """The number of entries stored."""
        return int(self.indices.size)

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

    def weighted_columns(
        self, rows: np.ndarray, weights: np.ndarray, columns: np.ndarray
    ) -> np.ndarray:
        """``sum_k weights[k] * M[rows[k], columns]`` (``columns`` ascending; the values'
        dtype, 0 where absent), added a row at a time in the order given, each row's
        product in the dtype of ``values * weights``: the same bits as the full product
        gives these columns, for rows whose column indices are sorted.

        >>> m = Csr(np.array([1.0, 2.0, 3.0]), np.array([0, 2, 1]), np.array([0, 2, 3]), (2, 3))
        >>> m.weighted_columns(np.array([0, 1]), np.array([1.0, 10.0]), np.array([1, 2])).tolist()
        [30.0, 2.0]
        """
        agents, data, lengths = self.gather(rows)
        acc = np.zeros(columns.size, dtype=data.dtype)
        wanted = columns.astype(agents.dtype)
        ends = np.cumsum(lengths)
        for a, b, q in zip((ends - lengths).tolist(), ends.tolist(), weights, strict=True):
            if a == b:
                continue
            row = agents[a:b]
            at = np.minimum(np.searchsorted(row, wanted), b - a - 1)
            found = np.where(row[at] == wanted, data[a:b][at], data.dtype.type(0))
            acc += found * q
        return acc

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
    def _widths(encoded: Sequence[bytes]) -> np.ndarray:
        """The bucket width of each encoded string: the next power of two, at least 8."""
        sizes = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
        bits = np.ceil(np.log2(np.maximum(sizes, 1))).astype(np.int64)
        out: np.ndarray = np.maximum(8, 1 << bits)
        return out

    @classmethod
    def from_sorted(cls, values: Sequence[str]) -> Strings:
        encoded = [v.encode("utf-8", "surrogatepass") + b"\x01" for v in values]
        widths = cls._widths(encoded)
        keys, positions = [], []
        for width in np.unique(widths).tolist():
            members = np.flatnonzero(widths == width)
            k = np.array([encoded[i] for i in members.tolist()], dtype=f"S{width}")
            p = members.astype(np.int32)
            # Byte order is the vocabulary's (UTF-8 keeps code point order), bar strings
            # with a NUL in them: sort only when a bucket is not in order already (a
            # stable sort of a sorted bucket leaves it as it is).
            if k.size > 1 and not bool(np.all(k[1:] >= k[:-1])):
                order = np.argsort(k, kind="stable")
                k, p = k[order], p[order]
            keys.append(k)
            positions.append(p)
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
        widths = self._widths(encoded)
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
    trigger_surface : sequence of dict
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
    trigger_surface: Sequence[dict[str, str]]
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

        >>> from agentroute._build import build_index
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
