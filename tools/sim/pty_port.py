"""A pseudo-terminal that looks like the RX board's USB serial port.

`open_port()` creates a pty pair and puts the slave side in raw mode (no echo, no CR/LF
translation, 8-bit clean: binary frames pass unchanged), so `serial.Serial(path)` opens it
exactly like /dev/ttyACM0. The simulator writes into the master side. The slave fd stays open
in the simulator, so a reader may close and reopen the port without a hang-up.

A slow (or absent) reader must not stall the simulator forever: `PtyWriter.write` waits at
most `start_timeout_s` for room (the pty buffer holds ~20 kB, ~1 s of v1 frames) before it
drops a whole chunk (counted in `dropped`, as the firmware counts dropped writes), and after a
drop it does not wait again until the reader takes something, so a real-time stream keeps its
pace with nobody reading. A chunk once started is finished unless the reader stays stuck for
`stall_timeout_s`, after which the rest is cut (the decoder resynchronises).
"""

from __future__ import annotations

import errno
import fcntl
import os
import select
import struct
import termios
import time
import tty
from dataclasses import dataclass


@dataclass
class PtyPort:
    master: int
    slave: int
    path: str

    def close(self) -> None:
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass


def open_port() -> PtyPort:
    master, slave = os.openpty()
    tty.setraw(slave, termios.TCSANOW)
    os.set_blocking(master, False)
    return PtyPort(master, slave, os.ttyname(slave))


class PtyWriter:
    def __init__(self, port: PtyPort, start_timeout_s: float = 0.5, stall_timeout_s: float = 5.0) -> None:
        self.port = port
        self.start_timeout_s = start_timeout_s
        self.stall_timeout_s = stall_timeout_s
        self.dropped = 0  # chunks dropped whole because nobody read
        self.cut = 0  # chunks cut short after a stall
        self._absent = False  # the last chunk was dropped: the reader is gone or stuck

    def _wait(self, timeout: float) -> bool:
        _, ready, _ = select.select([], [self.port.master], [], timeout)
        return bool(ready)

    def pending(self) -> int:
        """Bytes written but not yet read by the reader."""
        buf = fcntl.ioctl(self.port.slave, termios.FIONREAD, b"\0\0\0\0")
        return struct.unpack("i", buf)[0]

    def drain(self, timeout_s: float, settle_s: float = 1.0) -> None:
        """Give the reader up to `timeout_s` to read what is buffered (before closing the port).

        The queue must stay empty for `settle_s`: the kernel moves written bytes to the reader's
        queue asynchronously, and a reader blocked in a read with a timeout (pyserial's
        `read(n)` with `timeout=1`) gets its last bytes only when that read returns; closing
        the port first would hang it up mid-read and lose them.
        """
        deadline = time.monotonic() + timeout_s
        empty_since = None
        while time.monotonic() < deadline:
            now = time.monotonic()
            if self.pending():
                empty_since = None
            elif empty_since is None:
                empty_since = now
            elif now - empty_since >= settle_s:
                return
            select.select([], [], [], 0.02)

    def write(self, data: bytes) -> bool:
        """Write one chunk; False when it was dropped or cut."""
        view = memoryview(data)
        if not view:
            return True
        if not self._wait(0.0 if self._absent else self.start_timeout_s):
            self.dropped += 1
            self._absent = True  # don't wait again until the reader takes something
            return False
        self._absent = False
        while view:
            try:
                n = os.write(self.port.master, view)
            except BlockingIOError:
                n = 0
            except OSError as exc:
                if exc.errno != errno.EIO:
                    raise
                n = 0
            view = view[n:]
            if view and not self._wait(self.stall_timeout_s):
                self.cut += 1
                return False
        return True
