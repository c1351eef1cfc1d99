"""Structured logs on stderr: one line per event, journald-friendly.

`event(log, "serial_lost", level=logging.WARNING, port="/dev/ttyACM0", retry_s=1.0)` writes

    2026-11-22T03:04:05.123Z warning serial_lost port=/dev/ttyACM0 retry_s=1.0     (logfmt)
    {"time": "...", "level": "warning", "event": "serial_lost", "port": ..., ...}   (json)

Under systemd (JOURNAL_STREAM set) the timestamp is left out (journald adds its own) and each
line starts with the syslog priority prefix `<4>`, so `journalctl -p warning` works.
"""

from __future__ import annotations

import json
import logging
import os
import sys

from csi_edge.timefmt import utc_iso

_PRIORITY = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3, logging.CRITICAL: 2}


def event(log: logging.Logger, name: str, level: int = logging.INFO, **fields) -> None:
    """Log one event with key=value fields."""
    if log.isEnabledFor(level):
        log.log(level, name, extra={"fields": fields})


def _logfmt_value(value) -> str:
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), default=str)
    if text == "" or any(c in text for c in ' ="\n'):
        return json.dumps(text)
    return text


class EventFormatter(logging.Formatter):
    def __init__(self, fmt: str = "logfmt", journald: bool = False) -> None:
        super().__init__()
        self.kind = fmt
        self.journald = journald

    def format(self, record: logging.LogRecord) -> str:
        fields = dict(getattr(record, "fields", {}))
        level = record.levelname.lower()
        if record.exc_info:
            fields["error"] = repr(record.exc_info[1])
        if self.kind == "json":
            body = {"time": utc_iso(record.created), "level": level, "event": record.getMessage(), "logger": record.name, **fields}
            line = json.dumps(body, default=str)
        else:
            parts = [] if self.journald else [utc_iso(record.created)]
            parts += [level, record.getMessage()]
            parts += [f"{k}={_logfmt_value(v)}" for k, v in fields.items()]
            line = " ".join(parts)
        line = line.replace("\n", "\\n")
        if self.journald:
            line = f"<{_PRIORITY.get(record.levelno, 6)}>{line}"
        return line


class StderrHandler(logging.StreamHandler):
    """A stream handler that survives its stream: a failed write (stderr to a full disk, a closed
    pipe) is counted in `errors` (the daemon's health: `output_errors.log`) and otherwise
    ignored; it never prints a traceback into the stream that just failed."""

    def __init__(self, stream=None) -> None:
        super().__init__(stream)
        self.errors = 0
        try:  # write to the descriptor: nothing is left in a buffer that fails again at exit
            self._fd: int | None = self.stream.fileno()
        except (AttributeError, OSError, ValueError):
            self._fd = None  # a stream without a descriptor (tests capturing stderr)

    def emit(self, record: logging.LogRecord) -> None:
        if self._fd is None:
            super().emit(record)
            return
        try:
            data = (self.format(record) + "\n").encode("utf-8", "backslashreplace")
            while data:
                data = data[os.write(self._fd, data) :]
        except RecursionError:
            raise
        except Exception:  # noqa: BLE001 - see handleError
            self.handleError(record)

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        self.errors += 1


def log_errors() -> int:
    """Log lines lost because stderr failed (0 when logging was not set up here)."""
    handlers = logging.getLogger("csi_edge").handlers
    return sum(h.errors for h in handlers if isinstance(h, StderrHandler))


def setup_logging(level: str = "info", fmt: str = "logfmt") -> None:
    """Route the `csi_edge` loggers to stderr, one line per event."""
    root = logging.getLogger("csi_edge")
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = StderrHandler(sys.stderr)
    handler.setFormatter(EventFormatter(fmt, journald=bool(os.environ.get("JOURNAL_STREAM"))))
    root.addHandler(handler)
    root.setLevel(level.upper())
    root.propagate = False
