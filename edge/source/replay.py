"""Replay a recorded file (raw serial log, v1 binary, esp-csi or CSI-Tool text) as a source.

`replay:PATH` takes a file, a capture session directory or a session's raw.bin; a session is
read strictly read-only (csi_edge.session.open_stream: never recovered, truncated or
rewritten; a torn tail is where the stream ends). Two paces ([source] replay_realtime):

- as fast as possible: 64 KiB chunks, as fast as the reader takes them;
- real time: small chunks, and the reader calls `pace(meta)` with the packets it decoded from
  them (the one decode: the pipeline's, or the capture recorder's); `pace` waits until the
  RX clock of the newest packet is due. Rows without an RX timestamp (some text formats) are
  paced at `rate_hz`.
"""

from __future__ import annotations

import time
import typing
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from csi_edge.errors import DataError
from csi_edge.session.rawlog import RawLogReader, is_raw_log
from csi_edge.session.reader import open_stream
from csi_edge.source.base import Source, SourceClosed

if typing.TYPE_CHECKING:
    from csi_edge.config import Config

CHUNK = 1 << 16
PACED_CHUNK = 1024  # ~6 binary frames: ~60 ms granularity at 100 Hz
MAX_WAIT_S = 5.0  # a long pause in the recording is cut to this


class RxPacer:
    """Wall-clock pacing of a recorded stream by the RX timestamps of its packets."""

    def __init__(self, rate_hz: float = 100.0) -> None:
        self.rate_hz = rate_hz
        self._t0_wall: float | None = None
        self._t0_us: int | None = None
        self._rows = 0

    def due(self, meta: np.ndarray) -> float | None:
        """Seconds after the first packet at which the newest of `meta` is due (None: no rows)."""
        self._rows += len(meta)
        if len(meta) == 0:
            return None
        ts = meta["timestamp_us"]
        last = int(ts[-1])
        if last >= 0:
            if self._t0_us is None:
                self._t0_us = int(ts[ts >= 0][0])
            return max(0.0, (last - self._t0_us) / 1e6)
        return self._rows / self.rate_hz

    def wait(self, meta: np.ndarray) -> float | None:
        """Sleep until the newest packet of `meta` is due; its due monotonic time (or None)."""
        due = self.due(meta)
        now = time.monotonic()
        if self._t0_wall is None:
            self._t0_wall = now
        if due is None:
            return None
        when = self._t0_wall + due
        if when > now:
            time.sleep(min(when - now, MAX_WAIT_S))  # pacing is the point of a real-time replay
        return when


class ReplaySource(Source):
    kind = "replay"
    needs_target = True
    example = "replay:session-01/"

    def __init__(self, target: str, realtime: bool = False, rate_hz: float = 100.0, chunk_size: int | None = None) -> None:
        self.name = f"replay:{target}"
        self._chunk = chunk_size or (PACED_CHUNK if realtime else CHUNK)
        self._pacer = RxPacer(rate_hz) if realtime else None
        self._log: RawLogReader | None = None
        self._fh: typing.BinaryIO | None = None
        path = Path(target)
        if path.is_dir():  # a capture session: the byte stream its raw log holds
            self._log = open_stream(path)
        elif is_raw_log(path):
            self._log = RawLogReader(path)
        else:
            try:
                self._fh = open(path, "rb")
            except OSError as exc:
                raise DataError(f"{path}: cannot open for replay ({exc.strerror})") from None
        self._records: Iterator[bytes] | None = self._log.payloads() if self._log is not None else None
        self._pending = b""

    @classmethod
    def from_config(cls, target: str, cfg: Config, seconds: float | None) -> ReplaySource:
        return cls(target, realtime=cfg.source.replay_realtime)

    def read(self, timeout: float) -> bytes:
        data = self._read_chunk()
        if not data:
            raise SourceClosed(self.name)
        return data

    def _read_chunk(self) -> bytes:
        if self._fh is not None:
            return self._fh.read(self._chunk)
        assert self._records is not None
        while len(self._pending) < self._chunk:
            record = next(self._records, None)
            if record is None:
                break
            self._pending += record
        data, self._pending = self._pending[: self._chunk], self._pending[self._chunk :]
        return data

    @property
    def paced(self) -> bool:
        return self._pacer is not None

    def pace(self, meta: np.ndarray) -> float | None:
        return self._pacer.wait(meta) if self._pacer is not None else None

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
        if self._log is not None:
            self._log.close()
