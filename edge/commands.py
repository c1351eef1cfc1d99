"""Commands to the running daemon (`recalibrate`, ...), from any thread, run on the loop thread.

Producers (the MQTT command topic, the web view, a signal handler) call `put(name, origin)`
from their own thread; it never blocks: a full queue drops the command and counts it. The
daemon loop calls `run_pending()` once per iteration, which runs the handler registered for
each queued name on the loop thread, so handlers need no locks. A name with no handler is
counted and logged, never raised. The counts go into the health report (`commands`).
"""

from __future__ import annotations

import logging
import queue
from collections import Counter
from collections.abc import Callable

from csi_edge.logs import event

log = logging.getLogger("csi_edge.commands")

Handler = Callable[[str], None]  # called with the command's origin ("mqtt", "web", "signal", ...)


class Commands:
    def __init__(self, maxsize: int = 64) -> None:
        self._queue: queue.Queue[tuple[str, str]] = queue.Queue(maxsize)
        self._handlers: dict[str, Handler] = {}
        self.counts: Counter[str] = Counter()  # "<name>", "dropped", "unknown"

    def register(self, name: str, handler: Handler) -> None:
        self._handlers[name] = handler

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._handlers)

    def put(self, name: str, origin: str) -> bool:
        """Queue `name` (thread-safe, never blocks); False when the queue is full (counted)."""
        try:
            self._queue.put_nowait((name, origin))
        except queue.Full:
            self.counts["dropped"] += 1
            return False
        return True

    def run_pending(self) -> int:
        """Run every queued command's handler on this (the loop) thread; return how many ran."""
        ran = 0
        while True:
            try:
                name, origin = self._queue.get_nowait()
            except queue.Empty:
                return ran
            handler = self._handlers.get(name)
            if handler is None:
                self.counts["unknown"] += 1
                event(log, "command_unknown", logging.WARNING, command=name, origin=origin, known=",".join(self._handlers))
                continue
            self.counts[name] += 1
            event(log, "command", command=name, origin=origin)
            handler(origin)
            ran += 1

    def status(self) -> dict:
        return dict(self.counts)
