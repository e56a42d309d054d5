"""What the semantic view costs: ``route_many`` with an encoder against its parts, side by side.

    python benchmarks/semantic_cost.py --encoder PATH [--shared PATH] [--requests N] [--repeat R]

On one labelled collection (davila7, examples stripped), measured in one process, interleaved,
best of ``--repeat``:

* ``lexical``: ``Router.route_many`` of N labelled requests without an encoder;
* ``encode``: the encoder alone on the same N requests (``Encoder.encode``);
* ``semantic``: ``route_many`` with the encoder (agent vectors already built);
* ``rebuild``: a second ``Router.from_agents`` with the same encoder, and how many agent
  texts it encoded (the target: none);
* how many encoder calls one ``route_many`` makes, of how many texts (the requests and the
  clause parts its teams may route go in one call; coverage parts, known only once the
  requests are decided, in a second).

The target (issue 23): ``semantic <= encode + 2 x lexical``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _protocol import load_collection, strip_examples  # noqa: E402

SLUG = "davila7-claude-code-templates"


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main(argv: Sequence[str] | None = None) -> int:
    import agentroute
    from agentroute._semantic import load_encoder

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    ap.add_argument("--encoder", required=True, metavar="PATH")
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    shared = args.shared.resolve()
    with tempfile.TemporaryDirectory(prefix="agentroute-cost-") as tmp:
        strip_examples(shared, Path(tmp), [SLUG])
        c = load_collection(Path(tmp), shared, SLUG)
    requests = list(c.requests[: args.requests])
    encoder = load_encoder(args.encoder)
    t0 = time.perf_counter()
    semantic = agentroute.Router.from_agents(c.records, encoder=encoder)
    first_build = time.perf_counter() - t0
    lexical = agentroute.Router.from_agents(c.records)
    calls: list[int] = []
    inner = encoder.encode

    def counting(texts: Sequence[str]) -> object:
        calls.append(len(texts))
        return inner(texts)

    encoder.encode = counting  # type: ignore[method-assign]
    t0 = time.perf_counter()
    agentroute.Router.from_agents(c.records, encoder=encoder)
    rebuild = time.perf_counter() - t0
    encoded_on_rebuild = sum(calls)
    encoder.encode = inner  # type: ignore[method-assign]

    calls.clear()
    encoder.encode = counting  # type: ignore[method-assign]
    semantic.route_many(requests)
    encoder.encode = inner  # type: ignore[method-assign]
    route_calls = list(calls)

    lex = sem = enc = float("inf")
    for _ in range(args.repeat):  # interleaved, so load on the machine hits all three alike
        lex = min(lex, best(lambda: lexical.route_many(requests), 1))
        enc = min(enc, best(lambda: encoder.encode(requests), 1))
        sem = min(sem, best(lambda: semantic.route_many(requests), 1))
    print(f"catalog: {c.name}, {c.n_agents} agents; {len(requests)} requests")
    print(f"each time the best of {args.repeat}, interleaved")
    print(f"encoder: {encoder!r}")
    print(f"first build with the encoder: {first_build:.2f} s")
    print(f"second build: {rebuild:.2f} s, agent texts encoded: {encoded_on_rebuild}")
    print(
        f"one route_many with the encoder: {len(route_calls)} encoder call(s) of "
        f"{route_calls} texts (the requests and the parts its teams may route)"
    )
    print(f"lexical route_many: {lex:.3f} s")
    print(f"encoder alone on the requests: {enc:.3f} s")
    print(f"route_many with the encoder: {sem:.3f} s")
    budget = enc + 2 * lex
    verdict = "met" if sem <= budget else "missed"
    print(f"target semantic <= encode + 2 x lexical = {budget:.3f} s: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
