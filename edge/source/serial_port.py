"""A board on a serial port (USB-Serial-JTAG /dev/ttyACM*, a UART adapter, or a pty).

Targets: a device path (`serial:/dev/csi-edge-rx`, a /dev/serial/by-id link, a pty) or `usb`
(`serial:usb`, or inline `serial:usb:303a:1001[:SERIAL]`): the port is found by USB VID:PID and
optionally serial number with `serial.tools.list_ports`, so ttyACM renumbering does not matter.

Reads whatever is waiting in chunks (pyserial's readline reads one byte at a time).

Loss (cable yanked, board reset, pty closed) is survived: the source logs `serial_lost`, returns
b"" while the device is away, and retries opening it with exponential backoff (reconnect_min_s
doubling up to reconnect_max_s); the path or USB match is resolved again at every attempt, and
`serial_resumed` is logged when bytes flow again. The daemon never restarts for it.
"""

from __future__ import annotations

import logging
import time

import serial
import serial.tools.list_ports

from csi_edge.config import Config
from csi_edge.errors import UsageError
from csi_edge.logs import event
from csi_edge.source.base import Source

log = logging.getLogger("csi_edge.source.serial")


def find_usb_port(vid_pid: str, serial_number: str = "") -> str | None:
    """Device path of the first port matching VID:PID (hex) and serial number, or None."""
    vid, pid = (int(x, 16) for x in vid_pid.split(":"))
    for port in sorted(serial.tools.list_ports.comports(), key=lambda p: p.device):
        if port.vid == vid and port.pid == pid and (not serial_number or port.serial_number == serial_number):
            return port.device
    return None


def _parse_usb_target(target: str, vid_pid: str, usb_serial: str) -> tuple[str, str]:
    """'usb' -> configured match; 'usb:303a:1001[:SER]' -> inline match."""
    rest = target[4:] if target.startswith("usb:") else ""
    if rest:
        parts = rest.split(":")
        if len(parts) < 2 or not all(len(p) == 4 for p in parts[:2]):
            raise UsageError(f"source serial:{target}: expected serial:usb:VID:PID[:SERIAL] in hex, e.g. serial:usb:303a:1001")
        return f"{parts[0]}:{parts[1]}", ":".join(parts[2:])
    return vid_pid, usb_serial


class SerialSource(Source):
    kind = "serial"
    needs_target = True
    example = "serial:/dev/ttyACM0"

    def __init__(
        self,
        target: str,
        baud: int = 921600,
        usb_vid_pid: str = "303a:1001",
        usb_serial: str = "",
        reconnect_min_s: float = 0.5,
        reconnect_max_s: float = 30.0,
    ) -> None:
        self.name = f"serial:{target}"
        self._by_usb = target == "usb" or target.startswith("usb:")
        self._path = target
        if self._by_usb:
            self._vid_pid, self._usb_serial = _parse_usb_target(target, usb_vid_pid, usb_serial)
        self._baud = baud
        self._min, self._max = reconnect_min_s, reconnect_max_s
        self._delay = reconnect_min_s
        self._port: serial.Serial | None = None
        self._next_attempt = 0.0
        self._device = ""
        self.connected = False
        self.losses = 0  # times the port was lost
        self.reconnects = 0  # times it came back
        self.last_error = ""
        self._resumed_logged = True
        self._open(first=True)

    @classmethod
    def from_config(cls, target: str, cfg: Config, seconds: float | None) -> SerialSource:
        s = cfg.source
        return cls(target, s.baud, s.usb_vid_pid, s.usb_serial, s.reconnect_min_s, s.reconnect_max_s)

    def _resolve(self) -> str | None:
        if self._by_usb:
            return find_usb_port(self._vid_pid, self._usb_serial)
        return self._path

    def _open(self, first: bool = False) -> bool:
        device = self._resolve()
        try:
            if device is None:
                raise serial.SerialException(f"no USB device {self._vid_pid}{' serial ' + self._usb_serial if self._usb_serial else ''}")
            self._port = serial.Serial(device, baudrate=self._baud, timeout=0.1)
        except (serial.SerialException, OSError, ValueError) as exc:
            self.last_error = str(exc)
            wait = self._delay
            self._next_attempt = time.monotonic() + wait
            self._delay = min(self._delay * 2, self._max)
            if first or wait >= self._max or wait == self._min:
                event(log, "serial_unavailable", logging.WARNING, source=self.name, error=str(exc), retry_s=round(wait, 2))
            return False
        self._device = device
        if not first:
            self.reconnects += 1
            self._resumed_logged = False
        self.connected = True
        event(log, "serial_open", source=self.name, device=device, baud=self._baud)
        return True

    def _lost(self, exc: Exception) -> None:
        self.losses += 1
        self.connected = False
        self.last_error = str(exc)
        port, self._port = self._port, None
        try:
            if port is not None:
                port.close()
        except Exception:  # noqa: BLE001 - the device is already gone
            pass
        self._delay = self._min
        self._next_attempt = time.monotonic() + self._delay
        event(log, "serial_lost", logging.WARNING, source=self.name, device=self._device, error=str(exc), retry_s=self._delay)

    def read(self, timeout: float) -> bytes:
        if self._port is None:
            now = time.monotonic()
            if now < self._next_attempt:
                time.sleep(min(timeout, self._next_attempt - now))
                return b""
            if not self._open():
                return b""
        port = self._port
        assert port is not None
        try:
            port.timeout = timeout
            first = port.read(1)
            if not first:
                return b""
            waiting = port.in_waiting
            data = first + (port.read(waiting) if waiting else b"")
        except (serial.SerialException, OSError) as exc:
            self._lost(exc)
            return b""
        if not self._resumed_logged:
            self._resumed_logged = True
            self._delay = self._min
            event(log, "serial_resumed", source=self.name, device=self._device, reconnects=self.reconnects)
        return data

    def status(self) -> dict:
        return {"name": self.name, "connected": self.connected, "losses": self.losses, "reconnects": self.reconnects}

    def close(self) -> None:
        if self._port is not None:
            self._port.close()
            self._port = None
