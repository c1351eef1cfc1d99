"""Metrics per dataset part, and running an exported ONNX model over a WindowSet.

Per part: `accuracy`, `f1_macro`, `precision` and `recall` (macro over the classes present in
truth or prediction), `class_recall` (per class present in the truth), `n` (windows), and when
the part has positions `rmse_m`: the root mean squared Euclidean error sqrt(mean ||p - p_hat||^2)
in metres over windows with a known position (empty-room windows have none), with
`baseline_rmse_m`, the same error of the constant baseline (the mean training position, see
`skill.py`) when one is given, `class_rmse_m` (per true class) and `n_positions`. `confusion` is the confusion matrix (rows truth).
"""

from __future__ import annotations

import numpy as np

from csi_edge.model.card import ModelCard
from csi_edge.model.preprocess import prepare
from csi_edge.tools.train.datasets import WindowSet


def metrics(y_true: np.ndarray, logits: np.ndarray, pos_true: np.ndarray, pos_pred: np.ndarray, classes: tuple[str, ...],
            baseline: np.ndarray | None = None) -> dict:  # fmt: skip
    from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

    from csi_edge.tools.train.skill import rmse

    y_pred = np.argmax(logits, axis=1) if len(logits) else np.zeros(0, np.int64)
    out: dict = {"n": int(len(y_true))}
    if len(y_true) == 0:
        return out
    p, r, f, _ = precision_recall_fscore_support(y_true, y_pred, average="macro", zero_division=0)
    out.update(accuracy=float(accuracy_score(y_true, y_pred)), f1_macro=float(f), precision=float(p), recall=float(r))
    out["class_recall"] = {c: float(np.mean(y_pred[y_true == i] == i)) for i, c in enumerate(classes) if np.any(y_true == i)}
    known = np.isfinite(pos_true).all(axis=1) & np.isfinite(pos_pred).all(axis=1)  # no position head: all NaN
    if known.any():
        out["rmse_m"] = rmse(pos_pred[known], pos_true[known])
        if baseline is not None:
            out["baseline_rmse_m"] = rmse(np.asarray(baseline)[None], pos_true[known])
        out["n_positions"] = int(known.sum())
        out["class_rmse_m"] = {c: rmse(pos_pred[known & (y_true == i)], pos_true[known & (y_true == i)])
                               for i, c in enumerate(classes) if np.any(known & (y_true == i))}  # fmt: skip
    out["confusion"] = confusion_matrix(y_true, y_pred, labels=np.arange(len(classes))).tolist()
    return out


def per_part(ws: WindowSet, logits: np.ndarray, pos_pred: np.ndarray, baseline: np.ndarray | None = None) -> dict[str, dict]:
    """Metrics for every part of ws plus `all` when there is more than one part."""
    pos_true = ws.positions(np.arange(len(ws)))
    parts = ws.parts()
    out = {}
    for name, idx in parts.items():
        out[name] = metrics(ws.y[idx], logits[idx], pos_true[idx], pos_pred[idx], ws.classes, baseline)
    if len(parts) > 1:
        out["all"] = metrics(ws.y, logits, pos_true, pos_pred, ws.classes, baseline)
    return out


def ort_session(onnx_path, threads: int = 1):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])


def onnx_predict(session, card: ModelCard, ws: WindowSet, batch: int = 256, progress: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
    """(logits (M, C), positions (M, 3) or None for a model without a position output)."""
    from tqdm import tqdm

    logits, pos = [], []
    for a in tqdm(range(0, len(ws), batch), desc="eval", unit="batch", disable=not progress, leave=False):
        x = prepare(ws.windows(np.arange(a, min(a + batch, len(ws)))), card)
        out = session.run(list(card.outputs), {card.input_name: x})
        logits.append(out[0])
        pos.append(out[1] if len(out) > 1 else np.full((len(x), 3), np.nan, np.float32))
    has_pos = len(card.outputs) > 1
    if not logits:
        return np.zeros((0, len(card.classes)), np.float32), np.zeros((0, 3), np.float32) if has_pos else None
    return np.concatenate(logits), np.concatenate(pos) if has_pos else None


def strip_confusion(result: dict) -> dict:
    """The per-part metrics without confusion matrices (for cards and JSON summaries)."""
    return {part: {k: v for k, v in m.items() if k != "confusion"} for part, m in result.items()}
