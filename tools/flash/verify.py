"""After flashing: read the board's HELLO and compare it with what was written to its NVS.

The firmware sends HELLO at boot and again whenever the host sends a byte 'h'; the reader
opens the port, asks, and feeds whatever arrives (in chunks) to csi_edge.decoder until a
HELLO or a LOG error shows up, or the time runs out. A board that cannot start (settings
refused, or an ESP-IDF call failing: firmware 1.1 says so in its HELLO status and error, and
in LOG frames) is reported with its own words.
"""

from __future__ import annotations

import time

import serial

from csi_edge import protocol as p
from csi_edge.decoder import StreamDecoder
from csi_edge.tools.flash.boards import BoardError

HELLO_REQUEST = b"h"
# HELLO field -> NVS key carrying the same value
_HELLO_FIELDS = {"role": "role", "channel": "channel", "secondary_channel": "secondary", "bandwidth": "bandwidth",
                 "phy_rate": "phy_rate", "send_rate_hz": "rate_hz", "transport": "transport",
                 "output_format": "format", "uart_baud": "baud", "gain_lock": "gain_lock",
                 "ltf_mask": "ltf_mask", "gain_lock_packets": "gl_packets", "peer_mac": "peer_mac"}  # fmt: skip
# firmware 1.1 only (a 1.0 board does not report them)
_HELLO_11_FIELDS = {"country": "country", "csi_scale": "csi_scale", "csi_shift": "csi_shift"}


def hello_mismatches(hello: p.Hello, values: dict[str, int | str], mac: str | None) -> list[str]:
    """'field: got X, flashed Y' for every HELLO field that differs from the NVS values."""
    wrong = []
    fields = dict(_HELLO_FIELDS, **(_HELLO_11_FIELDS if hello.extended else {}))
    for field, key in fields.items():
        got, want = getattr(hello, field), values[key]
        if str(got).lower() != str(want).lower():
            wrong.append(f"{field}: board says {got}, flashed {want}")
    if mac and hello.mac.lower() != mac.lower():
        wrong.append(f"mac: board says {hello.mac}, expected {mac}")
    return wrong


def read_hello(port: str, baud: int, timeout_s: float) -> p.Hello:
    """Ask for and wait for a HELLO; BoardError with the board's LOG error if it sends one."""
    decoder = StreamDecoder()
    deadline = time.monotonic() + timeout_s
    try:
        with serial.Serial(port, baud, timeout=0.2, exclusive=True) as ser:
            ser.write(HELLO_REQUEST)
            asked = time.monotonic()
            while time.monotonic() < deadline:
                chunk = ser.read(max(1, ser.in_waiting))
                out = decoder.feed(chunk)
                if out.hellos:
                    hello = out.hellos[0]
                    if hello.problem:
                        raise BoardError(f"{port}: the board reports: {hello.problem}")
                    return hello
                errors = [log.text for log in out.logs if log.level == 1]
                if errors:
                    raise BoardError(f"{port}: the board reports: {errors[0]}")
                if time.monotonic() - asked > 1.0:
                    ser.write(HELLO_REQUEST)
                    asked = time.monotonic()
    except serial.SerialException as exc:
        raise BoardError(f"{port}: cannot read the board after flashing ({exc})") from None
    raise BoardError(f"{port}: no HELLO within {timeout_s:.0f} s (wrong --transport, or the firmware did not start)")
