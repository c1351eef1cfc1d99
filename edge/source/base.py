"""The source port: `read(timeout) -> bytes` and `close()`; opened by spec string."""

from __future__ import annotations

import abc
import importlib

from csi_edge.errors import UsageError

# kind -> "module:Class"; each class takes (target: str, **options)
SOURCES = {
    "serial": "csi_edge.source.serial_port:SerialSource",
    "replay": "csi_edge.source.replay:ReplaySource",
    "sim": "csi_edge.source.simulated:SimSource",
}


class SourceClosed(Exception):
    """The source has ended for good (replay finished, simulator stopped)."""


class Source(abc.ABC):
    """A stream of raw bytes from a board, a file or the simulator."""

    name: str = "source"

    @abc.abstractmethod
    def read(self, timeout: float) -> bytes:
        """Bytes that arrived (possibly b"" after `timeout` seconds); SourceClosed at the end."""

    def close(self) -> None:  # noqa: B027 - optional
        """Release the device or file."""

    def status(self) -> dict:
        """Connection state for the health report."""
        return {"name": self.name, "connected": True, "losses": 0, "reconnects": 0}

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def parse_spec(spec: str) -> tuple[str, str]:
    """'serial:/dev/ttyACM0' -> ('serial', '/dev/ttyACM0'); 'sim' -> ('sim', '')."""
    kind, _, target = spec.partition(":")
    if kind not in SOURCES:
        raise UsageError(f"source {spec!r}: kind must be one of {', '.join(SOURCES)} (e.g. serial:/dev/ttyACM0)")
    if kind in ("serial", "replay") and not target:
        raise UsageError(f"source {spec!r}: {kind} needs a path, e.g. {kind}:/path")
    return kind, target


def open_source(spec: str, **options) -> Source:
    """Open a source; `options` are the [source] (and, for sim, [sim]) config keys each kind
    picks from (unknown options are ignored by every kind)."""
    kind, target = parse_spec(spec)
    module_name, _, class_name = SOURCES[kind].partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    return cls(target, **options)
