"""Failures that must not stop the daemon: counted, logged once, then on a rate-limited schedule.

A secondary output that fails (a JSON-lines file on a full disk, a closed stdout) or a broker
that cannot be reached must be visible without flooding the journal: `Failures.failed(reason)`
counts every failure, logs the first one at once (warning), then at most one line per
`every_s` seconds carrying how many failed since the last line; `succeeded()` ends a failing
streak with one `<event>_recovered` line. Counts and the last reason go into health.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from csi_edge.logs import event


class Failures:
    def __init__(self, log: logging.Logger, name: str, every_s: float = 60.0, recovered: str | None = "",
                 clock: Callable[[], float] = time.monotonic, **fields) -> None:  # fmt: skip
        self.log = log
        self.name = name  # the event logged, e.g. "output_failed"
        # the event that ends a streak ("": name with _failed -> _recovered; None: not logged)
        self.recovered = name.removesuffix("_failed") + "_recovered" if recovered == "" else recovered
        self.every_s = every_s
        self.clock = clock
        self.fields = fields  # fixed fields of every line (output=jsonl, host=..., port=...)
        self.count = 0  # failures in total
        self.last_error = ""
        self.failing = False
        self._unlogged = 0
        self._next_log = 0.0

    def failed(self, reason: str, level: int = logging.WARNING, **fields) -> bool:
        """Count one failure; log it if it is the first of a streak or the schedule allows.
        Returns True when a line was logged."""
        self.count += 1
        self._unlogged += 1
        self.last_error = reason
        now = self.clock()
        first = not self.failing
        self.failing = True
        if not first and now < self._next_log:
            return False
        extra = {} if first else {"failures_since_last_report": self._unlogged}
        event(self.log, self.name, level, **self.fields, **fields, reason=reason, failures=self.count, **extra)
        self._unlogged = 0
        self._next_log = now + self.every_s
        return True

    def succeeded(self, **fields) -> bool:
        """The thing works (again); True when this ends a failing streak (logged once)."""
        if not self.failing:
            return False
        self.failing = False
        if self.recovered:
            event(self.log, self.recovered, **self.fields, **fields, failures=self.count)
        self._unlogged = 0
        return True
