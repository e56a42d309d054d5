"""What makes a catalog route badly, found before a request goes astray.

:func:`lint` reads a fitted :class:`~agentroute.Router` (its records, index and
load diagnostics) and, optionally, labelled requests, and reports
:class:`Finding` s, each an ``error`` (requests will be misrouted) or a
``warning`` (routing is weaker than it could be):

=====================  ========  ==========================================================
code                   severity  meaning
=====================  ========  ==========================================================
``near-copy``          error     two agents' head texts (name, description, triggers,
                                 examples) have TF-IDF cosine ≥ ``near_copy``: requests
                                 cannot tell them apart
``overlap``            warning   cosine ≥ ``overlap``: they compete for the same requests
``duplicate-name``     error     two files declare the same ``name``; one was renamed
``shadowed``           warning   an earlier path (e.g. the project's ``.claude/agents``)
                                 has an agent of the same name: this one is never used
``skipped-file``       error     a file could not be loaded at all
``recovered``          warning   a file loaded only after repair (invalid YAML, …)
``empty-description``  error     fewer than 3 words of description: only the name matches
``short-description``  warning   fewer than ``min_words`` words
``generic-description`` warning  fewer than 2 terms that few other agents use
``common-trigger``     warning   a trigger phrase shared by many agents fires for all
``not-a-claude-name``  warning   the declared name is not lowercase letters, digits and
                                 hyphens: Claude Code cannot address it, and the hook
                                 never names it
``unreachable``        error     (labels) none of an agent's own labelled requests
                                 reaches it
``unreached``          warning   (labels) no labelled request at all reaches the agent
``unknown-label``      warning   (labels) a label names an agent not in the catalog
``near-equivalent``    info      two agents do the same job (:mod:`agentroute._similar`):
                                 a request that fits both is answered with both
=====================  ========  ==========================================================

>>> import agentroute
>>> from agentroute._spec import AgentSpec
>>> router = agentroute.Router.from_agents([
...     AgentSpec("sql-a", "Tunes PostgreSQL queries, indexes and slow query plans."),
...     AgentSpec("sql-b", "Tunes PostgreSQL queries, indexes and slow query plans."),
...     AgentSpec("css", "Styles web pages with CSS grid, flexbox and responsive layouts."),
... ])
>>> [(f.kind, f.agents) for f in lint(router).errors]
[('near-copy', ('sql-a', 'sql-b'))]
"""

from __future__ import annotations

import logging
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from agentroute._claude import claude_code_name
from agentroute._deprecated import renamed_attribute
from agentroute._index import head_text
from agentroute._text import term_surfaces, terms

if TYPE_CHECKING:
    from agentroute._evaluate import Labels
    from agentroute._router import Router

__all__ = ["Finding", "LintReport", "lint"]

logger = logging.getLogger(__name__)

LintSeverity = Literal["error", "warning", "info"]

# Head-vector cosines between unrelated agents sit below 0.15 in every corpus
# collection (99th percentile); copies of one agent under two names score
# 0.85–1.0, and genuinely competing pairs (a "planner" and an
# "implementation-plan" agent) 0.5–0.8.
DEFAULT_OVERLAP = 0.5
DEFAULT_NEAR_COPY = 0.8
DEFAULT_MIN_WORDS = 12
# A request that matches the label of an agent with this many labelled
# requests, none of which reach it, is a real gap rather than noise.
_MIN_SUPPORT_UNREACHABLE = 3
_SHARED_TERMS = 5


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem in a catalog.

    Attributes
    ----------
    kind : str
        A stable identifier (see the module docstring), as
        :attr:`Diagnostic.kind` is for the loader (``code`` in 0.1).
    severity : {"error", "warning", "info"}
        ``info``: nothing is wrong; something a catalog owner may act on.
    message : str
        One sentence naming what is wrong and what would fix it.
    agents : tuple of str
        The agents concerned (two for overlaps).
    path : str or None
        The file concerned, when there is one.
    terms : tuple of str
        Shared terms (overlaps) or the trigger phrase (common triggers).
    value : float or None
        The number the finding measured, which its :attr:`kind` names: the
        description cosine for ``near-copy``, ``overlap`` and ``near-equivalent``,
        the number of agents sharing the trigger for ``common-trigger``; None for
        the other kinds. ``score`` in 0.2: that name still reads it, with a
        :class:`DeprecationWarning`, until 0.4.
    """

    kind: str
    severity: LintSeverity
    message: str
    agents: tuple[str, ...] = ()
    path: str | None = None
    terms: tuple[str, ...] = ()
    value: float | None = None

    score = renamed_attribute("Finding", "score", "value")

    @property
    def code(self) -> str:
        """The 0.1 name of :attr:`kind`; deprecated, removed in 0.3."""
        warnings.warn(
            "Finding.code is deprecated since agentroute 0.2: use Finding.kind",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.kind

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dictionary (``code`` repeats ``kind`` for 0.1 readers, until 0.3;
        ``score`` repeats ``value`` for 0.2 readers, until 0.4)."""
        value = None if self.value is None else round(self.value, 4)
        return {
            "kind": self.kind,
            "code": self.kind,
            "severity": self.severity,
            "message": self.message,
            "agents": list(self.agents),
            "path": self.path,
            "terms": list(self.terms),
            "value": value,
            "score": value,
        }

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{where}{self.severity}: {self.kind}: {self.message}"


@dataclass(frozen=True, slots=True)
class LintReport:
    """Every :class:`Finding`, errors first, then by code and agents."""

    findings: tuple[Finding, ...]
    n_agents: int

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "warning")

    @property
    def infos(self) -> tuple[Finding, ...]:
        """The ``info`` findings (near-equivalents)."""
        return tuple(f for f in self.findings if f.severity == "info")

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return not self.errors

    def to_dict(self) -> dict[str, object]:
        return {
            "agents": self.n_agents,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "findings": [f.to_dict() for f in self.findings],
        }

    def format(
        self, *, limit: int | None = 20, paint: Callable[[str, str], str] | None = None
    ) -> str:
        """A readable report grouped by code; at most ``limit`` lines per code.

        ``paint(text, severity)`` may colour the severity word.
        """
        color = paint or (lambda text, _sev: text)
        by_code: dict[str, list[Finding]] = defaultdict(list)
        for f in self.findings:
            by_code[f.kind].append(f)
        lines: list[str] = []
        for code, group in by_code.items():
            sev = group[0].severity
            lines.append(f"{color(sev, sev)} {code} ({len(group)})")
            shown = group if limit is None else group[:limit]
            for f in shown:
                lines.append(f"  {f.message}")
                if f.path and len(f.agents) <= 1:
                    lines.append(f"    {f.path}")
            if len(shown) < len(group):
                lines.append(f"  … and {len(group) - len(shown)} more (--all or --json shows all)")
        errors, warnings = len(self.errors), len(self.warnings)
        infos = len(self.infos)
        same = f", {infos} near-equivalent pair(s)" if infos else ""
        lines.append(
            f"{self.n_agents} agent(s): {errors} error(s), {warnings} warning(s){same}"
            if errors or warnings
            else f"{self.n_agents} agent(s): no problems found{same}"
        )
        return "\n".join(lines)


def lint(
    router: Router,
    *,
    labels: Labels | None = None,
    overlap: float = DEFAULT_OVERLAP,
    near_copy: float = DEFAULT_NEAR_COPY,
    min_words: int = DEFAULT_MIN_WORDS,
    common_trigger: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> LintReport:
    """Find what would make ``router``'s catalog route badly.

    Parameters
    ----------
    router : Router
        A router over the catalog (its load diagnostics are used too).
    labels : Labels, keyword-only
        Labelled requests (see :func:`agentroute.read_labels`) for the
        reachability checks.
    overlap, near_copy : float, keyword-only
        Cosine thresholds (0–1) for an ``overlap`` warning and a ``near-copy`` error.
    min_words : int, keyword-only
        Descriptions shorter than this get a ``short-description`` warning.
    common_trigger : int, keyword-only
        A trigger shared by at least this many agents is reported; default
        ``max(3, 5 %`` of the catalog``)``.
    progress : callable, keyword-only
        ``progress(done, total)`` while routing labelled requests.

    Returns
    -------
    LintReport
    """
    for name, value in (("overlap", overlap), ("near_copy", near_copy)):
        if not isinstance(value, (int, float)) or not 0.0 < value <= 1.0:
            raise ValueError(f"{name} must be a number in (0, 1], got {value!r}")
    if isinstance(min_words, bool) or not isinstance(min_words, int) or min_words < 0:
        raise ValueError(f"min_words must be a non-negative integer, got {min_words!r}")
    n = len(router.agents)
    if common_trigger is None:
        common_trigger = max(3, int(np.ceil(0.05 * n)))
    elif (
        isinstance(common_trigger, bool)
        or not isinstance(common_trigger, int)
        or (common_trigger < 2)
    ):
        raise ValueError(f"common_trigger must be an integer >= 2, got {common_trigger!r}")

    findings: list[Finding] = []
    findings += _diagnostic_findings(router)
    findings += _overlap_findings(router, overlap=overlap, near_copy=near_copy)
    findings += _equivalent_findings(router, findings)
    findings += _description_findings(router, min_words=min_words)
    findings += _trigger_findings(router, threshold=common_trigger)
    findings += _name_findings(router)
    if labels is not None:
        findings += _label_findings(router, labels, progress=progress)
    order = {"error": 0, "warning": 1, "info": 2}
    # Worst first within a code: the highest cosine, the trigger with most owners.
    findings.sort(
        key=lambda f: (order[f.severity], f.kind, -(f.value or 0.0), f.agents, f.path or "")
    )
    logger.debug("lint: %d agents, %d findings", n, len(findings))
    return LintReport(tuple(findings), n)


def _diagnostic_findings(router: Router) -> list[Finding]:
    out: list[Finding] = []
    by_path = {a.path: a.name for a in router.agents if a.path}
    recovered: dict[str, list[str]] = defaultdict(list)
    for d in router.diagnostics:
        if d.kind == "duplicate-name":
            out.append(
                Finding(
                    "duplicate-name",
                    "error",
                    f"{d.message} (Claude Code and people address agents by name: rename one)",
                    (by_path.get(d.path, d.path),),
                    d.path,
                )
            )
        elif d.kind == "shadowed":
            out.append(Finding("shadowed", "warning", f"{d.path}: {d.message}", (), d.path))
        elif d.severity == "error":
            out.append(
                Finding("skipped-file", "error", f"{d.path}: {d.kind}: {d.message}", (), d.path)
            )
        elif d.severity == "warning":
            recovered[d.path].append(f"{d.kind} ({d.message})")
    for path, notes in recovered.items():
        out.append(
            Finding(
                "recovered",
                "warning",
                f"{by_path.get(path, path)} loaded only with recovery: "
                + "; ".join(notes[:3])
                + (f"; and {len(notes) - 3} more" if len(notes) > 3 else ""),
                (by_path[path],) if path in by_path else (),
                path,
            )
        )
    return out


def _surface_maps(router: Router) -> list[dict[str, str]]:
    """Per agent, index term → a word as written, so reports read "azure", not "azur"."""
    maps = []
    for agent in router.agents:
        m: dict[str, str] = {}
        for term, surface in term_surfaces(head_text(agent)):
            m.setdefault(term, surface.lower())
        maps.append(m)
    return maps


def _overlap_findings(router: Router, *, overlap: float, near_copy: float) -> list[Finding]:
    index = router.index
    head = index.head
    sims = np.asarray((head @ head.T).todense(), dtype=np.float64)
    np.fill_diagonal(sims, 0.0)
    # Either threshold may be the lower one: a near-copy below the overlap bar is
    # still a near-copy.
    rows, cols = np.nonzero(np.triu(sims) >= min(overlap, near_copy))
    if len(rows) == 0:
        return []
    surfaces = _surface_maps(router)
    agents = router.agents
    out = []
    for i, j in zip(rows.tolist(), cols.tolist(), strict=True):
        cos = float(sims[i, j])
        shared = head[i].multiply(head[j]).tocoo()
        order = np.lexsort((shared.col, -shared.data))
        words: list[str] = []
        for k in order[:_SHARED_TERMS]:
            feature = str(index.feature_names[shared.col[k]])
            words.append(" ".join(surfaces[i].get(t, t) for t in feature.split(" ")))
        a, b = index.names[i], index.names[j]
        sev: LintSeverity
        if cos >= near_copy:
            code, sev = "near-copy", "error"
            advice = "requests cannot tell them apart: merge them or make one distinct"
        else:
            code, sev = "overlap", "warning"
            advice = "they compete for the same requests: sharpen what each is for"
        out.append(
            Finding(
                code,
                sev,
                f"{a} ↔ {b}: description similarity {cos:.2f}; shared terms: "
                f"{', '.join(words)}; {advice}",
                (a, b),
                agents[i].path,
                tuple(words),
                cos,
            )
        )
    return out


def _equivalent_findings(router: Router, found: Sequence[Finding]) -> list[Finding]:
    """The near-equivalent pairs of the index that no near-copy or overlap names."""
    index = router.index
    named = {f.agents for f in found if f.kind in ("near-copy", "overlap")}
    sim = index.similar
    names = index.names
    out = []
    for i in range(index.n_agents):
        a, b = int(sim.indptr[i]), int(sim.indptr[i + 1])
        spec = router.agent(names[i]) if b > a else None
        for j, cos in zip(sim.indices[a:b].tolist(), sim.data[a:b].tolist(), strict=True):
            pair = (names[i], names[j])
            if j <= i or pair in named or index.copy_of[i] == index.copy_of[j]:
                continue
            out.append(
                Finding(
                    "near-equivalent",
                    "info",
                    f"{pair[0]} ↔ {pair[1]}: they do the same job (text similarity "
                    f"{cos:.2f}); a request that fits both is answered with both. Keep "
                    "one, or say in each description what sets it apart",
                    pair,
                    None if spec is None else spec.path,
                    (),
                    float(cos),
                )
            )
    return out


def _description_findings(router: Router, *, min_words: int) -> list[Finding]:
    agents = router.agents
    n = len(agents)
    desc_terms = [{t for t in terms(a.description) if " " not in t} for a in agents]
    df = Counter(t for ts in desc_terms for t in ts)
    # "Distinctive": used by at most 5 % of the agents (at least 2, so a small
    # catalog's pairs of related agents still count).
    rare = max(2.0, 0.05 * n)
    out = []
    for agent, ts in zip(agents, desc_terms, strict=True):
        words = len(agent.description.split())
        if words < 3:
            out.append(
                Finding(
                    "empty-description",
                    "error",
                    f"{agent.name}: the description has {words} word(s); only the name can "
                    "match. Say what the agent is for and when to use it",
                    (agent.name,),
                    agent.path,
                )
            )
            continue
        if words < min_words:
            out.append(
                Finding(
                    "short-description",
                    "warning",
                    f"{agent.name}: the description has {words} words (fewer than {min_words}); "
                    "name the tasks, tools and terms a request would use",
                    (agent.name,),
                    agent.path,
                )
            )
        if n >= 3 and sum(df[t] <= rare for t in ts) < 2:
            common = sorted(ts, key=lambda t: (-df[t], t))[:4]
            out.append(
                Finding(
                    "generic-description",
                    "warning",
                    f"{agent.name}: almost every description term is shared with other agents "
                    f"({', '.join(common)}); add what sets this agent apart",
                    (agent.name,),
                    agent.path,
                    tuple(common),
                )
            )
    return out


def _name_findings(router: Router) -> list[Finding]:
    return [
        Finding(
            "not-a-claude-name",
            "warning",
            f"{agent.name}: the name {agent.declared_name!r} is not a Claude Code name "
            "(lowercase letters, digits and hyphens); the hook never suggests it: rename it",
            (agent.name,),
            agent.path,
        )
        for agent in router.agents
        if not claude_code_name(agent.declared_name)
    ]


def _trigger_findings(router: Router, *, threshold: int) -> list[Finding]:
    index = router.index
    out = []
    for key, owners in index.triggers.items():
        if len(owners) < threshold:
            continue
        surface = index.trigger_surface[owners[0]].get(key, key)
        names = [index.names[i] for i in owners]
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        out.append(
            Finding(
                "common-trigger",
                "warning",
                f"trigger {surface!r} belongs to {len(names)} agents ({shown}); it fires for all "
                "of them and tells none apart",
                tuple(names),
                None,
                (surface,),
                float(len(names)),
            )
        )
    return out


def _label_findings(
    router: Router, labels: Labels, *, progress: Callable[[int, int], None] | None
) -> list[Finding]:
    known = {a.name: a for a in router.agents}
    out = []
    unknown = Counter(lab for lab in labels.labels if lab is not None and lab not in known)
    for name, count in sorted(unknown.items()):
        out.append(
            Finding(
                "unknown-label",
                "warning",
                f"{count} labelled request(s) name {name!r}, which is not in the catalog",
                (name,),
            )
        )
    chosen: Counter[str] = Counter()
    own: Counter[str] = Counter()
    support: Counter[str] = Counter()
    texts: Sequence[str] = labels.requests
    done = 0
    for start in range(0, len(texts), 256):
        batch = router.route_many(texts[start : start + 256], limit=1)
        for d, lab in zip(batch, labels.labels[start : start + 256], strict=True):
            if lab is not None:
                support[lab] += 1
            if d.status != "no_match" and d.agent is not None:
                chosen[d.agent] += 1
                own[d.agent] += d.agent == lab
        done += len(batch)
        if progress is not None:
            progress(done, len(texts))
    for name, agent in known.items():
        if support[name] >= _MIN_SUPPORT_UNREACHABLE and own[name] == 0:
            out.append(
                Finding(
                    "unreachable",
                    "error",
                    f"{name}: none of its {support[name]} labelled requests reaches it "
                    f"(it was chosen {chosen[name]} time(s) in all); its description does not "
                    "use the words its requests use",
                    (name,),
                    agent.path,
                )
            )
        elif chosen[name] == 0:
            out.append(
                Finding(
                    "unreached",
                    "warning",
                    f"{name}: no labelled request reaches it"
                    + (f" (it has {support[name]} of its own)" if support[name] else ""),
                    (name,),
                    agent.path,
                )
            )
    return out
