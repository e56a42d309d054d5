"""The module names of agentroute 0.1, kept importable for one release.

In 0.2 the implementation modules became private (``agentroute.router`` is now
``agentroute._router``) and everything public is imported from ``agentroute``
itself. ``import agentroute.router`` still works: a finder on ``sys.meta_path``
answers the old name with the private module itself (so classes stay identical)
and a :class:`DeprecationWarning` naming the replacement. The aliases go in 0.3.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import warnings
from collections.abc import Sequence
from types import ModuleType

__all__ = ["MOVED", "install"]

#: Old public module → the private module that replaced it.
MOVED = {
    f"agentroute.{name}": f"agentroute._{name}"
    for name in (
        "calibrate", "cli", "decide", "errors", "evaluate", "hook", "index",
        "learn", "lint", "load", "router", "score", "spec", "text",
    )
}  # fmt: skip


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        new = MOVED[spec.name]
        warnings.warn(
            f"{spec.name} is deprecated since agentroute 0.2 and is removed in 0.3; "
            f"import its public names from 'agentroute' (the code now lives in {new})",
            DeprecationWarning,
            stacklevel=2,
        )
        return importlib.import_module(new)

    def exec_module(self, module: ModuleType) -> None:
        """Nothing to run: :meth:`create_module` returned the loaded private module."""


def install() -> None:
    """Put the alias finder on ``sys.meta_path`` once."""
    if not any(isinstance(f, _Alias) for f in sys.meta_path):
        sys.meta_path.append(_Alias())
