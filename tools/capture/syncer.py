"""Background fsync: durability without ever blocking the read loop.

A slow disk can take seconds to fsync; a read loop blocked that long lets the serial port's
kernel buffer overflow, which loses exactly the data a capture must keep. So the loop only
flushes its buffers to the OS (fast) and hands a manifest snapshot to this thread, which
fsyncs raw.bin, then labels.jsonl, then replaces the manifest atomically. The manifest's counts
were taken before the fsyncs began, so they never claim more than is on disk. If syncs fall
behind, only the newest snapshot is written. An error is kept and re-raised in the loop.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from csi_edge.errors import CsiEdgeError
from csi_edge.session.files import write_json_atomic


class Syncer:
    def __init__(self, manifest_path: Path, fds: tuple[int, ...]) -> None:
        self._path = manifest_path
        self._fds = fds
        self._cond = threading.Condition()
        self._snapshot: dict | None = None
        self._stopping = False
        self.error: BaseException | None = None
        self.completed = 0  # syncs done (for tests and the screen)
        self._thread = threading.Thread(target=self._run, name="capture-fsync", daemon=True)
        self._thread.start()

    def request(self, manifest: dict) -> None:
        """Sync what has been written (flushed to the OS) so far, then write `manifest`."""
        if self.error is not None:
            raise CsiEdgeError(f"{self._path.parent}: cannot make the session durable ({self.error})")
        with self._cond:
            self._snapshot = manifest
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._snapshot is None and not self._stopping:
                    self._cond.wait()
                if self._snapshot is None:
                    return
                snapshot, self._snapshot = self._snapshot, None
            try:
                for fd in self._fds:
                    os.fsync(fd)
                write_json_atomic(self._path, snapshot)
                self.completed += 1
            except OSError as exc:
                self.error = exc
                return

    def stop(self) -> None:
        """Finish the pending sync (if any) and end the thread."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        self._thread.join()
