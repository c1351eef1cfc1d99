"""The UDP source: datagrams from a real socket on loopback, decoded like any other stream."""

from __future__ import annotations

import socket

import pytest

from csi_edge import protocol as p
from csi_edge.config import load_config
from csi_edge.decoder import StreamDecoder
from csi_edge.errors import UsageError
from csi_edge.source import open_source


def test_datagrams_are_read_in_order_and_decode_across_datagram_boundaries():
    src = open_source("udp:127.0.0.1:0", load_config(None, {"source.udp_buffer_bytes": 65536}))
    frames = b"".join(p.encode_csi(bytes(128), seq=i, secondary_channel=2) for i in range(40))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
        for start in range(0, len(frames), 500):  # datagrams cut frames anywhere
            tx.sendto(frames[start : start + 500], src.address)
    got = b""
    for _ in range(100):  # bounded: loopback delivers at once
        got += src.read(1.0)
        if len(got) >= len(frames):
            break
    assert got == frames
    assert StreamDecoder().feed(got).frames.meta["seq"].tolist() == list(range(40))
    assert src.status()["datagrams"] == -(-len(frames) // 500)
    assert src.read(0.01) == b""
    src.close()


def test_bad_target_and_busy_port_are_one_line_usage_errors():
    cfg = load_config(None)
    with pytest.raises(UsageError, match=r"expected udp:\[HOST:\]PORT"):
        open_source("udp:host:notaport", cfg)
    first = open_source("udp:127.0.0.1:0", cfg)
    with pytest.raises(UsageError, match="cannot listen"):
        open_source(f"udp:127.0.0.1:{first.address[1]}", cfg)
    first.close()
