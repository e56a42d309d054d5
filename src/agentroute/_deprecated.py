"""The module names of agentroute 0.1, kept importable for one release.

In 0.2 the implementation modules became private (``agentroute.router`` is now
``agentroute._router``) and everything public is imported from ``agentroute``
itself. ``import agentroute.router`` still works: a finder on ``sys.meta_path``
answers the old name with the private module itself (so classes stay identical)
and a :class:`DeprecationWarning` naming the replacement. The aliases go in 0.3.
"""

from __future__ import annotations

import functools
import importlib
import importlib.abc
import importlib.machinery
import sys
import warnings
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any, ParamSpec, TypeVar

__all__ = ["MOVED", "install", "renamed", "renamed_attribute", "replaced"]

P = ParamSpec("P")
R = TypeVar("R")

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


class _Package(ModuleType):
    """The ``agentroute`` package, whose public functions outlive an old import.

    ``agentroute.lint`` and ``agentroute.evaluate`` are functions now and were
    modules in 0.1. Importing a module makes Python set it as an attribute of its
    package, which would hide the function after any ``import agentroute.lint``;
    a public name is never replaced by a module (``from agentroute.lint import
    lint`` still works: it reads ``sys.modules``).
    """

    def __setattr__(self, name: str, value: object) -> None:
        public = self.__dict__.get("__all__", ())
        if isinstance(value, ModuleType) and name in public:
            return
        super().__setattr__(name, value)


def install(package: str) -> None:
    """Put the alias finder on ``sys.meta_path`` once and guard ``package``'s names."""
    sys.modules[package].__class__ = _Package
    if not any(isinstance(f, _Alias) for f in sys.meta_path):
        sys.meta_path.append(_Alias())


def renamed(since: str = "0.2", /, **old_to_new: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Accept a keyword's old name (``top=``, ``k=`` of 0.1) for one release, with a
    warning naming the release that renamed it (``since``).

    >>> @renamed(top="limit")
    ... def route(*, limit: int = 5) -> int:
    ...     return limit
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     route(top=3), str(caught[0].message)
    (3, "the keyword 'top' is deprecated since agentroute 0.2: use 'limit'")
    """

    def wrap(func: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(func)
        def inner(*args: P.args, **kwargs: P.kwargs) -> R:
            for old, new in old_to_new.items():
                if old in kwargs:
                    if new in kwargs:
                        raise TypeError(f"give {new}= or its old name {old}=, not both")
                    warnings.warn(
                        f"the keyword {old!r} is deprecated since agentroute {since}: use {new!r}",
                        DeprecationWarning,
                        stacklevel=2,
                    )
                    kwargs[new] = kwargs.pop(old)
            return func(*args, **kwargs)

        return inner

    return wrap


def renamed_attribute(owner: str, old: str, new: str, since: str = "0.3") -> property:
    """A read-only attribute kept for one release under its old name, with a warning.

    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Member:
    ...     confidence: float
    ...     score = renamed_attribute("Member", "score", "confidence")
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     Member(0.5).score, str(caught[0].message)
    (0.5, 'Member.score is deprecated since agentroute 0.3: use Member.confidence')
    """

    def get(self: object) -> Any:
        warnings.warn(
            f"{owner}.{old} is deprecated since agentroute {since}: use {owner}.{new}",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(self, new)

    get.__doc__ = f"The old name of :attr:`{new}`; deprecated since {since}."
    return property(get)


def replaced(old: str, new: str, since: str = "0.3") -> Callable[[Callable[P, R]], Callable[P, R]]:
    """A public function kept for one release after ``new`` replaced it, with a warning.

    >>> @replaced("double(x)", "x * 2")
    ... def double(x: int) -> int:
    ...     return x * 2
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     double(3), str(caught[0].message)
    (6, 'double(x) is deprecated since agentroute 0.3: use x * 2')
    """

    def wrap(func: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(func)
        def inner(*args: P.args, **kwargs: P.kwargs) -> R:
            warnings.warn(
                f"{old} is deprecated since agentroute {since}: use {new}",
                DeprecationWarning,
                stacklevel=2,
            )
            return func(*args, **kwargs)

        return inner

    return wrap
