"""Decoding bytes from a board (live, recorded or simulated) into CSI frame batches."""

from csi_edge.decoder.stream import Decoded, StreamDecoder, decode_bytes
from csi_edge.decoder.text import ERROR_ORDER as TEXT_ERROR_REASONS

# Every reason StreamDecoder.errors can count (docs/wire-protocol.md, "Text formats").
BINARY_ERROR_REASONS = ("version", "length", "crc", "payload", "type", "truncated")
ERROR_REASONS = BINARY_ERROR_REASONS + ("line_too_long",) + TEXT_ERROR_REASONS

__all__ = ["Decoded", "StreamDecoder", "decode_bytes", "ERROR_REASONS"]
