"""The public namespace is exactly ``__all__``, and the version has one source."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

import agentroute


def test_all_lists_exactly_the_public_names() -> None:
    public = {
        name
        for name in dir(agentroute)
        if not name.startswith("_")
        and not inspect.ismodule(getattr(agentroute, name))
        and name != "annotations"  # from __future__ import annotations
    }
    assert set(agentroute.__all__) - {"__version__"} == public


def test_every_exported_name_is_documented() -> None:
    for name in agentroute.__all__:
        obj = getattr(agentroute, name)
        # Type aliases (Status, PathArg, ...) are documented where they are defined.
        if isinstance(obj, type) or inspect.isfunction(obj):
            # A dataclass without a docstring gets its signature, "Name(a: int, ...)", as
            # __doc__, so a truthy __doc__ proves nothing: the object must set its own.
            doc = vars(obj).get("__doc__") if isinstance(obj, type) else obj.__doc__
            assert doc and doc.strip(), f"{name} has no docstring"
            assert not doc.startswith(f"{name}("), f"{name} has only the generated docstring"


def test_errors_also_subclass_the_builtin_they_resemble() -> None:
    assert issubclass(agentroute.AgentFileError, ValueError)
    assert issubclass(agentroute.CatalogError, ValueError)
    assert issubclass(agentroute.IndexFormatError, agentroute.AgentrouteError)


def test_version_is_the_one_packaging_reads() -> None:
    pyproject = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    assert 'attr = "agentroute._version.__version__"' in pyproject
    assert re.fullmatch(r"\d+\.\d+\.\d+", agentroute.__version__)


@pytest.mark.slow  # starts processes
def test_importing_agentroute_loads_no_scikit_learn_scipy_or_yaml() -> None:
    """A cached CLI call must not pay for them; they load when an index is built."""
    import subprocess
    import sys

    code = (
        "import sys, agentroute; "
        "print([m for m in ('sklearn', 'scipy', 'yaml', 'agentroute._learn') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_old_module_names_still_import_with_a_deprecation_warning() -> None:
    """0.1 users imported e.g. ``agentroute.router.Router``: that keeps working for a release."""
    import importlib
    import sys

    import pytest

    from agentroute._deprecated import MOVED

    for old, new in MOVED.items():
        sys.modules.pop(old, None)
        with pytest.warns(DeprecationWarning, match=rf"{old} is deprecated .* {new}"):
            module = importlib.import_module(old)
        assert module is importlib.import_module(new)
    from agentroute.router import Router  # type: ignore[import-not-found,unused-ignore]

    assert Router is agentroute.Router
    # lint and evaluate were modules in 0.1 and are functions now: importing the old
    # module must not hide the function.
    from agentroute.lint import lint  # type: ignore[import-not-found,unused-ignore]

    assert callable(agentroute.lint) and agentroute.lint is lint
    assert callable(agentroute.evaluate)


def test_learned_and_lint_are_exported_lazily() -> None:
    """In __all__ and dir(), yet importing agentroute does not import them (see above)."""
    from agentroute._classifier import Learned
    from agentroute._lint import lint

    assert agentroute.Learned is Learned and agentroute.lint is lint
    assert {"Learned", "lint", "LintReport", "Finding"} <= set(dir(agentroute))
