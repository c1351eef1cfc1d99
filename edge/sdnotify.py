"""systemd notification protocol (sd_notify), implemented on a plain datagram socket.

systemd (Type=notify) passes NOTIFY_SOCKET: a filesystem path, or an abstract-namespace name
written with a leading '@' (sent as a leading NUL byte). Each notification is one datagram of
newline-separated `KEY=VALUE` assignments: `READY=1` (startup finished: only once frames are
really being processed), `WATCHDOG=1` (the processing loop is alive; due every WatchdogSec/2,
WATCHDOG_USEC says the interval), `STATUS=text` (shown by `systemctl status`), `STOPPING=1`,
`RELOADING=1`. Without NOTIFY_SOCKET every call is a no-op.
"""

from __future__ import annotations

import os
import socket
import time


class Notifier:
    def __init__(self, environ: dict | None = None) -> None:
        env = os.environ if environ is None else environ
        path = env.get("NOTIFY_SOCKET", "")
        self.address = "\0" + path[1:] if path.startswith("@") else path
        self._sock: socket.socket | None = None
        usec = env.get("WATCHDOG_USEC", "")
        pid = env.get("WATCHDOG_PID", "")
        watchdog_for_us = not pid or pid == str(os.getpid())
        self.watchdog_interval_s = int(usec) / 2e6 if usec.isdigit() and int(usec) > 0 and watchdog_for_us else None
        self._last_watchdog = 0.0
        self.ready_sent = False
        self.errors = 0  # notifications that could not be sent (health: output_errors.sd_notify)

    @property
    def enabled(self) -> bool:
        return bool(self.address)

    def notify(self, **fields) -> bool:
        """Send `KEY=VALUE` lines (keys upper-cased); False if there is no socket or it failed."""
        if not self.address:
            return False
        msg = "\n".join(f"{k.upper()}={v}" for k, v in fields.items()).encode()
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._sock.sendto(msg, self.address)
        except OSError:
            self.errors += 1
            return False
        return True

    def ready(self, status: str = "") -> None:
        if not self.ready_sent:
            self.ready_sent = self.notify(ready=1, **({"status": status} if status else {})) or True

    def status(self, text: str) -> None:
        self.notify(status=text)

    def watchdog(self, now: float | None = None) -> None:
        """Ping the watchdog if it is due (call from the processing loop, as often as you like)."""
        if self.watchdog_interval_s is None:
            return
        now = time.monotonic() if now is None else now
        if now - self._last_watchdog >= self.watchdog_interval_s:
            self._last_watchdog = now
            self.notify(watchdog=1)

    def stopping(self) -> None:
        self.notify(stopping=1)

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
