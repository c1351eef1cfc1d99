"""Replay a recorded file (raw serial log, v1 binary, esp-csi or CSI-Tool text) as a source."""

from __future__ import annotations

from pathlib import Path

from csi_edge.errors import DataError
from csi_edge.source.base import Source, SourceClosed

CHUNK = 1 << 16


class ReplaySource(Source):
    """Reads a file in chunks as fast as the consumer asks (real-time pacing: see daemon)."""

    def __init__(self, target: str, chunk_size: int = CHUNK, **_options) -> None:
        self.name = f"replay:{target}"
        path = Path(target)
        if path.is_dir():  # a capture session directory
            path = path / "raw.bin"
        try:
            self._fh = open(path, "rb")
        except OSError as exc:
            raise DataError(f"{path}: cannot open for replay ({exc.strerror})") from None
        self._chunk = chunk_size

    def read(self, timeout: float) -> bytes:
        data = self._fh.read(self._chunk)
        if not data:
            raise SourceClosed(self.name)
        return data

    def close(self) -> None:
        self._fh.close()
