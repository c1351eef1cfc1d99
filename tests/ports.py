"""A free loopback TCP port (for brokers, web servers, and a closed port nobody listens on).
Importable from every test folder: the root conftest's folder is on sys.path."""

from __future__ import annotations

import socket


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
