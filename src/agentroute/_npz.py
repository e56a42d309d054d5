"""The one on-disk container: NumPy ``.npz`` archives, written atomically, read without pickle.

Both the index cache (:mod:`agentroute._cache`) and saved routers
(:mod:`agentroute._router_file`) are ``.npz`` archives of plain arrays (JSON
travels as ``uint8`` bytes). Writing goes to a temporary file in the target's
folder, then :func:`os.replace`: a reader, or a process killed mid-write, sees
the old file or the new one, never half of one. Reading never unpickles, so a
file cannot run code; what it holds is still untrusted and is checked by the
caller.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["TEMP_PREFIX", "json_array", "load_npz", "write_npz"]

#: Temporary files of an unfinished write start with this; nothing else does.
TEMP_PREFIX = ".agentroute-"


def json_array(obj: object) -> np.ndarray:
    """``obj`` as UTF-8 JSON bytes in a ``uint8`` array (arrays are all an archive holds)."""
    return np.frombuffer(
        json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8"), dtype=np.uint8
    )


def write_npz(
    path: str | os.PathLike[str], members: Mapping[str, np.ndarray], *, compress: bool
) -> None:
    """Write ``members`` to ``path`` atomically (see the module docstring).

    Parameters
    ----------
    path : path
        The archive; its folder must exist.
    members : mapping of str to numpy.ndarray
        Archive member names and their arrays.
    compress : bool
        Deflate the members (smaller; slower to read).
    """
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            save = np.savez_compressed if compress else np.savez
            save(fh, **members)  # type: ignore[arg-type]
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_npz(path: str | os.PathLike[str]) -> Any:
    """Open an archive for reading (``allow_pickle=False``); use it as a context manager."""
    return np.load(path, allow_pickle=False)
