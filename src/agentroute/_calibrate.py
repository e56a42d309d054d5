"""Confidence and scope: what the scores of one request say about the decision.

:func:`signals` reads a request's scores over the whole catalog into a
:class:`Signals` record; :class:`Calibration` turns it into two probabilities:
that the top candidate is right (``confidence``), and that the request is meant
for this catalog at all (``scope``). Each is one :class:`Logistic` whose
coefficients are named after the :class:`Signals` fields they weigh; a
:class:`CalibrationSet` holds the pair, and large full-text catalogs read a
second set, chosen by :class:`LargeCatalogs`.

The shipped numbers live in ``agentroute/data/calibration.json``, written by
``python benchmarks/fit_defaults.py`` and read once (:func:`shipped`). Adding an
input (a new signal) is a field of :class:`Signals` with its line in
:func:`signals`, and its name among a model's coefficients in the data file;
``fit_defaults.py`` fits every input the file names.
"""

from __future__ import annotations

import functools
import json
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from importlib import resources
from typing import Any, TypeVar

import numpy as np

from agentroute._index import Index
from agentroute._score import Query, Scores

__all__ = [
    "CONFIDENCE_INPUTS",
    "FLAT_CALIBRATION",
    "MAX_COEFFICIENT",
    "MAX_LOGIT",
    "SCOPE_INPUTS",
    "UNFITTED_GROUP",
    "Calibration",
    "CalibrationSet",
    "LargeCatalogs",
    "Logistic",
    "Signals",
    "batch_signals",
    "catalog_shape",
    "from_flat",
    "read_data",
    "render_data",
    "shipped",
    "shipped_min_scope",
    "signals",
]


T = TypeVar("T")

# Lexical evidence is never certainty: the confidence logit is capped here, so a
# decision's confidence stays below 0.999 however its inputs line up.
MAX_LOGIT = 6.9
# A fit gives coefficients below 30; anything past this is a crafted or broken file.
MAX_COEFFICIENT = 1e4


def _sigmoid(z: float) -> float:
    if z != z:  # NaN: min/max below would turn it into certainty
        return 0.0
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


@dataclass(frozen=True, slots=True)
class Signals:
    """What :class:`Calibration` reads for one request (see its docstring).

    A new input is a field here (default 0.0: a calibration that does not name
    it ignores it) and its line in :func:`signals`.
    """

    margin: float
    softmax_05: float
    softmax_10: float
    near_10: float
    near_20: float
    known: float
    coverage: float
    bm25: float
    word: float
    char: float
    word_z: float
    char_z: float
    log_agents: float = 0.0
    log_terms: float = 0.0
    unknown: float = 0.0
    # The group inputs (read by Calibration.group; see agentroute._similar): the
    # logit of the top agent's confidence, the log of the group's softmax mass over
    # the top agent's, the fused margin from the group to the best agent outside
    # it, and the number of alternatives; over every near-equivalent of the top agent
    # (not only those within the margin), their softmax mass and how many
    # (agentroute._similar.twin_inputs; read when a data file names them).
    top_logit: float = 0.0
    group_mass: float = 0.0
    group_margin: float = 0.0
    group_size: float = 0.0
    twin_mass: float = 0.0
    twin_count: float = 0.0


SIGNAL_NAMES = frozenset(f.name for f in fields(Signals))


def _number(where: str, value: Any, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{where} must be a number, got {value!r}")
    if not (math.isfinite(value) and lo <= value <= hi):
        raise ValueError(f"{where} must be finite and in [{lo:g}, {hi:g}], got {value!r}")
    return float(value)


@dataclass(frozen=True, slots=True, kw_only=True)
class Logistic:
    """``intercept + Σ coefficient·input``: one logistic model's logit.

    ``coefficients`` pairs a :class:`Signals` field name with its weight, in the
    order they are summed (a mapping is accepted and kept in its order).

    >>> model = Logistic(intercept=-1.0, coefficients={"margin": 2.0})
    >>> model.inputs, model.coefficient("margin")
    (('margin',), 2.0)
    >>> Logistic(intercept=0.0, coefficients={"cosine": 1.0})
    Traceback (most recent call last):
    ...
    ValueError: Logistic.coefficients names 'cosine', which is not a Signals field
    """

    intercept: float
    coefficients: tuple[tuple[str, float], ...]

    def __post_init__(self) -> None:
        where = "Logistic"
        _number(f"{where}.intercept", self.intercept, -MAX_COEFFICIENT, MAX_COEFFICIENT)
        raw: Any = self.coefficients
        pairs = list(raw.items()) if isinstance(raw, Mapping) else list(raw)
        checked: list[tuple[str, float]] = []
        for pair in pairs:
            if not (isinstance(pair, tuple | list) and len(pair) == 2 and isinstance(pair[0], str)):
                raise TypeError(f"{where}.coefficients must be (name, number) pairs, got {pair!r}")
            name, value = pair
            if name not in SIGNAL_NAMES:
                raise ValueError(
                    f"{where}.coefficients names {name!r}, which is not a Signals field"
                )
            if any(name == n for n, _ in checked):
                raise ValueError(f"{where}.coefficients names {name!r} twice")
            checked.append(
                (
                    name,
                    _number(
                        f"{where}.coefficients[{name!r}]", value, -MAX_COEFFICIENT, MAX_COEFFICIENT
                    ),
                )
            )
        object.__setattr__(self, "intercept", float(self.intercept))
        object.__setattr__(self, "coefficients", tuple(checked))

    @property
    def inputs(self) -> tuple[str, ...]:
        """The :class:`Signals` fields this model reads, in order."""
        return tuple(name for name, _ in self.coefficients)

    def coefficient(self, name: str) -> float:
        """The weight of input ``name`` (0.0 when the model does not read it)."""
        return next((value for n, value in self.coefficients if n == name), 0.0)

    def logit(self, signals: Signals) -> float:
        z = self.intercept
        for name, value in self.coefficients:
            z += value * getattr(signals, name)
        return z

    def to_dict(self) -> dict[str, Any]:
        return {"intercept": self.intercept, "coefficients": dict(self.coefficients)}

    @classmethod
    def from_dict(cls, data: Any, where: str = "Logistic") -> Logistic:
        """A model from its :meth:`to_dict` form; errors name ``where`` and the field."""
        if not isinstance(data, dict) or sorted(data) != ["coefficients", "intercept"]:
            raise ValueError(f"{where} must be an object with 'intercept' and 'coefficients'")
        if not isinstance(data["coefficients"], dict):
            raise ValueError(f"{where}.coefficients must be an object of name: number")
        pairs = tuple(data["coefficients"].items())
        return _located(where, lambda: cls(intercept=data["intercept"], coefficients=pairs))


@dataclass(frozen=True, slots=True, kw_only=True)
class CalibrationSet:
    """The two models one kind of catalog reads: ``confidence`` and ``scope``.

    ``scope_max_agents``: the largest catalog the scope model was fitted on (None:
    no bound). A larger catalog is read as one of that size (its ``log_agents``
    capped) rather than extrapolated: crowding a catalog with more collections
    lowered the in-scope probability of plainly in-scope requests (issue 21: all
    nine corpus collections together, 951 agents, declined a third of them).
    """

    confidence: Logistic
    scope: Logistic
    scope_max_agents: int | None = None

    def __post_init__(self) -> None:
        for name in ("confidence", "scope"):
            if not isinstance(getattr(self, name), Logistic):
                raise TypeError(
                    f"CalibrationSet.{name} must be a Logistic, got {getattr(self, name)!r}"
                )
        cap = self.scope_max_agents
        if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or cap < 1):
            raise ValueError(
                f"CalibrationSet.scope_max_agents must be an integer >= 1 or None, got {cap!r}"
            )

    def scope_signals(self, signals: Signals) -> Signals:
        """``signals`` as the scope model reads them (``log_agents`` capped)."""
        cap = self.scope_max_agents
        if cap is None or signals.log_agents <= math.log(cap):
            return signals
        return replace(signals, log_agents=math.log(cap))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "confidence": self.confidence.to_dict(),
            "scope": self.scope.to_dict(),
        }
        if self.scope_max_agents is not None:
            out["scope_max_agents"] = self.scope_max_agents
        return out

    @classmethod
    def from_dict(cls, data: Any, where: str = "CalibrationSet") -> CalibrationSet:
        keys = ["confidence", "scope"]
        if not isinstance(data, dict) or sorted(k for k in data if k != "scope_max_agents") != keys:
            raise ValueError(f"{where} must be an object with 'confidence' and 'scope'")
        confidence = Logistic.from_dict(data["confidence"], f"{where}.confidence")
        scope = Logistic.from_dict(data["scope"], f"{where}.scope")
        cap = data.get("scope_max_agents")
        return _located(
            where, lambda: cls(confidence=confidence, scope=scope, scope_max_agents=cap)
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class LargeCatalogs:
    """Which catalogs read :attr:`Calibration.large`: at least ``min_agents``
    agents whose texts average at least ``exp(min_log_terms) - 1`` distinct terms
    (full prompts, not one-line descriptions).

    >>> rule = LargeCatalogs(min_agents=50, min_log_terms=5.0)
    >>> rule.applies(math.log(202), 6.7), rule.applies(math.log(202), 3.9)
    (True, False)
    >>> rule.applies(math.log(36), 6.7)
    False
    """

    min_agents: int
    min_log_terms: float

    def __post_init__(self) -> None:
        value = self.min_agents
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"LargeCatalogs.min_agents must be an integer >= 1, got {value!r}")
        _number("LargeCatalogs.min_log_terms", self.min_log_terms, 0.0, 100.0)

    def applies(self, log_agents: float, log_terms: float) -> bool:
        """Whether a catalog of this shape (:func:`catalog_shape`) is large."""
        return log_agents >= math.log(self.min_agents) - 1e-9 and log_terms >= self.min_log_terms

    def to_dict(self) -> dict[str, Any]:
        return {"min_agents": self.min_agents, "min_log_terms": self.min_log_terms}

    @classmethod
    def from_dict(cls, data: Any, where: str = "LargeCatalogs") -> LargeCatalogs:
        if not isinstance(data, dict) or sorted(data) != ["min_agents", "min_log_terms"]:
            raise ValueError(f"{where} must be an object with 'min_agents' and 'min_log_terms'")
        return _located(where, lambda: cls(**data))


def _located(where: str, build: Callable[[], T]) -> T:
    """``build()``, its error message led by ``where`` instead of the class name."""
    try:
        return build()
    except (TypeError, ValueError) as exc:
        message = str(exc)
        head, _, rest = message.partition(".")
        if head.isidentifier() and rest:
            message = f"{where}.{rest}"
        raise type(exc)(message) from None


def _shipped_general() -> CalibrationSet:
    return shipped().general


def _shipped_large() -> CalibrationSet:
    return shipped().large


def _shipped_rule() -> LargeCatalogs:
    return shipped().large_catalogs


# Before a fit names it: the group's odds are the top agent's odds times the group's
# softmax mass over the top agent's (twins that score alike split one probability).
UNFITTED_GROUP = Logistic(intercept=0.0, coefficients=(("top_logit", 1.0), ("group_mass", 1.0)))


def _shipped_group() -> Logistic:
    return shipped().group


@dataclass(frozen=True, slots=True, kw_only=True)
class Calibration:
    """Maps the evidence for the top candidate to probabilities.

    Every input is measured *against the catalog's own scores for the request*
    (or is a share), or describes the catalog's shape, so that one set of
    coefficients transfers between catalogs of 4 or 800 agents and of
    one-sentence descriptions or 45 KB prompts.

    ``confidence = sigmoid(min(logit, MAX_LOGIT))`` of the set's ``confidence``
    model (``MAX_LOGIT`` = 6.9: never above 0.999) is the probability that the
    top candidate is right, given that the request is meant for this catalog.
    Its inputs (:class:`Signals`): ``margin`` is the fused margin to the best
    agent scoring differently from the top one; ``softmax_T`` the top agent's
    share of ``softmax(fused / T)`` over the whole catalog (it falls as more
    agents crowd the top); ``near_D`` the log of how many agents score within
    ``D`` of the top; ``known`` the share of the request's terms the catalog
    knows; ``coverage`` the IDF share of them the top agent's text contains;
    ``bm25``/``word``/``char`` its absolute BM25F, word- and char-cosine scores;
    ``log_agents`` the log of the number of agents and ``log_terms`` the log of
    the mean number of distinct terms per agent (long prompts or one-sentence
    descriptions).

    ``scope = sigmoid(logit)`` of the ``scope`` model is the probability that
    the request belongs to the catalog at all; ``word_z``/``char_z`` are the top
    agent's cosines as z-scores over the catalog and ``unknown`` the log of one
    plus the number of request terms no agent uses.

    Large full-text catalogs (:attr:`large_catalogs`, :class:`LargeCatalogs`:
    50+ agents with full prompts) read the :attr:`large` set; the others the
    :attr:`general` one. One logistic over every kind of catalog can shift the
    intercept by catalog shape but not the slopes, and gave crowded collections
    and their unions the slopes of small and intent catalogs; under
    leave-one-catalog-out the separate set raises precision at confidence 0.7
    and out-of-scope abstention on the large collections and unions
    (benchmarks/README.md, "Large full-text catalogs"). The large set is fitted
    on full-text catalogs of 30+ agents and applied from 50 up: applied to a
    36-agent collection it lost precision there.

    ``Calibration()`` is the shipped one (:func:`shipped`), written by
    ``python benchmarks/fit_defaults.py``: logistic regressions, each catalog
    weighted equally. The general set: labelled collections (examples removed),
    the same cut to name + description, small subsets of them and intent
    datasets as catalogs. The large set: the large full-text collections and
    every pair and triple of them installed together, and each installed with four
    unlabelled collections (issue 21; the group model too). Out-of-scope requests
    from CLINC150 ``oos`` train/val and the package's own bank.
    ``benchmarks/accuracy.py --loco`` measures them on catalogs left out of the
    fit.

    >>> cal = Calibration()
    >>> cal.large_catalogs.min_agents, cal.general.confidence.inputs[:3]
    (50, ('margin', 'softmax_05', 'softmax_10'))
    """

    general: CalibrationSet = field(default_factory=_shipped_general)
    large: CalibrationSet = field(default_factory=_shipped_large)
    large_catalogs: LargeCatalogs = field(default_factory=_shipped_rule)
    group: Logistic = field(default_factory=_shipped_group)

    def __post_init__(self) -> None:
        for name, kind in (
            ("general", CalibrationSet),
            ("large", CalibrationSet),
            ("large_catalogs", LargeCatalogs),
            ("group", Logistic),
        ):
            if not isinstance(getattr(self, name), kind):
                raise TypeError(
                    f"Calibration.{name} must be a {kind.__name__}, got {getattr(self, name)!r}"
                )

    def set_for(self, signals: Signals) -> CalibrationSet:
        """The coefficient set a request's catalog reads (by its shape)."""
        large = self.large_catalogs.applies(signals.log_agents, signals.log_terms)
        return self.large if large else self.general

    def confidence(self, signals: Signals) -> float:
        """Probability that the top candidate is right (for an in-scope request)."""
        return _sigmoid(min(self.set_for(signals).confidence.logit(signals), MAX_LOGIT))

    def scope(self, signals: Signals, *legacy: float) -> float:
        """Probability that the request is for this catalog at all."""
        if not isinstance(signals, Signals):  # agentroute 0.2: ten positional floats
            _warn_positional("Calibration.scope")
            values = (signals, *legacy)
            signals = _legacy_signals(dict(zip(SCOPE_INPUTS, values, strict=False)))
        models = self.set_for(signals)
        return _sigmoid(models.scope.logit(models.scope_signals(signals)))

    def group_confidence(self, signals: Signals) -> float:
        """Probability that the top agent or one of its alternatives is right: the
        :attr:`group` model over the group inputs of ``signals`` (``top_logit``,
        ``group_mass``, ``group_margin``, ``group_size``), never below the top
        agent's own confidence (``sigmoid(top_logit)``)."""
        own = _sigmoid(signals.top_logit)
        return max(own, _sigmoid(min(self.group.logit(signals), MAX_LOGIT)))

    def is_large(self, log_agents: float, log_terms: float) -> bool:
        """Whether a catalog of this shape (:func:`catalog_shape`) reads :attr:`large`."""
        return self.large_catalogs.applies(log_agents, log_terms)

    def __call__(self, *values: float) -> float:
        """Deprecated since 0.3 (12 positional floats): use :meth:`confidence`."""
        _warn_positional("Calibration(...)")
        return self.confidence(_legacy_signals(dict(zip(CONFIDENCE_INPUTS, values, strict=False))))

    def __getattr__(self, name: str) -> float:
        """The 0.2 flat names (``margin``, ``large_scope_word``...), deprecated."""
        if name not in _FLAT_NAMES:  # also while the fields are being set
            raise AttributeError(f"'Calibration' object has no attribute {name!r}")
        warnings.warn(
            f"Calibration.{name} is deprecated since agentroute 0.3: read the nested records "
            "(Calibration.general.confidence.coefficient('margin'), ...)",
            DeprecationWarning,
            stacklevel=2,
        )
        return _flat(self)[name]

    def to_dict(self) -> dict[str, Any]:
        """The data file's form (``agentroute/data/calibration.json``)."""
        return {
            "large_catalogs": self.large_catalogs.to_dict(),
            "general": self.general.to_dict(),
            "large": self.large.to_dict(),
            "group": self.group.to_dict(),
        }

    @classmethod
    def from_dict(
        cls, data: Any, where: str = "calibration", *, group: Logistic | None = None
    ) -> Calibration:
        """A calibration from its :meth:`to_dict` form, every number range-checked.

        ``group``: the group model when ``data`` names none (files older than it;
        default: the shipped one).

        Examples
        --------
        >>> data = Calibration().to_dict()
        >>> data["general"]["scope"]["coefficients"]["known"] = "high"
        >>> Calibration.from_dict(data)
        Traceback (most recent call last):
        ...
        TypeError: calibration.general.scope.coefficients['known'] must be a number, got 'high'
        """
        keys = ["general", "large", "large_catalogs"]
        # "group" (the group model) is optional: files older than it have none.
        if not isinstance(data, dict) or sorted(k for k in data if k != "group") != keys:
            raise ValueError(f"{where} must be an object with {', '.join(map(repr, keys))}")
        # Files older than the group model read the shipped one (their decisions are
        # those they made; the group is what 0.3 adds on top).
        if "group" in data:
            group = Logistic.from_dict(data["group"], f"{where}.group")
        elif group is None:
            group = _shipped_group()
        return cls(
            group=group,
            general=CalibrationSet.from_dict(data["general"], f"{where}.general"),
            large=CalibrationSet.from_dict(data["large"], f"{where}.large"),
            large_catalogs=LargeCatalogs.from_dict(
                data["large_catalogs"], f"{where}.large_catalogs"
            ),
        )


# The inputs each model of agentroute 0.2 read, in its flat field order (confidence:
# the coefficient named as the input; scope: ``scope_`` + the input). Saved routers of
# 0.2 store these names (:func:`from_flat`).
CONFIDENCE_INPUTS = (
    "margin",
    "softmax_05",
    "softmax_10",
    "near_10",
    "near_20",
    "known",
    "coverage",
    "bm25",
    "word",
    "char",
    "log_agents",
    "log_terms",
)
SCOPE_INPUTS = (
    "known",
    "coverage",
    "bm25",
    "word",
    "char",
    "word_z",
    "char_z",
    "log_agents",
    "log_terms",
    "unknown",
)
_FLAT_RULE = ("large_min_agents", "large_min_log_terms")


def _flat_names() -> list[str]:
    one = [
        "intercept",
        *CONFIDENCE_INPUTS,
        "scope_intercept",
        *(f"scope_{n}" for n in SCOPE_INPUTS),
    ]
    return [*one, *_FLAT_RULE, *(f"large_{n}" for n in one)]


FLAT_CALIBRATION = tuple(_flat_names())
_FLAT_NAMES = frozenset(FLAT_CALIBRATION)


def _flat(cal: Calibration) -> dict[str, float]:
    out: dict[str, float] = {}
    for pre, kind in (("", cal.general), ("large_", cal.large)):
        out[f"{pre}intercept"] = kind.confidence.intercept
        out.update((pre + n, kind.confidence.coefficient(n)) for n in CONFIDENCE_INPUTS)
        out[f"{pre}scope_intercept"] = kind.scope.intercept
        out.update((f"{pre}scope_{n}", kind.scope.coefficient(n)) for n in SCOPE_INPUTS)
    out["large_min_agents"] = float(cal.large_catalogs.min_agents)
    out["large_min_log_terms"] = cal.large_catalogs.min_log_terms
    return out


def from_flat(flat: Mapping[str, float]) -> Calibration:
    """A calibration from agentroute 0.2's flat fields (a saved router's), exactly
    those names (a file older than the large set repeats its one set)."""
    names = FLAT_CALIBRATION
    if sorted(flat) != sorted(names):
        raise ValueError(f"the flat calibration must have exactly the fields {', '.join(names)}")

    def one(pre: str) -> CalibrationSet:
        return CalibrationSet(
            confidence=Logistic(
                intercept=flat[f"{pre}intercept"],
                coefficients=tuple((n, flat[pre + n]) for n in CONFIDENCE_INPUTS),
            ),
            scope=Logistic(
                intercept=flat[f"{pre}scope_intercept"],
                coefficients=tuple((n, flat[f"{pre}scope_{n}"]) for n in SCOPE_INPUTS),
            ),
        )

    agents = _number("large_min_agents", flat["large_min_agents"], 0.0, 1e9)
    return Calibration(
        general=one(""),
        large=one("large_"),
        large_catalogs=LargeCatalogs(
            min_agents=max(1, math.ceil(agents - 1e-9)),
            min_log_terms=flat["large_min_log_terms"],
        ),
        group=_shipped_group(),
    )


def _warn_positional(what: str) -> None:
    warnings.warn(
        f"{what} with positional floats is deprecated since agentroute 0.3: pass a Signals "
        "record to Calibration.confidence / Calibration.scope",
        DeprecationWarning,
        stacklevel=3,
    )


def _legacy_signals(values: Mapping[str, float]) -> Signals:
    zero: dict[str, float] = dict.fromkeys(SIGNAL_NAMES, 0.0)
    return Signals(**{**zero, **values})


DATA_FILE = "calibration.json"


@functools.cache
def _data() -> tuple[Calibration, float]:
    text = (resources.files("agentroute") / "data" / DATA_FILE).read_text(encoding="utf-8")
    return read_data(json.loads(text), f"agentroute/data/{DATA_FILE}")


def read_data(data: Any, where: str) -> tuple[Calibration, float]:
    """The calibration and ``min_scope`` of a data file's JSON (``where`` names it in errors)."""
    if not isinstance(data, dict) or not {"calibration", "min_scope"} <= set(data):
        raise ValueError(f"{where} must be an object with 'calibration' and 'min_scope'")
    cal = Calibration.from_dict(data["calibration"], f"{where}: calibration", group=UNFITTED_GROUP)
    return cal, _number(f"{where}: min_scope", data["min_scope"], 0.0, 1.0)


def render_data(cal: Calibration, min_scope: float, about: str) -> str:
    """The data file's text for ``cal`` and ``min_scope`` (what :func:`read_data` reads)."""
    data = {"about": about, "min_scope": min_scope, "calibration": cal.to_dict()}
    return json.dumps(data, indent=2) + "\n"


def shipped() -> Calibration:
    """The calibration in the package's data file, read once."""
    return _data()[0]


def shipped_min_scope() -> float:
    """``RouterConfig.min_scope``'s default: fitted with the calibration, in its file."""
    return _data()[1]


def catalog_shape(index: Index) -> tuple[float, float]:
    """``(log_agents, log_terms)``: log of the number of agents and of the mean
    number of distinct terms (and bigrams) per agent."""
    n = max(1, index.n_agents)
    return math.log(n), math.log1p(index.bm25_t.nnz / n)


def _zscore(values: np.ndarray, j: int) -> float:
    sd = float(values.std())
    return 0.0 if sd <= 1e-12 else float((values[j] - values.mean()) / sd)


def _zscore_of(value: float, mean: float, sd: float) -> float:
    return 0.0 if sd <= 1e-12 else (value - mean) / sd


def signals(
    combined: np.ndarray,
    scores: Scores,
    row: int,
    best: int,
    query: Query,
    shape: tuple[float, float] = (0.0, 0.0),
) -> Signals:
    """The calibration inputs for request ``row`` whose top agent is ``best``.

    ``combined`` is the request's fused row as the router ranks it (rounded).
    A few vector operations over the catalog: no sort.
    """
    s1 = float(combined[best])
    below = combined[combined < s1 - 1e-6]
    rival = float(below.max()) if below.size else 0.0
    gap = combined - s1  # <= 0
    word, char = scores.word[row], scores.char[row]
    powers = np.exp(gap / 0.10)  # squared: exp(gap / 0.05), as batch_signals reads it
    softmax_10 = float(1.0 / powers.sum())
    return Signals(
        margin=s1 - rival,
        softmax_05=float(1.0 / np.multiply(powers, powers, out=powers).sum()),
        softmax_10=softmax_10,
        near_10=math.log(int(np.count_nonzero(gap >= -0.10))),
        near_20=math.log(int(np.count_nonzero(gap >= -0.20))),
        known=query.known_terms / max(1, len(query.terms)),
        coverage=float(scores.coverage[row, best]),
        bm25=float(scores.bm25[row, best]),
        word=float(word[best]),
        char=float(char[best]),
        word_z=_zscore(word, best),
        char_z=_zscore(char, best)
        if scores.char_moments is None
        else _zscore_of(float(char[best]), *scores.char_moments[row]),
        log_agents=shape[0],
        log_terms=shape[1],
        unknown=math.log1p(max(0, len(query.terms) - query.known_terms)),
    )


def _zscores(values: np.ndarray, best: np.ndarray) -> np.ndarray:
    """:func:`_zscore` of each row of ``values`` at its column ``best``."""
    sd = values.std(axis=1)
    mean = values.mean(axis=1)
    at = values[np.arange(values.shape[0]), best]
    out: np.ndarray = np.divide(at - mean, sd, out=np.zeros_like(sd), where=sd > 1e-12)
    return out


def batch_signals(
    combined: np.ndarray,
    scores: Scores,
    best: np.ndarray,
    queries: Sequence[Query],
    shape: tuple[float, float] = (0.0, 0.0),
) -> list[Signals]:
    """:func:`signals` of every row of a batch at once (row ``r``'s top agent is
    ``best[r]``): the same reductions, over the batch's matrices."""
    rows = np.arange(combined.shape[0])
    s1 = combined[rows, best]
    rival = np.where(combined < (s1 - 1e-6)[:, None], combined, -1.0).max(axis=1)
    rival = np.maximum(rival, 0.0)  # no agent below the best: 0, as signals() says
    gap = combined - s1[:, None]
    # exp(gap / 0.05) is exp(gap / 0.10) squared: one exponential of the batch's matrix
    # instead of two (the costliest pass of a batch at 10,000 agents); the square differs
    # from the direct exponential in the last bits only, and signals() squares it too, so
    # a request alone and in a batch get the same bits.
    powers = np.exp(gap / 0.10)
    soft_10 = 1.0 / powers.sum(axis=1)
    soft_05 = 1.0 / np.multiply(powers, powers, out=powers).sum(axis=1)
    near_10 = np.count_nonzero(gap >= -0.10, axis=1).tolist()
    near_20 = np.count_nonzero(gap >= -0.20, axis=1).tolist()
    word_z = _zscores(scores.word, best)
    if scores.char_moments is None:
        char_z = _zscores(scores.char, best)
    else:
        mean, sd = scores.char_moments[:, 0], scores.char_moments[:, 1]
        at = scores.char[rows, best]
        char_z = np.divide(at - mean, sd, out=np.zeros_like(sd), where=sd > 1e-12)
    out: list[Signals] = []
    for r, q in enumerate(queries):
        j = int(best[r])
        out.append(
            Signals(
                margin=float(s1[r] - rival[r]),
                softmax_05=float(soft_05[r]),
                softmax_10=float(soft_10[r]),
                near_10=math.log(near_10[r]),
                near_20=math.log(near_20[r]),
                known=q.known_terms / max(1, len(q.terms)),
                coverage=float(scores.coverage[r, j]),
                bm25=float(scores.bm25[r, j]),
                word=float(scores.word[r, j]),
                char=float(scores.char[r, j]),
                word_z=float(word_z[r]),
                char_z=float(char_z[r]),
                log_agents=shape[0],
                log_terms=shape[1],
                unknown=math.log1p(max(0, len(q.terms) - q.known_terms)),
            )
        )
    return out
