"""Durable writes of session files: append-only files, atomic replacement, directory fsync.

`AppendOnlyFile`: `flush()` hands data to the OS, `sync()` makes it durable (raw.bin,
labels.jsonl). `write_json_atomic` replaces a file (the manifest) so a reader sees the old or
the new version, never a mix, even across a power loss.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import IO, Any


class AppendOnlyFile:
    """A file opened for appending (binary or UTF-8 text); closing syncs it first."""

    def __init__(self, path: str | Path, binary: bool) -> None:
        self._fh: IO[Any] = open(path, "ab") if binary else open(path, "a", encoding="utf-8")

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


def write_json_atomic(path: Path, obj: dict) -> None:
    """Write + fsync a temporary file, rename it over `path`, fsync the directory."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(obj, fh, indent=2, sort_keys=False)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
