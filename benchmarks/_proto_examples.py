"""Prototype of the example-based scorer for agentroute (issue 4), benchmark-only.

Not part of the library: the lead moves what wins into ``src/agentroute``. Dependencies are the
library's runtime ones only (numpy, scikit-learn), so whatever is measured here can ship.

The model
---------
1. Features: a word TF-IDF (uni+bigrams) and a ``char_wb`` TF-IDF (2-5 grams), both with
   sublinear tf and l2 normalisation, stacked side by side.
2. A linear one-vs-rest model on those features (``LinearSVC`` by default). Requests labelled
   ``None`` (out of scope) are trained as one extra class, so the model learns what "no agent"
   looks like instead of only thresholding.
3. Optional kNN over the training examples: per class, the mean cosine of the ``knn_k`` nearest
   examples, added to the margins with weight ``knn_weight``.
4. Probabilities: a softmax of the margins divided by a temperature fitted on held-out data (one
   scalar, minimum negative log-likelihood over a fixed grid, so it stays deterministic).
   ``predict_scores`` returns the in-scope columns only; ``1 - row.sum()`` is P(no agent).
5. Abstention: a request gets no agent when the out-of-scope class wins or the top in-scope
   probability is below ``threshold_``. ``choose_threshold`` picks it on held-out data: the
   threshold with the best in-scope accuracy among those reaching ``min_oos_recall``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.svm import LinearSVC

# Temperatures tried when calibrating the softmax; margins of a LinearSVC live around [-1.5, 1.5],
# so useful temperatures are well below 1.
_TEMPERATURES = np.geomspace(0.01, 2.0, 60)


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class ExampleClassifier:
    """Deterministic text classifier with an out-of-scope class and an abstain threshold.

    Parameters
    ----------
    word_ngrams, char_ngrams : ngram ranges of the word and ``char_wb`` vectorizers;
        ``char_ngrams=None`` drops the character block.
    char_weight : multiplies the character block (the word block has weight 1).
    model : ``"svc"`` (LinearSVC), ``"lr"`` (multinomial LogisticRegression) or
        ``"sgd"`` (SGDClassifier, modified Huber loss).
    C : inverse regularisation for ``svc`` and ``lr``; ``alpha`` for ``sgd``.
    knn_k, knn_weight : the kNN-over-examples component; off when ``knn_weight == 0``.
    oos_class : train ``None``-labelled requests as an extra class (else drop them and rely on
        the threshold alone).
    """

    def __init__(
        self,
        *,
        word_ngrams: tuple[int, int] = (1, 2),
        char_ngrams: tuple[int, int] | None = (2, 5),
        char_weight: float = 1.0,
        model: str = "svc",
        C: float = 1.0,
        alpha: float = 5e-5,
        knn_k: int = 5,
        knn_weight: float = 0.0,
        oos_class: bool = True,
    ) -> None:
        if model not in ("svc", "lr", "sgd"):
            raise ValueError(f"model must be 'svc', 'lr' or 'sgd', got {model!r}")
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.char_weight = char_weight
        self.model = model
        self.C = C
        self.alpha = alpha
        self.knn_k = knn_k
        self.knn_weight = knn_weight
        self.oos_class = oos_class

    # -- fitting -----------------------------------------------------------------------------
    def fit(self, texts: Sequence[str], labels: Sequence[str | None]) -> ExampleClassifier:
        """Learn from labelled requests; a label of ``None`` means out of scope."""
        if len(texts) != len(labels):
            raise ValueError(f"texts and labels differ in length: {len(texts)} != {len(labels)}")
        if not self.oos_class:  # ablation: learn abstention from the threshold alone
            kept = [(t, lab) for t, lab in zip(texts, labels, strict=True) if lab is not None]
            texts, labels = [t for t, _ in kept], [lab for _, lab in kept]
        self.classes_ = tuple(sorted({lab for lab in labels if lab is not None}))
        if not self.classes_:
            raise ValueError("fit needs at least one in-scope label, got only None")
        index = {c: i for i, c in enumerate(self.classes_)}
        k = len(self.classes_)
        # The out-of-scope class, when there is one, is the last column of the margins.
        self.has_oos_ = any(lab is None for lab in labels)
        y = np.array([k if lab is None else index[lab] for lab in labels])

        self.word_ = TfidfVectorizer(ngram_range=self.word_ngrams, sublinear_tf=True)
        blocks = [self.word_.fit_transform(texts)]
        self.char_: TfidfVectorizer | None = None
        if self.char_ngrams is not None:
            self.char_ = TfidfVectorizer(
                analyzer="char_wb", ngram_range=self.char_ngrams, sublinear_tf=True
            )
            blocks.append(self.char_weight * self.char_.fit_transform(texts))
        x = sp.hstack(blocks, format="csr")

        if self.model == "svc":
            est = LinearSVC(C=self.C)
        elif self.model == "lr":
            est = LogisticRegression(C=self.C, max_iter=300)
        else:
            est = SGDClassifier(loss="modified_huber", alpha=self.alpha, random_state=0, n_jobs=2)
        est.fit(x, y)
        # Keep only the arrays: scoring is one sparse-dense product, no sklearn call overhead.
        coef = est.coef_
        intercept = est.intercept_
        if coef.shape[0] == 1:  # binary problem: sklearn stores one row for class 1
            coef = np.vstack([-coef, coef])
            intercept = np.array([-intercept[0], intercept[0]])
        self.coef_t_ = np.ascontiguousarray(coef.T)
        self.intercept_ = intercept
        if self.knn_weight != 0.0:
            self.train_x_ = x
            self.train_y_ = y
        self.temperature_ = 1.0 if self.model == "lr" else 0.1
        self.threshold_ = 0.0
        return self

    # -- scoring ----------------------------------------------------------------------------
    def _features(self, texts: Sequence[str]) -> sp.csr_matrix:
        blocks = [self.word_.transform(texts)]
        if self.char_ is not None:
            blocks.append(self.char_weight * self.char_.transform(texts))
        return sp.hstack(blocks, format="csr")

    def _knn(self, x: sp.csr_matrix) -> np.ndarray:
        sim = (x @ self.train_x_.T).toarray()
        n_cols = self.coef_t_.shape[1]
        out = np.zeros((x.shape[0], n_cols))
        for c in range(n_cols):
            s = sim[:, self.train_y_ == c]
            kk = min(self.knn_k, s.shape[1])
            out[:, c] = -np.partition(-s, kk - 1, axis=1)[:, :kk].mean(axis=1)
        return out

    def _fast_block(
        self, text: str, analyzer: object, vocab: dict[str, int], idf: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """One text through one fitted TfidfVectorizer, without sklearn's per-call validation.

        Same numbers as ``transform`` (sublinear tf, idf, l2), in ~1/20 of the time for one
        request: sklearn's input checks, not the arithmetic, dominate a single-row transform.
        """
        counts: dict[int, int] = {}
        for gram in analyzer(text):  # type: ignore[operator]
            j = vocab.get(gram)
            if j is not None:
                counts[j] = counts.get(j, 0) + 1
        if not counts:
            return np.empty(0, dtype=np.intp), np.empty(0)
        idx = np.fromiter(counts, dtype=np.intp, count=len(counts))
        val = (np.log(np.fromiter(counts.values(), dtype=float, count=len(counts))) + 1.0) * idf[
            idx
        ]
        return idx, val / np.sqrt(val @ val)

    def _margins_one(self, text: str) -> np.ndarray:
        if not hasattr(self, "fast_"):
            blocks = [(self.word_, 0, 1.0)]
            if self.char_ is not None:
                blocks.append((self.char_, len(self.word_.vocabulary_), self.char_weight))
            self.fast_ = [
                (v.build_analyzer(), v.vocabulary_, v.idf_, offset, w) for v, offset, w in blocks
            ]
        m = self.intercept_.copy()
        for analyzer, vocab, idf, offset, weight in self.fast_:
            idx, val = self._fast_block(text, analyzer, vocab, idf)
            if len(idx):
                m += (weight * val) @ self.coef_t_[idx + offset]
        return m

    def margins(self, texts: Sequence[str]) -> np.ndarray:
        """Raw scores, one column per class plus the out-of-scope class when trained with one."""
        if len(texts) == 1 and self.knn_weight == 0.0:
            return self._margins_one(texts[0])[None, :]
        x = self._features(texts)
        m = np.asarray(x @ self.coef_t_) + self.intercept_
        if self.knn_weight != 0.0:
            m = m + self.knn_weight * self._knn(x)
        return m

    def _probs(self, margins: np.ndarray) -> np.ndarray:
        if self.model == "lr":  # already a softmax model; the temperature only rescales it
            return _softmax(margins / self.temperature_)
        return _softmax(margins / self.temperature_)

    def predict_scores(self, texts: Sequence[str]) -> np.ndarray:
        """(n, k) probabilities over ``classes_``; ``1 - row.sum()`` is P(out of scope)."""
        p = self._probs(self.margins(texts))
        return p[:, : len(self.classes_)]

    def predict(self, texts: Sequence[str]) -> list[str | None]:
        return self._decide(self.margins(texts))[0]

    def _decide(self, margins: np.ndarray) -> tuple[list[str | None], np.ndarray]:
        p = self._probs(margins)
        k = len(self.classes_)
        top = p[:, :k].argmax(axis=1)
        conf = p[np.arange(len(p)), top]
        abstain = conf < self.threshold_
        if self.has_oos_:
            abstain |= p[:, k] > conf
        preds = [None if a else self.classes_[t] for t, a in zip(top, abstain, strict=True)]
        return preds, conf

    # -- held-out calibration ---------------------------------------------------------------
    def calibrate(
        self,
        texts: Sequence[str],
        labels: Sequence[str | None],
        *,
        min_oos_recall: float = 0.5,
    ) -> ExampleClassifier:
        """Fit the temperature, then the abstain threshold, on held-out labelled requests."""
        margins = self.margins(texts)
        k = len(self.classes_)
        index = {c: i for i, c in enumerate(self.classes_)}
        y = np.array([k if lab is None else index.get(lab, k) for lab in labels])
        if not self.has_oos_:
            # No out-of-scope column was trained: out-of-scope rows have no column to score.
            keep = y < k
            nll_m, nll_y = margins[keep], y[keep]
        else:
            nll_m, nll_y = margins, y
        best_t, best_nll = self.temperature_, np.inf
        for t in _TEMPERATURES:
            p = _softmax(nll_m / t)
            nll = -np.log(np.clip(p[np.arange(len(nll_y)), nll_y], 1e-12, None)).mean()
            if nll < best_nll:
                best_t, best_nll = float(t), nll
        self.temperature_ = best_t

        self.threshold_ = 0.0
        p = self._probs(margins)
        top = p[:, :k].argmax(axis=1)
        conf = p[np.arange(len(p)), top]
        forced = p[:, k] > conf if self.has_oos_ else np.zeros(len(p), dtype=bool)
        ins = y < k
        oos = ~ins
        if not oos.any():
            return self  # nothing held out to abstain on: never abstain beyond the oos class
        correct = (top == y) & ins
        best: tuple[float, float] | None = None  # (accuracy, -threshold)
        for thr in np.unique(np.concatenate([[0.0], conf])):
            abstain = forced | (conf < thr)
            recall = abstain[oos].mean()
            if recall < min_oos_recall:
                continue
            acc = (correct & ~abstain)[ins].mean() if ins.any() else 0.0
            # Ties go to the lower threshold: abstain no more than the data asks for.
            if best is None or (acc, -thr) > best:
                best = (float(acc), -float(thr))
        if best is not None:
            self.threshold_ = -best[1]
        else:  # the recall target is out of reach: abstain on everything below the top conf
            self.threshold_ = float(conf.max())
        return self
