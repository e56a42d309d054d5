"""Router.save / Router.load: identical decisions, and bad files refused by name."""

from __future__ import annotations

import dataclasses
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentroute import IndexFormatError, Router, read_labels
from conftest import LABELS, OOS, TEXTS

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def fitted() -> Router:
    return Router.from_examples(TEXTS * 10 + OOS * 10, LABELS * 10 + [None] * 40)


@pytest.fixture(scope="module")
def reloaded(fitted: Router, tmp_path_factory: pytest.TempPathFactory) -> Router:
    path = tmp_path_factory.mktemp("saved") / "router.npz"
    fitted.save(path)
    return Router.load(path)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=80) | st.sampled_from(TEXTS + OOS))
def test_loaded_router_decides_identically(fitted: Router, reloaded: Router, text: str) -> None:
    assert reloaded.route(text) == fitted.route(text)


def test_everything_round_trips(fitted: Router, reloaded: Router) -> None:
    assert reloaded.agents == fitted.agents
    assert reloaded.config == fitted.config
    a, b = fitted.learned, reloaded.learned
    assert a is not None and b is not None and a.model is not None and b.model is not None
    assert (a.blend, a.threshold, a.temperature, a.platt) == (
        b.blend,
        b.threshold,
        b.temperature,
        b.platt,
    )
    np.testing.assert_array_equal(a.model.coef, b.model.coef)


def test_unfitted_and_calibrated_routers_round_trip(tmp_path: Path) -> None:
    probe = ["helm upgrade broke the pods", "plan the MySQL migration", "", "chess openings"]
    router = Router.from_default()
    router.save(tmp_path / "plain.npz")
    plain = Router.load(tmp_path / "plain.npz")
    assert plain.learned is None
    assert plain.route_many(probe) == router.route_many(probe)

    # A calibration-only fit (few labels): no classifier, a Platt rescale of confidence.
    labels = read_labels(REPO / "examples" / "sample_labels.jsonl")
    calibrated = Router.from_default().fit(labels.texts, labels.labels)
    learned = calibrated.learned
    assert learned is not None and learned.model is None and learned.platt != (1.0, 0.0)
    calibrated.save(tmp_path / "calibrated.npz")
    loaded = Router.load(tmp_path / "calibrated.npz")
    assert loaded.learned is not None  # Learned compares by identity (eq=False): by fields
    assert dataclasses.astuple(loaded.learned) == dataclasses.astuple(learned)
    texts = [*probe, *labels.texts]
    assert loaded.route_many(texts) == calibrated.route_many(texts)
    # The round trip kept the calibration: confidences differ from the unfitted router's.
    assert [d.confidence for d in loaded.route_many(texts)] != [
        d.confidence for d in plain.route_many(texts)
    ]


def test_real_data_round_trip(shared: Path, tmp_path: Path) -> None:
    folder = shared / "datasets" / "hwu64"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent")
    rows = [json.loads(x) for x in (folder / "train.jsonl").open(encoding="utf-8")][:1500]
    test = [json.loads(x)["text"] for x in (folder / "test.jsonl").open(encoding="utf-8")][:300]
    router = Router.from_examples([r["text"] for r in rows], [r["label"] for r in rows])
    router.save(tmp_path / "hwu.npz")
    assert Router.load(tmp_path / "hwu.npz").route_many(test) == router.route_many(test)


def _rewrite(src: Path, dst: Path, change: dict[str, object]) -> None:
    with np.load(src, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    meta = json.loads(arrays["meta"].tobytes())
    meta.update(change)
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    np.savez(dst, **arrays)  # type: ignore[arg-type]


def test_bad_files_are_refused_by_name(fitted: Router, tmp_path: Path) -> None:
    good = tmp_path / "good.npz"
    fitted.save(good)
    cases: dict[str, bytes] = {
        "empty.npz": b"",
        "text.npz": b"name: not a router\n",
        "truncated.npz": good.read_bytes()[: good.stat().st_size // 2],
    }
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
    _rewrite(good, tmp_path / "v2.npz", {"format_version": 2})
    _rewrite(good, tmp_path / "foreign.npz", {"format": "something-else"})
    buf = io.BytesIO()
    np.save(buf, np.array([{"evil": 1}], dtype=object), allow_pickle=True)
    with zipfile.ZipFile(tmp_path / "pickle.npz", "w") as zf:
        zf.writestr("meta.npy", buf.getvalue())
    for name in [*cases, "v2.npz", "foreign.npz", "pickle.npz"]:
        with pytest.raises(IndexFormatError, match=name.replace(".", r"\.")):
            Router.load(tmp_path / name)
    with pytest.raises(IndexFormatError, match="format version 2"):
        Router.load(tmp_path / "v2.npz")


def test_tampered_values_are_refused(fitted: Router, tmp_path: Path) -> None:
    """A well-formed file with values no fit produces is refused, not routed with."""
    good = tmp_path / "good.npz"
    fitted.save(good)
    with np.load(good, allow_pickle=False) as data:
        meta = json.loads(data["meta"].tobytes())
    agents = [dict(a) for a in meta["agents"]]
    agents[0]["triggers"] = "abc"
    bad_learned = {
        "nan-threshold": {**meta["learned"], "threshold": float("nan")},
        "big-blend": {**meta["learned"], "blend": 7.0},
    }
    _rewrite(good, tmp_path / "triggers.npz", {"agents": agents})
    for name, learned in bad_learned.items():
        _rewrite(good, tmp_path / f"{name}.npz", {"learned": learned})
    for name in ["triggers.npz", "nan-threshold.npz", "big-blend.npz"]:
        with pytest.raises(IndexFormatError, match=name.replace(".", r"\.")):
            Router.load(tmp_path / name)


def test_boundaries_round_trip_and_older_files_still_load(shared: Path, tmp_path: Path) -> None:
    router = Router.from_path(shared / "seeds", cache=False)
    path = tmp_path / "seeds.npz"
    router.save(path)
    again = Router.load(path)
    for a, b in zip(router.agents, again.agents, strict=True):
        assert (a.not_for, a.redirects, a.collaborators) == (
            b.not_for,
            b.redirects,
            b.collaborators,
        )
    go = next(a for a in again.agents if a.name == "backend-engineer-golang")
    assert ("Docker/Kubernetes configuration", "DevOps Engineer") in go.redirects
    text = "set up the Kubernetes config, then write the Go handler"
    assert again.route(text) == router.route(text)
    # A file written before these fields existed loads with them empty.
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(data["meta"].tobytes())
    old = [
        {k: v for k, v in a.items() if k not in ("not_for", "redirects", "collaborators")}
        for a in meta["agents"]
    ]
    _rewrite(path, tmp_path / "old.npz", {"agents": old})
    assert all(a.not_for == () for a in Router.load(tmp_path / "old.npz").agents)
    bad = [dict(a) for a in meta["agents"]]
    bad[0]["redirects"] = [["only one"]]
    _rewrite(path, tmp_path / "bad_redirects.npz", {"agents": bad})
    with pytest.raises(IndexFormatError, match=r"bad_redirects\.npz"):
        Router.load(tmp_path / "bad_redirects.npz")
