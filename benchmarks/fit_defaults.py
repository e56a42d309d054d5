"""Reproduce the shipped ``Calibration`` and ``RouterConfig.min_scope`` defaults (issue 3).

    python benchmarks/fit_defaults.py [--shared PATH]

Data, all from the development collections only (wshobson, dl-ezo, voltagent; the test
collection davila7 is never read here):

* each collection's labelled requests, routed against a copy of the collection with its
  example requests stripped (``shared/tools/strip_examples.py``), as ``accuracy.py`` does;
* the CLINC150 ``oos`` **val** utterances (the test ones are kept for ``accuracy.py``), routed
  against each collection, as out-of-scope requests.

Fits, each a logistic regression (scikit-learn, L-BFGS, C=10, deterministic), every
collection weighted equally (its rows share a total weight of 1 per class):

* confidence: P(top candidate right) on the labelled requests, from :class:`Signals`'
  margin, softmax and crowding inputs;
* scope: labelled requests (1) vs out-of-scope utterances (0), from the known-term share,
  the top agent's coverage, absolute scores and cosine z-scores.

Then ``min_scope``: the lowest in-scope probability (steps of 0.01) at which the full
abstention rule of ``Router._decide`` (known-term share, scope veto, two-trigger rescue)
declines at least ``--oos-target`` of the out-of-scope val utterances on *every* development
collection. The printed constants are pasted into ``src/agentroute/calibrate.py``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import astuple, dataclass, fields
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _protocol import declared_name  # noqa: E402

DEV = (
    "wshobson-agents",
    "dl-ezo-claude-code-sub-agents",
    "voltagent-awesome-claude-code-subagents",
)
CONFIDENCE = ("margin", "softmax_05", "softmax_10", "near_10", "near_20")
SCOPE = ("known", "coverage", "bm25", "word", "char", "word_z", "char_z")
# Inverse L2 strength: mild, so a feature that barely helps stays near 0 instead of
# exploding on three collections' worth of rows.
C = 10.0


@dataclass(frozen=True)
class Rows:
    """One collection's requests as the calibration sees them."""

    signals: np.ndarray  # (n, len(Signals fields))
    right: np.ndarray  # top candidate right (labelled only)
    triggers: np.ndarray  # matched triggers of the top agent
    live: np.ndarray  # not declined before the scope model (known words, score > 0)
    n_agents: int


def route_rows(router: object, texts: Sequence[str]) -> tuple[Rows, list[str]]:
    from agentroute._calibrate import signals
    from agentroute._decide import _ranked
    from agentroute._router import Router
    from agentroute._score import analyze_query, score

    assert isinstance(router, Router)
    index, cfg = router.index, router.config
    queries = [analyze_query(index, t) for t in texts]
    sc = score(index, queries, cfg.weights)
    sig, trig, live, tops = [], [], [], []
    for r, q in enumerate(queries):
        combined = np.round(sc.combined[r], 9)
        best = int(_ranked(combined, 2)[0])
        tops.append(index.names[best])
        ok = q.known_terms > 0 and combined[best] > 0.0
        live.append(ok)
        sig.append(astuple(signals(combined, sc, r, best, q)) if ok else (0.0,) * 12)
        trig.append(len(sc.matched[r].get(best, ())))
    return (
        Rows(
            np.array(sig, dtype=np.float64),
            np.zeros(len(texts), dtype=bool),
            np.array(trig),
            np.array(live, dtype=bool),
            index.n_agents,
        ),
        tops,
    )


def fit_logistic(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[float, np.ndarray]:
    from sklearn.linear_model import LogisticRegression

    # Weights scaled so that C means the same whatever the number of rows.
    model = LogisticRegression(C=C, max_iter=10_000, tol=1e-10)
    model.fit(x, y, sample_weight=w * len(w) / w.sum())
    return float(model.intercept_[0]), model.coef_[0].astype(np.float64)


def sigmoid(z: np.ndarray) -> np.ndarray:
    out: np.ndarray = 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    ap.add_argument(
        "--oos-target",
        type=float,
        default=0.93,
        help="share of out-of-scope val utterances every dev collection must decline (0.93)",
    )
    args = ap.parse_args(argv)
    shared = args.shared.resolve()

    import agentroute
    from agentroute._calibrate import Signals

    rules = agentroute.RouterConfig()

    names = [f.name for f in fields(Signals)]
    ci = [names.index(n) for n in CONFIDENCE]
    si = [names.index(n) for n in SCOPE]
    val = [
        json.loads(line)["text"]
        for line in (shared / "datasets" / "clinc150" / "val.jsonl").read_text().splitlines()
        if line and json.loads(line)["label"] == "oos"
    ]

    labelled: dict[str, Rows] = {}
    oos: dict[str, Rows] = {}
    with tempfile.TemporaryDirectory(prefix="agentroute-fit-") as tmp:
        subprocess.run(
            [sys.executable, str(shared / "tools" / "strip_examples.py"), tmp, *DEV],
            check=True,
            capture_output=True,
        )
        for slug in DEV:
            records = agentroute.load_agents(str(Path(tmp) / slug)).agents
            router = agentroute.Router.from_agents(records)
            to_label = {a.name: declared_name(a.name, a.path) for a in router.agents}
            lab = agentroute.read_labels(shared / "corpora" / "labels" / f"{slug}.jsonl")
            gold = [{a, *more} for a, more in zip(lab.labels, lab.also_correct, strict=True)]
            rows, tops = route_rows(router, list(lab.texts))
            right = np.array([to_label.get(t, t) in g for t, g in zip(tops, gold, strict=True)])
            labelled[slug] = Rows(rows.signals, right, rows.triggers, rows.live, rows.n_agents)
            oos[slug], _ = route_rows(router, val)

    # -- confidence: P(top right | in scope), on the labelled requests ---------------------
    x = np.vstack([labelled[s].signals[labelled[s].live][:, ci] for s in DEV])
    y = np.concatenate([labelled[s].right[labelled[s].live] for s in DEV])
    w = np.concatenate(
        [np.full(int(labelled[s].live.sum()), 1.0 / labelled[s].live.sum()) for s in DEV]
    )
    c0, cw = fit_logistic(x, y, w)

    # -- scope: labelled (1) vs CLINC150 oos val (0) -----------------------------------------
    xs, ys, ws = [], [], []
    for s in DEV:
        for rows, label in ((labelled[s], 1), (oos[s], 0)):
            keep = rows.live
            xs.append(rows.signals[keep][:, si])
            ys.append(np.full(int(keep.sum()), label))
            ws.append(np.full(int(keep.sum()), 1.0 / keep.sum()))
    s0, sw = fit_logistic(np.vstack(xs), np.concatenate(ys), np.concatenate(ws))

    def declined(rows: Rows, threshold: float) -> np.ndarray:
        known = rows.signals[:, names.index("known")]
        scope = sigmoid(s0 + rows.signals[:, si] @ sw)
        rescued = (rows.triggers >= rules.trigger_rescue) & (scope >= rules.trigger_rescue_scope)
        veto = (scope < threshold) & (rows.n_agents >= rules.scope_min_agents) & ~rescued
        out: np.ndarray = ~rows.live | (known < rules.min_known_share) | veto
        return out

    min_scope = 1.0
    for step in range(1, 100):
        t = step / 100
        if all(declined(oos[s], t).mean() >= args.oos_target for s in DEV):
            min_scope = t
            break

    print("# python benchmarks/fit_defaults.py " + " ".join(sys.argv[1:] if argv is None else argv))
    print(f"# dev collections: {', '.join(DEV)}; CLINC150 oos val: {len(val)} utterances")
    print("\nCalibration(")
    print(f"    intercept={c0:.3f},")
    for n, v in zip(CONFIDENCE, cw, strict=True):
        print(f"    {n}={v:.3f},")
    print(f"    scope_intercept={s0:.3f},")
    for n, v in zip(SCOPE, sw, strict=True):
        print(f"    scope_{n}={v:.3f},")
    print(")")
    print(f"RouterConfig(min_scope={min_scope:.2f})  # oos val declined >= {args.oos_target}")
    print(
        "\n| dev collection | labelled | top-1 | mean confidence | in-scope routed "
        "| oos val no_match |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for s in DEV:
        rows = labelled[s]
        conf = sigmoid(c0 + rows.signals[:, ci] @ cw)
        print(
            f"| {s} | {len(rows.right)} | {rows.right.mean():.3f} | {conf.mean():.3f} | "
            f"{1 - declined(rows, min_scope).mean():.3f} | "
            f"{declined(oos[s], min_scope).mean():.3f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
