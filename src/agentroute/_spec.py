"""The value objects that flow between the stages: records, diagnostics, decisions.

All are frozen, slotted dataclasses holding tuples, so they can be shared between
threads and compared by value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["AgentSpec", "Candidate", "Decision", "Diagnostic", "LoadResult", "Severity", "Status"]

Severity = Literal["info", "warning", "error"]
Status = Literal["routed", "ambiguous", "no_match"]


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """Something the loader noticed, recovered from, or skipped.

    Attributes
    ----------
    path : str
        The file (or catalog entry) concerned, as a POSIX path.
    kind : str
        A short, stable identifier such as ``"invalid-yaml"`` or ``"mojibake"``.
    message : str
        One sentence a person can read.
    severity : {"info", "warning", "error"}
        ``info``: a harmless normalisation (CRLF, BOM). ``warning``: the file was
        recovered and a field may be imperfect. ``error``: the file was skipped.
        Strict loading raises on warnings and errors.
    """

    path: str
    kind: str
    message: str
    severity: Severity = "warning"

    def __str__(self) -> str:
        return f"{self.path}: {self.severity}: {self.kind}: {self.message}"


@dataclass(frozen=True, slots=True)
class AgentSpec:
    """One agent, as loaded from its definition.

    Attributes
    ----------
    name : str
        Unique within a catalog (a duplicate is renamed ``name@folder``).
    description : str
        The description, cleaned: example blocks removed, escapes and mojibake repaired.
    triggers : tuple of str
        Short trigger phrases (lower case), from explicit fields, description
        phrases ("Triggers on …", "Use PROACTIVELY for …"), skills, the name and
        "When to use" sections.
    examples : tuple of str
        Example requests (``<example>`` user turns, "Example Interactions" lists,
        an ``examples:`` field).
    use_cases : tuple of str
        Longer "when to use" statements from the description and the body.
    tools, skills : tuple of str
        As declared (a comma string or a list).
    model : str or None
        As declared.
    path : str or None
        The source file, as a POSIX path; None for records built in code.
    body : str
        The Markdown body after the front matter (example lists kept).
    declared_name : str
        The name as written in the file, before any de-duplication.
    """

    name: str
    description: str = ""
    triggers: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    use_cases: tuple[str, ...] = ()
    tools: tuple[str, ...] = ()
    skills: tuple[str, ...] = ()
    model: str | None = None
    path: str | None = None
    body: str = field(default="", repr=False)
    declared_name: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError(f"AgentSpec.name must be a non-empty string, got {self.name!r}")
        if not self.declared_name:
            object.__setattr__(self, "declared_name", self.name)


@dataclass(frozen=True, slots=True)
class LoadResult:
    """What :func:`agentroute.load_agents` found: the records and the diagnostics."""

    agents: tuple[AgentSpec, ...]
    diagnostics: tuple[Diagnostic, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Candidate:
    """One ranked agent for a request.

    Attributes
    ----------
    agent : str
        The agent's name.
    score : float
        The combined relevance score in [0, 1] (higher is better). Scores rank
        agents for one request; :attr:`Decision.confidence` is the calibrated
        probability.
    copies : tuple of str
        Other agents of the catalog with the same description and body as this
        one (collections ship one agent under several names): equally right,
        listed here instead of taking places of their own in the ranking.
    """

    agent: str
    score: float
    copies: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """The router's answer for one request.

    Attributes
    ----------
    request : str
        The request as given.
    agent : str or None
        The chosen agent; None when ``status == "no_match"``. For an ambiguous
        decision it is the best candidate, so a caller may still act on it.
    status : {"routed", "ambiguous", "no_match"}
        ``routed``: one agent fits clearly. ``ambiguous``: the best two are
        nearly tied (both are named in the reason). ``no_match``: no agent fits.
    confidence : float
        The estimated probability, in [0, 1], that the top-ranked candidate is
        the right agent for the request, assuming the request is meant for this
        catalog (calibrated on labelled requests; see ``Calibration``). It is
        reported for every status: for ``routed`` and ``ambiguous`` it is about
        the returned agent; for ``no_match`` it is still about the top candidate
        (the abstention itself comes from the known-word rule, the in-scope
        probability or ``min_confidence``, which the reason names).
    reason : str
        One or two sentences a person can read.
    candidates : tuple of Candidate
        Best first.
    matched_triggers : tuple of str
        The best candidate's trigger phrases found in the request.
    top_terms : tuple of str
        The request terms that weighed most for the best candidate.
    """

    request: str
    agent: str | None
    status: Status
    confidence: float
    reason: str
    candidates: tuple[Candidate, ...] = ()
    matched_triggers: tuple[str, ...] = ()
    top_terms: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return (
            f"Decision(agent={self.agent!r}, status={self.status!r}, "
            f"confidence={self.confidence:.3f})"
        )
