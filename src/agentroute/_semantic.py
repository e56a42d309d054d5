"""The semantic view: a request's closeness in meaning to each agent, from a text encoder.

A signal of its own (see :mod:`agentroute._signal`): built from the agents (each agent's
description, or the head of its body, and its example requests, encoded once), scoring a
batch of requests into a requests x agents matrix of cosines, and naming the calibration
inputs it adds. Optional: only a router built with ``encoder=`` has one, and only then is a
model library imported.

The encoder is the user's choice (``encoder=`` of :meth:`Router.from_path` and
:meth:`Router.from_agents`):

* a folder holding a sentence-transformers model (``modules.json``) or a model2vec static
  model (``config.json`` of ``model_type`` ``model2vec``);
* a model name the user's own Hugging Face cache resolves (looked up with
  ``local_files_only``: agentroute downloads nothing);
* any object with ``encode(list[str]) -> 2-D array``.

Agent vectors are cached by the digest of the encoder's identity and the agent's text: in
memory on the :class:`Encoder` (a second build in one process encodes no agent twice) and,
with ``cache=``, in a file beside the index cache.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from agentroute._errors import EncoderError
from agentroute._spec import AgentSpec

__all__ = [
    "SEMANTIC_INPUTS",
    "Encoder",
    "EncoderArg",
    "SemanticConfig",
    "SemanticView",
    "SupportsEncode",
    "agent_texts",
    "build_view",
    "centroids",
    "load_encoder",
]

logger = logging.getLogger(__name__)


@runtime_checkable
class SupportsEncode(Protocol):
    """Anything with ``encode(list[str])`` returning one row of numbers per text."""

    def encode(self, texts: list[str]) -> Any: ...


#: ``encoder=``: a model folder, a model name, or an object with ``encode``.
EncoderArg = str | os.PathLike[str] | SupportsEncode

# Texts encoded per call: bounded memory for a catalog of 100,000 agents.
BATCH = 256
# An agent's description text is its description, or the head of its body when it has
# none; the encoders read ~256 tokens, so more is wasted time.
MAX_AGENT_CHARS = 1_000
# Example requests beside the description: each one a vector, the agent's score the best.
MAX_EXAMPLES = 8
# Requests are cut as the lexical scorer cuts them (MAX_REQUEST_CHARS), and shorter:
# an encoder reads the head only.
MAX_REQUEST_CHARS = 2_000
# Fixed texts whose vectors identify an encoder (its weights, not its name).
_PROBES = ("route this request to the right agent", "kubernetes pods crash after deploy")


def _unit_rows(raw: Any, n: int, where: str) -> np.ndarray:
    """``raw`` as a float32 ``n x d`` matrix of unit rows (zero rows stay zero)."""
    try:
        arr = np.asarray(raw, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise EncoderError(f"{where}: encode() returned no array of numbers ({exc})") from None
    if arr.ndim != 2 or arr.shape[0] != n or arr.shape[1] < 1:
        raise EncoderError(
            f"{where}: encode() of {n} texts must return a {n} x d array, got shape {arr.shape}"
        )
    if not np.isfinite(arr).all():
        raise EncoderError(f"{where}: encode() returned NaN or infinite values")
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    out: np.ndarray = np.divide(arr, norms, out=np.zeros_like(arr), where=norms > 0)
    return out


class Encoder:
    """A text encoder as the semantic view uses it: unit vectors, an identity, a memo.

    Build one with :func:`load_encoder`. ``label`` names it in messages and saved routers;
    ``identity`` is a digest of the vectors it gives two fixed texts (the same weights give
    the same identity whatever the folder or name), which keys the cached agent vectors.

    Examples
    --------
    >>> class Letters:
    ...     def encode(self, texts):
    ...         return [[t.count("a") + 1, t.count("e") + 1] for t in texts]
    >>> enc = load_encoder(Letters())
    >>> enc.label, enc.dim
    ('Letters', 2)
    >>> [round(float(x), 3) for x in enc.encode(["aaa"])[0]]
    [0.97, 0.243]
    """

    def __init__(self, model: SupportsEncode, label: str, kind: str = "object") -> None:
        self._model = model
        self.label = label
        self.kind = kind
        self._lock = threading.Lock()
        self._memo: dict[bytes, np.ndarray] = {}
        probe = self._encode_now(list(_PROBES))
        self.dim = int(probe.shape[1])
        h = hashlib.sha256(f"{self.dim}".encode())
        h.update(np.round(probe.astype(np.float64), 4).tobytes())
        self.identity = h.hexdigest()[:32]

    def __repr__(self) -> str:
        return f"<Encoder {self.label} dim={self.dim} id={self.identity[:8]}>"

    def _encode_now(self, texts: list[str]) -> np.ndarray:
        if self.kind == "sentence-transformers":
            raw = self._model.encode(  # type: ignore[call-arg]
                texts, batch_size=64, convert_to_numpy=True, show_progress_bar=False
            )
        else:
            raw = self._model.encode(texts)
        return _unit_rows(raw, len(texts), f"encoder {self.label}")

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit float32 vectors of ``texts``, ``BATCH`` texts per call of the model."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        parts = [self._encode_now(list(texts[i : i + BATCH])) for i in range(0, len(texts), BATCH)]
        return np.vstack(parts)

    def digest(self, text: str) -> bytes:
        """The key of ``text``'s vector under this encoder (16 bytes)."""
        return hashlib.sha256(f"{self.identity}\0{text}".encode()).digest()[:16]

    def encode_cached(
        self, texts: Sequence[str], stored: dict[bytes, np.ndarray] | None = None
    ) -> tuple[np.ndarray, int]:
        """Vectors of ``texts``, reusing this encoder's memo and ``stored`` (digest ->
        vector); returns them and how many texts the model encoded."""
        keys = [self.digest(t) for t in texts]
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        missing: dict[bytes, list[int]] = {}
        with self._lock:
            for i, k in enumerate(keys):
                v = self._memo.get(k)
                if v is None and stored is not None:
                    v = stored.get(k)
                if v is None or v.shape != (self.dim,):
                    missing.setdefault(k, []).append(i)
                else:
                    out[i] = v
        if missing:
            first = [rows[0] for rows in missing.values()]
            fresh = self.encode([texts[i] for i in first])
            with self._lock:
                for (k, rows), v in zip(missing.items(), fresh, strict=True):
                    out[rows] = v
                    self._memo[k] = v
        with self._lock:
            for k, v in zip(keys, out, strict=True):
                self._memo.setdefault(k, v)
        return out, len(missing)


def _folder_kind(folder: Path) -> str | None:
    """Which library reads the model in ``folder``, or None. A model2vec model (which
    sentence-transformers can read too) is read with model2vec: no torch."""
    config = folder / "config.json"
    if config.is_file():
        try:
            doc = json.loads(config.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            doc = None
        # model2vec writes {"model_type": "model2vec", ...} or, since 0.8, only its own
        # keys (normalize, embedding_dtype; no transformer "architectures").
        if isinstance(doc, dict) and (
            doc.get("model_type") == "model2vec"
            or ("normalize" in doc and "architectures" not in doc and "model_type" not in doc)
        ):
            return "model2vec"
    if (folder / "modules.json").is_file() or (
        folder / "config_sentence_transformers.json"
    ).is_file():
        return "sentence-transformers"
    return None


def _missing_library(name: str, spec: str) -> EncoderError:
    return EncoderError(
        f"encoder {spec!r} needs {name}, which is not installed: pip install 'agentroute[semantic]'"
    )


def _open_folder(folder: Path, spec: str) -> Encoder:
    kind = _folder_kind(folder)
    if kind is None:
        raise EncoderError(
            f"encoder {spec!r}: {folder} holds no sentence-transformers model (modules.json) "
            "and no model2vec model (config.json of model_type model2vec)"
        )
    if kind == "sentence-transformers":
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise _missing_library("sentence-transformers", spec) from None
        model: Any = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
    else:
        try:
            from model2vec import StaticModel
        except ImportError:
            raise _missing_library("model2vec", spec) from None
        model = StaticModel.from_pretrained(str(folder))
    return Encoder(model, spec, kind)


def _resolve_name(name: str) -> Path:
    """The local folder of a model the user's Hugging Face cache holds; never downloads."""
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        raise _missing_library("huggingface_hub", name) from None
    try:
        return Path(snapshot_download(repo_id=name, local_files_only=True))
    except Exception as exc:  # not cached, or not a valid name: say which, download nothing
        raise EncoderError(
            f"encoder {name!r} is neither a folder nor a model in the local Hugging Face "
            f"cache ({type(exc).__name__}); agentroute downloads nothing: pass a folder"
        ) from None


# One Encoder per model folder and per encoding object in a process: the model is loaded
# once, and the memo of agent vectors is shared by every router built with it.
_BY_FOLDER: dict[str, Encoder] = {}
_BY_OBJECT: weakref.WeakKeyDictionary[Any, Encoder] = weakref.WeakKeyDictionary()
_LOADING = threading.Lock()


def load_encoder(spec: EncoderArg | Encoder) -> Encoder:
    """An :class:`Encoder` from ``encoder=`` (see the module docstring); the same one for
    the same folder, name or object within a process (a model is loaded once).

    Raises
    ------
    EncoderError
        Naming the argument: no such folder or cached model, a folder no supported
        library reads, the library not installed, or an ``encode`` that returns no
        2-D array of finite numbers.
    """
    if isinstance(spec, Encoder):
        return spec
    if isinstance(spec, (str, os.PathLike)):
        text = os.fspath(spec)
        if not text:
            raise EncoderError("encoder must be a model folder, a model name or an object")
        folder = Path(text).expanduser()
        if not folder.is_dir():
            if folder.exists() or text.startswith((".", "/", "~")) or text.count("/") > 1:
                raise EncoderError(f"encoder {text!r} is not a folder holding a model")
            folder = _resolve_name(text)
        key = str(folder.resolve())
        with _LOADING:
            if key not in _BY_FOLDER:
                _BY_FOLDER[key] = _open_folder(folder, text)
            return _BY_FOLDER[key]
    if isinstance(spec, SupportsEncode):
        with _LOADING:
            try:
                known = _BY_OBJECT.get(spec)
            except TypeError:  # not weakly referable: a wrapper of its own
                return Encoder(spec, type(spec).__name__)
            if known is None:
                known = _BY_OBJECT[spec] = Encoder(spec, type(spec).__name__)
            return known
    raise EncoderError(
        "encoder must be a model folder, a model name or an object with "
        f"encode(list[str]), got {type(spec).__name__}"
    )


def agent_texts(agent: AgentSpec) -> tuple[str, ...]:
    """What the view encodes for one agent: its name and description (or the head of its
    body), then up to :data:`MAX_EXAMPLES` of its example requests.

    >>> agent_texts(AgentSpec("sql-pro", "Tunes slow queries.", examples=("fix my join",)))
    ('sql pro: Tunes slow queries.', 'fix my join')
    """
    name = agent.name.replace("-", " ").replace("_", " ").strip()
    about = agent.description.strip() or agent.body.strip()
    head = f"{name}: {about}"[:MAX_AGENT_CHARS] if about else name
    examples = tuple(e.strip()[:MAX_AGENT_CHARS] for e in agent.examples if e.strip())
    return (head, *examples[:MAX_EXAMPLES])


@dataclass(frozen=True, slots=True, kw_only=True)
class SemanticConfig:
    """How the semantic view enters the decision (see :mod:`agentroute._semantic`).

    ``weight_short`` / ``weight_long``: the share of the fused score the semantic view
    takes on catalogs of short agent texts (one-sentence descriptions, tool lists) and of
    long ones (full prompts), by the catalog's mean distinct terms per agent against
    ``long_log_terms`` (the ``log_terms`` of :func:`agentroute._calibrate.catalog_shape`);
    ``weight_examples``: short catalogs whose agents carry at least
    ``examples_per_agent`` encoded texts on average (a description and example requests).
    The weights are chosen under leave-one-catalog-out by ``benchmarks/fit_semantic.py``.
    The ``confidence_`` and ``scope_`` coefficients shift the lexical calibration's logits
    by the top agent's cosine (``top``), its z-score over the catalog (``z``) and whether
    the lexical leader is the semantic one (``agree``); the defaults leave them as the
    lexical calibration gives them (not fitted yet).
    """

    # The rule of benchmarks/fit_semantic.py over every training catalog (all-MiniLM-L6-v2;
    # top-1 pooled over each shape's training requests, ties to the smaller weight):
    # name + description 0.4 (0.344 -> 0.402), agents with example requests 0.7
    # (0.681 -> 0.803, each agent compared by its prototype). Full prompts: the labelled
    # requests (the agents' own examples, which share their words) pick 0.2; fresh prompts
    # judged by hand on a dev install pick 0.3 (first candidate acceptable 0.731 -> 0.785,
    # benchmarks/README.md, "A dev set of fresh prompts"), the weight used here. The 4-12-agent
    # subsets of wshobson lose a little under leave-one-catalog-out on labelled requests.
    weight_short: float = 0.4
    weight_long: float = 0.3
    weight_examples: float = 0.7
    long_log_terms: float = 5.0
    examples_per_agent: float = 1.5
    confidence_scale: float = 1.0
    confidence_intercept: float = 0.0
    confidence_top: float = 0.0
    confidence_z: float = 0.0
    confidence_agree: float = 0.0
    scope_scale: float = 1.0
    scope_intercept: float = 0.0
    scope_top: float = 0.0
    scope_z: float = 0.0
    # A request none of whose words the catalog knows is judged by the view alone: its
    # confidence is sigmoid(alone_intercept + alone_top * top cosine + alone_gap * (top -
    # second cosine)), and it is routed only at alone_min_confidence or more (the lowest
    # bar that declined 99 % of the out-of-scope requests sharing no catalog word on the
    # training catalogs: such requests were all declined before). Fitted by
    # benchmarks/fit_semantic.py (all-MiniLM-L6-v2).
    alone_intercept: float = -3.126
    alone_top: float = 3.7724
    alone_gap: float = 14.9947
    alone_min_confidence: float = 0.44

    def __post_init__(self) -> None:
        for name in self.__slots__:
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not math.isfinite(value)
            ):
                raise ValueError(f"SemanticConfig.{name} must be a finite number, got {value!r}")
        for name in ("weight_short", "weight_long", "weight_examples", "alone_min_confidence"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(
                    f"SemanticConfig.{name} must be in [0, 1], got {getattr(self, name)!r}"
                )

    def weight(self, log_terms: float, texts_per_agent: float = 1.0) -> float:
        """The semantic view's share for a catalog of this shape.

        >>> cfg = SemanticConfig()
        >>> cfg.weight(6.7), cfg.weight(3.9), cfg.weight(3.9, 5.0)
        (0.3, 0.4, 0.7)
        """
        if log_terms >= self.long_log_terms:
            return self.weight_long
        if texts_per_agent >= self.examples_per_agent:
            return self.weight_examples
        return self.weight_short

    def alone_confidence(self, top: float, second: float) -> float:
        """The confidence that a request the view alone ranks (it shares no word with the
        catalog) is right: from its top agent's cosine and the best cosine of an agent
        that is no copy of it (``second``; 0 when there is none).

        >>> round(SemanticConfig().alone_confidence(0.7, 0.4), 3)
        0.982
        """
        z = self.alone_intercept + self.alone_top * top + self.alone_gap * (top - second)
        return float(1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z)))))


#: The calibration inputs the semantic view adds (see :class:`SemanticConfig`).
SEMANTIC_INPUTS = ("top", "z", "agree")


def centroids(vectors: np.ndarray, owner: np.ndarray, n_agents: int) -> np.ndarray:
    """Each agent's unit prototype: the normalised mean of its rows (``owner``: the agent
    of each row, grouped). An agent of one text is that text's vector; one with example
    requests is their centre with its description's, which scored held-out intents better
    than the best single row (``benchmarks/README.md``, "Meaning"). An agent with no row
    is a zero row.

    >>> v = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]], dtype=np.float32)
    >>> np.round(centroids(v, np.array([0, 0, 1]), 3).astype(float), 3).tolist()
    [[0.707, 0.707], [0.6, 0.8], [0.0, 0.0]]
    """
    sums = np.zeros((n_agents, vectors.shape[1]), dtype=np.float64)
    np.add.at(sums, owner, vectors.astype(np.float64))
    return _unit_rows(sums, n_agents, "agent vectors")


@dataclass(frozen=True, slots=True, eq=False)
class SemanticView:
    """Agent vectors (one row per text, ``owner`` the agent of each row), each agent's
    prototype (:func:`centroids`, what a request is compared with) and the encoder that
    made them."""

    encoder: Encoder
    vectors: np.ndarray  # float32, rows x dim, unit rows
    owner: np.ndarray  # int64, rows: the agent (index order) of each row
    n_agents: int
    prototypes: np.ndarray = field(init=False, repr=False)  # float32, agents x dim

    name = "semantic"
    inputs = SEMANTIC_INPUTS

    def __post_init__(self) -> None:
        object.__setattr__(self, "prototypes", centroids(self.vectors, self.owner, self.n_agents))

    @property
    def texts_per_agent(self) -> float:
        """Encoded texts per agent (1: descriptions only)."""
        return self.owner.size / max(1, self.n_agents)

    def arrays(self) -> dict[str, np.ndarray]:
        """What a saved router stores (see :func:`view_from_arrays`)."""
        return {"semantic_vectors": self.vectors, "semantic_owner": self.owner}

    def record(self) -> dict[str, str]:
        """The encoder that made the vectors (a saved router's note beside them)."""
        return {"encoder": self.encoder.label, "identity": self.encoder.identity}

    def encode_requests(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Each distinct text of ``texts`` and its vector, encoded in one batch: a batch's
        requests and the parts its teams will route (``_team.parts_to_route``)."""
        distinct = list(dict.fromkeys(texts))
        vectors = self.encoder.encode([t[:MAX_REQUEST_CHARS] for t in distinct])
        return dict(zip(distinct, vectors, strict=True))

    def score(self, texts: Sequence[str], known: dict[str, np.ndarray] | None = None) -> np.ndarray:
        """Cosines in [0, 1]: requests x agents, each agent's prototype (:func:`centroids`).
        The vectors of ``known`` (from :meth:`encode_requests`) are reused; the other texts
        are encoded in one batch."""
        known = known or {}
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        fresh = self.encode_requests(missing) if missing else {}
        q = np.zeros((len(texts), self.encoder.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            q[i] = known[t] if t in known else fresh[t]
        out: np.ndarray = np.clip((q @ self.prototypes.T).astype(np.float64), 0.0, 1.0)
        return out

    def inputs_for(self, cosines: np.ndarray, best: int, lexical_best: int) -> tuple[float, ...]:
        """``(top, z, agree)`` for one request's cosines whose fused leader is ``best``."""
        top = float(cosines[best])
        sd = float(cosines.std())
        z = 0.0 if sd <= 1e-12 else (top - float(cosines.mean())) / sd
        agree = 1.0 if int(np.argmax(cosines)) == lexical_best else 0.0
        return top, z, agree


def view_from_arrays(
    encoder: Encoder, arrays: dict[str, np.ndarray], n_agents: int, where: str
) -> SemanticView:
    """A view from stored arrays, every part checked against the catalog and encoder."""
    vectors, owner = arrays["semantic_vectors"], arrays["semantic_owner"]
    ok = (
        vectors.ndim == 2
        and vectors.shape[1] == encoder.dim
        and owner.ndim == 1
        and owner.shape[0] == vectors.shape[0]
        and owner.dtype.kind in "iu"
        and vectors.dtype.kind == "f"
        and (owner.size == 0 or (owner.min() >= 0 and owner.max() < n_agents))
        and bool(np.all(np.diff(owner) >= 0))
        and bool(np.isfinite(vectors).all())
    )
    if not ok:
        raise EncoderError(f"{where}: the stored agent vectors do not fit this catalog")
    return SemanticView(encoder, vectors.astype(np.float32), owner.astype(np.int64), n_agents)


# -- the disk cache of agent vectors ----------------------------------------------------------

_CACHE_PREFIX = "semantic-"
# A cache file holding more rows than this is read no further: rows of agents long gone
# are dropped when it is rewritten (only the current catalog's are kept).
_MAX_CACHE_ROWS = 2_000_000


def _cache_path(folder: Path, encoder: Encoder) -> Path:
    return folder / f"{_CACHE_PREFIX}{encoder.identity}.npz"


def _read_vectors(path: Path, dim: int) -> dict[bytes, np.ndarray]:
    """digest -> vector from a cache file; anything unusable reads as empty (re-encoded)."""
    from agentroute._npz import load_npz

    try:
        with load_npz(path, nofollow=True) as npz:
            keys, vectors = npz["digests"], npz["vectors"]
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, KeyError) as exc:
        logger.warning("agentroute: ignoring the semantic cache %s (%s)", path, exc)
        return {}
    if (
        keys.dtype != np.uint8
        or keys.ndim != 2
        or keys.shape[1] != 16
        or vectors.ndim != 2
        or vectors.shape != (keys.shape[0], dim)
        or vectors.dtype != np.float32
        or keys.shape[0] > _MAX_CACHE_ROWS
        or not np.isfinite(vectors).all()
    ):
        logger.warning("agentroute: ignoring the semantic cache %s (not this encoder's)", path)
        return {}
    return {bytes(k): v for k, v in zip(keys, vectors, strict=True)}


def _write_vectors(path: Path, keys: Sequence[bytes], vectors: np.ndarray) -> None:
    from agentroute._npz import write_npz

    digests = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), 16)
    try:
        write_npz(path, {"digests": digests, "vectors": vectors}, compress=False)
    except OSError as exc:  # a read-only cache still routes; the vectors are re-encoded
        logger.warning("agentroute: could not write the semantic cache %s (%s)", path, exc)


def build_view(
    agents: Sequence[AgentSpec], encoder: Encoder, *, cache: Path | None = None
) -> SemanticView:
    """Encode every agent's texts (:func:`agent_texts`), reusing what the encoder's memo and
    the cache folder ``cache`` hold; writes the cache back when anything was encoded."""
    texts: list[str] = []
    owner: list[int] = []
    for j, agent in enumerate(agents):
        for t in agent_texts(agent):
            texts.append(t)
            owner.append(j)
    stored = _read_vectors(_cache_path(cache, encoder), encoder.dim) if cache else None
    vectors, encoded = encoder.encode_cached(texts, stored)
    if cache is not None and (encoded or stored is None or len(stored) != len(set(texts))):
        keys = [encoder.digest(t) for t in texts]
        first = {k: i for i, k in reversed(list(enumerate(keys)))}
        order = sorted(first.values())
        _write_vectors(_cache_path(cache, encoder), [keys[i] for i in order], vectors[order])
    logger.debug("semantic view: %d texts, %d encoded", len(texts), encoded)
    return SemanticView(encoder, vectors, np.array(owner, dtype=np.int64), len(agents))
