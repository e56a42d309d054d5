"""The example notebook runs top to bottom, headless, and draws its two plots, through the
public API only."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "routing_walkthrough.ipynb"
#: Run first in the kernel: a name or keyword deprecated since 0.2 fails the notebook.
NO_DEPRECATED = (
    "import warnings\n"
    "warnings.filterwarnings('error', message='.*deprecated since agentroute', "
    "category=DeprecationWarning)"
)


def test_the_notebook_uses_only_the_public_api() -> None:
    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    code = "\n".join("".join(c["source"]) for c in cells)
    assert "agentroute." in code
    assert not re.search(r"agentroute\._[a-z]", code), "import from agentroute, not its modules"


@pytest.mark.slow
def test_the_walkthrough_notebook_executes() -> None:
    nbformat = pytest.importorskip(
        "nbformat", reason="the notebook test needs nbformat (dev group)"
    )
    nbclient = pytest.importorskip(
        "nbclient", reason="the notebook test needs nbclient (dev group)"
    )
    pytest.importorskip("matplotlib", reason="the notebook needs matplotlib (dev group)")
    pytest.importorskip("ipykernel", reason="the notebook test needs ipykernel (dev group)")

    nb = nbformat.read(NOTEBOOK, as_version=4)
    stored = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert stored == [], "commit the notebook without outputs (they go stale)"
    nb.cells.insert(0, nbformat.v4.new_code_cell(NO_DEPRECATED))

    client = nbclient.NotebookClient(
        nb,
        timeout=180,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()

    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    errors = [o for o in outputs if o.output_type == "error"]
    assert not errors, errors[0].get("evalue") if errors else ""
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 2, "the reliability diagram and the confused-pairs chart"
    assert "Routed to kubernetes-operator" in text
    assert "team of 2:" in text and "1 member for a one-agent request" in text
    assert "calibration (ECE)" in text
    assert "min_confidence 0.6" in text
