"""A session summary (`csi-edge info DIR`, `capture info DIR`): what a session holds, from
re-decoding it (not from trusting the manifest). A crashed session is recovered first.

Field names carry their unit (`duration_s`, `rate_Hz`, `rssi_dBm`). `labels` maps each label to
its packet count; `label_seconds` to the RX-clock time those packets span.
"""

from __future__ import annotations

from pathlib import Path

from csi_edge.session.counters import LinkCounters
from csi_edge.session.decode import DecodedSession, stream_session
from csi_edge.session.directory import LABELS
from csi_edge.session.labels import UNLABELLED, label_spans, read_events
from csi_edge.session.recovery import open_for_reading
from csi_edge.session.summary import SummarySink

LOSS_WARN_PERCENT = 1.0


def session_info(directory: str | Path) -> dict:
    """The summary of a session, decoded as a stream (memory flat in the session size)."""
    d = Path(directory)
    m = open_for_reading(d)
    events, _ = read_events(d / LABELS)
    c = LinkCounters()
    sink = SummarySink(events, c)
    dec = stream_session(d, sink, counters=c)
    spans = label_spans(events, c.packets)
    labels: dict[str, int] = {}
    seconds: dict[str, float] = {}
    for lab, a, b in spans:
        if lab != UNLABELLED:
            labels[lab] = labels.get(lab, 0) + (b - a)
            seconds[lab] = round(seconds.get(lab, 0.0) + sink.seconds(a, b), 3)
    info = {
        "session": str(d),
        "session_id": m.get("session_id"),
        "created": m.get("created"),
        "source": m.get("source"),
        "tags": m.get("tags", {}),
        "classes": m.get("classes", []),
        "status": m.get("status"),
        "packets": c.packets,
        "lost": c.lost,
        "loss_percent": round(c.loss_percent, 3),
        "decode_errors": dict(sorted((k, int(v)) for k, v in dec.errors.items() if v)),
        "duration_s": round(dec.duration_s, 3),
        "rate_Hz": round(c.packets / dec.duration_s, 2) if dec.duration_s > 0 else 0.0,
        "raw_bytes": dec.scan.payload_bytes,
        "labels": labels,
        "label_seconds": seconds,
        "unlabelled": sum(b - a for lab, a, b in spans if lab == UNLABELLED),
        "segments": [{"label": lab, "first_packet": a, "end_packet": b, "packets": b - a,
                      "seconds": round(sink.seconds(a, b), 3)} for lab, a, b in spans],  # fmt: skip
        "marks": [{"packet": e["packet"], "note": e.get("note", "")} for e in events if e["event"] == "mark"],
        "runs": m.get("runs", []),
        "boards": m.get("boards", []),
        "board_stats": dec.last_stats.to_dict() if dec.last_stats else None,
        "rssi_dBm": sink.rssi_stats(),
        "gains": sink.gains_over_time(),
        "gain_changes": c.gain_change_count,
        "seq_gaps": c.gap_count,
        "recovered": bool(m.get("recovered")),
        "recovery": m.get("recovery", []),
        "trajectory": m.get("trajectory"),
    }
    info["warnings"] = warnings(dec, sink, m, info)
    return info


def warnings(dec: DecodedSession, sink: SummarySink, manifest: dict, info: dict) -> list[str]:
    c = dec.counters
    out = []
    for entry in info["recovery"]:
        out.append(f"recovered at {entry['at']}: cut {entry['torn_bytes']} torn bytes of raw.bin, "
                   f"{entry['labels_torn_bytes']} of labels.jsonl, dropped {entry['label_events_dropped']} "
                   f"label events; labels closed at packet {entry['packets']}")  # fmt: skip
    if info["loss_percent"] > LOSS_WARN_PERCENT:
        out.append(f"loss {info['loss_percent']:.2f} % ({c.lost} packets lost in {c.gap_count} gaps)")
    if c.gaps:
        worst = max(c.gaps, key=lambda g: g[1])
        out.append(f"{c.gap_count} sequence gaps; largest {worst[1]} packets before packet {worst[0]}")
    if c.gain_changes:
        first = c.gain_changes[0]
        out.append(f"gains changed {c.gain_change_count} times; first at packet {first.packet} "
                   f"(t={sink.first_gain_change_s:.1f} s) to AGC {first.agc_gain} FFT {first.fft_gain}")  # fmt: skip
    for step, packet, at in sink.silences:
        out.append(f"stream silent for {step:.1f} s before packet {packet} (t={at:.1f} s)")
    if info["decode_errors"]:
        out.append("decode errors: " + ", ".join(f"{k} {v}" for k, v in info["decode_errors"].items()))
    if info["labels"] and info["unlabelled"]:
        out.append(f"{info['unlabelled']} packets carry no label (paused or before the first label)")
    counts = manifest.get("counts", {})
    if counts.get("packets") != c.packets:
        out.append(f"manifest says {counts.get('packets')} packets, raw.bin decodes to {c.packets}")
    return out


def format_info(info: dict) -> str:
    lines = [
        f"session   {info['session']}  ({info['session_id']}, created {info['created']})",
        f"source    {info['source']}   tags {info['tags'] or '-'}   status {info['status']}",
        f"packets   {info['packets']}   lost {info['lost']} ({info['loss_percent']:.2f} %)   "
        f"duration {info['duration_s']:.1f} s   rate {info['rate_Hz']:.1f} Hz   raw {info['raw_bytes']} bytes",
        f"RSSI      {info['rssi_dBm'] or '-'} dBm   gain changes {info['gain_changes']}   "
        f"decode errors {sum(info['decode_errors'].values())}",
        f"recovered {'yes' if info['recovered'] else 'no'}",
        "labels    " + ("   ".join(f"{k}: {v} packets / {info['label_seconds'][k]:.1f} s" for k, v in info["labels"].items()) or "-")
        + f"   unlabelled: {info['unlabelled']}",
        "segments:",
    ]
    for seg in info["segments"][:50]:
        lines.append(f"  {seg['label'] or '(none)':<12} packets {seg['first_packet']:>8} .. {seg['end_packet']:>8}   {seg['seconds']:8.1f} s")
    lines.append("gains over time (median per minute): " + ", ".join(
        f"{g['t_s']:.0f}s AGC {g['agc_gain']:.0f}/FFT {g['fft_gain']}" for g in info["gains"][:20]))  # fmt: skip
    if info["board_stats"]:
        b = info["board_stats"]
        lines.append(f"board     captured {b['captured']}  sent {b['sent']}  dropped queue {b['dropped_queue']} / "
                     f"write {b['dropped_write']}  seq gaps {b['seq_gaps']}")  # fmt: skip
    if info["trajectory"]:
        lines.append(f"trajectory {info['trajectory']}")
    lines.extend(f"warning: {w}" for w in info["warnings"])
    return "\n".join(lines)
