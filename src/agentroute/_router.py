"""The :class:`Router`: builds, caches, fits, saves and routes.

The router holds one immutable state (agents, index, configuration, what
``fit`` learned) and swaps it whole, so routing from many threads never sees a
half-built index. The decision itself is :mod:`agentroute._decide`; confidence
is :mod:`agentroute._calibrate`.
"""

from __future__ import annotations

import bisect
import logging
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentroute._build import build_index
from agentroute._decide import DECIDE_SCORES, RouterConfig, State, route_state
from agentroute._deprecated import renamed
from agentroute._errors import CatalogError, IndexFormatError
from agentroute._evaluate import (
    EvaluationReport,
    check_act_at,
    correct_sets,
    evaluate_stream,
)
from agentroute._explain import Explanation, explain
from agentroute._fs import PathArg
from agentroute._index import Index, IndexConfig
from agentroute._pipeline import Built, CacheArg, cache_folder, load_or_build
from agentroute._spec import AgentSpec, Decision, Diagnostic

if TYPE_CHECKING:  # the classifier imports scikit-learn; load it only when used
    from agentroute._classifier import Learned
    from agentroute._semantic import Encoder, EncoderArg
    from agentroute._signal import Signal

__all__ = [
    "CHUNK_SCORES",
    "CacheArg",
    "Router",
    "decide_in_chunks",
    "default_catalog_path",
    "from_built",
]

logger = logging.getLogger(__name__)

# A batch is decided this many (request, agent) scores at a time (see agentroute._decide).
CHUNK_SCORES = DECIDE_SCORES


def decide_in_chunks(
    state: State, texts: list[str], limit: int, *, max_scores: int = CHUNK_SCORES
) -> list[Decision]:
    """:func:`~agentroute._decide.route_state` over ``texts``, decided a slice of about
    ``max_scores`` (request, agent) scores at a time (never fewer than ``BATCH_MIN``
    requests): the same decisions, since each request is scored and decided on its own."""
    return route_state(state, texts, limit, max_scores=max_scores)


def default_catalog_path() -> Path:
    """The folder of the small sample catalog shipped inside the package."""
    return Path(str(resources.files("agentroute") / "data" / "agents"))


class Router:
    """Routes free-text requests to the agent best suited to handle them.

    Parameters
    ----------
    agents : sequence of AgentSpec
        The catalog; names must be unique.
    diagnostics : sequence of Diagnostic, keyword-only
        What loading the catalog reported (kept for :attr:`diagnostics`).
    config : RouterConfig, keyword-only
        The decision policy; defaults to ``RouterConfig()``.
    index_config : IndexConfig, keyword-only
        How the index is built and read (BM25F field weights and constants);
        defaults to ``IndexConfig()``. Kept on :attr:`index` and in a saved router.

    Examples
    --------
    >>> router = Router.from_default()
    >>> d = router.route("our kubernetes pods keep crashing after the helm upgrade")
    >>> d.agent, d.status
    ('kubernetes-operator', 'routed')
    >>> router.route("").status
    'no_match'
    """

    def __init__(
        self,
        agents: Sequence[AgentSpec],
        *,
        diagnostics: Sequence[Diagnostic] = (),
        config: RouterConfig | None = None,
        index_config: IndexConfig | None = None,
        encoder: EncoderArg | None = None,
    ) -> None:
        if not agents:
            raise CatalogError("a router needs at least one agent; none were given or loaded")
        cfg = RouterConfig() if config is None else config
        ordered = tuple(sorted(agents, key=lambda a: a.name))
        self._diagnostics = tuple(diagnostics)
        self._state = State(ordered, build_index(ordered, config=index_config), cfg)
        if encoder is not None:
            self._state = _with_view(self._state, encoder, None)

    @classmethod
    def _from_state(cls, state: State, diagnostics: Sequence[Diagnostic]) -> Router:
        """The router of an indexed ``state``: how every constructor but ``__init__``
        (which indexes its records) makes one."""
        router = object.__new__(cls)
        router._diagnostics = tuple(diagnostics)
        router._state = state
        return router

    # -- construction -------------------------------------------------------------
    @classmethod
    def from_path(
        cls,
        paths: PathArg,
        *,
        strict: bool = False,
        config: RouterConfig | None = None,
        cache: CacheArg = False,
        progress: Callable[[int, int], None] | None = None,
        index_config: IndexConfig | None = None,
        encoder: EncoderArg | None = None,
    ) -> Router:
        """Load agents from files, folders or catalogs (see :func:`load_agents`) and index them.

        Parameters
        ----------
        paths : path or sequence of paths
        strict : bool, keyword-only
            Raise on the first file that needed recovery.
        config : RouterConfig, keyword-only
        cache : bool or path, keyword-only
            Keep the fitted index on disk and reuse it while the agent files are
            unchanged (their contents are hashed on every call). False (the
            default for the library): always build. True: the folder named by
            ``$AGENTROUTE_CACHE_DIR``, else ``$XDG_CACHE_HOME/agentroute``, else
            ``~/.cache/agentroute``. A path: that folder. A cache file that is
            corrupt, truncated, foreign or from another version is never trusted:
            it is reported (a ``cache-rejected`` diagnostic and a logging warning)
            and rebuilt. The answers are the same with and without a cache.
        progress : callable, keyword-only
            ``progress(done, total)`` while the index is built (not when it is
            read from the cache).
        index_config : IndexConfig, keyword-only
            How the index is built and read (default ``IndexConfig()``); a cached
            index built with other settings is rebuilt.
        encoder : path, model name or object, keyword-only
            Add the semantic view (:mod:`agentroute._semantic`): a folder holding a
            sentence-transformers or model2vec model, a model name the local Hugging
            Face cache holds (nothing is downloaded), or any object with
            ``encode(list[str]) -> 2-D array``. Needs ``agentroute[semantic]`` for
            a folder or name. The agents' vectors are cached with the index (keyed by
            the encoder's identity and each agent's text).

        Raises
        ------
        CatalogError
            When a path does not exist or no agent could be loaded.
        AgentFileError
            In strict mode, for the first file that needed recovery.
        EncoderError
            When ``encoder`` names no usable model.
        """
        folder = cache_folder(cache)
        built = load_or_build(
            paths, folder=folder, strict=strict, progress=progress, index_config=index_config
        )
        state = State(built.agents, built.index, RouterConfig() if config is None else config)
        if encoder is not None:
            state = _with_view(state, encoder, folder)
        return cls._from_state(state, built.diagnostics)

    @classmethod
    def from_agents(
        cls,
        agents: Iterable[AgentSpec | Mapping[str, Any]],
        *,
        config: RouterConfig | None = None,
        index_config: IndexConfig | None = None,
        encoder: EncoderArg | None = None,
    ) -> Router:
        """Index records built in code: :class:`AgentSpec` s, or mappings of the catalog
        fields (``{"name": ..., "description": ..., "triggers": [...]}``, read as a
        YAML/JSON catalog entry is: triggers found in the description, unknown keys
        reported in :attr:`diagnostics`). ``encoder``: as for :meth:`from_path`
        (agent vectors are kept in the encoder's memory, not on disk).

        Raises
        ------
        ValueError
            When two agents share a name, or a mapping has no usable name.
        TypeError
            When an item is neither an AgentSpec nor a mapping.

        Examples
        --------
        >>> router = Router.from_agents([
        ...     {"name": "sql", "description": "Tunes slow SQL queries and indexes."},
        ...     {"name": "css", "description": "Fixes CSS layout, flexbox and grid."},
        ... ])
        >>> router.route("this sql query is slow").agent
        'sql'
        """
        from agentroute._load import spec_from_mapping

        specs: list[AgentSpec] = []
        diags: list[Diagnostic] = []
        for i, item in enumerate(agents):
            if isinstance(item, AgentSpec):
                specs.append(item)
            elif isinstance(item, Mapping):
                res = spec_from_mapping(item, where=f"agents[{i}]")
                if not res.agents:
                    problem = "; ".join(d.message for d in res.diagnostics if d.severity == "error")
                    raise ValueError(f"agents[{i}]: {problem or 'no agent could be made'}")
                specs += res.agents
                diags += res.diagnostics
            else:
                raise TypeError(
                    f"agents[{i}] must be an AgentSpec or a mapping, got {type(item).__name__}"
                )
        seen: set[str] = set()
        for spec in specs:
            if spec.name in seen:
                raise ValueError(f"two agents are named {spec.name!r}; names must be unique")
            seen.add(spec.name)
        return cls(
            tuple(specs),
            diagnostics=diags,
            config=config,
            index_config=index_config,
            encoder=encoder,
        )

    @classmethod
    @renamed("0.3", texts="requests")
    def from_examples(
        cls,
        requests: Sequence[str],
        labels: Sequence[str | None],
        *,
        validation: tuple[Sequence[str], Sequence[str | None]] | None = None,
        config: RouterConfig | None = None,
        min_oos_recall: float | None = None,
    ) -> Router:
        """A router built from labelled requests alone, fitted.

        The agents are the distinct labels; each agent's example requests are the
        requests labelled with it. A label of None marks a request no agent should
        take (out-of-scope training data). See :meth:`fit` for ``validation`` and
        ``min_oos_recall``. ``requests`` was ``texts=`` in 0.2 (still accepted, with a
        :class:`DeprecationWarning`).

        Examples
        --------
        >>> requests = ["book a table for two", "reserve a restaurant tonight",
        ...             "table for four at eight", "what's the weather tomorrow",
        ...             "will it rain today", "is it sunny in paris"]
        >>> labels = ["restaurant"] * 3 + ["weather"] * 3
        >>> router = Router.from_examples(requests, labels)
        >>> router.route("is it going to rain").agent
        'weather'
        """
        from agentroute._learn import check_labels

        check_labels(requests, labels, sorted({lab for lab in labels if isinstance(lab, str)}))
        # Examples become each agent's text; the classifier is what routes.
        grouped: dict[str, list[str]] = {}
        for request, label in zip(requests, labels, strict=True):
            if label is not None:
                grouped.setdefault(label, []).append(request)
        if not grouped:
            raise ValueError("from_examples needs at least one request labelled with an agent")
        agents = [AgentSpec(name, examples=tuple(ex)) for name, ex in sorted(grouped.items())]
        router = cls(agents, config=config)
        return router.fit(requests, labels, validation=validation, min_oos_recall=min_oos_recall)

    @classmethod
    def from_default(cls, *, config: RouterConfig | None = None, cache: CacheArg = False) -> Router:
        """The sample catalog shipped with the package (a dozen software agents)."""
        return cls.from_path(default_catalog_path(), config=config, cache=cache)

    # -- state ----------------------------------------------------------------------
    @property
    def agents(self) -> tuple[AgentSpec, ...]:
        """The indexed records, sorted by name."""
        agents = self._state.agents
        if isinstance(agents, tuple):
            return agents
        # Read from the index cache: every record is decoded here, once (routing
        # decodes none; see :meth:`agent` for one).
        return tuple(agents)

    def agent(self, name: str | None) -> AgentSpec | None:
        """The record of the agent named ``name``, or None when there is none (or
        ``name`` is None, as :attr:`Decision.agent` is when no agent fits).

        Cheaper than searching :attr:`agents`: a router read from the index cache
        decodes that one record only.

        Examples
        --------
        >>> router = Router.from_default()
        >>> router.agent("kubernetes-operator").name
        'kubernetes-operator'
        >>> router.agent("no-such-agent") is None
        True
        """
        if name is None:  # a decision's agent when no agent fits
            return None
        names = self._state.index.names  # sorted
        i = bisect.bisect_left(names, name)
        return self._state.agents[i] if i < len(names) and names[i] == name else None

    def explain(self, request: str, agent: str) -> Explanation:
        """Why ``agent`` is (or is not) the answer for ``request``: where it ranks, its
        score in each view, the request's words its text has and lacks, any not-for
        penalty or redirect, and what stands between it and the top.

        Raises
        ------
        ValueError
            When the catalog has no agent named ``agent`` (the message names the
            closest names).

        Examples
        --------
        >>> e = Router.from_default().explain("fix the flaky login test", "kubernetes-operator")
        >>> e.rank > 1, e.top
        (True, 'test-engineer')
        """
        names = self._state.index.names
        i = bisect.bisect_left(names, agent)
        if not (i < len(names) and names[i] == agent):
            from rapidfuzz import process

            close = [m[0] for m in process.extract(agent, names, limit=3)]
            raise ValueError(
                f"no agent named {agent!r} in this catalog; closest: {', '.join(close)}"
            )
        return explain(self._state, request, i, self.route(request))

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        """What loading the catalog recovered or skipped."""
        return self._diagnostics

    @property
    def config(self) -> RouterConfig:
        return self._state.config

    @property
    def index(self) -> Index:
        return self._state.index

    @property
    def encoder(self) -> Encoder | None:
        """The encoder of the semantic view, or None (lexical only)."""
        view = self._state.semantic
        return None if view is None else view.encoder

    def similar(self, name: str) -> tuple[str, ...]:
        """The agents that do the same job as ``name`` (its near-equivalents, learned
        from the catalog when the index was built; see :mod:`agentroute._similar`),
        most similar first. A decision whose agent has near-equivalents that fit the
        request about as well names them in :attr:`Decision.alternatives`.

        Raises
        ------
        KeyError
            When the catalog has no agent called ``name``.

        Examples
        --------
        >>> router = Router.from_agents([
        ...     {"name": "postgres-pro", "description": "Tunes PostgreSQL queries and indexes."},
        ...     {"name": "postgres-expert", "description": "PostgreSQL queries, indexes, tuning."},
        ...     {"name": "css-pro", "description": "CSS grid, flexbox and responsive layouts."},
        ... ])
        >>> router.similar("postgres-pro")
        ('postgres-expert',)
        """
        from agentroute._similar import similar_names

        if not isinstance(name, str):
            raise TypeError(f"name must be a str, got {type(name).__name__}")
        return similar_names(self._state.index, name)

    def with_config(self, config: RouterConfig) -> Router:
        """A router sharing this one's index, with another decision policy."""
        return Router._from_state(replace(self._state, config=config), self._diagnostics)

    def with_encoder(self, encoder: EncoderArg, *, cache: CacheArg = False) -> Router:
        """A router sharing this one's index, with the semantic view of ``encoder`` (see
        :meth:`from_path`); ``cache``: where the agents' vectors are kept, as there.

        Raises
        ------
        EncoderError
            When ``encoder`` names no usable model.
        """
        state = _with_view(self._state, encoder, cache_folder(cache))
        return Router._from_state(state, self._diagnostics)

    def __repr__(self) -> str:
        fitted = "" if self._state.learned is None else " fitted"
        view = self._state.semantic
        meaning = "" if view is None else f" encoder={view.encoder.label!r}"
        return (
            f"<Router agents={len(self.agents)} diagnostics={len(self.diagnostics)}"
            f"{fitted}{meaning}>"
        )

    # -- persistence ----------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the agents, configuration and what :meth:`fit` learned to one file.

        A NumPy ``.npz`` archive of arrays and JSON, read back with
        ``allow_pickle=False``: loading it cannot run code. :meth:`load` gives a
        router that makes identical decisions.
        """
        from agentroute._router_file import write_router

        state = self._state
        write_router(
            path,
            self.agents,
            self._diagnostics,
            state.config,
            state.learned,
            state.index.config,
            _signals(state),
        )

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, encoder: EncoderArg | None = None) -> Router:
        """Read a router written by :meth:`save`; the index is rebuilt from the records.

        A router saved with a semantic view stores its agents' vectors and its encoder's
        label and identity: pass the same ``encoder`` to route as it did (another encoder
        re-encodes the agents, with a warning).

        Raises
        ------
        IndexFormatError
            Naming the file, when it is corrupt, foreign or of another format version.
        EncoderError
            When the file needs an encoder and none was given (the message names it).
        """
        from agentroute._router_file import read_router

        agents, diagnostics, config, learned, index_config, signals = read_router(path)
        router = cls(agents, diagnostics=diagnostics, config=config, index_config=index_config)
        state = replace(router._state, learned=learned)
        stored = next((s for s in signals if s.name == "semantic"), None)
        if stored is not None and encoder is None:
            from agentroute._errors import EncoderError

            raise EncoderError(
                f"{os.fspath(path)}: this router was saved with the semantic view of encoder "
                f"{stored.record.get('encoder', '?')!r}; load it with Router.load(path, "
                "encoder=...)"
            )
        if encoder is not None:
            state = _with_view(state, encoder, None, stored, os.fspath(path))
        return cls._from_state(state, diagnostics)

    # -- learning -------------------------------------------------------------------
    @property
    def learned(self) -> Learned | None:
        """What :meth:`fit` learned, or None for an unfitted router."""
        return self._state.learned

    @renamed("0.3", texts="requests")
    def fit(
        self,
        requests: Sequence[str],
        labels: Sequence[str | None],
        *,
        validation: tuple[Sequence[str], Sequence[str | None]] | None = None,
        min_oos_recall: float | None = None,
    ) -> Router:
        """Learn from labelled requests; returns this router.

        ``labels[i]`` names the agent that should take ``requests[i]``, or is None
        when no agent should (that teaches abstention). The agents' own example
        requests are used too. Three ways to use the labels are tried, and each is
        kept only when it decides more held-out labelled requests rightly than what
        it would replace, so a fit is never worse than the unfitted router on them:
        adding the labelled requests to their agents' example requests (judged on
        ``validation`` or cross-fitted over the labels); on top of the better of
        that and the unfitted catalog, a classifier blended with the catalog scorer
        when the labels allow one (2+ agents with 3+ examples and 20+ held out: its
        blend, calibration and abstain threshold chosen on ``validation`` or on every
        fifth request of each label, held out, then learned from as well), else a
        monotone rescaling of the confidence. :attr:`learned` says what was kept
        (``kind``), what each way scored (``validation``) and which requests were
        added as examples (``examples``; they show in :attr:`agents`). See
        :mod:`agentroute._learn`. Deterministic; refitting replaces what an earlier
        fit learned, added examples included.

        Parameters
        ----------
        min_oos_recall : float, keyword-only
            The share of held-out out-of-scope requests the threshold must decline
            (None: ``agentroute._learn.MIN_OOS_RECALL``, 0.6).

        Raises
        ------
        ValueError
            When lengths differ or a label names no agent of this router.
        """
        state = self._state
        names = state.index.names
        from agentroute._learn import MIN_OOS_RECALL, check_labels, fit_state

        check_labels(requests, labels, names)
        if validation is not None:
            check_labels(validation[0], validation[1], names, "validation labels")
        if min_oos_recall is None:
            min_oos_recall = MIN_OOS_RECALL
        if not 0.0 <= min_oos_recall <= 1.0:
            raise ValueError(f"min_oos_recall must be in [0, 1], got {min_oos_recall!r}")
        self._state = fit_state(
            state,
            list(requests),
            list(labels),
            validation=None if validation is None else (list(validation[0]), list(validation[1])),
            min_oos_recall=min_oos_recall,
        )
        return self

    # -- routing --------------------------------------------------------------------
    @renamed(top="limit")
    def route(self, request: str, *, limit: int = 5) -> Decision:
        """Choose the agent for one request.

        Parameters
        ----------
        request : str
            Free text; empty, unknown words or megabytes are all fine (only the
            first 4,000 characters are scored).
        limit : int, keyword-only
            How many candidates to return (``top=`` in 0.1).

        Returns
        -------
        Decision
            Never raises for any string; ``confidence`` is never NaN.
        """
        return self.route_many([request], limit=limit)[0]

    @renamed(top="limit")
    def route_many(self, requests: Iterable[str], *, limit: int = 5) -> list[Decision]:
        """Route many requests at once: the same decisions as :meth:`route`, faster."""
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"limit must be a positive integer, got {limit!r}")
        texts = list(requests)
        for i, t in enumerate(texts):
            if not isinstance(t, str):
                raise TypeError(f"requests[{i}] must be a str, got {type(t).__name__}")
        return decide_in_chunks(self._state, texts, limit)

    @renamed(k="limit")
    @renamed("0.3", texts="requests", min_confidence="act_at")
    def evaluate(
        self,
        requests: Sequence[str],
        labels: Sequence[str | None],
        *,
        limit: int = 3,
        also_correct: Sequence[Iterable[str]] | None = None,
        progress: Callable[[int, int], None] | None = None,
        act_at: float | None = None,
    ) -> EvaluationReport:
        """Route labelled requests and measure the answers.

        ``labels[i]`` is the right agent for ``requests[i]``, or None when no agent
        should take it; ``also_correct[i]`` lists other agents that are right too
        (a labels file's ``also_correct``: without it, a copy of the right agent
        under another name counts as wrong). ``limit`` is the k of top-k accuracy
        (``k=`` in 0.1); ``progress(done, total)`` is called as requests are
        routed; ``act_at`` adds coverage, precision and the misrouted requests
        of a caller that acts only on answers at least that confident
        (``min_confidence=`` in 0.2; not :attr:`RouterConfig.min_confidence`,
        the router's own abstain bar). See :func:`agentroute.evaluate` for the
        figures reported.

        Raises
        ------
        ValueError
            When lengths differ or ``limit`` is not a positive integer.
        """
        requests = list(requests)
        if len(requests) != len(labels):
            raise ValueError(
                "requests and labels must have the same length, "
                f"got {len(requests)} and {len(labels)}"
            )
        labels = list(labels)
        right_sets = correct_sets(labels, len(requests), limit, also_correct)
        return evaluate_stream(
            lambda batch, depth: self.route_many(batch, limit=depth),
            zip(requests, labels, right_sets, strict=True),
            limit=limit,
            act_at=check_act_at(act_at),
            total=len(requests),
            progress=progress,
        )


def _with_view(
    state: State,
    encoder: EncoderArg,
    folder: Path | None,
    stored: Any = None,
    where: str = "",
) -> State:
    """``state`` with the semantic view of ``encoder`` (vectors from ``stored``, a saved
    router's, when they were made by the same encoder; else from the memo and cache)."""
    from agentroute._semantic import build_view, load_encoder, view_from_arrays

    enc = load_encoder(encoder)
    agents = state.agents if isinstance(state.agents, tuple) else tuple(state.agents)
    if stored is not None and stored.record.get("identity") == enc.identity:
        try:
            view = view_from_arrays(enc, stored.arrays, len(agents), where)
        except KeyError as exc:
            raise IndexFormatError(
                f"{where}: not a usable agentroute router file: the semantic view's array "
                f"{exc} is missing"
            ) from None
    else:
        if stored is not None:
            logger.warning(
                "%s was saved with encoder %r; re-encoding its agents with %r",
                where,
                stored.record.get("encoder", "?"),
                enc.label,
            )
        view = build_view(agents, enc, cache=folder)
    return replace(state, semantic=view)


def _signals(state: State) -> tuple[Signal, ...]:
    """The router's signals with arrays of their own, in the order they are fused."""
    return () if state.semantic is None else (state.semantic,)


def from_built(built: Built, *, config: RouterConfig | None = None) -> Router:
    """The router of a catalog the pipeline (:mod:`agentroute._pipeline`) loaded or read
    from the cache: how :meth:`Router.from_path` and the hook make one."""
    cfg = RouterConfig() if config is None else config
    return Router._from_state(State(built.agents, built.index, cfg), built.diagnostics)
