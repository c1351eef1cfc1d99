"""Calibration-aware training and evaluation: baselines per dataset part, baseline-relative
features, the adaptation statistics of the card, and the daemon's test-time adaptation
replayed offline (docs/calibration.md).

- `--baseline PART=FILE` (train and eval, repeatable): the empty-room baseline of each dataset
  part (a day, a trial), recorded with `csi-edge calibrate` (a replay of that part's empty-room
  file works: `--source replay:FILE --seconds 5`). With `--relative db` every recording's
  amplitudes become dB relative to its part's baseline (`csi_edge.calibration.relative`, the
  daemon's implementation).
- `adapt_spec`: per-subcarrier mean/std of the model's unscaled input over training windows
  (written to every card, so any model can be adapted on the stream).
- `adapted_predict`: runs an exported model part by part in time order through the daemon's
  `StreamAdapter` (reset per part, as a recalibration would), to measure what the daemon's
  adaptation does across sessions.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from csi_edge.calibration.adapt import StreamAdapter
from csi_edge.calibration.baseline import Baseline, load_baseline
from csi_edge.calibration.relative import apply_relative
from csi_edge.errors import DataError, UsageError
from csi_edge.model.card import AdaptSpec, ModelCard
from csi_edge.model.preprocess import scale, unscaled
from csi_edge.tools.train.datasets import Recording, WindowSet


def parse_baselines(items: list[str] | None) -> dict[str, Baseline]:
    """`PART=FILE` items -> {part: Baseline}."""
    out: dict[str, Baseline] = {}
    for item in items or []:
        part, sep, path = item.partition("=")
        if not sep or not part or not path:
            raise UsageError(f"--baseline {item!r}: expected PART=FILE (e.g. d2=baselines/day2.json)")
        out[part] = load_baseline(Path(path))
    return out


def relative_recordings(recordings: list[Recording], relative: str, baselines: dict[str, Baseline]) -> list[Recording]:
    """Recordings with baseline-relative features (`relative` != none), each by its part's baseline."""
    if relative == "none":
        return recordings
    out = []
    for r in recordings:
        b = baselines.get(r.part)
        if b is None:
            raise UsageError(f"--relative {relative}: no --baseline for part {r.part!r} ({r.source}); "
                             f"given: {', '.join(baselines) or 'none'}")
        if b.subcarriers != r.features.shape[1]:
            raise DataError(f"baseline of part {r.part!r} has {b.subcarriers} subcarriers, {r.source} has {r.features.shape[1]}")
        out.append(dataclasses.replace(r, features=apply_relative(relative, r.features, b.profile_array)))
    return out


def adapt_spec(card: ModelCard, windows: np.ndarray) -> AdaptSpec:
    """Per-subcarrier mean and std of the unscaled input over training windows (B, W, S)."""
    u = unscaled(windows, card)
    return AdaptSpec(mean=tuple(float(v) for v in u.mean(axis=(0, 1))), std=tuple(float(v) for v in u.std(axis=(0, 1))))


def adapted_predict(run, card: ModelCard, ws: WindowSet, windows: int = 3000, batch: int = 64,
                    mode: str = "mean") -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """(logits, positions) of every window, each part streamed in order through a StreamAdapter.

    `run(x)` maps the model input (B, 1, S, W') to (logits, positions): an onnxruntime session
    (`ort_runner`) or a torch model."""
    if card.adapt is None:
        raise DataError(f"model {card.model_id} has no adapt statistics in its card (retrain, or export with them)")
    logits = np.zeros((len(ws), len(card.classes)), np.float32)
    pos = np.zeros((len(ws), 3), np.float32)
    for idx in ws.parts().values():
        adapter = StreamAdapter(card.adapt, windows=windows, mode=mode)
        for a in range(0, len(idx), batch):
            sel = idx[a : a + batch]
            u = unscaled(ws.windows(sel), card)
            adapter.update(u)
            x = scale(adapter(u), card.scaler)
            logits[sel], pos[sel] = run(np.ascontiguousarray(np.transpose(x, (0, 2, 1))[:, None], dtype=np.float32))
    return logits, pos


def ort_runner(session, card: ModelCard):
    def run(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        out = session.run(list(card.outputs), {card.input_name: x})
        return out[0], (out[1] if len(out) > 1 else np.zeros((len(x), 3), np.float32))

    return run
