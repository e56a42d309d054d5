"""Batch routing: JSON Lines files in constant memory, worker processes, and Dask."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from agentroute import _cli as cli
from agentroute import decision_record, route_bag, route_file, route_frame, route_records
from conftest import default_router

REQUESTS = [
    "our kubernetes pods keep crashing after the helm upgrade",
    "audit login for sql injection",
    "speed up github actions",
    "",
    "Écris une API REST en Go",
    "bake bread",
    "postgress queries are slow",
    "fine-tune an llm on our tickets",
] * 5


def _lines(requests: list[str]) -> str:
    rows = []
    for i, text in enumerate(requests):
        # Objects with ids, objects without, bare strings: all three forms.
        if i % 3 == 0:
            rows.append(json.dumps({"id": i, "request": text}))
        elif i % 3 == 1:
            rows.append(json.dumps({"request": text}))
        else:
            rows.append(json.dumps(text))
    return "\n".join(rows) + "\n"


def test_a_file_is_answered_line_by_line_as_route_many_answers() -> None:
    router = default_router()
    sink = io.StringIO()
    report = route_file(router, io.StringIO(_lines(REQUESTS)), sink, limit=3, chunk=7)
    answers = [json.loads(line) for line in sink.getvalue().splitlines()]
    expected = route_records(router, REQUESTS, limit=3)
    assert report.routed == len(REQUESTS) and report.errors == 0
    assert [{k: v for k, v in a.items() if k != "id"} for a in answers] == expected
    assert [a.get("id") for a in answers[:4]] == [0, None, None, 3]
    assert expected[0] == router.route(REQUESTS[0], limit=3).to_dict()


def test_batch_records_are_the_json_form_with_the_team() -> None:
    """One form of a decision: the batch file's records are ``Decision.to_dict()``, team
    included; the 0.2 name ``decision_record`` gives the same, with a warning."""
    router = default_router()
    two = "add rate limiting to our gRPC gateway and then write the API docs for it"
    (record,) = route_records(router, [two])
    assert len(record["team"]) == 2 and record == router.route(two).to_dict()
    with pytest.warns(DeprecationWarning, match=r"decision_record\(d\) is deprecated"):
        assert decision_record(router.route(two)) == record


@pytest.mark.slow  # starts processes
def test_worker_processes_give_the_same_bytes_in_the_same_order() -> None:
    router = default_router()
    text = _lines(REQUESTS)
    one, two = io.StringIO(), io.StringIO()
    route_file(router, io.StringIO(text), one, chunk=5)
    route_file(router, io.StringIO(text), two, chunk=5, jobs=2)
    assert one.getvalue() == two.getvalue()
    assert one.getvalue().count("\n") == len(REQUESTS)


def test_a_bad_line_is_answered_with_an_error_and_the_rest_routed() -> None:
    router = default_router()
    source = io.StringIO(
        '"fix the helm chart"\n{not json\n\n[1, 2]\n{"id": 7}\n"write unit tests"\n'
    )
    sink = io.StringIO()
    seen: list[int] = []
    report = route_file(router, source, sink, chunk=2, progress=seen.append)
    answers = [json.loads(line) for line in sink.getvalue().splitlines()]
    assert [a.get("error", "").split(":")[0] for a in answers] == [
        "",
        "line 2",
        "line 4",
        "line 5",
        "",
    ]
    assert answers[3]["id"] == 7 and "no 'request' text" in answers[3]["error"]
    assert answers[0]["agent"] and answers[4]["status"] in ("routed", "ambiguous", "no_match")
    assert (report.routed, report.errors) == (2, 3)
    assert report.first_error is not None and report.first_error.startswith("line 2: not JSON")
    assert seen == sorted(seen) and seen[-1] == 5


def test_the_text_key_of_0_2_is_routed_and_reported_as_deprecated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    router = default_router()
    source = (
        '{"id": 1, "text": "fix the helm chart"}\n{"request": "write unit tests"}\n'
        '{"text": "bake bread"}\n{"request": "tune a query", "text": "ignored"}\n'
    )
    sink = io.StringIO()
    report = route_file(router, io.StringIO(source), sink)
    answers = [json.loads(line) for line in sink.getvalue().splitlines()]
    asked = ["fix the helm chart", "write unit tests", "bake bread", "tune a query"]
    assert [a["request"] for a in answers] == asked and answers[0]["id"] == 1
    assert (report.routed, report.errors, report.deprecated) == (4, 0, 2)
    assert report.first_deprecated == (
        "line 1: the key 'text' is deprecated since agentroute 0.3: use 'request'"
    )
    clean = route_file(router, io.StringIO(_lines(REQUESTS[:3])), io.StringIO())
    assert (clean.deprecated, clean.first_deprecated) == (0, None)
    path = tmp_path / "in.jsonl"
    path.write_text(source, encoding="utf-8")
    assert cli.main(["route", "--input", str(path), "--output", str(tmp_path / "o.jsonl")]) == 0
    err = capsys.readouterr().err
    assert "2 line(s) of" in err and "under 'text' (first: line 1:" in err


def test_jobs_and_chunk_must_be_positive() -> None:
    with pytest.raises(ValueError, match="jobs and chunk must be positive"):
        route_file(default_router(), io.StringIO(""), io.StringIO(), jobs=0)


@pytest.mark.slow  # starts processes
def test_cli_routes_a_file_to_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source, target = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_text(_lines(REQUESTS[:8]), encoding="utf-8")
    code = cli.main(["route", "--input", str(source), "--output", str(target), "--jobs", "2"])
    assert code == 0, capsys.readouterr().err
    answers = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert [a["request"] for a in answers] == REQUESTS[:8]
    assert [a["agent"] for a in answers] == [
        d.agent for d in default_router().route_many(REQUESTS[:8])
    ]

    source.write_text('"helm"\nnot json\n', encoding="utf-8")
    assert cli.main(["route", "--input", str(source), "--output", str(target)]) == 2
    assert "1 line(s) of" in capsys.readouterr().err
    assert cli.main(["route", "help", "--input", str(source)]) == 2
    assert "either a REQUEST or --input" in capsys.readouterr().err
    assert cli.main(["route", "help", "--jobs", "2"]) == 2
    assert "go with --input" in capsys.readouterr().err
    assert cli.main(["route", "--input", str(tmp_path / "missing.jsonl")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_the_input_file_is_never_its_own_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(_lines(REQUESTS[:3]), encoding="utf-8")
    before = source.read_bytes()
    link = tmp_path / "link.jsonl"
    link.symlink_to(source)
    for output in (source, link):
        assert cli.main(["route", "--input", str(source), "--output", str(output)]) == 2
        assert "is the --input file" in capsys.readouterr().err
    assert source.read_bytes() == before  # not emptied


@pytest.mark.slow  # starts processes
def test_a_line_that_is_not_utf8_is_answered_with_an_error_the_rest_routed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, target = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    good = _lines(REQUESTS[:2]).encode("utf-8")
    source.write_bytes(good + b'"caf\xe9 menu"\n' + b'{"request": "\\ud800 lone helm"}\n')
    outs = []
    for jobs in ("1", "2"):
        code = cli.main(["route", "--input", str(source), "--output", str(target), "--jobs", jobs])
        assert code == 2
        assert "1 line(s) of" in capsys.readouterr().err
        outs.append(target.read_bytes())
    assert outs[0] == outs[1]
    answers = [json.loads(line) for line in outs[0].decode("utf-8").splitlines()]
    assert [a.get("request") for a in answers[:2]] == REQUESTS[:2]
    assert answers[2] == {"line": 3, "error": "line 3: not UTF-8 text"}
    assert answers[3]["request"] == "\ud800 lone helm"  # an escaped lone surrogate reads back


@pytest.fixture(scope="module")
def cluster() -> object:
    pytest.importorskip(
        "distributed", reason="dask[distributed] is not installed (pip install 'agentroute[dask]')"
    )
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as lc,
        Client(lc) as client,
    ):
        yield client


@pytest.mark.slow  # starts processes
def test_dask_bag_and_frame_answer_as_one_process(cluster: object) -> None:
    import dask.bag as db
    import dask.dataframe as dd
    import pandas as pd

    router = default_router()
    texts = REQUESTS * 3
    expected = route_records(router, texts, limit=3)
    bag = db.from_sequence(texts, npartitions=6)
    assert route_bag(bag, router, limit=3).compute() == expected

    frame = dd.from_pandas(pd.DataFrame({"request": texts}), npartitions=4)
    got = route_frame(frame, router, limit=3).compute()
    agents = [None if pd.isna(a) else a for a in got["agent"]]
    assert agents == [e["agent"] for e in expected]
    assert list(got["status"]) == [e["status"] for e in expected]
    assert list(got["confidence"]) == [e["confidence"] for e in expected]


# -- issue 22: round 3 ---------------------------------------------------------------------


def test_a_byte_order_mark_before_line_1_is_not_part_of_it(tmp_path: Path) -> None:
    router = default_router()
    sink = io.StringIO()
    report = route_file(
        router, io.StringIO('\ufeff{"id": 1, "request": "fix the helm chart"}\n'), sink
    )
    assert (report.routed, report.errors) == (1, 0)
    assert json.loads(sink.getvalue())["id"] == 1
    # The command line too, from a file written by a tool that adds the mark.
    source, target = tmp_path / "bom.jsonl", tmp_path / "out.jsonl"
    source.write_bytes(b'\xef\xbb\xbf"fix the helm chart"\n')
    assert cli.main(["route", "--input", str(source), "--output", str(target)]) == 0
    assert json.loads(target.read_text(encoding="utf-8"))["agent"] == "kubernetes-operator"


def test_a_line_nested_too_deep_is_an_error_and_the_run_goes_on() -> None:
    deep = "[" * 100_000
    source = io.StringIO(f'"fix the helm chart"\n{deep}\n{{"id": {deep}\n"write unit tests"\n')
    sink = io.StringIO()
    report = route_file(default_router(), source, sink)
    answers = [json.loads(line) for line in sink.getvalue().splitlines()]
    assert (report.routed, report.errors) == (2, 2)
    assert answers[1] == {"line": 2, "error": "line 2: not JSON (nested too deep)"}
    assert answers[2]["line"] == 3 and answers[3]["request"] == "write unit tests"


@pytest.mark.parametrize("ident", ["1e400", "-1e400", "NaN", "Infinity", "-Infinity"])
def test_an_id_json_cannot_carry_is_refused_and_every_answer_is_strict_json(ident: str) -> None:
    source = io.StringIO(
        f'{{"id": {ident}, "request": "fix the helm chart"}}\n{{"id": 2.5, "request": "helm"}}\n'
    )
    sink = io.StringIO()
    report = route_file(default_router(), source, sink)
    lines = sink.getvalue().splitlines()

    def strict(name: str) -> object:
        raise AssertionError(f"{name} in the output")

    answers = [json.loads(line, parse_constant=strict) for line in lines]
    assert (report.routed, report.errors) == (1, 1)
    assert answers[0]["line"] == 1 and "not JSON" in answers[0]["error"]
    assert answers[1]["id"] == 2.5


def test_stdin_that_is_the_output_file_is_refused_not_emptied(tmp_path: Path) -> None:
    import subprocess
    import sys

    target = tmp_path / "requests.jsonl"
    target.write_text(_lines(REQUESTS[:3]), encoding="utf-8")
    before = target.read_bytes()
    with target.open("rb") as stdin:
        proc = subprocess.run(
            [sys.executable, "-m", "agentroute", "route", "--input", "-", "--output", str(target)],
            stdin=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert proc.returncode == 2, proc.stderr
    assert "is the --input file" in proc.stderr
    assert target.read_bytes() == before


def test_an_interrupted_run_leaves_the_previous_output_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agentroute import _batch

    source, target = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_text(_lines(REQUESTS[:8]), encoding="utf-8")
    target.write_text("the previous answers\n", encoding="utf-8")
    real = _batch._route_chunk

    def dies_after_one(*args: object, **kwargs: object) -> object:
        monkeypatch.setattr(_batch, "_route_chunk", _interrupt)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(_batch, "_route_chunk", dies_after_one)
    # chunk of 1,000 lines: 8 lines are one chunk; a second file makes a second chunk.
    source.write_text(_lines(REQUESTS[:8] * 200), encoding="utf-8")
    assert cli.main(["route", "--input", str(source), "--output", str(target)]) == 130
    assert target.read_text(encoding="utf-8") == "the previous answers\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl"]  # no temp left


def _interrupt(*args: object, **kwargs: object) -> object:
    raise KeyboardInterrupt


def test_jobs_start_no_more_workers_than_chunks_or_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    import multiprocessing
    import os

    started: list[int] = []
    real = multiprocessing.get_context

    class Spy:
        def __init__(self) -> None:
            self._ctx = real()

        def Pool(self, processes: int, *args: object) -> object:
            started.append(processes)
            return self._ctx.Pool(processes, *args)

    monkeypatch.setattr(multiprocessing, "get_context", Spy)
    router = default_router()
    two = io.StringIO('"fix the helm chart"\n"write unit tests"\n')
    sink = io.StringIO()
    route_file(router, two, sink, jobs=200)
    assert started == [] and sink.getvalue().count("\n") == 2  # two lines: no pool at all
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    route_file(router, io.StringIO(_lines(REQUESTS)), io.StringIO(), jobs=200, chunk=3)
    assert started == [2]


def test_route_frame_adds_columns_and_keeps_none(cluster: object) -> None:
    import dask.dataframe as dd
    import pandas as pd

    router = default_router()
    texts = ["bake a cake", "our kubernetes pods keep crashing after the helm upgrade"] * 3
    pdf = pd.DataFrame({"request": texts, "ticket": range(6)}, index=range(10, 16))
    got = route_frame(dd.from_pandas(pdf, npartitions=1), router).compute()
    assert list(got.columns) == [
        "request",
        "ticket",
        "agent",
        "alternatives",
        "status",
        "confidence",
        "group_confidence",
        "reason",
    ]
    assert list(got.index) == list(range(10, 16)) and list(got["ticket"]) == list(range(6))
    assert got["agent"].iloc[0] is None  # not NaN
    assert got["agent"].iloc[1] == "kubernetes-operator"


def test_the_router_is_scattered_once_not_sent_inside_the_graph(cluster: object) -> None:
    import dask.bag as db

    from agentroute import Router

    bag = route_bag(db.from_sequence(REQUESTS, npartitions=4), default_router())
    graph = dict(bag.__dask_graph__())
    # The graph travels with every compute; a router in it (as a DataNode or an argument)
    # made distributed warn "Sending large graph" on each call for a real catalog.
    assert not any(isinstance(getattr(v, "value", v), Router) for v in graph.values())
    assert not any(isinstance(a, Router) for v in graph.values() for a in getattr(v, "args", ()))


def test_the_batch_file_carries_groups(tmp_path: Path) -> None:
    # Issue 21: a group answer is shown wherever a decision is, the batch file included.
    from agentroute import Router
    from test_similar import TWINS

    router = Router.from_agents(TWINS)
    sink = io.StringIO()
    route_file(
        router,
        io.StringIO(_lines(["our kubernetes pods keep crashing after the helm upgrade"])),
        sink,
    )
    answer = json.loads(sink.getvalue())
    assert answer["alternatives"] and answer["group_confidence"] >= answer["confidence"]
    assert {answer["agent"], *answer["alternatives"]} == {
        "kubernetes-expert",
        "kubernetes-specialist",
    }
