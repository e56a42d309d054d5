"""The per-agent and per-trigger data of a cached catalog, stored as arrays a warm call
decodes in a few C calls instead of a JSON document of 50,000 entries.

:mod:`agentroute._cache` stores, beside its matrices (arrays of the block file, each
checked against its CRC-32 when read):

* ``names``, ``files``: the agent names and the agent files as the writer spelled them,
  UTF-8 (lone surrogates kept), NUL-separated (no name or path holds a NUL: the loader
  cleans control characters out of names);
* ``trigger_keys`` (NUL-separated), ``trigger_owners`` (``int32`` agent positions, one run
  a trigger), ``trigger_ends`` (``int64``, where each run ends) and ``trigger_weights``
  (``float64``);
* ``surfaces`` and ``surface_ends``: each agent's trigger surfaces (trigger key -> the
  phrase as written), one small JSON list of pairs per agent, decoded when a decision
  names that agent's triggers (:class:`Surfaces`): a warm hook decodes one, not 50,000.

Every value is checked before it is used (the cache is untrusted input); a malformed one
raises ``ValueError`` (when read) or :class:`~agentroute._errors.IndexFormatError` (a
surface decoded later).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import overload

import numpy as np

from agentroute._errors import IndexFormatError
from agentroute._fs import Listing

__all__ = ["ARRAYS", "Payload", "Surfaces", "payload_arrays", "read_payload"]

#: The arrays this module writes and reads.
ARRAYS = (
    "names",
    "files",
    "trigger_keys",
    "trigger_owners",
    "trigger_ends",
    "trigger_weights",
    "surfaces",
    "surface_ends",
)


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def _joined(strings: Sequence[str]) -> np.ndarray:
    return np.frombuffer(_encode("\0".join(strings)), dtype=np.uint8)


def _split(blob: np.ndarray, count: int, what: str) -> list[str]:
    """``count`` strings from NUL-separated UTF-8 bytes."""
    if blob.dtype != np.uint8 or blob.ndim != 1:
        raise ValueError(f"{what} are not bytes")
    parts = blob.tobytes().decode("utf-8", "surrogatepass").split("\0") if count else []
    if len(parts) != count or (not count and blob.size):
        raise ValueError(f"{what} do not hold {count:,} entries")
    return parts


def _ends(ends: np.ndarray, count: int, total: int, what: str) -> None:
    """``ends`` are ``count`` int64 offsets, non-decreasing, the last ``total``."""
    if (
        ends.dtype != np.int64
        or ends.shape != (count,)
        or (count and (int(ends[0]) < 0 or int(ends[-1]) != total))
        or (count > 1 and bool(np.any(np.diff(ends) < 0)))
        or (not count and total)
    ):
        raise ValueError(f"the ends of {what} are malformed")


def payload_arrays(
    names: Sequence[str],
    files: Sequence[str],
    triggers: Mapping[str, Sequence[int]],
    weights: Mapping[str, float],
    surfaces: Sequence[Mapping[str, str]],
) -> dict[str, np.ndarray]:
    """The arrays :func:`read_payload` reads back (``triggers`` in their order)."""
    keys = list(triggers)
    runs = [np.asarray(triggers[k], dtype=np.int32) for k in keys]
    texts = [
        _encode(json.dumps(list(s.items()), ensure_ascii=False, separators=(",", ":")))
        for s in surfaces
    ]
    return {
        "names": _joined(names),
        "files": _joined(files),
        "trigger_keys": _joined(keys),
        "trigger_owners": np.concatenate(runs) if runs else np.zeros(0, dtype=np.int32),
        "trigger_ends": np.cumsum([r.size for r in runs], dtype=np.int64),
        "trigger_weights": np.array([weights[k] for k in keys], dtype=np.float64),
        "surfaces": np.frombuffer(b"".join(texts), dtype=np.uint8),
        "surface_ends": np.cumsum([len(t) for t in texts], dtype=np.int64),
    }


class Surfaces(Sequence[dict[str, str]]):
    """Per agent, its trigger surfaces, each agent's decoded (and checked) when read.

    ``shown``: the cache file, named in the error of a malformed entry; ``check(start,
    end)``: called before those bytes of ``blob`` are read (the cache checks the blocks
    they lie in; it raises :class:`~agentroute._errors.IndexFormatError`).
    """

    def __init__(
        self,
        blob: np.ndarray,
        ends: np.ndarray,
        shown: str,
        check: Callable[[int, int], None] | None = None,
    ) -> None:
        _ends(ends, ends.size, blob.size, "the trigger surfaces")
        if blob.dtype != np.uint8 or blob.ndim != 1:
            raise ValueError("the trigger surfaces are not bytes")
        self._blob, self._ends, self._shown, self._check = blob, ends, shown, check

    def __len__(self) -> int:
        return int(self._ends.size)

    @overload
    def __getitem__(self, i: int) -> dict[str, str]: ...

    @overload
    def __getitem__(self, i: slice) -> list[dict[str, str]]: ...

    def __getitem__(self, i: int | slice) -> dict[str, str] | list[dict[str, str]]:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        n = len(self)
        if not -n <= i < n:
            raise IndexError("agent position out of range")
        i %= n
        start, end = int(self._ends[i - 1]) if i else 0, int(self._ends[i])
        if self._check is not None:
            self._check(start, end)  # the blocks these bytes lie in, once each
        raw = self._blob[start:end].tobytes()
        try:
            pairs = json.loads(raw.decode("utf-8", "surrogatepass"))
            if not isinstance(pairs, list) or not all(
                isinstance(p, list) and len(p) == 2 and set(map(type, p)) <= {str} for p in pairs
            ):
                raise ValueError("not a list of pairs of strings")
        except ValueError as exc:
            raise IndexFormatError(
                f"{self._shown}: the trigger surfaces of agent {i} are malformed ({exc})"
            ) from None
        return dict(pairs)

    def __iter__(self) -> Iterator[dict[str, str]]:
        return (self[k] for k in range(len(self)))

    def __repr__(self) -> str:
        return f"Surfaces({len(self)} agents)"


@dataclass(frozen=True, slots=True, kw_only=True)
class Payload:
    """What :func:`read_payload` read: the names, the files as the writer spelled them, the
    trigger table (key -> owners, key -> weight) and the surfaces (decoded when read)."""

    names: tuple[str, ...]
    files: np.ndarray
    triggers: dict[str, tuple[int, ...]]
    weights: dict[str, float]
    surfaces: Surfaces

    def files_as(self, spelled: Sequence[str] | Listing | None) -> dict[str, str]:
        """The map from the writer's spelling of each file to ``spelled`` (this reader's,
        in the same order; a :class:`~agentroute._fs.Listing`: its POSIX spelling); empty
        when they are the same (or ``spelled`` is None or of another length)."""
        if spelled is None:
            return {}
        # The usual case first, with no pass to count the files: the same spelling (a
        # listing's joined without a string a file).
        joined = np.frombuffer(
            _encode(
                spelled.joined("shown") if isinstance(spelled, Listing) else "\0".join(spelled)
            ),
            dtype=np.uint8,
        )
        if joined.size == self.files.size and np.array_equal(joined, self.files):
            return {}
        if isinstance(spelled, Listing):
            spelled = spelled.shown
        n = int(np.count_nonzero(self.files == 0)) + 1 if self.files.size else 0
        if len(spelled) != n:
            return {}
        return dict(zip(_split(self.files, n, "the files"), spelled, strict=True))


def read_payload(
    arrays: Mapping[str, np.ndarray],
    count: int,
    max_weight: float,
    shown: str,
    *,
    check: Callable[[int, int], None] | None = None,
) -> Payload:
    """The payload of ``count`` agents stored in ``arrays``, every part checked (trigger
    owners within the agents, weights finite in ``[0, max_weight]``); ``check``: see
    :class:`Surfaces`.

    Raises
    ------
    ValueError
        When a part is malformed.
    """
    names = tuple(_split(arrays["names"], count, "the names"))
    files = arrays["files"]
    if files.dtype != np.uint8 or files.ndim != 1:
        raise ValueError("the files are not bytes")
    ends, owners, weights = (
        arrays[k] for k in ("trigger_ends", "trigger_owners", "trigger_weights")
    )
    keys = _split(arrays["trigger_keys"], int(ends.size), "the trigger keys")
    _ends(ends, len(keys), int(owners.size), "the trigger owners")
    if (
        owners.dtype != np.int32
        or owners.ndim != 1
        or (owners.size and (int(owners.min()) < 0 or int(owners.max()) >= count))
    ):
        raise ValueError("trigger owners out of range")
    if (
        weights.dtype != np.float64
        or weights.shape != (len(keys),)
        or not bool(np.all(np.isfinite(weights)))
        or (weights.size and (float(weights.min()) < 0 or float(weights.max()) > max_weight))
    ):
        raise ValueError(f"a trigger weight is not a number in [0, {max_weight:g}]")
    if len(set(keys)) != len(keys):
        raise ValueError("a trigger key is stored twice")
    listed, bounds = owners.tolist(), [0, *ends.tolist()]
    triggers = {k: tuple(listed[bounds[j] : bounds[j + 1]]) for j, k in enumerate(keys)}
    surfaces = Surfaces(arrays["surfaces"], arrays["surface_ends"], shown, check)
    if len(surfaces) != count:
        raise ValueError("trigger surfaces do not match the agents")
    return Payload(
        names=names,
        files=files,
        triggers=triggers,
        weights=dict(zip(keys, weights.tolist(), strict=True)),
        surfaces=surfaces,
    )
