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


def setup_logging(level: str = "info", fmt: str = "logfmt") -> None:
    """Route the `csi_edge` loggers to stderr, one line per event."""
    root = logging.getLogger("csi_edge")
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(EventFormatter(fmt, journald=bool(os.environ.get("JOURNAL_STREAM"))))
    root.addHandler(handler)
    root.setLevel(level.upper())
    root.propagate = False
