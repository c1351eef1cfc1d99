"""Sources: replay files and sessions, a serial port that vanishes and returns, USB matching, sim."""

from __future__ import annotations

import json
import os
import time
import tty

import pytest

from csi_edge import protocol as p
from csi_edge.config import load_config
from csi_edge.errors import DataError, UsageError
from csi_edge.frames import empty_meta
from csi_edge.session.directory import FORMAT, MANIFEST, RAW
from csi_edge.session.rawlog import RawLogWriter, encode_record
from csi_edge.source import SourceClosed, open_source, parse_spec
from csi_edge.source.base import SOURCES, source_class
from csi_edge.source.replay import ReplaySource, RxPacer
from csi_edge.source.serial_port import SerialSource

FAST = load_config(None, {"source.replay_realtime": False})


def read_until(source, predicate, timeout=10.0) -> bytes:
    """Read until predicate(all bytes) holds; bounded."""
    got = b""
    deadline = time.monotonic() + timeout
    while not predicate(got):
        assert time.monotonic() < deadline, f"timed out; got {len(got)} bytes"
        got += source.read(0.1)
    return got


def read_all(source) -> bytes:
    out = b""
    with pytest.raises(SourceClosed):
        for _ in range(100_000):  # bounded: a replay ends
            out += source.read(0.1)
    return out


def test_replay_reads_a_file_then_closes(tmp_path):
    data = os.urandom(200_000)
    (tmp_path / "rec.bin").write_bytes(data)
    src = open_source(f"replay:{tmp_path / 'rec.bin'}", FAST)
    assert isinstance(src, ReplaySource) and not src.paced
    assert read_all(src) == data


def test_replay_missing_file_is_a_one_line_data_error(tmp_path):
    with pytest.raises(DataError, match="cannot open for replay"):
        open_source(f"replay:{tmp_path / 'nope.bin'}", FAST)


def test_realtime_replay_is_paced_by_rx_timestamps_not_by_arrival():
    pacer = RxPacer(rate_hz=100.0)
    meta = empty_meta(3)
    meta["timestamp_us"] = [5_000_000, 5_010_000, 5_020_000]
    assert pacer.due(meta) == pytest.approx(0.02)  # offsets from the first packet's RX time
    meta["timestamp_us"] = [5_030_000, 5_040_000, 6_000_000]
    assert pacer.due(meta) == pytest.approx(1.0)
    meta["timestamp_us"] = -1  # no RX clock: paced by packet count at rate_hz
    assert pacer.due(meta) == pytest.approx(9 / 100.0)
    assert pacer.due(empty_meta(0)) is None


def _crashed_session(directory):
    """A session whose recorder died mid-record: status 'recording', a torn last record."""
    directory.mkdir()
    frames = [p.encode_csi(bytes(128), seq=i, timestamp_us=i * 10_000, secondary_channel=2) for i in range(50)]
    writer = RawLogWriter(directory / RAW)
    for i in range(0, 50, 5):
        writer.append(b"".join(frames[i : i + 5]), 1, 2)
    writer.close()
    with open(directory / RAW, "ab") as fh:
        fh.write(encode_record(p.encode_csi(bytes(128), seq=50), 3, 4)[:-9])  # kill -9 mid-write
    manifest = {"format": FORMAT, "format_version": 1, "status": "recording", "runs": [], "counts": {}}
    (directory / MANIFEST).write_text(json.dumps(manifest))
    return b"".join(frames)


def test_replay_never_recovers_or_rewrites_the_session_it_replays(tmp_path):
    session = tmp_path / "crashed"
    good = _crashed_session(session)
    before = {f.name: (f.read_bytes(), f.stat().st_mtime_ns) for f in session.iterdir()}
    for target in (session, session / RAW):  # a session directory, or its raw.bin
        src = open_source(f"replay:{target}", FAST)
        assert read_all(src) == good  # the good records; the torn tail is where the stream ends
        src.close()
    after = {f.name: (f.read_bytes(), f.stat().st_mtime_ns) for f in session.iterdir()}
    assert after == before  # same files, same bytes, same mtimes: not recovered, not truncated


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


def test_every_registered_source_declares_its_kind_and_builds_from_config():
    for kind in SOURCES:
        cls = source_class(kind)
        assert cls.kind == kind and callable(cls.from_config)
    assert parse_spec("serial:/dev/ttyACM0") == (SerialSource, "/dev/ttyACM0")
    with pytest.raises(UsageError, match="serial needs a target, e.g. serial:/dev/ttyACM0"):
        parse_spec("serial")
    with pytest.raises(UsageError, match="kind must be one of serial, replay, sim"):
        parse_spec("tcp:host:1")


def test_serial_source_takes_its_keys_from_the_config():
    cfg = load_config(None, {"source.reconnect_min_s": 0.05, "source.reconnect_max_s": 0.1, "source.usb_serial": "NOPE"})
    src = open_source("serial:usb", cfg)
    assert isinstance(src, SerialSource) and "no USB device 303a:1001 serial NOPE" in src.last_error
    assert src._min == 0.05 and src._max == 0.1
    src.close()
