"""agentroute: decide which specialist agent should handle a free-text request.

Load agent definitions (Markdown with YAML front matter, Claude Code's
``.claude/agents`` and ``SKILL.md`` skills, YAML/JSON catalogs), index them, and
route requests with a deterministic, explained scorer.

Everything public is imported from here; the modules behind it are private.

>>> import agentroute
>>> router = agentroute.Router.from_default()
>>> router.route("add rate limiting to our gRPC gateway").agent
'go-backend-engineer'
"""

from __future__ import annotations

import logging as _logging
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

from agentroute import _deprecated
from agentroute._batch import (
    BatchReport,
    decision_record,
    route_bag,
    route_file,
    route_frame,
    route_records,
)
from agentroute._calibrate import Calibration, CalibrationSet, LargeCatalogs, Logistic, Signals
from agentroute._claude import claude_code_paths
from agentroute._decide import RouterConfig
from agentroute._errors import (
    AgentFileError,
    AgentrouteError,
    CatalogError,
    CatalogNotFoundError,
    EncoderError,
    IndexFormatError,
)
from agentroute._evaluate import (
    Abstention,
    AgentStats,
    AtConfidence,
    Confusion,
    EvaluationReport,
    Labels,
    Misroute,
    ReliabilityBin,
    evaluate,
    read_labels,
)
from agentroute._explain import Explanation
from agentroute._fs import PathArg
from agentroute._index import Index, IndexConfig
from agentroute._load import load_agents, parse_agent
from agentroute._negative import NotForConfig
from agentroute._pipeline import CacheArg
from agentroute._router import Router, default_catalog_path
from agentroute._score import Weights
from agentroute._semantic import Encoder, SemanticConfig
from agentroute._spec import (
    AgentSpec,
    Candidate,
    Decision,
    Diagnostic,
    LoadResult,
    Severity,
    Status,
    TeamMember,
)
from agentroute._team import TeamConfig
from agentroute._version import __version__

if _TYPE_CHECKING:
    from agentroute._classifier import Learned
    from agentroute._lint import Finding, LintReport, lint

__all__ = [
    "Abstention",
    "AgentFileError",
    "AgentSpec",
    "AgentStats",
    "AgentrouteError",
    "AtConfidence",
    "BatchReport",
    "CacheArg",
    "Calibration",
    "CalibrationSet",
    "Candidate",
    "CatalogError",
    "CatalogNotFoundError",
    "Confusion",
    "Decision",
    "Diagnostic",
    "Encoder",
    "EncoderError",
    "EvaluationReport",
    "Explanation",
    "Finding",
    "Index",
    "IndexConfig",
    "IndexFormatError",
    "Labels",
    "LargeCatalogs",
    "Learned",
    "LintReport",
    "LoadResult",
    "Logistic",
    "Misroute",
    "NotForConfig",
    "PathArg",
    "ReliabilityBin",
    "Router",
    "RouterConfig",
    "SemanticConfig",
    "Severity",
    "Signals",
    "Status",
    "TeamConfig",
    "TeamMember",
    "Weights",
    "__version__",
    "claude_code_paths",
    "decision_record",
    "default_catalog_path",
    "evaluate",
    "lint",
    "load_agents",
    "parse_agent",
    "read_labels",
    "route_bag",
    "route_file",
    "route_frame",
    "route_records",
]

# A library never configures logging; this only keeps Python's last-resort
# handler from printing our warnings when the application has set up none.
_logging.getLogger(__name__).addHandler(_logging.NullHandler())
_deprecated.install(__name__)

# Linting is for authors and Learned needs scikit-learn's analysers: routing and
# the hook do not pay for importing them (PEP 562 lazy attributes).
_LAZY = {
    **dict.fromkeys(("Finding", "LintReport", "lint"), "agentroute._lint"),
    "Learned": "agentroute._classifier",
}


def __getattr__(name: str) -> _Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'agentroute' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
