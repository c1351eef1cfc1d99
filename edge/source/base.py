"""The source port: `read(timeout) -> bytes`, `pace(meta)`, `status()`, `close()`.

Each source class owns its wiring: it declares its `kind` (the spec prefix), whether the spec
must name a target (`kind:TARGET`), and how it builds itself from the configuration
(`from_config(target, cfg, seconds)`). The registry below holds one line per kind, a lazily
imported "module:Class" string, so the core never imports a source it does not use (the
simulator lives in csi_edge.tools.sim). Adding a source: its module, its line here, its config
keys (edge/config.py) and its test.
"""

from __future__ import annotations

import abc
import importlib
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from csi_edge.errors import UsageError

if TYPE_CHECKING:
    from csi_edge.config import Config

# kind -> "module:Class" (the class's `kind` is the same string).
SOURCES: dict[str, str] = {
    "serial": "csi_edge.source.serial_port:SerialSource",
    "replay": "csi_edge.source.replay:ReplaySource",
    "sim": "csi_edge.tools.sim.source:SimSource",
    "udp": "csi_edge.source.udp:UdpSource",
}


class SourceClosed(Exception):
    """The source has ended for good (replay finished, simulator stopped)."""


class Source(abc.ABC):
    """A stream of raw bytes from a board, a file or the simulator."""

    kind: ClassVar[str]  # the spec prefix, as registered in SOURCES
    needs_target: ClassVar[bool] = False  # the spec must be `kind:TARGET`
    example: ClassVar[str] = ""  # a spec to show in messages, e.g. serial:/dev/ttyACM0
    name: str = "source"

    @classmethod
    @abc.abstractmethod
    def from_config(cls, target: str, cfg: Config, seconds: float | None) -> Source:
        """Build the source for `kind:target` from its configuration keys; `seconds`: the
        run's bound (--seconds), for sources that generate their own data."""

    @abc.abstractmethod
    def read(self, timeout: float) -> bytes:
        """Bytes that arrived (possibly b"" after `timeout` seconds); SourceClosed at the end."""

    def pace(self, meta: np.ndarray) -> float | None:
        """Called by the reader after it decoded packets (`meta`, in stream order) from this
        source's bytes. A source that replays recorded time waits here until the newest packet
        is due and returns the monotonic time it was due; a live source returns None."""
        return None

    @property
    def paced(self) -> bool:
        """True when `pace` waits (the reader should decode every read, not batch them)."""
        return False

    def close(self) -> None:  # noqa: B027 - optional
        """Release the device or file."""

    def status(self) -> dict:
        """Connection state for the health report."""
        return {"name": self.name, "connected": True, "losses": 0, "reconnects": 0}

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def source_class(kind: str) -> type[Source]:
    module_name, _, class_name = SOURCES[kind].partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    assert cls.kind == kind, f"SOURCES[{kind!r}] names a source of kind {cls.kind!r}"
    return cls


def parse_spec(spec: str) -> tuple[type[Source], str]:
    """'serial:/dev/ttyACM0' -> (SerialSource, '/dev/ttyACM0'); 'sim' -> (SimSource, '')."""
    kind, _, target = spec.partition(":")
    if kind not in SOURCES:
        raise UsageError(f"source {spec!r}: kind must be one of {', '.join(SOURCES)} (e.g. serial:/dev/ttyACM0)")
    cls = source_class(kind)
    if cls.needs_target and not target:
        raise UsageError(f"source {spec!r}: {kind} needs a target, e.g. {cls.example or kind + ':TARGET'}")
    return cls, target


def open_source(spec: str, cfg: Config, seconds: float | None = None) -> Source:
    """Open the source a spec names, configured by `cfg` (its [source] keys and its own)."""
    cls, target = parse_spec(spec)
    return cls.from_config(target, cfg, seconds)
