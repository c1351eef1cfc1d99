"""Sources: replay files and sessions, a serial port that vanishes and returns, USB matching, sim."""

from __future__ import annotations

import os
import time
import tty

import pytest

from csi_edge import protocol as p
from csi_edge.errors import DataError, UsageError
from csi_edge.frames import empty_meta
from csi_edge.source import SourceClosed, open_source
from csi_edge.source.replay import ReplaySource
from csi_edge.source.serial_port import SerialSource


def read_until(source, predicate, timeout=10.0) -> bytes:
    """Read until predicate(all bytes) holds; bounded."""
    got = b""
    deadline = time.monotonic() + timeout
    while not predicate(got):
        assert time.monotonic() < deadline, f"timed out; got {len(got)} bytes"
        got += source.read(0.1)
    return got


def test_replay_reads_a_file_then_closes(tmp_path):
    data = os.urandom(200_000)
    (tmp_path / "rec.bin").write_bytes(data)
    src = open_source(f"replay:{tmp_path / 'rec.bin'}")
    out = b""
    with pytest.raises(SourceClosed):
        while True:
            out += src.read(0.1)
    assert out == data


def test_replay_missing_file_is_a_one_line_data_error(tmp_path):
    with pytest.raises(DataError, match="cannot open for replay"):
        open_source(f"replay:{tmp_path / 'nope.bin'}")


def test_realtime_replay_is_paced_by_rx_timestamps_not_by_arrival(tmp_path):
    (tmp_path / "r.bin").write_bytes(b"")
    src = ReplaySource(str(tmp_path / "r.bin"), realtime=True)
    meta = empty_meta(3)
    meta["timestamp_us"] = [5_000_000, 5_010_000, 5_020_000]
    assert src._due(meta) == pytest.approx(0.02)  # offsets from the first packet's RX time
    meta["timestamp_us"] = [5_030_000, 5_040_000, 6_000_000]
    assert src._due(meta) == pytest.approx(1.0)
    meta["timestamp_us"] = -1  # no RX clock: paced by packet count at rate_hz
    assert src._due(meta) == pytest.approx(9 / 100.0)


def test_serial_port_loss_is_survived_and_reconnects_through_the_same_link(tmp_path):
    link = tmp_path / "rx"

    def plug():
        master, slave = os.openpty()
        tty.setraw(slave)
        tmp = tmp_path / "rx.tmp"
        tmp.symlink_to(os.ttyname(slave))
        os.replace(tmp, link)
        return master, slave

    master, slave = plug()
    src = SerialSource(str(link), reconnect_min_s=0.05, reconnect_max_s=0.2)
    frame = p.encode_csi(bytes(128), seq=1)
    os.write(master, frame)
    assert read_until(src, lambda b: len(b) >= len(frame)) == frame
    os.close(master)
    os.close(slave)
    assert read_until(src, lambda b: not src.connected) == b""  # lost: reported, not raised
    assert src.losses == 1
    master, slave = plug()
    assert read_until(src, lambda b: src.connected) == b""  # reopened (pyserial flushes input on open)
    os.write(master, frame)
    assert read_until(src, lambda b: len(b) >= len(frame)) == frame  # resumed without a restart
    assert src.connected and src.reconnects == 1
    src.close()
    os.close(master)
    os.close(slave)


def test_serial_by_usb_id_waits_for_the_device_instead_of_failing():
    src = SerialSource("usb:303a:1001:NO-SUCH-SERIAL", reconnect_min_s=0.05, reconnect_max_s=0.1)
    assert not src.connected and "no USB device 303a:1001 serial NO-SUCH-SERIAL" in src.last_error
    assert src.read(0.01) == b""
    with pytest.raises(UsageError, match="serial:usb:VID:PID"):
        SerialSource("usb:zz")


def test_sim_source_yields_protocol_bytes_and_truth():
    pytest.importorskip("csi_edge.tools.sim")
    src = open_source("sim", realtime=False, seconds=1.0, activity="walking")
    data = src.read(1.0)
    assert data.startswith(p.SYNC) and len(src.truth) > 0
    with pytest.raises(SourceClosed):
        for _ in range(100):
            src.read(1.0)
