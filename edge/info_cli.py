"""`csi-edge info PATH`: what is this file? A model (card), a capture session, or a recording.

- `models/NAME`, `NAME.json`, `NAME.onnx`: the card's summary (heads, classes, position skill
  and whether positions are published, input, feature, scaler, training data, per-part
  metrics) and whether the ONNX file matches its sha256;
- a session directory: the session summary (`csi_edge.session.info`);
- any other file: decoded chunk by chunk with the one decoder (`csi_edge.importers.LogStream`): packets,
  duration, subcarrier layouts, CSI lengths, RSSI, decode errors.
`--json` prints one JSON object instead. Never imports torch.
"""

from __future__ import annotations

import json
from pathlib import Path

from csi_edge.errors import CsiEdgeError, DataError


def register(subparsers) -> None:
    p = subparsers.add_parser("info", help="summarise a model, a capture session or a recording file", description=__doc__)
    p.add_argument("path", help="models/NAME, a session directory, or a recording file")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--config", metavar="FILE", help="configuration whose [model] position_skill_ratio decides whether "
                   "a model's positions are published (default /etc/csi-edge/config.toml if present)")
    p.set_defaults(func=run)


def run(args) -> int:
    path = Path(args.path)
    if path.is_dir() and (path / "manifest.json").exists():
        from csi_edge.session.info import format_info, session_info

        info = session_info(path)
        print(json.dumps(info, default=str) if args.json else format_info(info))
        return 0
    if path.suffix in (".json", ".onnx") or path.with_name(path.name + ".json").exists():
        info = model_info(path, args.config)
    elif path.is_file():
        info = recording_info(path)
    elif path.is_dir():
        raise DataError(f"{path}: a directory without manifest.json, so not a capture session (give a session, a model or a file)")
    else:
        raise DataError(f"{path}: no such model, session or file")
    print(json.dumps(info, default=str) if args.json else _format(info))
    return 0


def model_info(path: Path, config_path: str | None = None) -> dict:
    """The card's summary; whether positions are published follows [model] position_skill_ratio
    of the configuration (`--config`, else /etc/csi-edge/config.toml when present)."""
    from csi_edge.config import load_config
    from csi_edge.model.card import load_card, position_skill_text, publishes_position

    verified: bool | str = True
    try:
        card, onnx_path = load_card(path)
    except CsiEdgeError as exc:  # show the card anyway, with what is wrong
        card, onnx_path = load_card(path, verify_onnx=False)
        verified = f"NO: {exc}"
    training = card.training or {}
    data = training.get("data", {})
    ratio = load_config(config_path).model.position_skill_ratio
    return {
        "kind": "model",
        "model": card.model_id,
        "onnx": str(onnx_path),
        "onnx_matches_card": verified,
        "architecture": card.architecture,
        "classes": list(card.classes),
        "heads": [f"{h.name} ({h.kind}: {', '.join(h.labels or h.components)}{' ' + h.units if h.units else ''}) <- {h.output}"
                  for h in card.heads],
        "position_skill": position_skill_text(card, ratio),
        "publishes_position": publishes_position(card, ratio),
        "input": f"{card.input_name} {list(card.input_shape)}",
        "links": f"{card.links} (one model over the links' windows together: run it with {card.links} sources)" if card.links > 1
        else "1 (runs on each link)",
        "feature": f"{card.feature.name}, transform {card.feature.transform}, layouts {list(card.feature.layouts)}",
        "window": f"{card.window} packets, hop {card.hop}, {card.rate_hz:g} Hz",
        "scaler": f"{card.scaler.kind}, per-window {card.scaler.per_window}",
        "trained_on": data.get("train_specs"),
        "train_seconds": training.get("train_seconds"),
        "metrics": {part: {k: v for k, v in m.items() if k in ("accuracy", "f1_macro", "rmse_m", "n")} for part, m in card.metrics.items() if isinstance(m, dict) and "n" in m},
        "created": card.created,
        "notes": card.notes,
    }


def recording_info(path: Path) -> dict:
    """Decode a recording chunk by chunk (flat memory) and summarise it."""
    import numpy as np

    from csi_edge.importers import LogStream, check_readable, nothing_decoded
    from csi_edge.layout import layout_name

    size = check_readable(path)
    stream = LogStream(path)
    packets, ts_min, ts_max, timed = 0, None, None, 0
    layouts: set[int] = set()
    lengths: set[int] = set()
    rssi = np.zeros(1 << 16, dtype=np.int64)  # histogram of rssi (int16 dBm): exact min, median, max
    for decoded in stream:
        meta = decoded.frames.meta
        if not len(meta):
            continue
        packets += len(meta)
        ts = meta["timestamp_us"][meta["timestamp_us"] >= 0]
        if len(ts):
            timed += len(ts)
            ts_min = int(ts.min()) if ts_min is None else min(ts_min, int(ts.min()))
            ts_max = int(ts.max()) if ts_max is None else max(ts_max, int(ts.max()))
        layouts.update(np.unique(meta["secondary_channel"]).tolist())
        lengths.update(np.unique(meta["csi_len"]).tolist())
        rssi += np.bincount(meta["rssi"].astype(np.int64) + (1 << 15), minlength=1 << 16)
    if not packets:
        raise nothing_decoded(path, size, stream.decoder)
    info = {"kind": "recording", "file": str(path), "packets": packets,
            "decode_errors": dict(stream.decoder.errors), "ignored_lines": dict(stream.decoder.ignored)}  # fmt: skip
    info["duration_s"] = round((ts_max - ts_min) / 1e6, 2) if timed > 1 and ts_min is not None and ts_max is not None else None
    info["layouts"] = sorted({layout_name(s) for s in layouts})
    info["csi_len"] = sorted(int(v) for v in lengths)
    info["rssi_dbm"] = _histogram_summary(rssi, offset=-(1 << 15))
    return info


def _histogram_summary(counts, offset: int) -> dict:
    """min, median (np.median's: the mean of the middle two when even) and max of integer values
    given as a histogram (`counts[i]` values equal to i + offset)."""
    import numpy as np

    present = np.flatnonzero(counts)
    n = int(counts.sum())
    cumulative = np.cumsum(counts)
    lower = int(np.searchsorted(cumulative, (n - 1) // 2 + 1)) + offset  # the ((n-1)//2)-th value, 0-based
    upper = int(np.searchsorted(cumulative, n // 2 + 1)) + offset
    return {"min": int(present[0]) + offset, "median": (lower + upper) / 2, "max": int(present[-1]) + offset}


def _format(info: dict) -> str:
    lines = []
    for key, value in info.items():
        if key == "metrics" and value:
            lines.append("metrics:")
            for part, m in value.items():
                rmse = f", rmse {m['rmse_m']:.3f} m" if "rmse_m" in m else ""
                lines.append(f"  {part}: acc {m.get('accuracy', 0):.3f}, f1 {m.get('f1_macro', 0):.3f}{rmse}, n {m.get('n')}")
        else:
            lines.append(f"{key}: {value}")
    return "\n".join(lines)
