"""Frames arriving as UDP datagrams (`udp:[HOST:]PORT`), e.g. a receiver on Wi-Fi or a relay.

Binds a datagram socket on HOST (default all interfaces) and PORT, and hands on whatever
datagrams are waiting, concatenated in arrival order: the stream decoder finds the frames (a
datagram boundary may fall anywhere, as with serial reads). Datagrams lost by the network show
up as TX sequence gaps, counted by the link monitor like any other loss.
"""

from __future__ import annotations

import select
import socket

from csi_edge.config import Config
from csi_edge.errors import UsageError
from csi_edge.source.base import Source

MAX_DATAGRAM = 65535
MAX_PER_READ = 256  # datagrams drained per read


def parse_target(target: str) -> tuple[str, int]:
    """'5005' -> ('0.0.0.0', 5005); '127.0.0.1:5005' -> ('127.0.0.1', 5005)."""
    host, _, port = target.rpartition(":")
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise UsageError(f"source udp:{target}: expected udp:[HOST:]PORT with PORT 0..65535, e.g. udp:0.0.0.0:5005")
    return host or "0.0.0.0", int(port)


class UdpSource(Source):
    kind = "udp"
    needs_target = True
    example = "udp:0.0.0.0:5005"

    def __init__(self, host: str, port: int, buffer_bytes: int = 1 << 20) -> None:
        self.name = f"udp:{host}:{port}"
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, buffer_bytes)
            self._sock.bind((host, port))
        except OSError as exc:
            self._sock.close()
            raise UsageError(f"source udp:{host}:{port}: cannot listen ({exc.strerror or exc})") from None
        self._sock.setblocking(False)
        self.address: tuple[str, int] = self._sock.getsockname()
        self.datagrams = 0

    @classmethod
    def from_config(cls, target: str, cfg: Config, seconds: float | None) -> UdpSource:
        host, port = parse_target(target)
        return cls(host, port, cfg.source.udp_buffer_bytes)

    def read(self, timeout: float) -> bytes:
        if not select.select([self._sock], [], [], timeout)[0]:
            return b""
        parts = []
        for _ in range(MAX_PER_READ):
            try:
                parts.append(self._sock.recv(MAX_DATAGRAM))
            except BlockingIOError:
                break
        self.datagrams += len(parts)
        return b"".join(parts)

    def status(self) -> dict:
        return {"name": self.name, "connected": True, "losses": 0, "reconnects": 0, "datagrams": self.datagrams}

    def close(self) -> None:
        self._sock.close()
