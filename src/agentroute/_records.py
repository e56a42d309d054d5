"""The agent records of an index cache: each deflated alone with its digest, decoded when
asked for (:class:`Records`), so routing a cached catalog decodes only the records it names."""

from __future__ import annotations

import hashlib
import json
import threading
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, overload

import numpy as np

from agentroute._errors import IndexFormatError
from agentroute._fs import DEFAULT_MAX_BYTES
from agentroute._spec import AgentSpec, spec_from_json, spec_to_json

__all__ = ["DIGEST_BYTES", "Records", "digest", "records_blob"]

DIGEST_BYTES = 16
# zlib's default level: 8 % smaller than level 1 at 10,000 agents (29.5 MB against 32.0),
# for ~1 s more of a write; level 9 gains nothing more.
_LEVEL = 6
# No record inflates beyond this (an agent file is at most DEFAULT_MAX_BYTES of text,
# and JSON escapes at most six bytes a character).
_MAX_RECORD_BYTES = 8 * DEFAULT_MAX_BYTES + (1 << 16)


def _bad(path: Path, why: str) -> IndexFormatError:
    return IndexFormatError(f"{path}: {why}")


def digest(record: bytes) -> bytes:
    return hashlib.blake2b(record, digest_size=DIGEST_BYTES).digest()


def records_blob(agents: Sequence[AgentSpec]) -> tuple[bytes, np.ndarray, np.ndarray]:
    """The full records, each as deflated JSON of its own (so one can be decoded
    alone), one after the other; where each ends; the digest of each."""
    blobs = [
        zlib.compress(
            json.dumps(spec_to_json(a), ensure_ascii=True, separators=(",", ":")).encode("ascii"),
            _LEVEL,
        )
        for a in agents
    ]
    ends = np.cumsum([len(b) for b in blobs], dtype=np.int64)
    digests = np.frombuffer(b"".join(map(digest, blobs)), dtype=np.uint8).reshape(
        len(blobs), DIGEST_BYTES
    )
    return b"".join(blobs), ends, digests


class Records(Sequence[AgentSpec]):
    """The agent records of a cache file, each decoded (and its digest checked) when
    first asked for: routing reads the few it names, not the whole catalog.

    Iterating, or :meth:`all`, decodes every record once. A record whose digest,
    JSON or name does not match raises :class:`IndexFormatError` naming the file.
    """

    def __init__(
        self,
        path: Path,
        names: tuple[str, ...],
        blob: np.ndarray,
        ends: np.ndarray,
        digests: np.ndarray,
        respell: Callable[[str], str],
    ) -> None:
        self._path = path
        self._names = names
        self._blob = blob
        self._ends = ends.tolist()
        self._digests = digests
        self._respell = respell
        self._decoded: dict[int, AgentSpec] = {}
        self._all: tuple[AgentSpec, ...] | None = None
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:  # a router sent to worker processes
        state = dict(self.__dict__)
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._names)

    @overload
    def __getitem__(self, i: int) -> AgentSpec: ...
    @overload
    def __getitem__(self, i: slice) -> tuple[AgentSpec, ...]: ...
    def __getitem__(self, i: int | slice) -> AgentSpec | tuple[AgentSpec, ...]:
        if isinstance(i, slice):
            return self.all()[i]
        n = len(self._names)
        if not -n <= i < n:
            raise IndexError("record index out of range")
        i %= n
        hit = self._decoded.get(i)
        if hit is None:
            hit = self._decode(i)
            with self._lock:
                hit = self._decoded.setdefault(i, hit)
        return hit

    def __iter__(self) -> Iterator[AgentSpec]:
        return iter(self.all())

    def all(self) -> tuple[AgentSpec, ...]:
        """Every record, in index order (decoded once)."""
        if self._all is None:
            self._all = tuple(self[i] for i in range(len(self._names)))
        return self._all

    def _decode(self, i: int) -> AgentSpec:
        start = self._ends[i - 1] if i else 0
        blob = self._blob[start : self._ends[i]].tobytes()
        if digest(blob) != self._digests[i].tobytes():
            raise _bad(self._path, f"record {i} does not match its digest (the file is corrupt)")
        try:
            inflate = zlib.decompressobj()
            raw = inflate.decompress(blob, _MAX_RECORD_BYTES)
            if inflate.unconsumed_tail or not inflate.eof:
                raise ValueError("the record is truncated or too large")
            spec = spec_from_json(json.loads(raw.decode("utf-8")))
        except Exception as exc:
            raise _bad(
                self._path, f"record {i} is malformed ({type(exc).__name__}: {exc})"
            ) from exc
        if spec.name != self._names[i]:
            raise _bad(self._path, "the records do not match the index")
        if spec.path is not None and self._respell(spec.path) != spec.path:
            spec = replace(spec, path=self._respell(spec.path))
        return spec
