"""Why the decoder rejected bytes: the one list of decode outcome reasons.

`StreamDecoder.errors` counts failures under these reasons' values (plain strings, so that
counters print and serialise as `{"crc": 3}`); the health topic's `decode_errors`, the docs
(docs/wire-protocol.md) and the tests all take the list from here.
"""

from __future__ import annotations

from enum import Enum


class DecodeReason(str, Enum):
    """A classified decode failure (value: the key counted in `StreamDecoder.errors`)."""

    description: str

    def __new__(cls, value: str, description: str) -> DecodeReason:
        member = str.__new__(cls, value)
        member._value_ = value
        member.description = description
        return member

    def __str__(self) -> str:  # the value, on every Python version (3.12 changed Enum formatting)
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    # binary frames (protocol v1), checked in this order
    VERSION = "version", "a sync pair followed by an unknown protocol version"
    LENGTH = "length", "a payload length above 1024"
    CRC = "crc", "a complete frame whose CRC-32 does not match"
    TYPE = "type", "a CRC-valid frame of an unknown type (skipped whole)"
    PAYLOAD = "payload", "a CRC-valid frame whose payload is too short for its type (skipped whole)"
    TRUNCATED = "truncated", "the stream ended inside a frame"
    # text lines
    LINE_TOO_LONG = "line_too_long", "a text line longer than 64 KiB (counted once per line, dropped)"
    TRUNCATED_LINE = "truncated_line", "`CSI_DATA` without a complete array after it on its line"
    LAYOUT = "layout", "a column count that no header line or known layout explains"
    BAD_FIELD = "bad_field", "a header column that is not the number its layout expects"
    BAD_ARRAY = "bad_array", "the array holds something other than int8 numbers"
    ARRAY_LENGTH = "array_length", "an empty, odd or > 612-value array, or (esp-csi) not the `len` it claims"


ERROR_REASONS: tuple[str, ...] = tuple(reason.value for reason in DecodeReason)
# Failures of binary frames (the rest are failures of text lines).
BINARY_REASONS: tuple[DecodeReason, ...] = (
    DecodeReason.VERSION,
    DecodeReason.LENGTH,
    DecodeReason.CRC,
    DecodeReason.TYPE,
    DecodeReason.PAYLOAD,
    DecodeReason.TRUNCATED,
)
# A bad text row is counted under its first failure, in this order.
TEXT_ROW_REASONS: tuple[DecodeReason, ...] = (
    DecodeReason.TRUNCATED_LINE,
    DecodeReason.LAYOUT,
    DecodeReason.BAD_FIELD,
    DecodeReason.BAD_ARRAY,
    DecodeReason.ARRAY_LENGTH,
)


def reasons_markdown() -> str:
    """The reasons as a markdown table (docs/wire-protocol.md holds this table; a test checks it)."""
    rows = ["| reason | counted when |", "|---|---|"]
    rows += [f"| `{reason.value}` | {reason.description} |" for reason in DecodeReason]
    return "\n".join(rows)
