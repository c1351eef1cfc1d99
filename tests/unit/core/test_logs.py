"""Structured logs: one line per event, logfmt quoting, JSON, journald priority prefix."""

from __future__ import annotations

import json
import logging

from csi_edge.logs import EventFormatter


def record(msg: str, level=logging.WARNING, **fields) -> logging.LogRecord:
    r = logging.LogRecord("csi_edge.test", level, __file__, 1, msg, None, None)
    r.fields = fields
    return r


def test_logfmt_one_line_with_quoting():
    line = EventFormatter("logfmt").format(record("serial_lost", device="/dev/x", error='no "data"\nhere', retry_s=0.5))
    assert "\n" not in line
    assert line.split(" ", 1)[1] == 'warning serial_lost device=/dev/x error="no \\"data\\"\\nhere" retry_s=0.5'


def test_json_format_carries_every_field():
    line = EventFormatter("json").format(record("health", level=logging.INFO, rate_Hz=100.0, errors={"crc": 1}))
    obj = json.loads(line)
    assert obj["event"] == "health" and obj["level"] == "info" and obj["rate_Hz"] == 100.0 and obj["errors"] == {"crc": 1}


def test_journald_gets_priority_prefix_and_no_timestamp():
    line = EventFormatter("logfmt", journald=True).format(record("mqtt_refused", level=logging.ERROR, reason="bad"))
    assert line == "<3>error mqtt_refused reason=bad"
