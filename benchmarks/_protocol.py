"""The catalogs of the generalisation protocol (issue 15), built deterministically.

Each :class:`Catalog` is a set of agent records plus labelled in-scope requests, and names the
*sources* it was made from (labelled collections, intent datasets), so a fit can leave out
every catalog that shares a source with the one it is reported on.

Kinds:

* ``collection``: a labelled collection with its example requests stripped
  (``shared/tools/strip_examples.py``), its own example requests as labels;
* ``description-only``: the same records cut to name + description (the shape of a tool or
  plugin catalog: no body, no triggers, no use cases);
* ``union``: several collections installed together (the five labelled ones; every pair of
  them, wshobson + voltagent among them; all nine collections, the four unlabelled ones adding
  agents and crowding); clashing names become ``name@collection``;
* ``install``: a project folder and a user folder as Claude Code loads them: the project's
  ``.claude/agents`` shadows the user's agent of the same name, what remains is a union
  (issue 21: the issue's own install, wshobson in the project and voltagent + 0xfurai in the
  user's folder; and a large user install with a small project folder of 4-10 agents);
* ``small``: seeded random subsets of 4-10 labelled agents, requests restricted to them,
  pooled per source collection;
* ``intents``: an intent dataset as a catalog: each intent an agent whose description is one
  TRAIN utterance and whose examples are the next four; requests from TEST (reporting) or
  from the rest of TRAIN/VAL (fitting: ``split="fit"``).
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any

COLLECTIONS = (
    "wshobson-agents",
    "davila7-claude-code-templates",
    "dl-ezo-claude-code-sub-agents",
    "voltagent-awesome-claude-code-subagents",
    "vijaythecoder-awesome-claude-agents",
)
# Collections without labels: they add agents (and twins) to crowded catalogs, no requests.
UNLABELLED = (
    "0xfurai-claude-code-subagents",
    "dang-hai-tran-antigravity-kit",
    "lerianstudio-ring",
    "lst97-claude-code-sub-agents",
)
SHORT = {
    "wshobson-agents": "wshobson",
    "davila7-claude-code-templates": "davila7",
    "dl-ezo-claude-code-sub-agents": "dl-ezo",
    "voltagent-awesome-claude-code-subagents": "voltagent",
    "vijaythecoder-awesome-claude-agents": "vijaythecoder",
    "0xfurai-claude-code-subagents": "0xfurai",
    "dang-hai-tran-antigravity-kit": "antigravity",
    "lerianstudio-ring": "ring",
    "lst97-claude-code-sub-agents": "lst97",
}
# The seed of the small project folders of the install catalogs (not the small-subset seed).
INSTALL_SEED = 21
INTENTS = ("clinc150", "banking77", "hwu64", "snips")
# How many TRAIN utterances describe an intent-agent: one as its description, the rest as
# example requests.
INTENT_SHOTS = 5
SMALL_SEED = 15
SMALL_PER_SOURCE = 12
SMALL_SIZES = (4, 10)
NEAR_MISS = Path(__file__).resolve().parent / "data" / "near_miss_requests.jsonl"


@dataclass(frozen=True)
class Catalog:
    """Agent records and labelled requests; names are unique, ``declared`` maps them back."""

    name: str
    kind: str
    sources: frozenset[str]
    records: tuple[Any, ...]  # agentroute.AgentSpec, unique names
    declared: dict[str, str]  # record name -> the name the labels use
    requests: tuple[str, ...]
    gold: tuple[frozenset[str], ...]  # declared names that are right, per request
    agent_catalog: bool = True  # near-miss requests (software-agent near misses) apply
    # Per request, the labelled collection it comes from (unions and installs; empty for a
    # single-source catalog): lets --loco leave each request's own source out of the fit
    # when the catalog holds every labelled collection.
    request_sources: tuple[str, ...] = ()

    @property
    def n_agents(self) -> int:
        return len(self.records)

    def router_gold(self) -> list[frozenset[str]]:
        """Per request, the record names whose declared name is right."""
        by_declared: dict[str, set[str]] = {}
        for name, dec in self.declared.items():
            by_declared.setdefault(dec, set()).add(name)
        return [
            frozenset(n for g in gold for n in by_declared.get(g, ()))
            or frozenset(gold)  # unreachable label: stays wrong
            for gold in self.gold
        ]


def declared_name(name: str, path: str | None) -> str:
    """The name the labels use: agentroute's ``name@<parent-folder>`` rename undone."""
    base, sep, folder = name.rpartition("@")
    if sep and base and (path is None or PurePosixPath(path).parent.name == folder):
        return base
    return name


def strip_examples(shared: Path, out: Path, slugs: Sequence[str]) -> None:
    tool = shared / "tools" / "strip_examples.py"
    done = subprocess.run(
        [sys.executable, str(tool), str(out), *slugs], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        sys.exit(
            f"{tool} exited {done.returncode}: the stripped copy is not clean, so the figures "
            f"would reward memory.\n{done.stdout}{done.stderr}"
        )


def _labels(shared: Path, slug: str) -> list[tuple[str, frozenset[str]]]:
    import agentroute

    lab = agentroute.read_labels(shared / "corpora" / "labels" / f"{slug}.jsonl")
    return [
        (text, frozenset([label, *more]))
        for text, label, more in zip(lab.requests, lab.labels, lab.also_correct, strict=True)
        if label is not None
    ]


def load_collection(root: Path, shared: Path, slug: str) -> Catalog:
    """A collection as stripped under ``root``; an unlabelled one has no requests."""
    import agentroute

    res = agentroute.load_agents(str(root / slug))
    records = tuple(sorted(res.agents, key=lambda a: a.name))
    labels = _labels(shared, slug)
    return Catalog(
        name=SHORT[slug],
        kind="collection",
        sources=frozenset({slug}),
        records=records,
        declared={a.name: declared_name(a.name, a.path) for a in records},
        requests=tuple(t for t, _ in labels),
        gold=tuple(g for _, g in labels),
        request_sources=tuple(slug for _ in labels),
    )


def _sources_of(c: Catalog) -> tuple[str, ...]:
    if c.request_sources:
        return c.request_sources
    (only,) = c.sources  # a single-source catalog
    return tuple(only for _ in c.requests)


def description_only(c: Catalog) -> Catalog:
    from agentroute import AgentSpec

    records = tuple(
        AgentSpec(a.name, description=a.description, declared_name=a.declared_name, path=a.path)
        for a in c.records
    )
    return replace(c, name=f"{c.name} (desc. only)", kind="description-only", records=records)


def union(name: str, parts: Sequence[Catalog]) -> Catalog:
    counts: dict[str, int] = {}
    for c in parts:
        for a in c.records:
            counts[a.name] = counts.get(a.name, 0) + 1
    records, declared = [], {}
    for c in parts:
        for a in c.records:
            new = a.name if counts[a.name] == 1 else f"{a.name}@{c.name}"
            records.append(replace(a, name=new))
            declared[new] = c.declared[a.name]
    return Catalog(
        name=name,
        kind="union",
        sources=frozenset().union(*(c.sources for c in parts)),
        records=tuple(sorted(records, key=lambda a: a.name)),
        declared=declared,
        requests=tuple(r for c in parts for r in c.requests),
        gold=tuple(g for c in parts for g in c.gold),
        request_sources=tuple(s for c in parts for s in _sources_of(c)),
    )


def install(name: str, project: Catalog, user: Sequence[Catalog]) -> Catalog:
    """``project`` in ``<project>/.claude/agents``, ``user`` in ``~/.claude/agents``.

    As Claude Code loads them: a user agent whose declared name a project agent also has is
    shadowed (left out); the rest is a :func:`union`. Every request is kept (a request for a
    shadowed agent is right for the project's agent of that name, the one Claude Code runs).
    """
    taken = set(project.declared.values())
    kept = [
        replace(
            c,
            records=tuple(a for a in c.records if c.declared[a.name] not in taken),
        )
        for c in user
    ]
    return replace(union(name, [project, *kept]), kind="install")


def small_project(c: Catalog, seed: int = INSTALL_SEED) -> Catalog:
    """One seeded project folder of 4-10 of ``c``'s labelled agents (requests restricted)."""
    (project,) = small_subsets(c, count=1, seed=seed)
    return replace(project, name=c.name, kind="collection")


def pairs(base: Sequence[Catalog]) -> list[Catalog]:
    """Every pair of ``base`` installed together, named ``a + b`` in ``base``'s order."""
    return [
        union(f"{a.name} + {b.name}", [a, b]) for i, a in enumerate(base) for b in base[i + 1 :]
    ]


# --quick keeps these pairs (a deterministic subset: the project + user install and
# the two pairs with the largest collection, davila7).
QUICK_PAIRS = ("wshobson + voltagent", "wshobson + davila7", "davila7 + voltagent")


def crowded_catalogs(
    base: dict[str, Catalog], unlabelled: dict[str, Catalog], *, quick: bool = False
) -> list[Catalog]:
    """Issue 21's crowded catalogs: every pair of labelled collections, all nine together,
    and project + user installs. ``base``/``unlabelled``: collections by slug."""
    labelled = [base[s] for s in COLLECTIONS]
    out = [p for p in pairs(labelled) if not quick or p.name in QUICK_PAIRS]
    out.append(union("all nine collections", [*labelled, *(unlabelled[s] for s in UNLABELLED)]))
    ws, dv = base["wshobson-agents"], base["davila7-claude-code-templates"]
    vo, fu = base["voltagent-awesome-claude-code-subagents"], unlabelled[UNLABELLED[0]]
    lst = unlabelled["lst97-claude-code-sub-agents"]
    out.append(install("install: wshobson (project) + voltagent, 0xfurai (user)", ws, [vo, fu]))
    out.append(
        install(
            "install: small wshobson project + davila7, voltagent, 0xfurai, lst97 (user)",
            small_project(ws),
            [dv, vo, fu, lst],
        )
    )
    if not quick:
        out.append(
            install(
                "install: small davila7 project + wshobson, 0xfurai, lst97 (user)",
                small_project(dv),
                [ws, fu, lst],
            )
        )
    return out


def small_subsets(
    c: Catalog, count: int = SMALL_PER_SOURCE, seed: int = SMALL_SEED
) -> list[Catalog]:
    """``count`` seeded subsets of 4-10 distinct labelled agents, requests restricted to them."""
    rng = random.Random(f"{seed}:{c.name}")
    labelled = sorted({g for gold in c.gold for g in gold} & set(c.declared.values()))
    out = []
    for i in range(count):
        k = rng.randint(*SMALL_SIZES)
        chosen = set(rng.sample(labelled, min(k, len(labelled))))
        records = tuple(a for a in c.records if c.declared[a.name] in chosen)
        keep = [j for j, g in enumerate(c.gold) if g & chosen]
        if not keep:
            continue
        out.append(
            Catalog(
                name=f"{c.name} small #{i}",
                kind="small",
                sources=c.sources,
                records=records,
                declared={a.name: c.declared[a.name] for a in records},
                requests=tuple(c.requests[j] for j in keep),
                gold=tuple(c.gold[j] & chosen for j in keep),
            )
        )
    return out


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def intent_catalog(shared: Path, dataset: str, *, split: str = "test", limit: int = 0) -> Catalog:
    """An intent dataset as a catalog. ``split="test"``: requests from TEST (reporting);
    ``"fit"``: requests from VAL when there is one, else TRAIN beyond the shots."""
    from agentroute import AgentSpec

    folder = shared / "datasets" / dataset
    train = [r for r in _read_jsonl(folder / "train.jsonl") if r["label"] != "oos"]
    shots: dict[str, list[str]] = {}
    rest: list[dict[str, Any]] = []
    for r in train:
        got = shots.setdefault(r["label"], [])
        if len(got) < INTENT_SHOTS:
            got.append(r["text"])
        else:
            rest.append(r)
    records = tuple(
        AgentSpec(
            label.replace("_", "-").lower(),
            description=texts[0],
            examples=tuple(texts[1:]),
            declared_name=label,
        )
        for label, texts in sorted(shots.items())
    )
    if split == "test":
        rows = [r for r in _read_jsonl(folder / "test.jsonl") if r["label"] != "oos"]
    elif (folder / "val.jsonl").is_file():
        rows = [r for r in _read_jsonl(folder / "val.jsonl") if r["label"] != "oos"]
    else:
        rows = rest
    if limit and len(rows) > limit:
        step = len(rows) / limit
        rows = [rows[int(i * step)] for i in range(limit)]
    return Catalog(
        name=dataset if split == "test" else f"{dataset} (fit)",
        kind="intents",
        sources=frozenset({dataset}),
        records=records,
        declared={a.name: a.declared_name for a in records},
        requests=tuple(r["text"] for r in rows),
        gold=tuple(frozenset({r["label"]}) for r in rows),
        agent_catalog=False,
    )


def clinc_oos(shared: Path, split: str = "test") -> tuple[str, ...]:
    rows = _read_jsonl(shared / "datasets" / "clinc150" / f"{split}.jsonl")
    return tuple(r["text"] for r in rows if r["label"] == "oos")


def near_miss() -> tuple[str, ...]:
    return tuple(r["request"] for r in _read_jsonl(NEAR_MISS))


def protocol_catalogs(root: Path, shared: Path, *, quick: bool = False) -> list[Catalog]:
    """Every reported catalog; ``root`` holds the stripped copies of :data:`COLLECTIONS`
    and :data:`UNLABELLED`."""
    base = {slug: load_collection(root, shared, slug) for slug in COLLECTIONS}
    unlabelled = {slug: load_collection(root, shared, slug) for slug in UNLABELLED}
    out = list(base.values())
    out += [description_only(c) for c in base.values()]
    out.append(union("all collections", list(base.values())))
    out += crowded_catalogs(base, unlabelled, quick=quick)
    for slug in ("wshobson-agents", "davila7-claude-code-templates"):
        out += small_subsets(base[slug], count=6 if quick else SMALL_PER_SOURCE)
    limit = 600 if quick else 0
    out += [intent_catalog(shared, d, limit=limit) for d in INTENTS]
    return out
