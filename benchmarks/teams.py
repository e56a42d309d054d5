"""Teams and negative evidence, measured (issue 11).

    python benchmarks/teams.py [--shared PATH] [--json PATH] [--baseline REF] [--tune]
    python benchmarks/teams.py --regenerate      # rewrite benchmarks/data/teams_joined.jsonl
    python benchmarks/teams.py --overhead        # route time with and without the two stages
    python benchmarks/teams.py [--fresh] --encoder PATH [--encoder-cache DIR]

Every catalog is a labelled collection copied with its example requests cut out
(``shared/tools/strip_examples.py``), loaded with ``agentroute.load_agents``. Four sets:

* ``teams_joined.jsonl``: 160 requests, each two labelled requests of different agents of
  one collection joined into one request in ten ways ("A, then b", "A; b", "1. A / 2. B",
  "First, a. After that, b", ...), seeded (``--regenerate`` rebuilds it from the labels).
  **Dev** (constants tuned here): the wshobson and dl-ezo joins. **Report**: the davila7
  (held-out collection) and voltagent joins.
* ``teams_handwritten.jsonl``: 50 multi-agent requests written by hand against the
  corpora, with ``agents: [..]`` (report only). A slot matches an agent of that name or,
  for wshobson's plugin-prefixed names, one ending in ``-<slot>``.
* ``not_for.jsonl``: 53 requests written to match a "does NOT handle" item of an agent;
  they must not go to it and, where the item's redirect is in the catalog, the redirect
  should win. Dev: even lines; report: odd lines.
* every labelled request of every labelled collection (single-agent): the share that keeps
  a team of one, and top-1 against the baseline's top-1 in the same run.

The baseline (default ``main``) is the library as committed at that git ref, run in a
subprocess on the very same stripped catalogs and requests.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import re
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "benchmarks" / "data"
sys.path.insert(0, str(REPO / "benchmarks"))

from _protocol import declared_name, strip_examples  # noqa: E402

LABELLED = (
    "wshobson-agents",
    "davila7-claude-code-templates",
    "dl-ezo-claude-code-sub-agents",
    "voltagent-awesome-claude-code-subagents",
    "vijaythecoder-awesome-claude-agents",
)
EXTRA = ("lerianstudio-ring",)
JOIN_COUNTS = {
    "wshobson-agents": 55,
    "dl-ezo-claude-code-sub-agents": 25,
    "davila7-claude-code-templates": 60,
    "voltagent-awesome-claude-code-subagents": 20,
}
DEV_COLLECTIONS = frozenset({"wshobson-agents", "dl-ezo-claude-code-sub-agents"})
SEED = 20261129
TARGET_BOTH = 0.70
TARGET_SIZE = 2.5
TARGET_ONE = 0.90


def _lower_first(s: str) -> str:
    return s[:1].lower() + s[1:] if s[:1].isupper() and not s[1:2].isupper() else s


def _bare(s: str) -> str:
    return s.strip().rstrip(".?!").strip()


# Ten ways to put two requests into one.
JOINS = (
    lambda a, b: f"{_bare(a)}, then {_lower_first(_bare(b))}.",
    lambda a, b: f"{_bare(a)}; {_lower_first(_bare(b))}.",
    lambda a, b: f"{_bare(a)}. Also, {_lower_first(_bare(b))}.",
    lambda a, b: f"1. {_bare(a)}\n2. {_bare(b)}",
    lambda a, b: f"{_bare(a)} and then {_lower_first(_bare(b))}.",
    lambda a, b: f"First, {_lower_first(_bare(a))}. After that, {_lower_first(_bare(b))}.",
    lambda a, b: f"{_bare(a)}, and also {_lower_first(_bare(b))}.",
    lambda a, b: f"- {_bare(a)}\n- {_bare(b)}",
    lambda a, b: f"{_bare(a)}. Then {_lower_first(_bare(b))}.",
    lambda a, b: f"Two things: {_lower_first(_bare(a))}; and {_lower_first(_bare(b))}.",
)


def regenerate(shared: Path) -> int:
    rng = random.Random(SEED)
    rows = []
    for slug, count in JOIN_COUNTS.items():
        labels = read_labels(shared / "corpora" / "labels" / f"{slug}.jsonl")
        done = 0
        seen: set[tuple[int, int]] = set()
        while done < count:
            i, j = rng.randrange(len(labels)), rng.randrange(len(labels))
            a, b = labels[i], labels[j]
            if (i, j) in seen or a.gold & b.gold:
                continue
            seen.add((i, j))
            k = rng.randrange(len(JOINS))
            rows.append(
                {
                    "collection": slug,
                    "request": JOINS[k](a.request, b.request),
                    "agents": [sorted(a.gold), sorted(b.gold)],
                    "parts": [a.request, b.request],
                    "join": k,
                }
            )
            done += 1
    out = DATA / "teams_joined.jsonl"
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    print(f"wrote {len(rows)} requests to {out.relative_to(REPO)}")
    return 0


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text("utf-8").splitlines() if x.strip()]


@dataclass
class Catalog:
    slug: str
    router: Any
    names: tuple[str, ...]  # router names
    label: dict[str, str]  # router name -> label name


@dataclass(frozen=True)
class Label:
    request: str
    gold: frozenset[str]  # `agent` plus `also_correct`
    agent: str


def read_labels(path: Path) -> tuple[Label, ...]:
    """A collection's labelled requests (``shared/corpora/labels/*.jsonl``)."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            gold = frozenset([row["agent"], *row.get("also_correct", ())])
            out.append(Label(row["request"], gold, row["agent"]))
    return tuple(out)


def semantic_config(agentroute: Any, weight_long: float | None) -> Any:
    """The router config with the semantic view's full-prompt weight set (None: shipped)."""
    cfg = agentroute.RouterConfig()
    if weight_long is None:
        return cfg
    return replace(cfg, semantic=replace(cfg.semantic, weight_long=weight_long))


def load_catalogs(
    agentroute: Any,
    root: Path,
    slugs: Sequence[str],
    encoder: Any = None,
    weight_long: float | None = None,
) -> dict[str, Catalog]:
    out = {}
    config = semantic_config(agentroute, weight_long)
    for slug in slugs:
        res = agentroute.load_agents(str(root / slug))
        router = agentroute.Router.from_agents(res.agents, encoder=encoder, config=config)
        label = {a.name: declared_name(a.name, a.path) for a in res.agents}
        out[slug] = Catalog(slug, router, tuple(sorted(label)), label)
    return out


def slot_matches(slot: Sequence[str] | str, agent: str) -> bool:
    names = [slot] if isinstance(slot, str) else list(slot)
    return any(agent == n or agent.endswith("-" + n) for n in names)


# -- the baseline: the library at a git ref, in a subprocess ------------------------------

_BASELINE = r"""
import json, sys
import agentroute
jobs = json.load(open(sys.argv[1]))
out = {}
for folder, requests in jobs.items():
    res = agentroute.load_agents(folder)
    router = agentroute.Router.from_agents(res.agents)
    ds = router.route_many(requests)
    out[folder] = [[d.agent, d.candidates[0].agent if d.candidates else None] for d in ds]
json.dump(out, open(sys.argv[2], "w"))
"""


def run_baseline(ref: str, jobs: dict[str, list[str]], tmp: Path) -> dict[str, list[list[Any]]]:
    src = tmp / "baseline"
    src.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", ref, "src"],
        capture_output=True,
        check=True,
    ).stdout
    tar_path = tmp / "baseline.tar"
    tar_path.write_bytes(archive)
    with tarfile.open(tar_path) as tf:
        tf.extractall(src, filter="data")
    (tmp / "jobs.json").write_text(json.dumps(jobs), "utf-8")
    env = {**os.environ, "PYTHONPATH": str(src / "src")}
    subprocess.run(
        [sys.executable, "-c", _BASELINE, str(tmp / "jobs.json"), str(tmp / "out.json")],
        check=True,
        env=env,
        cwd=tmp,
    )
    result: dict[str, list[list[Any]]] = json.loads((tmp / "out.json").read_text("utf-8"))
    return result


# -- metrics -------------------------------------------------------------------------------


def team_metrics(cats: dict[str, Catalog], rows: Sequence[dict[str, Any]]) -> dict[str, float]:
    both = size = correct = members = 0
    by_slug: dict[str, list[int]] = {}
    for k, r in enumerate(rows):
        by_slug.setdefault(r["collection"], []).append(k)
    decisions: dict[int, Any] = {}
    for slug, ks in by_slug.items():
        ds = cats[slug].router.route_many([rows[k]["request"] for k in ks])
        decisions.update(zip(ks, ds, strict=True))
    # The ceiling: each original request, routed alone, gets its own agent first.
    alone_right: dict[int, bool] = {}
    for slug, ks in by_slug.items():
        ks = [k for k in ks if "parts" in rows[k]]
        if not ks:
            continue
        cat = cats[slug]
        flat = [p for k in ks for p in rows[k]["parts"]]
        ds = cat.router.route_many(flat)
        for n_k, k in enumerate(ks):
            pair = ds[2 * n_k : 2 * n_k + 2]
            alone_right[k] = all(
                bool(d.candidates) and slot_matches(s, cat.label[d.candidates[0].agent])
                for d, s in zip(pair, rows[k]["agents"], strict=True)
            )
    both_given = 0
    for k, r in enumerate(rows):
        d = decisions[k]
        team = [cats[r["collection"]].label[m.agent] for m in d.team]
        slots = r["agents"]
        hit = all(any(slot_matches(s, a) for a in team) for s in slots)
        both += hit
        both_given += hit and alone_right.get(k, False)
        size += len(team)
        members += len(team)
        correct += sum(any(slot_matches(s, a) for s in slots) for a in team)
    n = max(1, len(rows))
    out = {
        "requests": len(rows),
        "both_in_team": both / n,
        "mean_team_size": size / n,
        "member_precision": correct / max(1, members),
    }
    if alone_right:
        right = sum(alone_right.values())
        out["both_right_alone"] = right / len(alone_right)
        out["both_in_team_when_both_right_alone"] = both_given / max(1, right)
    return out


def single_metrics(
    cats: dict[str, Catalog], root: Path, shared: Path, base: dict[str, list[list[Any]]]
) -> dict[str, dict[str, float]]:
    out = {}
    for slug in LABELLED:
        labels = read_labels(shared / "corpora" / "labels" / f"{slug}.jsonl")
        cat = cats[slug]
        ds = cat.router.route_many([lab.request for lab in labels])
        old = base[str(root / slug)]
        one = top1 = top1_base = 0
        for d, lab, (_, btop) in zip(ds, labels, old, strict=True):
            one += len(d.team) <= 1
            top = d.candidates[0].agent if d.candidates else None
            top1 += top is not None and cat.label[top] in lab.gold
            top1_base += btop is not None and cat.label.get(btop, btop) in lab.gold
        n = max(1, len(labels))
        out[slug] = {
            "requests": len(labels),
            "team_of_one": one / n,
            "top1": top1 / n,
            "top1_baseline": top1_base / n,
        }
    return out


def not_for_metrics(
    cats: dict[str, Catalog],
    rows: Sequence[dict[str, Any]],
    root: Path,
    base: dict[str, list[list[Any]]] | None,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for part, keep in (("dev", 0), ("report", 1)):
        chosen = [(k, r) for k, r in enumerate(rows) if k % 2 == keep]
        avoided = redirected = with_redirect = 0
        b_avoided = b_redirected = 0
        offset: dict[str, int] = {}
        for k, r in chosen:
            cat = cats[r["collection"]]
            d = cat.router.route(r["request"])
            agent = cat.label.get(d.agent or "", d.agent)
            avoided += agent != r["not"]
            red = r["redirect"]
            has = red is not None and red in cat.label.values()
            with_redirect += has
            redirected += has and agent == red
            if base is not None:
                i = [j for j, x in enumerate(rows) if x["collection"] == r["collection"]].index(k)
                b_agent = base[str(root / r["collection"])][i][0]
                b_agent = cat.label.get(b_agent or "", b_agent)
                b_avoided += b_agent != r["not"]
                b_redirected += has and b_agent == red
            offset[r["collection"]] = offset.get(r["collection"], 0) + 1
        n = max(1, len(chosen))
        out[part] = {
            "requests": len(chosen),
            "avoids_disowning_agent": avoided / n,
            "redirect_wins": redirected / max(1, with_redirect),
            "with_redirect_in_catalog": with_redirect,
        }
        if base is not None:
            out[part]["baseline_avoids"] = b_avoided / n
            out[part]["baseline_redirect_wins"] = b_redirected / max(1, with_redirect)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--shared",
        type=Path,
        default=Path(os.environ.get("AGENTROUTE_SHARED", REPO.parent / "shared")),
    )
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument("--baseline", default="main", help="git ref to compare with (default main)")
    ap.add_argument("--no-baseline", action="store_true", help="skip the baseline run")
    ap.add_argument("--regenerate", action="store_true", help="rebuild teams_joined.jsonl")
    ap.add_argument("--tune", action="store_true", help="grid the team constants on the dev part")
    ap.add_argument(
        "--overhead", action="store_true", help="time route with and without teams and not-for"
    )
    ap.add_argument(
        "--encoder",
        default=None,
        metavar="PATH",
        help="also measure the multi-agent sets (or --fresh) with this encoder's semantic view",
    )
    ap.add_argument(
        "--encoder-cache",
        type=Path,
        default=None,
        metavar="DIR",
        help="with --encoder: keep each text's vector here, so a rerun encodes nothing again",
    )
    ap.add_argument(
        "--fresh",
        action="store_true",
        help="the hand-judged two-part prompts of data/teams_fresh.jsonl on the install of "
        "data/fresh_install.json (with and without --encoder)",
    )
    ap.add_argument(
        "--weight-long",
        type=float,
        default=None,
        metavar="W",
        help="with --encoder: SemanticConfig.weight_long (the view's share on full-prompt "
        "catalogs; default the shipped one, 0.0)",
    )
    args = ap.parse_args(argv)
    encoder = cached_encoder(args.encoder, args.encoder_cache)
    if args.fresh:
        return fresh(args.shared, args.encoder, args.json, args.weight_long, encoder)
    if args.regenerate:
        return regenerate(args.shared)
    if args.overhead:
        return overhead(args.shared)

    sys.path.insert(0, str(REPO / "src"))
    import agentroute

    joined = read_jsonl(DATA / "teams_joined.jsonl")
    hand = read_jsonl(DATA / "teams_handwritten.jsonl")
    negative = read_jsonl(DATA / "not_for.jsonl")
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        root = tmp / "stripped"
        strip_examples(args.shared, root, [*LABELLED, *EXTRA])
        cats = load_catalogs(agentroute, root, [*LABELLED, *EXTRA])
        dev = [r for r in joined if r["collection"] in DEV_COLLECTIONS]
        held = [r for r in joined if r["collection"] not in DEV_COLLECTIONS]
        if args.tune:
            singles = {
                slug: [
                    lab.request
                    for lab in read_labels(args.shared / "corpora" / "labels" / f"{slug}.jsonl")
                ]
                for slug in DEV_COLLECTIONS
            }
            grid = itertools.product((0.3, 0.4), (0.9, 1.0), ((0.4, 0.6), (0.5, 0.8), (1.01, 1.01)))
            for conf, cover, (share, coverage_conf) in grid:
                if True:
                    teams = agentroute.TeamConfig(
                        min_part_confidence=conf,
                        cover_ratio=cover,
                        min_uncovered_share=share,
                        min_coverage_confidence=coverage_conf,
                    )
                    tuned = {
                        slug: replace(
                            c, router=c.router.with_config(replace(c.router.config, teams=teams))
                        )
                        for slug, c in cats.items()
                    }
                    m = team_metrics(tuned, dev)
                    one = {
                        slug: sum(len(d.team) <= 1 for d in tuned[slug].router.route_many(reqs))
                        / len(reqs)
                        for slug, reqs in sorted(singles.items())
                    }
                    print(
                        f"part_conf={conf} cover={cover} uncovered_share={share} "
                        f"coverage_conf={coverage_conf}: both "
                        f"{m['both_in_team']:.3f} size {m['mean_team_size']:.2f} precision "
                        f"{m['member_precision']:.3f}; team of one on dev collections "
                        + ", ".join(f"{k} {v:.3f}" for k, v in one.items())
                    )
            return 0
        if not args.no_baseline:
            jobs: dict[str, list[str]] = {}
            for slug in LABELLED:
                labels = read_labels(args.shared / "corpora" / "labels" / f"{slug}.jsonl")
                jobs[str(root / slug)] = [lab.request for lab in labels]
            for r in negative:
                jobs.setdefault(str(root / r["collection"]), [])
            nf_jobs: dict[str, list[str]] = {}
            for r in negative:
                nf_jobs.setdefault(str(root / r["collection"]), []).append(r["request"])
            single_base = run_baseline(
                args.baseline, jobs={k: v for k, v in jobs.items() if v}, tmp=tmp / "b1"
            )
            nf_base = run_baseline(args.baseline, jobs=nf_jobs, tmp=tmp / "b2")
        results: dict[str, Any] = {
            "multi_dev": team_metrics(cats, dev),
            "multi_report_joined": team_metrics(cats, held),
            "multi_report_handwritten": team_metrics(cats, hand),
            "not_for": not_for_metrics(cats, negative, root, None if args.no_baseline else nf_base),
        }
        if not args.no_baseline:
            results["single"] = single_metrics(cats, root, args.shared, single_base)
        if args.encoder is not None:
            meant = load_catalogs(agentroute, root, [*LABELLED, *EXTRA], encoder, args.weight_long)
            results["with_encoder"] = {
                "multi_dev": team_metrics(meant, dev),
                "multi_report_joined": team_metrics(meant, held),
                "multi_report_handwritten": team_metrics(meant, hand),
            }
    print_report(results, args.baseline)
    if "with_encoder" in results:
        print(f"\n## With the semantic view of {args.encoder}\n")
        print_report({**results["with_encoder"], "not_for": {}}, args.baseline)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", "utf-8")
    return 0


# -- fresh two-part prompts on a real install (issue 23) ------------------------------------

FRESH = DATA / "teams_fresh.jsonl"
_WORD = re.compile(r"[a-z0-9]+")


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.casefold()))


def taker(decision: Any, part: str) -> str | None:
    """The agent that takes ``part`` (a piece of the request) in ``decision``: the team
    member whose parts share most words with it, the decision's agent for a team of one,
    None when the request is declined."""
    if decision.agent is None:
        return None
    if len(decision.team) < 2:
        return str(decision.agent)
    want = _words(part)
    best = max(
        decision.team,
        key=lambda m: (len(want & _words(m.part)), m.agent == decision.agent),
    )
    return str(best.agent)


def fresh_rows(router: Any, prompts: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each prompt routed whole (who takes each judged part) and each judged part routed
    alone (the part's first candidate), by the names Claude Code knows."""
    declared = {a.name: a.declared_name or a.name for a in router.agents}
    whole = router.route_many([p["prompt"] for p in prompts])
    flat = [part["part"] for p in prompts for part in p["parts"]]
    alone = iter(router.route_many(flat))
    out = []
    for p, d in zip(prompts, whole, strict=True):
        parts = []
        for part in p["parts"]:
            ok = set(part["acceptable"])
            took = taker(d, part["part"])
            first = next(alone)
            top = declared[first.candidates[0].agent] if first.candidates else None
            parts.append(
                {
                    "part": part["part"],
                    "taken_by": None if took is None else declared[took],
                    "right": took is not None and declared[took] in ok,
                    "alone_first": top,
                    "alone_right": top in ok,
                }
            )
        out.append(
            {
                "id": p["id"],
                "status": d.status,
                "team": [declared[m.agent] for m in d.team] or [declared.get(d.agent or "")],
                "split": len(d.team) > 1,
                "both_right": all(x["right"] for x in parts),
                "both_right_alone": all(x["alone_right"] for x in parts),
                "parts": parts,
            }
        )
    return out


def cached_encoder(path: str | None, cache: Path | None) -> Any:
    """``--encoder`` as the router takes it: the folder, or the folder behind a cache of
    vectors (``--encoder-cache``; ``fit_semantic.CachedEncoder``)."""
    if path is None or cache is None:
        return path
    sys.path.insert(0, str(REPO / "src"))
    from fit_semantic import CachedEncoder

    return CachedEncoder(path, cache)


def fresh(
    shared: Path,
    encoder: str | None,
    json_path: Path | None,
    weight_long: float | None,
    model: Any = None,
) -> int:
    """Both parts right on the fresh two-part prompts, without and with the encoder
    (``model``: what the router is given for it, the folder itself when None)."""
    import crowded

    sys.path.insert(0, str(REPO / "src"))
    import agentroute

    prompts = read_jsonl(FRESH)
    results: dict[str, Any] = {
        "prompts": str(FRESH.relative_to(REPO)),
        "encoder": encoder,
        "weight_long": weight_long,
    }
    with tempfile.TemporaryDirectory(prefix="agentroute-fresh-") as tmp:
        project, home = crowded.build_install(shared.resolve(), Path(tmp))
        paths = list(agentroute.claude_code_paths(project=project, home=home))
        variants: dict[str, Any] = {"lexical": None}
        if encoder is not None:
            variants["encoder"] = encoder if model is None else model
        for key, enc in variants.items():
            config = semantic_config(agentroute, weight_long if enc else None)
            router = agentroute.Router.from_path(paths, cache=False, encoder=enc, config=config)
            rows = fresh_rows(router, prompts)
            results[key] = rows
            results["agents"] = len(router.agents)
    print(f"install: {results['agents']} agents in effect; {len(prompts)} two-part prompts\n")
    keys = [k for k in ("lexical", "encoder") if k in results]
    print("| prompt | " + " | ".join(f"{k}: who takes part 1 / part 2" for k in keys) + " |")
    print("| --- |" + " --- |" * len(keys))
    for i, p in enumerate(prompts):
        cells = []
        for k in keys:
            r = results[k][i]
            cells.append(
                " / ".join(f"{x['taken_by']}{' ✓' if x['right'] else ' ✗'}" for x in r["parts"])
            )
        print(f"| {p['id']} | " + " | ".join(cells) + " |")
    print("\n| figure | " + " | ".join(keys) + " |")
    print("| --- |" + " ---: |" * len(keys))
    figures = (
        ("split into a team", "split"),
        ("both parts right (whole prompt)", "both_right"),
        ("both parts right, each judged part routed alone", "both_right_alone"),
    )
    for label, field in figures:
        cells = [f"{sum(r[field] for r in results[k])} of {len(prompts)}" for k in keys]
        print(f"| {label} | " + " | ".join(cells) + " |")
    for k in keys:
        n = sum(x["right"] for r in results[k] for x in r["parts"])
        results[f"{k}_parts_right"] = n
    print(
        "| parts right (of 20) | "
        + " | ".join(str(results[f"{k}_parts_right"]) for k in keys)
        + " |"
    )
    if json_path is not None:
        json_path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", "utf-8")
    return 0


def overhead(shared: Path, sizes: Sequence[int] = (100, 1000), rounds: int = 4) -> int:
    """Route time per request with and without the not-for and team stages, side by side.

    The speed benchmark's catalogs and requests (``benchmarks/speed.py``); the two
    variants alternate, best of ``rounds`` each, so machine load affects both alike.
    """
    import _catalogs
    import _timing

    sys.path.insert(0, str(REPO / "src"))
    import agentroute
    from agentroute import _decide

    requests = _timing.load_requests(shared, 300, _catalogs.DEFAULT_SEED)

    print("| agents | without ms/request | with ms/request | ratio |")
    print("| ---: | ---: | ---: | ---: |")
    for size in sizes:
        folder = _catalogs.ensure_catalog(size, shared=shared, verbose=False)
        with_stages = agentroute.Router.from_path(str(folder), cache=False)._state
        off = replace(with_stages.config, not_for=agentroute.NotForConfig(enabled=False))
        states = {True: with_stages, False: replace(with_stages, config=off)}

        def run(new: bool, states: Any = states) -> float:
            t0 = time.perf_counter()
            for text in requests:
                _decide.route_state(states[new], [text], 5, teams=new)
            return (time.perf_counter() - t0) / len(requests)

        run(True)
        run(False)
        bare, full = [], []
        for _ in range(rounds):
            bare.append(run(False))
            full.append(run(True))
        print(
            f"| {size} | {min(bare) * 1e3:.2f} | {min(full) * 1e3:.2f} | "
            f"{min(full) / min(bare):.2f} |"
        )
    return 0


def _opt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def print_report(results: dict[str, Any], ref: str) -> None:
    print("## Multi-agent requests (both agents in the team; mean team size; member precision)\n")
    print(
        "| set | requests | both in team | mean size | member precision | both originals "
        "right alone | both in team, when both right alone |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for key, title in (
        ("multi_dev", "joined, dev (wshobson, dl-ezo)"),
        ("multi_report_joined", "joined, report (davila7, voltagent)"),
        ("multi_report_handwritten", "hand-written, report"),
    ):
        m = results[key]
        print(
            f"| {title} | {m['requests']} | {m['both_in_team']:.3f} | {m['mean_team_size']:.2f} | "
            f"{m['member_precision']:.3f} | {_opt(m.get('both_right_alone'))} | "
            f"{_opt(m.get('both_in_team_when_both_right_alone'))} |"
        )
    print("\n## Requests matching a 'does NOT handle' item\n")
    print(
        f"| part | requests | avoids the agent | redirect wins | {ref}: avoids | "
        f"{ref}: redirect wins |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for part, m in results["not_for"].items():
        print(
            f"| {part} | {m['requests']} | {m['avoids_disowning_agent']:.3f} | "
            f"{m['redirect_wins']:.3f} (of {m['with_redirect_in_catalog']}) | "
            f"{m.get('baseline_avoids', float('nan')):.3f} | "
            f"{m.get('baseline_redirect_wins', float('nan')):.3f} |"
        )
    if "single" in results:
        print(f"\n## Single-agent labelled requests (baseline: {ref})\n")
        print(f"| collection | requests | team of one | top-1 | {ref} top-1 |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for slug, m in results["single"].items():
            print(
                f"| {slug} | {m['requests']} | {m['team_of_one']:.3f} | {m['top1']:.3f} | "
                f"{m['top1_baseline']:.3f} |"
            )
    rep = [results["multi_report_joined"], results["multi_report_handwritten"]]
    n = sum(m["requests"] for m in rep)
    both = sum(m["both_in_team"] * m["requests"] for m in rep) / max(1, n)
    size = sum(m["mean_team_size"] * m["requests"] for m in rep) / max(1, n)
    print(
        f"\nTargets on the report part ({n} requests): both in team {both:.3f} "
        f"(>= {TARGET_BOTH}: {'met' if both >= TARGET_BOTH else 'NOT met'}); mean team size "
        f"{size:.2f} (<= {TARGET_SIZE}: {'met' if size <= TARGET_SIZE else 'NOT met'})"
    )
    if "single" in results:
        ok = all(
            m["team_of_one"] >= TARGET_ONE and m["top1"] >= m["top1_baseline"]
            for m in results["single"].values()
        )
        print(
            f"Single-agent: team of one >= {TARGET_ONE:.0%} and top-1 >= {ref}'s on every "
            f"collection: {'met' if ok else 'NOT met'}"
        )


if __name__ == "__main__":
    raise SystemExit(main())
