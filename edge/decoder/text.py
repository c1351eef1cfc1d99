"""Text CSI formats: espressif esp-csi `CSI_DATA` lines and ESP32-CSI-Tool CSV lines.

(Placeholder: the full implementation replaces this class; the interface is the contract.)
"""

from __future__ import annotations

from collections import Counter

from csi_edge.frames import FrameBatch


class TextDecoder:
    """Decodes complete text lines; counts failures in `errors`, non-CSI lines in `ignored`."""

    def __init__(self, errors: Counter, ignored: Counter) -> None:
        self.errors = errors
        self.ignored = ignored
        self.lines_seen = 0

    def decode(self, region: bytes) -> FrameBatch:
        """Decode a region of text holding complete lines (the last may lack its newline)."""
        for line in region.splitlines():
            self.lines_seen += 1
            if line.strip():
                self.ignored["text_line"] += 1
        return FrameBatch.empty()
