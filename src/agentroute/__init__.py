"""agentroute: decide which specialist agent should handle a free-text request.

Load agent definitions (Markdown with YAML front matter, Claude Code's
``.claude/agents`` and ``SKILL.md`` skills, YAML/JSON catalogs), index them, and
route requests with a deterministic, explained scorer.

>>> import agentroute
>>> router = agentroute.Router.from_default()
>>> router.route("add rate limiting to our gRPC gateway").agent
'go-backend-engineer'
"""

from __future__ import annotations

from agentroute._version import __version__
from agentroute.calibrate import Calibration
from agentroute.decide import RouterConfig
from agentroute.errors import (
    AgentFileError,
    AgentrouteError,
    CatalogError,
    IndexFormatError,
)
from agentroute.evaluate import EvaluationReport, read_labels
from agentroute.load import claude_code_paths, load_agents, parse_agent
from agentroute.router import Router, default_catalog_path
from agentroute.score import Weights
from agentroute.spec import AgentSpec, Candidate, Decision, Diagnostic, LoadResult

__all__ = [
    "AgentFileError",
    "AgentSpec",
    "AgentrouteError",
    "Calibration",
    "Candidate",
    "CatalogError",
    "Decision",
    "Diagnostic",
    "EvaluationReport",
    "IndexFormatError",
    "LoadResult",
    "Router",
    "RouterConfig",
    "Weights",
    "__version__",
    "claude_code_paths",
    "default_catalog_path",
    "load_agents",
    "parse_agent",
    "read_labels",
]
