"""The publisher port: where results and health go (MQTT broker, JSON lines, ...).

A publisher gets each `state` and `health` payload as a dict (already JSON-ready; field names
in docs/data-fields.md), is told when the model changes (Home Assistant discovery lists its
classes), and is stopped with a bound on how long it may take to flush. Kinds are registered by
name in `PUBLISHERS`; the daemon fans out to every enabled one through `Fanout`.
"""

from __future__ import annotations

import abc


class Publisher(abc.ABC):
    name = "publisher"

    def start(self) -> None:  # noqa: B027 - optional
        """Connect / open."""

    @abc.abstractmethod
    def state(self, payload: dict) -> None:
        """Publish one result."""

    @abc.abstractmethod
    def health(self, payload: dict) -> None:
        """Publish one health report."""

    def model_changed(self, classes: tuple[str, ...], model_id: str) -> None:  # noqa: B027
        """The model (and maybe its classes) changed."""

    def pump(self) -> None:  # noqa: B027
        """Move queued messages along (called on every loop iteration)."""

    def stop(self, flush_s: float) -> None:  # noqa: B027
        """Flush within `flush_s` seconds, say goodbye, release."""

    def status(self) -> dict:
        """Fields merged into the health report."""
        return {}


class Fanout(Publisher):
    """Every enabled publisher, in order."""

    name = "fanout"

    def __init__(self, publishers: list[Publisher]) -> None:
        self.publishers = publishers

    def start(self) -> None:
        for p in self.publishers:
            p.start()

    def state(self, payload: dict) -> None:
        for p in self.publishers:
            p.state(payload)

    def health(self, payload: dict) -> None:
        for p in self.publishers:
            p.health(payload)

    def model_changed(self, classes, model_id) -> None:
        for p in self.publishers:
            p.model_changed(classes, model_id)

    def pump(self) -> None:
        for p in self.publishers:
            p.pump()

    def stop(self, flush_s: float) -> None:
        for p in self.publishers:
            p.stop(flush_s)

    def status(self) -> dict:
        out: dict = {}
        for p in self.publishers:
            out.update(p.status())
        return out
