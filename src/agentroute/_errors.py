"""The exceptions agentroute raises.

Every exception also subclasses the built-in it resembles, so callers can catch
either the agentroute class or the built-in one::

    AgentrouteError (Exception)
    ├── AgentFileError (AgentrouteError, ValueError)   a file could not be read as an agent
    │                                                  (strict mode)
    ├── CatalogError (AgentrouteError, ValueError)     a catalog as a whole is unusable (no agents)
    │   └── CatalogNotFoundError (CatalogError,        a path given for a catalog does not exist
    │                             FileNotFoundError)
    ├── IndexFormatError (AgentrouteError, ValueError) a saved index or router file is corrupt,
    │                                                  foreign or of another format version
    └── EncoderError (AgentrouteError, ValueError)     ``encoder=`` names no usable model, its
                                                       library is missing, or a saved router
                                                       needs an encoder it was not given
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agentroute._spec import Diagnostic

__all__ = [
    "AgentFileError",
    "AgentrouteError",
    "CatalogError",
    "CatalogNotFoundError",
    "EncoderError",
    "IndexFormatError",
]


class AgentrouteError(Exception):
    """Base class of every exception raised by agentroute."""


class AgentFileError(AgentrouteError, ValueError):
    """An agent file could not be read, or (in strict mode) needed recovery.

    The message always names the file.
    """

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.detail = message
        super().__init__(f"{path}: {message}")


class CatalogError(AgentrouteError, ValueError):
    """A catalog as a whole is unusable: no agents, or a path that does not exist.

    ``diagnostics`` holds what loading reported (why each file was skipped), so the
    reason is never lost; the message names the first few.
    """

    def __init__(self, message: str, diagnostics: Sequence[Diagnostic] = ()) -> None:
        self.diagnostics: tuple[Diagnostic, ...] = tuple(diagnostics)
        super().__init__(message)


class CatalogNotFoundError(CatalogError, FileNotFoundError):
    """A path given for a catalog does not exist (also a :class:`FileNotFoundError`)."""


class IndexFormatError(AgentrouteError, ValueError):
    """A saved index or router file is corrupt, foreign, or of another format version."""


class EncoderError(AgentrouteError, ValueError):
    """``encoder=`` names no usable model (no such folder or cached model, a folder no
    supported library reads, the library not installed, an ``encode`` returning no 2-D
    array), or a saved router needs an encoder it was not given. The message names it."""
