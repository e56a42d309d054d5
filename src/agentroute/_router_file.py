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
import zipfile
from dataclasses import asdict
from typing import Any

import numpy as np

from agentroute._cache import SPEC_FIELDS, spec_from_json
from agentroute._calibrate import Calibration
from agentroute._classifier import ExampleModel, Learned
from agentroute._decide import RouterConfig
from agentroute._errors import IndexFormatError
from agentroute._ngrams import KINDS, NgramTfidf
from agentroute._npz import json_array, load_npz, write_npz
from agentroute._score import Weights
from agentroute._spec import AgentSpec, Diagnostic

__all__ = ["FORMAT", "FORMAT_VERSION", "read_router", "write_router"]

FORMAT = "agentroute-router"
FORMAT_VERSION = 1


def write_router(
    path: str | os.PathLike[str],
    agents: tuple[AgentSpec, ...],
    diagnostics: tuple[Diagnostic, ...],
    config: RouterConfig,
    learned: Learned | None,
) -> None:
    """Write a router's records, config and learned state to ``path`` (atomically)."""
    meta: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "agents": [{f: getattr(a, f) for f in SPEC_FIELDS} for a in agents],
        "diagnostics": [[d.path, d.kind, d.message, d.severity] for d in diagnostics],
        "config": asdict(config),
        "learned": None,
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
    arrays["meta"] = json_array(meta)
    write_npz(path, arrays, compress=True)


def _bad(path: str, why: str) -> IndexFormatError:
    return IndexFormatError(f"{path}: not a usable agentroute router file: {why}")


def _array(path: str, data: Any, name: str, dtype: Any, ndim: int) -> np.ndarray:
    if name not in data.files:
        raise _bad(path, f"the array {name!r} is missing")
    arr = data[name]
    if arr.dtype != np.dtype(dtype) or arr.ndim != ndim:
        raise _bad(path, f"the array {name!r} is {arr.dtype} with {arr.ndim} dimension(s)")
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise _bad(path, f"the array {name!r} holds NaN or infinity")
    return np.asarray(arr)


def _json(path: str, data: Any, name: str) -> Any:
    raw = _array(path, data, name, np.uint8, 1)
    try:
        return json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _bad(path, f"{name!r} is not UTF-8 JSON ({exc})") from None


def _config(path: str, cfg: Any) -> RouterConfig:
    if not isinstance(cfg, dict):
        raise _bad(path, "the config is not an object")
    try:
        return RouterConfig(
            weights=Weights(**cfg["weights"]),
            calibration=Calibration(**cfg["calibration"]),
            min_confidence=cfg["min_confidence"],
            min_scope=cfg["min_scope"],
            ambiguity_margin=cfg["ambiguity_margin"],
            **{
                k: cfg[k]
                for k in (
                    "min_known_share",
                    "scope_min_agents",
                    "trigger_rescue",
                    "trigger_rescue_scope",
                )
                if k in cfg
            },
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise _bad(path, f"the saved config is unusable: {exc}") from None


def read_router(
    path: str | os.PathLike[str],
) -> tuple[tuple[AgentSpec, ...], tuple[Diagnostic, ...], RouterConfig, Learned | None]:
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
    except (
        OSError,
        ValueError,
        KeyError,
        TypeError,
        AttributeError,
        IndexError,
        EOFError,
        zipfile.BadZipFile,
    ) as exc:
        raise _bad(shown, f"{type(exc).__name__}: {exc}") from None


def _read(
    path: str, data: Any
) -> tuple[tuple[AgentSpec, ...], tuple[Diagnostic, ...], RouterConfig, Learned | None]:
    meta = _json(path, data, "meta")
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise _bad(path, "no agentroute-router header")
    version = meta.get("format_version")
    if version != FORMAT_VERSION:
        raise _bad(
            path, f"format version {version!r}; this agentroute reads version {FORMAT_VERSION}"
        )
    # The index cache's reader: every field of every record is type-checked.
    agents = tuple(spec_from_json(rec) for rec in meta["agents"])
    if not agents:
        raise _bad(path, "no agents")
    diagnostics = tuple(Diagnostic(*d) for d in meta["diagnostics"])
    config = _config(path, meta["config"])
    lm = meta["learned"]
    if lm is None:
        return agents, diagnostics, config, None
    model = None
    if lm["model"] is not None:
        spec = lm["model"]
        blocks = []
        for i, (kind, lo, hi) in enumerate(spec["blocks"]):
            if kind not in KINDS:
                raise _bad(path, f"unknown feature block {kind!r}")
            terms = _json(path, data, f"terms{i}")
            idf = _array(path, data, f"idf{i}", np.float64, 1)
            if not isinstance(terms, list) or len(terms) != idf.size:
                raise _bad(path, f"block {i}: {len(terms)} terms for {idf.size} idf values")
            blocks.append(NgramTfidf(kind, int(lo), int(hi), tuple(str(t) for t in terms), idf))
        classes = tuple(str(c) for c in spec["classes"])
        has_oos = bool(spec["has_oos"])
        coef = _array(path, data, "coef", np.float32, 2)
        intercept = _array(path, data, "intercept", np.float64, 1)
        n_cols = len(classes) + int(has_oos)
        n_features = sum(b.n_features for b in blocks)
        if coef.shape != (n_features, n_cols) or intercept.shape != (n_cols,):
            raise _bad(path, f"weights of shape {coef.shape} for {n_features} x {n_cols}")
        if not set(classes) <= {a.name for a in agents}:
            raise _bad(path, "the classifier names agents the file does not hold")
        model = ExampleModel(classes, has_oos, tuple(blocks), np.ascontiguousarray(coef), intercept)
    platt = lm["platt"]
    numbers = [float(lm[k]) for k in ("temperature", "catalog_temperature", "blend", "threshold")]
    if not all(math.isfinite(x) for x in [*numbers, float(platt[0]), float(platt[1])]):
        raise _bad(path, "a learned number is not finite")
    if not (numbers[0] > 0 and numbers[1] > 0):
        raise _bad(path, "a temperature is not positive")
    if not (0.0 <= numbers[2] <= 1.0 and 0.0 <= numbers[3] <= 1.0):
        raise _bad(path, "the blend weight or the threshold is outside [0, 1]")
    learned = Learned(
        model,
        temperature=float(lm["temperature"]),
        catalog_temperature=float(lm["catalog_temperature"]),
        blend=float(lm["blend"]),
        threshold=float(lm["threshold"]),
        platt=(float(platt[0]), float(platt[1])),
        n_labels=int(lm["n_labels"]),
    )
    return agents, diagnostics, config, learned
