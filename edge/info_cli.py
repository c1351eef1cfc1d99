"""`csi-edge info PATH`: what is this file? A model (card), a capture session, or a recording.

- `models/NAME`, `NAME.json`, `NAME.onnx`: the card's summary (heads, classes, position skill
  and whether positions are published, input, feature, scaler, training data, per-part
  metrics) and whether the ONNX file matches its sha256;
- a session directory: the session summary (`csi_edge.session.info`);
- any other file: decoded with the one decoder (`csi_edge.importers.load_log`): packets,
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
    import numpy as np

    from csi_edge.importers import load_log
    from csi_edge.layout import layout_name

    result = load_log(path)
    frames = result.frames
    meta = frames.meta
    info = {"kind": "recording", "file": str(path), "packets": len(frames),
            "decode_errors": dict(result.decoder.errors), "ignored_lines": dict(result.decoder.ignored)}
    if len(frames):
        ts = meta["timestamp_us"][meta["timestamp_us"] >= 0]
        info["duration_s"] = round(float(ts.max() - ts.min()) / 1e6, 2) if len(ts) > 1 else None
        info["layouts"] = sorted({layout_name(s) for s in np.unique(meta["secondary_channel"])})
        info["csi_len"] = sorted(int(v) for v in np.unique(meta["csi_len"]))
        info["rssi_dbm"] = {"min": int(meta["rssi"].min()), "median": float(np.median(meta["rssi"])), "max": int(meta["rssi"].max())}
    return info


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
