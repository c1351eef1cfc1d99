"""The publisher port: where results and health go (MQTT broker, JSON lines, ...).

A publisher gets each `state` and `health` payload as a dict (already JSON-ready; field names
in docs/data-fields.md), is told what the state messages carry when the model changes
(`model_changed(StateFields)`: Home Assistant discovery announces exactly those entities), and
is stopped with a bound on how long it may take to flush. A publisher that shows the signal
itself (the web view's heatmap) also gets every decoded batch of packets (`packets`, optional);
it must return at once: decimate on the loop thread, hand only the small result to its own.

Each publisher class owns its wiring: its `kind`, whether the configuration enables it
(`enabled(cfg)`) and how it builds itself (`from_config(cfg, node)`). The registry below holds
one lazily imported "module:Class" line per kind; `build_publishers` fans out to every enabled
one, in registry order, through `Fanout`.
"""

from __future__ import annotations

import abc
import errno
import importlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from csi_edge.failures import Failures

if TYPE_CHECKING:
    from csi_edge.commands import Commands
    from csi_edge.config import Config
    from csi_edge.frames import FrameBatch
    from csi_edge.results import StateFields

log = logging.getLogger("csi_edge.publish")
OUTPUT_WARN_EVERY_S = 60.0  # a failing output is logged at once, then at most this often

# kind -> "module:Class" (the class's `kind` is the same string).
PUBLISHERS: dict[str, str] = {
    "mqtt": "csi_edge.publish.mqtt:MqttPublisher",
    "jsonl": "csi_edge.publish.jsonl:JsonLinesPublisher",
    "web": "csi_edge.web.publisher:WebPublisher",
}


class Publisher(abc.ABC):
    kind: ClassVar[str] = "publisher"

    @classmethod
    def enabled(cls, cfg: Config) -> bool:
        """Whether the configuration asks for this publisher."""
        return False

    @classmethod
    def from_config(cls, cfg: Config, node: str) -> Publisher:
        raise NotImplementedError(f"publisher {cls.kind} cannot be built from the configuration")

    def start(self) -> None:  # noqa: B027 - optional
        """Connect / open."""

    @abc.abstractmethod
    def state(self, payload: dict) -> None:
        """Publish one result."""

    @abc.abstractmethod
    def health(self, payload: dict) -> None:
        """Publish one health report."""

    def model_changed(self, fields: StateFields) -> None:  # noqa: B027
        """The model changed: the state messages now carry `fields`."""

    def packets(self, frames: FrameBatch, arrival: float) -> None:  # noqa: B027
        """The packets one read decoded, which arrived at host monotonic time `arrival` (called
        on the loop thread for every decoded batch; most publishers ignore it)."""

    def accept_commands(self, commands: Commands) -> None:  # noqa: B027
        """A publisher that can receive commands (an MQTT command topic, the web view) puts
        them into `commands` (thread-safe); the daemon runs them on its loop thread."""

    def pump(self) -> None:  # noqa: B027
        """Move queued messages along (called on every loop iteration)."""

    def stop(self, flush_s: float) -> None:  # noqa: B027
        """Flush within `flush_s` seconds, say goodbye, release."""

    def status(self) -> dict:
        """Fields merged into the health report."""
        return {}


def publisher_class(kind: str) -> type[Publisher]:
    module_name, _, class_name = PUBLISHERS[kind].partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    assert cls.kind == kind, f"PUBLISHERS[{kind!r}] names a publisher of kind {cls.kind!r}"
    return cls


def build_publishers(cfg: Config, node: str) -> Fanout:
    """Every publisher the configuration enables, in registry order."""
    classes = [publisher_class(kind) for kind in PUBLISHERS]
    return Fanout([cls.from_config(cfg, node) for cls in classes if cls.enabled(cfg)])


class Fanout(Publisher):
    """Every enabled publisher, in order, each isolated from the others.

    A publisher that raises while running (a JSON-lines file on a full disk, a closed stdout, a
    bug) never takes down the daemon or the other publishers: the failure is counted per
    publisher kind (`output_errors` in health), logged as `output_failed` at once and then at
    most every OUTPUT_WARN_EVERY_S, and `output_recovered` is logged when it works again.
    `start` is not guarded: an output that cannot even open is a configuration error.
    """

    kind = "fanout"

    def __init__(self, publishers: list[Publisher]) -> None:
        self.publishers = publishers
        self.failures = {p.kind: Failures(log, "output_failed", OUTPUT_WARN_EVERY_S, output=p.kind) for p in publishers}

    def _each(self, call: Callable[[Publisher], object], delivers: bool = False) -> None:
        """`call` on every publisher, isolated; `delivers`: a success shows the output works."""
        for p in self.publishers:
            failures = self.failures[p.kind]
            try:
                call(p)
            except Exception as exc:  # noqa: BLE001 - isolation is the point (see the class docstring)
                failures.failed(_reason(exc))
            else:
                if delivers:
                    failures.succeeded()

    def start(self) -> None:
        for p in self.publishers:
            p.start()

    def state(self, payload: dict) -> None:
        self._each(lambda p: p.state(payload), delivers=True)

    def health(self, payload: dict) -> None:
        self._each(lambda p: p.health(payload), delivers=True)

    def model_changed(self, fields: StateFields) -> None:
        self._each(lambda p: p.model_changed(fields))

    def packets(self, frames: FrameBatch, arrival: float) -> None:
        for p in self.publishers:
            p.packets(frames, arrival)

    def accept_commands(self, commands: Commands) -> None:
        for p in self.publishers:
            p.accept_commands(commands)

    def pump(self) -> None:
        self._each(lambda p: p.pump())

    def stop(self, flush_s: float) -> None:
        self._each(lambda p: p.stop(flush_s))

    def status(self) -> dict:
        out: dict = {}
        for p in self.publishers:
            try:
                out.update(p.status())
            except Exception as exc:  # noqa: BLE001
                self.failures[p.kind].failed(_reason(exc))
        out["output_errors"] = {kind: f.count for kind, f in self.failures.items() if f.count}
        return out


def _reason(exc: BaseException) -> str:
    """'No space left on device (ENOSPC)' for an OSError, else the exception's type and text."""
    if isinstance(exc, OSError) and exc.strerror:
        name = errno.errorcode.get(exc.errno or 0, "")
        return f"{exc.strerror} ({name})" if name else exc.strerror
    return f"{type(exc).__name__}: {exc}"
