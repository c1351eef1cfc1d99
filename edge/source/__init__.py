"""Byte sources: where the stream comes from (serial board, replayed file, simulator, UDP).

A source is opened from a spec string (`sim`, `serial:PATH`, `replay:PATH`, `udp:PORT`) and the
configuration, and yields raw bytes in chunks; decoding is the decoder's job. Each kind is one
line of the registry `base.SOURCES` and builds itself with `from_config`.
"""

from csi_edge.source.base import Source, SourceClosed, open_source, parse_spec

__all__ = ["Source", "SourceClosed", "open_source", "parse_spec"]
