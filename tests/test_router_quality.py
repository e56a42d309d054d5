"""On every labelled request of the real collections, the reason cites the request.

The collections are indexed with their example requests stripped (as the
accuracy benchmark does), so the reason must come from routing, not memory.
Skipped when ``../shared`` is absent.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from agentroute import Router
from agentroute._text import tokens

# A quoted item: 'text' after a space or bracket, before punctuation or a space
# (so the apostrophe in "request's" is not taken for a quote).
QUOTED = re.compile(r"(?:^|[\s(])'([^']+)'(?=[,;.:)\s]|$)")

LABELLED = [
    "wshobson-agents",
    "davila7-claude-code-templates",
    "dl-ezo-claude-code-sub-agents",
    "voltagent-awesome-claude-code-subagents",
]


@pytest.fixture(scope="module")
def stripped(shared: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("stripped")
    subprocess.run(
        [sys.executable, str(shared / "tools" / "strip_examples.py"), str(out), *LABELLED],
        check=True,
        capture_output=True,
    )
    return out


@pytest.mark.parametrize("slug", LABELLED)
def test_every_reason_quotes_evidence_from_the_request(
    shared: Path, stripped: Path, slug: str
) -> None:
    rows = [
        json.loads(line)
        for line in (shared / "corpora" / "labels" / f"{slug}.jsonl").read_text().splitlines()
    ]
    router = Router.from_path(stripped / slug)
    decisions = router.route_many([r["request"] for r in rows])
    missing = []
    for row, d in zip(rows, decisions, strict=True):
        request_words = set(tokens(row["request"]))
        quoted = QUOTED.findall(d.reason)
        if not any(set(tokens(q)) & request_words for q in quoted):
            missing.append((row["request"], d.reason))
    assert not missing, f"{len(missing)} reasons cite nothing from the request: {missing[:3]}"


def test_quoted_evidence_is_the_requests_not_the_agents_name(stripped: Path) -> None:
    """A control: reasons must not pass by quoting words every request shares."""
    router = Router.from_path(stripped / "dl-ezo-claude-code-sub-agents")
    d = router.route("our quarterly invoices need a reconciliation report")
    quoted_words = QUOTED.findall(d.reason)
    assert quoted_words, d.reason  # an empty list would pass the loop below vacuously
    for quoted in quoted_words:
        assert set(tokens(quoted)) <= set(tokens(d.request)), quoted


def test_two_trigger_matches_keep_a_request_in_scope(corpora: Path) -> None:
    """The scope model alone declined this request although it names two triggers."""
    router = Router.from_path(corpora / "dang-hai-tran-antigravity-kit")
    d = router.route("write e2e tests for checkout")
    assert d.status != "no_match", d.reason
    assert len(d.matched_triggers) >= 2
    assert router.route("what's a good database of chess openings").status == "no_match"
