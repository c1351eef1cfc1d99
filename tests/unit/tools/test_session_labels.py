"""Labels timeline: protocol parsing, exact packet boundaries independent of chunking."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csi_edge.errors import UsageError
from csi_edge.frames import FrameBatch, empty_meta
from csi_edge.session.labels import label_spans, labels_per_packet, read_events
from csi_edge.tools.capture.labeller import EventLog, Labeller, ProtocolState
from csi_edge.tools.capture.labels import DEFAULT_CLASSES, Segment, parse_protocol


def _frames(timestamps_us) -> FrameBatch:
    meta = empty_meta(len(timestamps_us))
    meta["timestamp_us"] = timestamps_us
    meta["seq"] = np.arange(len(timestamps_us))
    return FrameBatch(meta, np.zeros((len(timestamps_us), 4), dtype=np.int8))


def test_protocol_spec_parses_seconds_packets_and_pauses():
    segs = parse_protocol("walking:300, pause:10,sitting:2500p", DEFAULT_CLASSES)
    assert segs == [Segment("walking", seconds=300.0), Segment("pause", seconds=10.0), Segment("sitting", packets=2500)]


@pytest.mark.parametrize("spec, words", [
    ("walking", "expected LABEL:SECONDS"),
    ("running:10", "'running' is not a class"),
    ("walking:-1", "positive"),
    ("walking:abc", "not a number"),
    ("walking:1.5p", "integer"),
])  # fmt: skip
def test_bad_protocol_specs_name_the_item(spec, words):
    with pytest.raises(UsageError, match=words):
        parse_protocol(spec, DEFAULT_CLASSES)


def _run_protocol(tmp_path, name, timestamps, splits, spec):
    log_path = tmp_path / f"{name}.jsonl"
    log = EventLog(log_path)
    lab = Labeller(log, DEFAULT_CLASSES, ProtocolState(parse_protocol(spec, DEFAULT_CLASSES)))
    frames = _frames(timestamps)
    bounds = [0, *sorted(set(splits)), len(timestamps)]
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        if b > a:
            lab.apply(frames[a:b], a)
    log.close()
    events, _ = read_events(log_path)
    return events, lab


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(1, 999), max_size=30), st.lists(st.integers(0, 30_000), min_size=999, max_size=999))
def test_boundaries_do_not_depend_on_how_bytes_were_chunked(tmp_path_factory, splits, jitter):
    """Segments run on the RX clock: the same packets get the same labels for any batching."""
    tmp = tmp_path_factory.mktemp("lab")
    ts = 5_000_000 + np.arange(1000) * 10_000
    ts[1:] += np.array(jitter) // 10  # irregular spacing, still increasing
    ts = np.maximum.accumulate(ts)
    spec = "walking:2.5,pause:0.3,sitting:300p,lying:1"
    whole, _ = _run_protocol(tmp, "whole", ts, [], spec)
    chunked, _ = _run_protocol(tmp, "chunked", ts, splits, spec)
    strip = lambda evs: [(e["event"], e.get("label"), e["packet"], e["timestamp_us"]) for e in evs]  # noqa: E731
    assert strip(chunked) == strip(whole)
    first_pause = next(e for e in whole if e["event"] == "pause")
    p = first_pause["packet"]
    assert ts[p] - ts[0] >= 2_500_000 > ts[p - 1] - ts[0]  # the first packet at/after 2.5 s


def test_protocol_labels_every_packet_exactly(tmp_path):
    ts = np.arange(1000) * 10_000  # 100 Hz
    events, lab = _run_protocol(tmp_path, "p", ts, [137, 500], "walking:250p,pause:50p,sitting:3,lying:100p")
    labels = labels_per_packet(events, 1000)
    assert (labels[:250] == "walking").all()
    assert (labels[250:300] == "").all()
    assert (labels[300:600] == "sitting").all()  # 3 s at 100 Hz = 300 packets
    assert (labels[600:700] == "lying").all()
    assert (labels[700:] == "").all()  # the protocol ended
    assert lab.finished
    assert dict(lab.counts) == {"walking": 250, "sitting": 300, "lying": 100}


def test_keypress_applies_from_the_next_packet(tmp_path):
    log_path = tmp_path / "labels.jsonl"
    log = EventLog(log_path)
    lab = Labeller(log, DEFAULT_CLASSES)
    frames = _frames(np.arange(30) * 10_000)
    lab.apply(frames[0:10], 0)
    lab.request("label", label="walking", by="key")
    lab.apply(frames[10:20], 10)
    lab.request("pause", by="key")
    lab.request("mark", note="key")
    lab.apply(frames[20:25], 20)
    lab.request("resume", by="key")
    lab.apply(frames[25:30], 25)
    log.close()
    events, _ = read_events(log_path)
    assert [(e["event"], e["packet"]) for e in events] == [("label", 10), ("pause", 20), ("mark", 20), ("resume", 25)]
    labels = labels_per_packet(events, 30)
    assert list(labels) == [""] * 10 + ["walking"] * 10 + [""] * 5 + ["walking"] * 5
    assert label_spans(events, 30) == [("", 0, 10), ("walking", 10, 20), ("", 20, 25), ("walking", 25, 30)]


def test_a_new_run_starts_unlabelled_and_a_torn_last_line_is_not_an_event(tmp_path):
    path = tmp_path / "labels.jsonl"
    path.write_text(
        '{"event": "start", "packet": 0}\n{"event": "label", "label": "lying", "packet": 2}\n'
        '{"event": "end", "packet": 5}\n{"event": "start", "packet": 5}\n{"event": "label", "lab'
    )
    events, good = read_events(path)
    assert len(events) == 4 and good == path.read_bytes().rfind(b"\n") + 1
    assert list(labels_per_packet(events, 8)) == ["", "", "lying", "lying", "lying", "", "", ""]
