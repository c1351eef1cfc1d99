"""Training: joint classification + 3D regression, the paper's recipe, seeded and resumable.

Loss = MSE(position) + alpha * CE(class) (alpha 0.4; the MSE term only over windows with a
known position), AdamW (lr 1e-3), cosine annealing over the epochs, batch 32, a class-balanced
sampler (each epoch draws `epoch_windows` windows with probability 1 / class count), and the
checkpoint with the lowest validation loss is kept. Determinism: torch.manual_seed, one numpy
Generator for sampling and augmentation, torch.use_deterministic_algorithms, fixed threads.
`NAME.pt` holds the best weights plus the last state (optimizer, scheduler, RNGs, history) so
`--resume NAME.pt` continues where an interrupted run stopped.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from csi_edge.errors import DataError
from csi_edge.model.card import ModelCard
from csi_edge.model.preprocess import prepare
from csi_edge.tools.train.augment import Aug, augment
from csi_edge.tools.train.checkpoint import read_checkpoint, save_checkpoint
from csi_edge.tools.train.datasets import WindowSet
from csi_edge.tools.train.nets import JointModel, Reducer, build_net


@dataclass
class TrainConfig:
    arch: str = "compact"
    epochs: int = 25
    batch: int = 32
    lr: float = 1e-3
    weight_decay: float = 1e-2
    alpha: float = 0.4
    seed: int = 0
    threads: int = 1
    epoch_windows: int = 0  # windows drawn per epoch; 0 = as many as the training set has
    balanced: bool = True
    augment: tuple[Aug, ...] = ()
    symmetric: tuple[str, ...] = ()  # classes whose windows may be flipped in time
    progress: bool = True  # tqdm bar per epoch
    log_epochs: bool = True  # one line per epoch (train / validation loss)

    def as_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["augment"] = [f"{a.name}:{a.p}:{a.m}" for a in self.augment]
        d.pop("progress")
        d.pop("log_epochs")
        return d


@dataclass
class Pipeline:
    """Feature windows -> network input, exactly as the exported model sees them."""

    card: ModelCard
    reducer: tuple | None = None  # (weight, bias) folded into the network

    def inputs(self, ws: WindowSet, idx: np.ndarray) -> np.ndarray:
        return prepare(ws.windows(idx), self.card)


@dataclass
class TrainResult:
    model: JointModel
    history: list[dict] = field(default_factory=list)
    best_epoch: int = -1
    seconds: float = 0.0  # wall time of the epochs, validation and checkpoints included
    windows_per_s: float = 0.0  # training windows per second of training steps (data path + network)
    data_seconds: float = 0.0  # of the steps: gathering, preparing and augmenting windows


def setup_torch(seed: int, threads: int) -> None:
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True, warn_only=True)


def make_model(arch: str, n_classes: int, pipeline: Pipeline) -> JointModel:
    reducer = Reducer(*pipeline.reducer) if pipeline.reducer is not None else None
    return JointModel(build_net(arch, n_classes, pipeline.card.links), reducer)


def joint_loss(logits, pos_pred, y, pos_true, alpha: float) -> torch.Tensor:
    ce = nn.functional.cross_entropy(logits, y)
    known = torch.isfinite(pos_true).all(dim=1)
    if known.any():
        mse = nn.functional.mse_loss(pos_pred[known], pos_true[known])
    else:
        mse = pos_pred.sum() * 0.0
    return mse + alpha * ce


def sample_epoch(ws: WindowSet, n: int, balanced: bool, rng: np.random.Generator) -> np.ndarray:
    if not balanced:
        return rng.choice(len(ws), size=n, replace=n > len(ws))
    counts = np.bincount(ws.y, minlength=len(ws.classes)).astype(np.float64)
    weights = 1.0 / counts[ws.y]
    return rng.choice(len(ws), size=n, replace=True, p=weights / weights.sum())


@torch.no_grad()
def predict(model: nn.Module, pipeline: Pipeline, ws: WindowSet, batch: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """(logits (M, C), positions (M, 3)) for every window of ws, in order."""
    model.eval()
    logits, pos = [], []
    for a in range(0, len(ws), batch):
        idx = np.arange(a, min(a + batch, len(ws)))
        out = model(torch.from_numpy(pipeline.inputs(ws, idx)))
        logits.append(out[0].numpy())
        pos.append(out[1].numpy())
    if not logits:
        return np.zeros((0, len(ws.classes)), np.float32), np.zeros((0, 3), np.float32)
    return np.concatenate(logits), np.concatenate(pos)


def validation_loss(model, pipeline: Pipeline, ws: WindowSet, alpha: float) -> float:
    logits, pos = predict(model, pipeline, ws)
    y = torch.from_numpy(ws.y)
    true = torch.from_numpy(ws.positions(np.arange(len(ws))))
    return float(joint_loss(torch.from_numpy(logits), torch.from_numpy(pos), y, true, alpha))


def train(cfg: TrainConfig, pipeline: Pipeline, train_ws: WindowSet, val_ws: WindowSet, ckpt: Path, resume: Path | None = None) -> TrainResult:
    if len(train_ws) == 0:
        raise DataError("no training windows (recordings shorter than the window, or no known labels)")
    if len(val_ws) == 0:
        raise DataError("no validation windows (give --val SPEC or a --val-split > 0)")
    setup_torch(cfg.seed, cfg.threads)
    model = make_model(cfg.arch, len(train_ws.classes), pipeline)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(cfg.epochs, 1))
    rng = np.random.default_rng(cfg.seed)
    result = TrainResult(model)
    best_val, best_state, start_epoch = float("inf"), None, 0
    if resume is not None:
        best_val, best_state, start_epoch = _restore(resume, model, opt, sched, rng, result, cfg.epochs)
    symmetric = frozenset(i for i, c in enumerate(train_ws.classes) if c in cfg.symmetric)
    per_epoch = cfg.epoch_windows or len(train_ws)
    steps = -(-per_epoch // cfg.batch)
    t0, seen, step_seconds = time.perf_counter(), 0, 0.0
    for epoch in range(start_epoch, cfg.epochs):
        model.train()
        order = sample_epoch(train_ws, per_epoch, cfg.balanced, rng)
        bar = tqdm(total=per_epoch, desc=f"epoch {epoch + 1}/{cfg.epochs}", unit="win", disable=not cfg.progress, leave=False)
        total = 0.0
        for step in range(steps):
            t_step = time.perf_counter()
            idx = order[step * cfg.batch : (step + 1) * cfg.batch]
            x = augment(pipeline.inputs(train_ws, idx), train_ws.y[idx], cfg.augment, rng, symmetric)
            y = torch.from_numpy(train_ws.y[idx])
            pos_true = torch.from_numpy(train_ws.positions(idx))
            t_data = time.perf_counter()
            result.data_seconds += t_data - t_step
            logits, pos_pred = model(torch.from_numpy(x))
            loss = joint_loss(logits, pos_pred, y, pos_true, cfg.alpha)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step_seconds += time.perf_counter() - t_step
            total += loss.item() * len(idx)
            seen += len(idx)
            bar.update(len(idx))
            bar.set_postfix(loss=f"{total / min((step + 1) * cfg.batch, per_epoch):.4f}")
        bar.close()
        sched.step()
        val = validation_loss(model, pipeline, val_ws, cfg.alpha)
        row = {"epoch": epoch + 1, "train_loss": total / per_epoch, "val_loss": val, "lr": opt.param_groups[0]["lr"]}
        result.history.append(row)
        if cfg.log_epochs:
            tqdm.write(f"epoch {epoch + 1}/{cfg.epochs}: train loss {row['train_loss']:.4f}, val loss {val:.4f}")
        if val < best_val or best_state is None:
            best_val, result.best_epoch = val, epoch + 1
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        _save_checkpoint(ckpt, model, opt, sched, rng, epoch, best_val, best_state, result, cfg, pipeline)
    result.seconds = time.perf_counter() - t0
    result.windows_per_s = seen / step_seconds if step_seconds > 0 else 0.0
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return result


def _restore(path: Path, model, opt, sched, rng, result: TrainResult, epochs: int):
    """Continue from a NAME.pt written by `_save_checkpoint`; returns (best_val, best_state, next epoch)."""
    state, meta = read_checkpoint(path)
    try:
        model.load_state_dict(state["last"])
        opt.load_state_dict(state["optimizer"])
    except (RuntimeError, ValueError, KeyError):
        raise DataError(f"{path}: checkpoint of another architecture or class set; cannot resume") from None
    sched.load_state_dict(state["scheduler"])
    sched.T_max = max(epochs, 1)  # --epochs may have been raised for the resumed run
    rng.bit_generator.state = meta["numpy_rng"]
    torch.set_rng_state(state["torch_rng"])
    result.history, result.best_epoch = meta["history"], meta["best_epoch"]
    return meta["best_val"], state["best"], meta["epoch"] + 1


def _save_checkpoint(path: Path, model, opt, sched, rng, epoch, best_val, best_state, result, cfg, pipeline) -> None:
    tensors = {
        "last": model.state_dict(),
        "best": best_state,
        "optimizer": opt.state_dict(),
        "scheduler": sched.state_dict(),
        "torch_rng": torch.get_rng_state(),
        "reducer": pipeline.reducer,
    }
    meta = {
        "epoch": epoch,
        "best_val": best_val,
        "best_epoch": result.best_epoch,
        "history": result.history,
        "numpy_rng": rng.bit_generator.state,
        "config": cfg.as_dict(),
        "card": dataclasses.asdict(pipeline.card),
    }
    save_checkpoint(path, tensors, meta)


def adapt_batchnorm(model: nn.Module, pipeline: Pipeline, ws: WindowSet, batch: int = 64) -> nn.Module:
    """Test-time adaptation: re-estimate BatchNorm running statistics on unlabelled windows.

    Returns an adapted copy; labels are never read. Reported separately (`+tta`).
    """
    import copy

    adapted = copy.deepcopy(model)
    norms = [m for m in adapted.modules() if isinstance(m, nn.BatchNorm2d)]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over all adaptation batches
    adapted.train()
    with torch.no_grad():
        for a in range(0, len(ws), batch):
            adapted(torch.from_numpy(pipeline.inputs(ws, np.arange(a, min(a + batch, len(ws))))))
    adapted.eval()
    return adapted
