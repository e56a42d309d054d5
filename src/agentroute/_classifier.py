"""What a fitted router reads when it routes: the example classifier and what ``fit`` learned.

:class:`Learned` is the frozen result of :meth:`Router.fit` (see :mod:`agentroute._learn`,
which searches it); :class:`ExampleModel` is its linear classifier over n-gram
TF-IDF blocks; :func:`agent_probs` and :func:`blend_probs` turn the classifier's
margins and the catalog's scores into one probability per agent (plus "out of
scope"). Nothing here fits anything, so routing never imports the solver.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from agentroute._score import MAX_REQUEST_CHARS
from agentroute._text import STOP_WORDS, stem, tokens
from agentroute._tfidf import NgramTfidf

__all__ = ["ExampleModel", "Learned", "agent_probs", "blend_probs", "softmax"]

# Only this much of a request is read: the catalog scorer's cap, for the same reason.
MAX_CHARS = MAX_REQUEST_CHARS


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax, stable for any finite input."""
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    out: np.ndarray = e / e.sum(axis=-1, keepdims=True)
    return out


@dataclass(frozen=True, eq=False)
class ExampleModel:
    """A fitted linear classifier over n-gram TF-IDF blocks.

    Attributes
    ----------
    classes : tuple of str
        Agent names, one column each (sorted).
    has_oos : bool
        Whether a last, extra column scores "out of scope".
    blocks : tuple of NgramTfidf
        The feature blocks, side by side.
    coef : numpy.ndarray
        ``(n_features, n_columns)`` float32 weights.
    intercept : numpy.ndarray
        ``(n_columns,)`` float64.
    """

    classes: tuple[str, ...]
    has_oos: bool
    blocks: tuple[NgramTfidf, ...]
    coef: np.ndarray
    intercept: np.ndarray

    def _rows(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        cols: list[np.ndarray] = []
        vals: list[np.ndarray] = []
        offset = 0
        for block in self.blocks:
            c, v = block.row(text[:MAX_CHARS])
            cols.append(c + offset)
            vals.append(v)
            offset += block.n_features
        return np.concatenate(cols), np.concatenate(vals)

    def margins_one(self, text: str) -> tuple[np.ndarray, int]:
        """One request's margins (float64) and how many of its n-grams the model knows.

        Routing one request and many use this same arithmetic, so they agree to the bit.
        """
        cols, vals = self._rows(text)
        if cols.size == 0:
            return self.intercept.copy(), 0
        out: np.ndarray = self.intercept + vals @ self.coef[cols].astype(np.float64)
        return out, int(cols.size)

    def top_terms(self, text: str, column: int, limit: int = 4) -> tuple[str, ...]:
        """The word n-grams of ``text`` that pushed most towards ``column``, as written.

        Stemmed features are shown as the request's own words, and n-grams made only
        of stop words ("is", "what is") are passed over: they help the classifier
        but explain nothing to a person.
        """
        block = self.blocks[0]
        clipped = text[:MAX_CHARS]
        cols, vals = block.row(clipped)
        if cols.size == 0:
            return ()
        contrib = vals * self.coef[cols, column].astype(np.float64)
        order = np.lexsort((cols, -contrib))
        surface: dict[str, str] = {}
        for token in tokens(clipped):
            surface.setdefault(stem(token), token)
        out: list[str] = []
        for i in order:
            if contrib[i] <= 0 or len(out) == limit:
                break
            words = [surface.get(p, p) for p in block.terms[cols[i]].split(" ")]
            if all(w in STOP_WORDS for w in words):
                continue
            out.append(" ".join(words))
        return tuple(out)


@dataclass(frozen=True, eq=False)
class Learned:
    """What fitting learned; the router consults it when deciding.

    Attributes
    ----------
    model : ExampleModel or None
        None in calibration-only mode (too few examples).
    temperature : float
        Softmax temperature of the classifier's margins.
    catalog_temperature : float
        Softmax temperature of the catalog's fused scores.
    blend : float
        Weight of the classifier's probabilities (1: the classifier alone).
    threshold : float
        Below this blended confidence the decision is ``no_match``.
    platt : tuple of float
        ``(a, b)``: in calibration-only mode, the reported confidence is
        ``sigmoid(a·logit(c) + b)`` of the catalog's confidence ``c`` (a > 0).
    n_labels : int
        How many labelled requests were learned from.
    examples : tuple of (str, str)
        ``(request, agent)``: the labelled requests the fit added to their agents'
        example requests (indexed with them; a refit takes them out first).
    kind : str
        What the fit kept, chosen on labelled requests it held out: ``"classifier"``
        (the learned classifier decides), ``"calibration"`` (the catalog decides,
        its confidence rescaled), ``"examples"`` (the catalog decides, the labelled
        requests indexed as examples) or ``"unfitted"`` (nothing learned helped).
    validation : tuple of (str, float)
        The held-out accuracy (a right agent, or an abstention where no agent
        should answer) of each way the fit compared, in the order tried.
    """

    model: ExampleModel | None
    temperature: float = 1.0
    catalog_temperature: float = 0.05
    blend: float = 1.0
    threshold: float = 0.0
    platt: tuple[float, float] = (1.0, 0.0)
    n_labels: int = 0
    examples: tuple[tuple[str, str], ...] = ()
    kind: str = "classifier"
    validation: tuple[tuple[str, float], ...] = ()

    def rescale(self, confidence: float) -> float:
        """The Platt map of calibration-only mode (identity by default)."""
        a, b = self.platt
        if a == 1.0 and b == 0.0:
            return confidence
        c = min(max(confidence, 1e-9), 1.0 - 1e-9)
        z = a * math.log(c / (1.0 - c)) + b
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def agent_probs(
    model: ExampleModel,
    names: Sequence[str],
    margins: np.ndarray,
    temperature: float,
) -> np.ndarray:
    """Classifier probabilities spread over ``names + [out of scope]`` (0 for untrained agents)."""
    p = softmax(margins / temperature)
    out = np.zeros((p.shape[0], len(names) + 1))
    position = {n: i for i, n in enumerate(names)}
    cols = [position[c] for c in model.classes]
    out[:, cols] = p[:, : len(model.classes)]
    if model.has_oos:
        out[:, -1] = p[:, -1]
    return out


def blend_probs(
    clf: np.ndarray, catalog: np.ndarray | None, blend: float, catalog_temperature: float
) -> np.ndarray:
    """``blend · clf + (1 - blend) · [softmax(catalog / T), 0]``."""
    if catalog is None or blend >= 1.0:
        return clf
    cat = np.zeros_like(clf)
    cat[:, :-1] = softmax(catalog / catalog_temperature)
    out: np.ndarray = blend * clf + (1.0 - blend) * cat
    return out
