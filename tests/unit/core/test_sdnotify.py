"""sd_notify against a real NOTIFY_SOCKET datagram socket (path and abstract namespace)."""

from __future__ import annotations

import os
import socket

import pytest

from csi_edge.sdnotify import Notifier


@pytest.fixture(params=["path", "abstract"])
def notify_socket(request, tmp_path):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    if request.param == "path":
        address = str(tmp_path / "notify.sock")
        sock.bind(address)
        env_value = address
    else:
        name = f"csi-edge-test-{os.getpid()}-{id(sock)}"
        sock.bind("\0" + name)
        env_value = "@" + name
    sock.settimeout(5)
    yield sock, env_value
    sock.close()


def test_ready_status_stopping_reach_the_socket(notify_socket):
    sock, env_value = notify_socket
    n = Notifier({"NOTIFY_SOCKET": env_value})
    n.ready("processing serial:/dev/x")
    assert sock.recv(4096) == b"READY=1\nSTATUS=processing serial:/dev/x"
    n.ready()  # only once
    n.status("100 pkt/s")
    assert sock.recv(4096) == b"STATUS=100 pkt/s"
    n.stopping()
    assert sock.recv(4096) == b"STOPPING=1"
    n.close()


def test_watchdog_pings_at_half_the_interval(notify_socket):
    sock, env_value = notify_socket
    n = Notifier({"NOTIFY_SOCKET": env_value, "WATCHDOG_USEC": "2000000"})
    assert n.watchdog_interval_s == 1.0
    n.watchdog(now=100.0)
    n.watchdog(now=100.5)  # not due yet
    n.watchdog(now=101.0)
    assert sock.recv(4096) == b"WATCHDOG=1"
    assert sock.recv(4096) == b"WATCHDOG=1"
    sock.settimeout(0)
    with pytest.raises(BlockingIOError):
        sock.recv(4096)


def test_watchdog_for_another_pid_and_no_socket_are_no_ops():
    assert Notifier({"NOTIFY_SOCKET": "/x", "WATCHDOG_USEC": "1000", "WATCHDOG_PID": "1"}).watchdog_interval_s is None
    n = Notifier({})
    assert not n.enabled and n.notify(ready=1) is False
