"""A board on a serial port (USB-Serial-JTAG /dev/ttyACM*, a UART adapter, or a pty).

Reads whatever is waiting in chunks (pyserial's readline reads one byte at a time).
"""

from __future__ import annotations

import serial

from csi_edge.errors import CsiEdgeError
from csi_edge.source.base import Source


class SerialSource(Source):
    def __init__(self, target: str, baud: int = 921600, **_options) -> None:
        self.name = f"serial:{target}"
        try:
            self._port = serial.Serial(target, baudrate=baud, timeout=0.1)
        except (serial.SerialException, OSError) as exc:
            raise CsiEdgeError(f"{target}: cannot open serial port ({exc})") from None

    def read(self, timeout: float) -> bytes:
        self._port.timeout = timeout
        first = self._port.read(1)
        if not first:
            return b""
        waiting = self._port.in_waiting
        return first + (self._port.read(waiting) if waiting else b"")

    def close(self) -> None:
        self._port.close()
