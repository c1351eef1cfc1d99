"""Append-only session files: `flush()` hands data to the OS, `sync()` makes it durable."""

from __future__ import annotations

import os
from pathlib import Path


class AppendOnlyFile:
    """A file opened for appending (binary or UTF-8 text); closing syncs it first."""

    def __init__(self, path: str | Path, binary: bool) -> None:
        self._fh = open(path, "ab") if binary else open(path, "a", encoding="utf-8")

    def flush(self) -> None:
        self._fh.flush()

    def fileno(self) -> int:
        return self._fh.fileno()

    def sync(self) -> None:
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        if not self._fh.closed:
            self.sync()
            self._fh.close()
