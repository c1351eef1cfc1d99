"""JSON lines to stdout or a file, for debugging and piping (`--jsonl -` / `--jsonl PATH`).

One line per message: `{"topic": "state" | "health", ...payload}`; flushed per line so `tail -f`
and pipes see results as they happen.
"""

from __future__ import annotations

import json
import sys
from typing import TextIO

from csi_edge.config import Config
from csi_edge.errors import CsiEdgeError
from csi_edge.publish.base import Publisher


class JsonLinesPublisher(Publisher):
    kind = "jsonl"

    def __init__(self, target: str) -> None:
        self.target = target
        self._fh: TextIO | None = None

    @classmethod
    def enabled(cls, cfg: Config) -> bool:
        return bool(cfg.publish.jsonl)

    @classmethod
    def from_config(cls, cfg: Config, node: str) -> JsonLinesPublisher:
        return cls(cfg.publish.jsonl)

    def start(self) -> None:
        if self.target == "-":
            self._fh = sys.stdout
        else:
            try:
                self._fh = open(self.target, "a", encoding="utf-8", buffering=1)
            except OSError as exc:
                raise CsiEdgeError(f"{self.target}: cannot open JSON-lines output ({exc.strerror})") from None

    def _write(self, topic: str, payload: dict) -> None:
        if self._fh is None:
            return
        self._fh.write(json.dumps({"topic": topic, **payload}, separators=(",", ":")) + "\n")
        self._fh.flush()

    def state(self, payload: dict) -> None:
        self._write("state", payload)

    def health(self, payload: dict) -> None:
        self._write("health", payload)

    def stop(self, flush_s: float) -> None:
        if self._fh is not None and self._fh is not sys.stdout:
            self._fh.close()
        self._fh = None
