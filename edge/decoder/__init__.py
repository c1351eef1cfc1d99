"""Decoding bytes from a board (live, recorded or simulated) into CSI frame batches."""

from csi_edge.decoder.reasons import ERROR_REASONS, DecodeReason
from csi_edge.decoder.stream import Decoded, StreamDecoder, decode_bytes

__all__ = ["Decoded", "DecodeReason", "StreamDecoder", "decode_bytes", "ERROR_REASONS"]
