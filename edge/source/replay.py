"""Replay a recorded file (raw serial log, v1 binary, esp-csi or CSI-Tool text) as a source.

`replay:PATH` takes a file or a capture session directory (its `raw.bin`). Two paces:

- as fast as possible (`realtime=False`): 64 KiB chunks, as fast as the consumer reads;
- real time (`realtime=True`): small chunks, each released when the RX clock of its last
  packet is due. The timestamps come from decoding the chunk with the one stream decoder
  (a private instance: pacing only, the daemon decodes the bytes itself). Rows without an RX
  timestamp (some text formats) are paced at `rate_hz`.
"""

from __future__ import annotations

import io
import time
import typing
from pathlib import Path

import numpy as np

from csi_edge.decoder import StreamDecoder
from csi_edge.errors import DataError
from csi_edge.session.rawlog import is_raw_log, read_stream_bytes
from csi_edge.session.reader import read_stream
from csi_edge.source.base import Source, SourceClosed

CHUNK = 1 << 16
PACED_CHUNK = 1024  # ~6 binary frames: ~60 ms granularity at 100 Hz


class ReplaySource(Source):
    def __init__(self, target: str, realtime: bool = False, rate_hz: float = 100.0, chunk_size: int | None = None, **_options) -> None:
        self.name = f"replay:{target}"
        path = Path(target)
        self._fh: typing.BinaryIO
        if path.is_dir():  # a capture session: replay the byte stream its raw log holds (read-only)
            self._fh = io.BytesIO(read_stream(path))
        elif is_raw_log(path):
            self._fh = io.BytesIO(read_stream_bytes(path))
        else:
            try:
                self._fh = open(path, "rb")
            except OSError as exc:
                raise DataError(f"{path}: cannot open for replay ({exc.strerror})") from None
        self.realtime = realtime
        self._chunk = chunk_size or (PACED_CHUNK if realtime else CHUNK)
        self._rate = rate_hz
        self._pacer = StreamDecoder() if realtime else None
        self._t0_wall: float | None = None
        self._t0_us: int | None = None
        self._rows = 0

    def read(self, timeout: float) -> bytes:
        data = self._fh.read(self._chunk)
        if not data:
            raise SourceClosed(self.name)
        if self._pacer is not None:
            self._pace(data)
        return data

    def _due(self, frames_meta: np.ndarray) -> float | None:
        """Wall-clock offset (s) at which the last packet of the chunk is due, from the start."""
        self._rows += len(frames_meta)
        if len(frames_meta) == 0:
            return None
        ts = frames_meta["timestamp_us"]
        last = int(ts[-1])
        if last >= 0:
            if self._t0_us is None:
                first = ts[ts >= 0]
                self._t0_us = int(first[0])
            return max(0.0, (last - self._t0_us) / 1e6)
        return self._rows / self._rate

    def _pace(self, data: bytes) -> None:
        assert self._pacer is not None
        due = self._due(self._pacer.feed(data).frames.meta)
        now = time.monotonic()
        if self._t0_wall is None:
            self._t0_wall = now
        if due is not None:
            wait = self._t0_wall + due - now
            if wait > 0:
                time.sleep(min(wait, 5.0))  # pacing is the point here; a long pause is capped

    def close(self) -> None:
        self._fh.close()
