"""Peak memory of ``agentroute eval`` against the number of labelled requests.

``eval`` should hold what the report needs (counts per agent and per confusion), not
every request and decision: its peak RSS should barely grow with the labels file.
Writes labels files of N requests (the sample labels repeated, each line made
distinct), runs ``agentroute eval --no-cache --json`` on each in a fresh process and
prints the child's peak RSS (``ru_maxrss``)::

    python benchmarks/eval_memory.py            # 10,000 and 100,000 requests, ~2 minutes
    python benchmarks/eval_memory.py 1000 20000

Not a test: nothing here is timed or asserted.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "examples" / "sample_labels.jsonl"


def write_labels(path: Path, n: int) -> None:
    rows = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines() if line]
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            row = dict(rows[i % len(rows)])
            row["request"] = f"{row['request']} (request {i})"
            fh.write(json.dumps(row) + "\n")


def peak_rss_mib(labels: Path) -> tuple[float, dict[str, object]]:
    """Peak RSS of one ``agentroute eval`` run, in MiB, and its JSON report."""
    code = (
        "import resource, sys\n"
        "from agentroute._cli import main\n"
        "status = main(sys.argv[1:])\n"
        "sys.stderr.write(f'maxrss_kib={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}\\n')\n"
        "raise SystemExit(status)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, "eval", "--no-cache", "--json", str(labels)],
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(x for x in done.stderr.splitlines() if x.startswith("maxrss_kib="))
    return int(line.split("=")[1]) / 1024, json.loads(done.stdout)


def main(argv: list[str]) -> None:
    sizes = [int(a) for a in argv] or [10_000, 100_000]
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss > 0
    with tempfile.TemporaryDirectory() as tmp:
        print("requests  labels MB  peak RSS MiB  accuracy")
        for n in sizes:
            path = Path(tmp) / f"labels-{n}.jsonl"
            write_labels(path, n)
            mib, report = peak_rss_mib(path)
            size = path.stat().st_size / 1e6
            print(f"{n:>8,}  {size:>9.1f}  {mib:>12.0f}  {report['accuracy']:.4f}")


if __name__ == "__main__":
    main(sys.argv[1:])
