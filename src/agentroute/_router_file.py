"""A router on disk: one NumPy ``.npz`` archive that cannot run code when loaded.

``meta`` (UTF-8 JSON, stored as a uint8 array) holds the format name and version,
the agents' records, the loader's diagnostics, the :class:`RouterConfig` and the
scalars of what :meth:`Router.fit` learned; the classifier's arrays (vocabularies
as JSON, idf, weights) sit beside it. The file is read with ``allow_pickle=False``
and every part is checked; the index is rebuilt from the records (deterministic).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

from agentroute._calibrate import FLAT_CALIBRATION, Calibration, from_flat
from agentroute._classifier import ExampleModel, Learned
from agentroute._decide import RouterConfig
from agentroute._errors import IndexFormatError
from agentroute._index import IndexConfig
from agentroute._negative import NotForConfig
from agentroute._npz import json_array, load_npz, write_npz
from agentroute._score import Weights
from agentroute._semantic import SemanticConfig
from agentroute._signal import SAVED_SIGNALS, Signal
from agentroute._spec import AgentSpec, Diagnostic, spec_from_json, spec_to_json
from agentroute._team import TeamConfig
from agentroute._tfidf import KINDS, NgramTfidf

__all__ = ["FORMAT", "FORMAT_VERSION", "StoredView", "read_router", "write_router"]

FORMAT = "agentroute-router"
# Version 2 adds the signals with arrays of their own (today the semantic view): each one's
# record under its name in ``meta`` (the semantic view's: its encoder's label and identity)
# and its arrays, named after it; a router without one is still written as version 1,
# which every release reads.
FORMAT_VERSION = 2
_READS = (1, 2)
# A signal's record: a few short strings (an encoder's label, its identity).
_MAX_RECORD_FIELDS = 16
_MAX_RECORD_CHARS = 1000


@dataclass(frozen=True, slots=True, eq=False)
class StoredView:
    """A saved router's signal (see :data:`agentroute._signal.SAVED_SIGNALS`): its name,
    its record (what made its arrays, e.g. the encoder) and its arrays, as saved; they are
    checked against the catalog when the signal is rebuilt from them."""

    name: str
    record: dict[str, str]
    arrays: dict[str, np.ndarray]


# What a router file holds: the records, their diagnostics, the decision policy, what
# fit learned (None: never fitted) and how the index is built.
Saved = tuple[
    tuple[AgentSpec, ...],
    tuple[Diagnostic, ...],
    RouterConfig,
    Learned | None,
    IndexConfig,
    tuple[StoredView, ...],
]


def write_router(
    path: str | os.PathLike[str],
    agents: tuple[AgentSpec, ...],
    diagnostics: tuple[Diagnostic, ...],
    config: RouterConfig,
    learned: Learned | None,
    index_config: IndexConfig,
    signals: tuple[Signal, ...] = (),
) -> None:
    """Write a router's records, config, learned state, index settings and its signals
    with arrays of their own (each one's record and arrays) to ``path`` (atomically).

    Raises
    ------
    ValueError
        When a signal is not one :data:`~agentroute._signal.SAVED_SIGNALS` names, or
        names an array other than after itself (``name_...``): the reader would not
        find it.
    """
    meta: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION if signals else 1,
        "agents": [spec_to_json(a) for a in agents],
        "diagnostics": [[d.path, d.kind, d.message, d.severity] for d in diagnostics],
        "config": {**asdict(config), "calibration": config.calibration.to_dict()},
        "learned": None,
        "index_config": asdict(index_config),
    }
    arrays: dict[str, np.ndarray] = {}
    if learned is not None:
        model = learned.model
        meta["learned"] = {
            "temperature": learned.temperature,
            "catalog_temperature": learned.catalog_temperature,
            "blend": learned.blend,
            "threshold": learned.threshold,
            "platt": list(learned.platt),
            "n_labels": learned.n_labels,
            "examples": [list(p) for p in learned.examples],
            "kind": learned.kind,
            "validation": [[k, v] for k, v in learned.validation],
            "model": None
            if model is None
            else {
                "classes": list(model.classes),
                "has_oos": model.has_oos,
                "blocks": [[b.kind, b.n_min, b.n_max] for b in model.blocks],
            },
        }
        if model is not None:
            arrays["coef"] = model.coef
            arrays["intercept"] = model.intercept
            for i, b in enumerate(model.blocks):
                arrays[f"terms{i}"] = json_array(list(b.terms))
                arrays[f"idf{i}"] = b.idf
    for signal in signals:
        if signal.name not in SAVED_SIGNALS:
            raise ValueError(f"signal {signal.name!r} is not one a router file can hold")
        own = signal.arrays()
        stray = sorted(k for k in own if not k.startswith(f"{signal.name}_"))
        if stray:
            raise ValueError(f"signal {signal.name!r} names arrays not after it: {stray}")
        meta[signal.name] = signal.record()
        arrays.update(own)
    arrays["meta"] = json_array(meta)
    write_npz(path, arrays, compress=True)


def _bad(path: str, why: str) -> IndexFormatError:
    return IndexFormatError(f"{path}: not a usable agentroute router file: {why}")


def _array(path: str, data: Any, name: str, dtype: Any, ndim: int, bound: float) -> np.ndarray:
    """Member ``name``: of ``dtype`` and ``ndim``, every value finite and within ±``bound``."""
    if name not in data.files:
        raise _bad(path, f"the array {name!r} is missing")
    arr = data[name]
    if arr.dtype != np.dtype(dtype) or arr.ndim != ndim:
        raise _bad(path, f"the array {name!r} is {arr.dtype} with {arr.ndim} dimension(s)")
    if arr.dtype.kind == "f" and arr.size:
        if not np.isfinite(arr).all():
            raise _bad(path, f"the array {name!r} holds NaN or infinity")
        if float(np.abs(arr).max()) > bound:
            raise _bad(path, f"the array {name!r} holds values beyond ±{bound:g}")
    return np.asarray(arr)


def _json(path: str, data: Any, name: str) -> Any:
    raw = _array(path, data, name, np.uint8, 1, 255)
    try:
        return json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _bad(path, f"{name!r} is not UTF-8 JSON ({exc})") from None
    except RecursionError:
        raise _bad(path, f"{name!r} is JSON nested too deeply") from None


# What a fit can produce, with room to spare; anything beyond is a crafted file. The
# temperatures' grids span 0.005-2 (agentroute._learn), the n-gram ranges reach 5.
_TEMPERATURES = (1e-4, 1e3)
_MAX_N = 8
_MAX_BLOCKS = 8
_MAX_COEF = 1e6  # LinearSVC weights are O(1)-O(10)
_MAX_IDF = 1e3  # ln(documents) + 1
_MAX_CALIBRATION = 1e4  # the default coefficients are below 30
_MAX_PLATT = 1e3
_MAX_WEIGHT = 1e6  # only their ratios matter


def _number(path: str, where: str, value: Any, lo: float, hi: float) -> float:
    """``value`` as a float: a JSON number (not a boolean), finite, in ``[lo, hi]``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _bad(path, f"{where} is {type(value).__name__} {value!r}, not a number")
    x = float(value)
    if not (math.isfinite(x) and lo <= x <= hi):
        raise _bad(path, f"{where} = {value!r} is outside [{lo:g}, {hi:g}]")
    return x


def _integer(path: str, where: str, value: Any, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise _bad(path, f"{where} = {value!r} is not an integer in [{lo}, {hi}]")
    return value


# SemanticConfig fields added after format 2 (issue 23's third round): absent from older files.
_SEMANTIC_ADDED = ("alone_intercept", "alone_top", "alone_gap", "alone_min_confidence")


def _fields(path: str, where: str, value: Any, cls: Any, bound: float) -> dict[str, float]:
    """The numbers of a saved ``Weights``: exactly its fields."""
    names = [f.name for f in fields(cls)]
    if not isinstance(value, dict) or sorted(value) != sorted(names):
        raise _bad(path, f"the saved {where} is not an object with the fields {', '.join(names)}")
    return {n: _number(path, f"{where}.{n}", value[n], -bound, bound) for n in names}


def _calibration(path: str, saved: Any) -> Calibration:
    """The saved calibration: nested records (0.3 on), or 0.2's flat fields."""
    if isinstance(saved, dict) and "general" in saved:
        try:
            return Calibration.from_dict(saved, "the saved calibration")
        except (TypeError, ValueError) as exc:
            raise _bad(path, str(exc)) from None
    if isinstance(saved, dict) and not any(k.startswith("large_") for k in saved):
        # Written before large catalogs had their own coefficients: one set for every
        # catalog, so the large set is a copy of it and the file decides as it did.
        saved = {**saved, **{f"large_{k}": v for k, v in saved.items()}}
        saved.update(large_min_agents=1.0, large_min_log_terms=0.0)
    if not isinstance(saved, dict) or sorted(saved) != sorted(FLAT_CALIBRATION):
        raise _bad(
            path,
            "the saved calibration is not an object with the fields " + ", ".join(FLAT_CALIBRATION),
        )
    numbers = {
        n: _number(path, f"calibration.{n}", saved[n], -_MAX_CALIBRATION, _MAX_CALIBRATION)
        for n in FLAT_CALIBRATION
    }
    try:
        return from_flat(numbers)
    except (TypeError, ValueError) as exc:
        raise _bad(path, f"the saved calibration is unusable: {exc}") from None


def _record(path: str, where: str, value: Any, cls: Any) -> Any:
    """A saved config record: an object of some of ``cls``'s fields, checked by ``cls``."""
    names = [f.name for f in fields(cls)]
    if not isinstance(value, dict) or not set(value) <= set(names):
        raise _bad(path, f"the saved {where} is not an object of the fields {', '.join(names)}")
    try:
        return cls(**value)
    except (TypeError, ValueError) as exc:
        raise _bad(path, f"the saved {where} is unusable: {exc}") from None


# Fields a development build of 0.3 saved and 0.3 removed: a router saved then still loads.
# TeamConfig.runner_ratio was read by nothing once a part went to one agent or its group.
_REMOVED_FIELDS = {"teams": ("runner_ratio",)}


def _without(value: Any, removed: tuple[str, ...]) -> Any:
    """``value`` without the ``removed`` keys, when it is an object (else as it is)."""
    if not isinstance(value, dict):
        return value
    return {k: v for k, v in value.items() if k not in removed}


def _config(path: str, cfg: Any) -> RouterConfig:
    if not isinstance(cfg, dict):
        raise _bad(path, "the config is not an object")
    weights = _fields(path, "weights", cfg.get("weights"), Weights, _MAX_WEIGHT)
    calibration = _calibration(path, cfg.get("calibration"))
    fractions: dict[str, Any] = {
        k: _number(path, k, cfg.get(k), 0.0, 1.0)
        for k in ("min_confidence", "min_scope", "ambiguity_margin")
    }
    # Rules that became fields in issue 15; a file without them gets the defaults.
    rules: dict[str, Any] = {
        k: _number(path, k, cfg[k], 0.0, 1.0)
        for k in ("min_known_share", "trigger_rescue_scope")
        if k in cfg
    }
    rules.update(
        (k, _integer(path, k, cfg[k], 0, 10**9))
        for k in ("scope_min_agents", "trigger_rescue")
        if k in cfg
    )
    # Nested settings since 0.3; a file without them gets the defaults.
    nested = {
        k: _record(path, k, _without(cfg[k], _REMOVED_FIELDS.get(k, ())), cls)
        for k, cls in (("not_for", NotForConfig), ("teams", TeamConfig))
        if k in cfg
    }
    if "semantic" in cfg:  # since format 2
        saved = cfg["semantic"]
        if isinstance(saved, dict):  # a file older than the view-alone fields: their defaults
            default = SemanticConfig()
            saved = {**{k: getattr(default, k) for k in _SEMANTIC_ADDED}, **saved}
        numbers = _fields(path, "semantic", saved, SemanticConfig, _MAX_CALIBRATION)
        try:
            rules["semantic"] = SemanticConfig(**numbers)
        except ValueError as exc:
            raise _bad(path, f"the saved config is unusable: {exc}") from None
    try:
        return RouterConfig(
            weights=Weights(**weights),
            calibration=calibration,
            **fractions,
            **rules,
            **nested,
        )
    except (TypeError, ValueError) as exc:
        raise _bad(path, f"the saved config is unusable: {exc}") from None


def _diagnostic(path: str, item: Any) -> Diagnostic:
    if (
        not isinstance(item, list)
        or len(item) != 4
        or not all(isinstance(x, str) for x in item)
        or item[3] not in ("info", "warning", "error")
    ):
        raise _bad(path, f"a diagnostic is malformed: {str(item)[:80]}")
    return Diagnostic(item[0], item[1], item[2], item[3])


def read_router(
    path: str | os.PathLike[str],
) -> Saved:
    """What :func:`write_router` stored, every part checked.

    Raises
    ------
    IndexFormatError
        Naming the file, when it is corrupt, foreign or of another format version.
    """
    shown = os.fspath(path)
    try:
        with load_npz(path) as data:
            return _read(shown, data)
    except IndexFormatError:
        raise
    except Exception as exc:
        # Whatever else a crafted file raises (a missing key, a wrong type, a bad zip, a
        # MemoryError or OverflowError from a number no check foresaw) names the file too.
        raise _bad(shown, f"{type(exc).__name__}: {exc}") from None


def _read(path: str, data: Any) -> Saved:
    meta = _json(path, data, "meta")
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise _bad(path, "no agentroute-router header")
    version = meta.get("format_version")
    if version not in _READS or isinstance(version, bool):
        raise _bad(
            path, f"format version {version!r}; this agentroute reads version {FORMAT_VERSION}"
        )
    # The index cache's reader: every field of every record is type-checked.
    if not isinstance(meta.get("agents"), list) or not isinstance(meta.get("diagnostics"), list):
        raise _bad(path, "the agents or the diagnostics are not lists")
    agents = tuple(spec_from_json(rec) for rec in meta["agents"])
    if not agents:
        raise _bad(path, "no agents")
    diagnostics = tuple(_diagnostic(path, d) for d in meta["diagnostics"])
    config = _config(path, meta.get("config"))
    stored = _signals(path, data, meta) if version == 2 else ()
    # Since 0.3; a file without it was built with the defaults.
    saved_index = meta.get("index_config", {})
    index_config = _record(path, "index_config", saved_index, IndexConfig)
    lm = meta.get("learned")
    if lm is None:
        return agents, diagnostics, config, None, index_config, stored
    if not isinstance(lm, dict):
        raise _bad(path, "'learned' is not an object")
    model = None
    if lm.get("model") is not None:
        model = _model(path, data, lm["model"], {a.name for a in agents})
    platt = lm.get("platt")
    if not isinstance(platt, list) or len(platt) != 2:
        raise _bad(path, f"platt = {platt!r} is not a pair of numbers")
    learned = Learned(
        model,
        temperature=_number(path, "temperature", lm.get("temperature"), *_TEMPERATURES),
        catalog_temperature=_number(
            path, "catalog_temperature", lm.get("catalog_temperature"), *_TEMPERATURES
        ),
        blend=_number(path, "blend", lm.get("blend"), 0.0, 1.0),
        threshold=_number(path, "threshold", lm.get("threshold"), 0.0, 1.0),
        platt=(
            _number(path, "platt[0]", platt[0], 1 / _MAX_PLATT, _MAX_PLATT),
            _number(path, "platt[1]", platt[1], -_MAX_PLATT, _MAX_PLATT),
        ),
        n_labels=_integer(path, "n_labels", lm.get("n_labels"), 0, 2**53),
        **_fit_choice(path, lm, model is not None, {a.name for a in agents}),
    )
    return agents, diagnostics, config, learned, index_config, stored


def _signals(path: str, data: Any, meta: dict[str, Any]) -> tuple[StoredView, ...]:
    """Every saved signal's record and arrays (the arrays named after it), in
    :data:`SAVED_SIGNALS` order; the arrays are checked against the catalog when the
    signal is rebuilt (e.g. :func:`agentroute._semantic.view_from_arrays`)."""
    out: list[StoredView] = []
    for name in SAVED_SIGNALS:
        if name not in meta:
            continue
        record = meta[name]
        if (
            not isinstance(record, dict)
            or not 0 < len(record) <= _MAX_RECORD_FIELDS
            or not all(
                isinstance(v, str) and isinstance(k, str) and len(v) <= _MAX_RECORD_CHARS
                for k, v in record.items()
            )
        ):
            raise _bad(path, f"the saved {name} signal's record is not an object of short texts")
        arrays = {k: np.asarray(data[k]) for k in data.files if k.startswith(f"{name}_")}
        if not arrays:
            raise _bad(path, f"the saved {name} signal has no arrays")
        out.append(StoredView(name, dict(record), arrays))
    if not out:
        raise _bad(path, "format version 2 without a saved signal")
    return tuple(out)


def _model(path: str, data: Any, spec: Any, agent_names: set[str]) -> ExampleModel:
    if not isinstance(spec, dict):
        raise _bad(path, "the classifier is not an object")
    specs = spec.get("blocks")
    if not isinstance(specs, list) or not 1 <= len(specs) <= _MAX_BLOCKS:
        raise _bad(path, f"the classifier needs 1 to {_MAX_BLOCKS} feature blocks")
    blocks = []
    for i, block in enumerate(specs):
        if not isinstance(block, list) or len(block) != 3 or block[0] not in KINDS:
            raise _bad(path, f"feature block {i} is not [kind, n_min, n_max] of a known kind")
        kind, lo, hi = block
        n_min = _integer(path, f"block {i} n-gram n_min", lo, 1, _MAX_N)
        n_max = _integer(path, f"block {i} n-gram n_max", hi, n_min, _MAX_N)
        terms = _json(path, data, f"terms{i}")
        idf = _array(path, data, f"idf{i}", np.float64, 1, _MAX_IDF)
        if not isinstance(terms, list) or not all(isinstance(t, str) for t in terms):
            raise _bad(path, f"block {i}: the terms are not a list of text")
        if len(terms) != idf.size:
            raise _bad(path, f"block {i}: {len(terms)} terms for {idf.size} idf values")
        blocks.append(NgramTfidf(kind, n_min, n_max, tuple(terms), idf))
    classes = spec.get("classes")
    if (
        not isinstance(classes, list)
        or not all(isinstance(c, str) for c in classes)
        or len(set(classes)) != len(classes)
    ):
        raise _bad(path, "the classifier's classes are not distinct agent names")
    if not set(classes) <= agent_names:
        raise _bad(path, "the classifier names agents the file does not hold")
    has_oos = spec.get("has_oos")
    if not isinstance(has_oos, bool):
        raise _bad(path, f"has_oos = {has_oos!r} is not true or false")
    coef = _array(path, data, "coef", np.float32, 2, _MAX_COEF)
    intercept = _array(path, data, "intercept", np.float64, 1, _MAX_COEF)
    n_cols = len(classes) + int(has_oos)
    n_features = sum(b.n_features for b in blocks)
    if coef.shape != (n_features, n_cols) or intercept.shape != (n_cols,):
        raise _bad(path, f"weights of shape {coef.shape} for {n_features} x {n_cols}")
    return ExampleModel(
        tuple(classes), has_oos, tuple(blocks), np.ascontiguousarray(coef), intercept
    )


_KINDS = ("classifier", "calibration", "examples", "unfitted")


def _fit_choice(path: str, lm: dict[str, Any], has_model: bool, names: set[str]) -> dict[str, Any]:
    """What a fit kept and why (``Learned.examples``, ``kind``, ``validation``); a file
    written before 0.3 has none: its kind follows from whether it holds a classifier."""
    kind = lm.get("kind", "classifier" if has_model else "calibration")
    if kind not in _KINDS:
        raise _bad(path, f"learned kind {kind!r} is not one of {', '.join(_KINDS)}")
    examples = lm.get("examples", [])
    if not isinstance(examples, list) or not all(
        isinstance(p, list)
        and len(p) == 2
        and isinstance(p[0], str)
        and isinstance(p[1], str)
        and p[1] in names
        for p in examples
    ):
        raise _bad(path, "learned examples are not [request, agent] pairs of this router")
    validation = lm.get("validation", [])
    if not isinstance(validation, list) or not all(
        isinstance(p, list) and len(p) == 2 and p[0] in _KINDS for p in validation
    ):
        raise _bad(path, "learned validation is not a list of [kind, accuracy] pairs")
    return {
        "examples": tuple((p[0], p[1]) for p in examples),
        "kind": kind,
        "validation": tuple(
            (p[0], _number(path, "validation", p[1], 0.0, 1.0)) for p in validation
        ),
    }
