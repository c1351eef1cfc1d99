"""Byte sources: where the stream comes from (serial board, replayed file, simulator).

A source is opened from a spec string, `sim`, `serial:PATH` or `replay:PATH`, and yields raw
bytes in chunks; decoding is the decoder's job. Kinds are registered by name in `SOURCES`.
"""

from csi_edge.source.base import Source, SourceClosed, open_source, parse_spec

__all__ = ["Source", "SourceClosed", "open_source", "parse_spec"]
