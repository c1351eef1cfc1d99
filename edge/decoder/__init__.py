"""Decoding bytes from a board (live, recorded or simulated) into CSI frame batches."""

from csi_edge.decoder.stream import Decoded, StreamDecoder, decode_bytes

__all__ = ["Decoded", "StreamDecoder", "decode_bytes"]
