"""Session writer and reader in-process: counts, crash recovery, refusal, append, verify."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from csi_edge import protocol as p
from csi_edge.errors import UsageError
from csi_edge.session import directory as s
from csi_edge.session import rawlog
from csi_edge.session.files import write_json_atomic
from csi_edge.session.info import session_info
from csi_edge.session.labels import read_events
from csi_edge.session.reader import read_stream
from csi_edge.session.recovery import open_for_reading
from csi_edge.source.replay import ReplaySource
from csi_edge.tools.capture.labeller import Labeller, ProtocolState
from csi_edge.tools.capture.labels import DEFAULT_CLASSES, parse_protocol
from csi_edge.tools.capture.recorder import Recorder, RecordOptions, check_new_or_append
from csi_edge.tools.capture.ui import PlainUI
from csi_edge.tools.capture.verify import verify_session

HELLO = p.Hello(1, 2, 3, 1, "1a:00:00:00:00:01", "1a:00:00:00:00:00", 11, 2, 1, 11, 100, 1, 0, 921600, 1, 1, 100, "test")


def _stream(n: int, first_seq: int = 0, skip: tuple[int, ...] = ()) -> bytes:
    rng = np.random.default_rng(first_seq)
    seq = np.array([i for i in range(first_seq, first_seq + n + len(skip)) if i - first_seq not in skip][:n])
    h = np.zeros(n, dtype=p.CSI_HEADER_DTYPE)
    h["seq"] = seq
    h["timestamp_us"] = 2_000_000 + seq * 10_000
    h["rssi"], h["noise_floor"], h["channel"], h["secondary_channel"], h["bandwidth"] = -50, -95, 11, 2, 1
    h["agc_gain"], h["fft_gain"], h["csi_len"] = 30, -10, 128
    h["agc_gain"][n // 2 :] = 34  # one gain change half way
    csi = rng.integers(-40, 40, (n, 128)).astype(np.int8)
    return p.encode_hello(HELLO) + p.encode_csi_batch(h, csi)


def record(tmp_path, out, data: bytes, protocol: str | None = None, append: bool = False, label: str | None = None):
    src_file = tmp_path / f"stream-{len(list(tmp_path.iterdir()))}.bin"
    src_file.write_bytes(data)
    opts = RecordOptions(out=out, source_spec=f"replay:{src_file}", classes=DEFAULT_CLASSES,
                         tags={"day": "1"}, protocol_spec=protocol, append=append)  # fmt: skip

    def labeller(log):
        lab = Labeller(log, DEFAULT_CLASSES, ProtocolState(parse_protocol(protocol, DEFAULT_CLASSES)) if protocol else None)
        if label:
            lab.request("label", label=label, by="option")
        return lab

    rec = Recorder(opts, ReplaySource(str(src_file), chunk_size=997), labeller)
    rec.run(PlainUI(err=io.StringIO()))
    return rec


def test_a_closed_session_counts_and_verifies(tmp_path):
    out = tmp_path / "s"
    data = _stream(400, skip=(100, 101, 102))
    record(tmp_path, out, data, protocol="walking:150p,sitting:150p,lying:500p")
    info = session_info(out)
    assert (info["packets"], info["lost"], info["recovered"]) == (400, 3, False)
    assert info["labels"] == {"walking": 150, "sitting": 150, "lying": 100}
    assert info["gain_changes"] == 1 and any("gains changed 1 times" in w for w in info["warnings"])
    manifest = s.read_manifest(out)
    assert manifest["status"] == "closed" and manifest["counts"]["packets"] == 400
    assert manifest["boards"][0]["build"] == "test" and manifest["tags"] == {"day": "1"}
    assert read_stream(out) == data
    assert verify_session(out) == []


def _crash(out, torn_record: bytes, torn_label: str, extra_event: dict | None = None) -> None:
    """What kill -9 / power loss leaves: status still 'recording', torn tails."""
    manifest = s.read_manifest(out)
    manifest["status"] = "recording"
    manifest["runs"][-1]["ended"] = None
    write_json_atomic(out / s.MANIFEST, manifest)
    with open(out / s.LABELS, "r+", encoding="utf-8") as fh:  # drop the clean "end" event
        lines = fh.readlines()[:-1]
        fh.seek(0)
        fh.truncate()
        fh.writelines(lines)
        if extra_event:
            fh.write(json.dumps(extra_event) + "\n")
        fh.write(torn_label)
    with open(out / s.RAW, "ab") as fh:
        fh.write(torn_record)


def test_recovery_cuts_torn_tails_and_closes_the_labels_at_the_last_good_packet(tmp_path):
    out = tmp_path / "s"
    data = _stream(300)
    record(tmp_path, out, data, label="lying")
    good_size = (out / s.RAW).stat().st_size
    torn = rawlog.encode_record(_stream(5, first_seq=300), 1, 2)[:-7]
    _crash(out, torn, '{"event": "mark", "pa', {"event": "label", "label": "walking", "packet": 320})
    problems = verify_session(out)
    assert any("crashed" in line for line in problems)
    assert any(f"@ byte {good_size}: torn tail of {len(torn)} bytes" in line for line in problems)

    info = session_info(out)  # recovers
    assert info["recovered"] is True and info["status"] == "closed"
    entry = info["recovery"][0]
    assert (entry["torn_bytes"], entry["truncated_at"], entry["packets"]) == (len(torn), good_size, 300)
    assert entry["label_events_dropped"] == 1 and entry["labels_torn_bytes"] == len('{"event": "mark", "pa')
    assert (out / s.RAW).stat().st_size == good_size
    assert read_stream(out) == data
    events, good = read_events(out / s.LABELS)
    assert good == (out / s.LABELS).stat().st_size
    assert events[-1]["event"] == "end" and events[-1]["packet"] == 300 and events[-1]["reason"] == "recovered"
    assert info["labels"] == {"lying": 300}
    assert any(w.startswith("recovered at") for w in info["warnings"])
    assert verify_session(out) == []
    assert session_info(out)["recovery"] == info["recovery"]  # recovering is done once


def test_a_session_with_a_live_recorder_is_not_recovered(tmp_path):
    out = tmp_path / "s"
    record(tmp_path, out, _stream(50))
    _crash(out, b"CSRc\x10", "")
    lock = s.SessionLock(out)
    assert lock.try_acquire()  # stands in for the running recorder
    try:
        assert open_for_reading(out)["status"] == "recording"
        assert (out / s.RAW).read_bytes().endswith(b"CSRc\x10")
    finally:
        lock.release()
    assert open_for_reading(out)["recovered"] is True


def test_a_second_record_refuses_unless_append_and_append_continues(tmp_path):
    out = tmp_path / "s"
    record(tmp_path, out, _stream(200), label="walking")
    before = (out / s.RAW).read_bytes()
    with pytest.raises(UsageError, match="--append"):
        record(tmp_path, out, _stream(10))
    assert (out / s.RAW).read_bytes() == before
    # the second run's board continues at seq 1000: that jump is not loss inside the session
    record(tmp_path, out, _stream(100, first_seq=1000), append=True, protocol="sitting:40p,lying:500p")
    info = session_info(out)
    assert (info["packets"], info["lost"]) == (300, 0)
    assert info["labels"] == {"walking": 200, "sitting": 40, "lying": 60}
    assert [r["first_packet"] for r in info["runs"]] == [0, 200]
    assert read_stream(out) == _stream(200) + _stream(100, first_seq=1000)
    assert verify_session(out) == []


def test_new_directory_rules(tmp_path):
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("x")
    with pytest.raises(UsageError, match="not empty"):
        check_new_or_append(tmp_path / "busy", append=False)
    with pytest.raises(UsageError, match="no session to append"):
        check_new_or_append(tmp_path / "new", append=True)
    check_new_or_append(tmp_path / "new", append=False)


def test_verify_reports_a_damaged_record_and_a_manifest_mismatch(tmp_path):
    out = tmp_path / "s"
    record(tmp_path, out, _stream(100))
    raw = bytearray((out / s.RAW).read_bytes())
    raw[rawlog.FILE_HEADER_SIZE + rawlog.RECORD_HEAD_SIZE + 50] ^= 0x01
    (out / s.RAW).write_bytes(bytes(raw))
    problems = verify_session(out)
    assert any(f"@ byte {rawlog.FILE_HEADER_SIZE}:" in line and "CRC" in line for line in problems)
    assert any("manifest.json says 100" in line for line in problems)
