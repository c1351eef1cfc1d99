"""JSON lines to stdout or a file, for debugging and piping (`--jsonl -` / `--jsonl PATH`).

One line per message: `{"topic": "state" | "health", ...payload}`, written with one write(2)
per line (no buffering) so `tail -f` and pipes see results as they happen. A failed write (a full
disk, a closed stdout: ENOSPC, EPIPE) raises to the Fanout, which counts and reports it; nothing
is kept for later, so memory stays bounded. If a failure tore a line, the next line starts on a
new line: a reader sees one broken line, never two lines glued together.
"""

from __future__ import annotations

import json
import os

from csi_edge.config import Config
from csi_edge.errors import CsiEdgeError
from csi_edge.publish.base import Publisher


class JsonLinesPublisher(Publisher):
    kind = "jsonl"

    def __init__(self, target: str) -> None:
        self.target = target
        self._fd: int | None = None
        self._torn = False  # the last line was cut short by a failed write

    @classmethod
    def enabled(cls, cfg: Config) -> bool:
        return bool(cfg.publish.jsonl)

    @classmethod
    def from_config(cls, cfg: Config, node: str) -> JsonLinesPublisher:
        return cls(cfg.publish.jsonl)

    def start(self) -> None:
        if self.target == "-":
            self._fd = 1  # stdout
            return
        try:
            self._fd = os.open(self.target, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise CsiEdgeError(f"{self.target}: cannot open JSON-lines output ({exc.strerror})") from None

    def _write(self, topic: str, payload: dict) -> None:
        if self._fd is None:
            return
        line = json.dumps({"topic": topic, **payload}, separators=(",", ":")) + "\n"
        data = (("\n" if self._torn else "") + line).encode()
        view = memoryview(data)
        while view:
            try:
                n = os.write(self._fd, view)
            except OSError:
                self._torn = self._torn or len(view) < len(data)
                raise
            view = view[n:]
        self._torn = False

    def state(self, payload: dict) -> None:
        self._write("state", payload)

    def health(self, payload: dict) -> None:
        self._write("health", payload)

    def stop(self, flush_s: float) -> None:
        if self._fd is not None and self._fd != 1:
            os.close(self._fd)
        self._fd = None
