"""Invariant Information Clustering (Ji, Henriques and Vedaldi, ICCV 2019), written for CSI windows.

A network f maps a window x to a soft assignment z = f(x) over K clusters (softmax). For a
batch of pairs (x, x') that share the activity, the joint distribution of the two assignments
is P = mean over the batch of f(x) f(x')^T (K x K), symmetrised ((P + P^T) / 2). IIC maximises
the mutual information

    I(z, z') = sum_ij P_ij log(P_ij / (P_i P_j))    (P_i, P_j the marginals)

which is exact for discrete clusters. I = H(z) - H(z | z'): a collapsed solution (every window
in one cluster) has H(z) = 0, so maximising I also spreads the windows over the clusters. The
loss is -I; its minimum is -log K (balanced clusters, pairs always in the same cluster).

Network: the trunk of the compact training network (`nets.CompactCNN`, everything before its
heads) and `heads` linear sub-heads with different initialisations for K clusters; with
`overclusters` K2 > 0 as many sub-heads for K2 clusters, trained in alternation with the main
heads (one batch each). After training, each sub-head's loss is measured on a fixed, seeded
set of pairs and the sub-head with the lowest loss is kept (per head kind). Labels are never
read.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from csi_edge.model.card import ModelCard
from csi_edge.model.preprocess import prepare
from csi_edge.tools.discover.pairs import make_pairs
from csi_edge.tools.discover.windows import Windows
from csi_edge.tools.train.loop import setup_torch
from csi_edge.tools.train.nets import CompactCNN

EPS = 1e-8
SELECT_PAIRS = 1024  # pairs on which every sub-head's loss is measured to pick the best


def joint_distribution(z: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
    """Symmetrised joint distribution (K, K) of soft assignments z, z2 (B, K)."""
    p = z.t() @ z2 / z.shape[0]
    p = (p + p.t()) / 2
    return p / p.sum()


def mutual_information(p: torch.Tensor, marginal_weight: float = 1.0) -> torch.Tensor:
    """I of a joint distribution p (K, K) in nats; entries below EPS count as EPS.

    With `marginal_weight` w > 1: sum_ij P_ij (log P_ij - w log P_i - w log P_j)
    = I + (w - 1) (H(z) + H(z')), which favours balanced clusters more than I alone."""
    p = p.clamp_min(EPS)
    row = p.sum(dim=1, keepdim=True)
    col = p.sum(dim=0, keepdim=True)
    return (p * (p.log() - marginal_weight * (row.log() + col.log()))).sum()


def iic_loss(z: torch.Tensor, z2: torch.Tensor, marginal_weight: float = 1.0) -> torch.Tensor:
    return -mutual_information(joint_distribution(z, z2), marginal_weight)


class IICNet(nn.Module):
    """Compact trunk -> `heads` softmax sub-heads for K clusters (+ as many for K2 over-clusters)."""

    def __init__(self, clusters: int, overclusters: int = 0, heads: int = 5) -> None:
        super().__init__()
        base = CompactCNN(clusters)
        self.trunk = base.body
        dim = base.heads.cls.in_features
        self.heads = nn.ModuleList(nn.Linear(dim, clusters) for _ in range(heads))
        self.over = nn.ModuleList(nn.Linear(dim, overclusters) for _ in range(heads if overclusters else 0))

    def forward(self, x: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        f = self.trunk(x)
        return [h(f).softmax(dim=1) for h in self.heads], [h(f).softmax(dim=1) for h in self.over]


@dataclass(frozen=True)
class IICConfig:
    clusters: int
    overclusters: int = 0
    heads: int = 5
    pairs: str = "temporal"  # augment | temporal | both | noisy (see pairs.py)
    steps: int = 300
    batch: int = 64  # pairs per step
    lr: float = 5e-3  # 1e-3 left the real recordings in the uniform saddle after 200 steps (docs/discover.md)
    weight_decay: float = 1e-4
    marginal_weight: float = 2.0  # 1 = plain IIC; 2 also rewards balanced clusters (see mutual_information; measured best)
    seed: int = 0
    threads: int = 2
    progress: bool = True

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "progress"}


@dataclass
class IICResult:
    net: IICNet
    head: int  # the kept main sub-head
    over: int | None  # the kept over-clustering sub-head
    head_losses: list[float] = field(default_factory=list)  # per sub-head, on the selection pairs
    over_losses: list[float] = field(default_factory=list)
    history: list[dict] = field(default_factory=list)  # mean loss per 10 % of the steps
    seconds: float = 0.0
    pairs_per_s: float = 0.0


def _group_loss(outputs: list[torch.Tensor], b: int, marginal_weight: float) -> torch.Tensor:
    return torch.stack([iic_loss(z[:b], z[b:], marginal_weight) for z in outputs]).mean()


def train_iic(cfg: IICConfig, wins: Windows, card: ModelCard) -> IICResult:
    """Train on pairs of `wins` (labels never read); returns the net and the kept sub-heads."""
    setup_torch(cfg.seed, cfg.threads)
    net = IICNet(cfg.clusters, cfg.overclusters, cfg.heads)
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(cfg.steps, 1))
    rng = np.random.default_rng(cfg.seed)
    batch = min(cfg.batch, len(wins))
    history, chunk, t0 = [], [], time.perf_counter()
    every = max(1, cfg.steps // 10)
    net.train()
    for step in tqdm(range(cfg.steps), desc="IIC", unit="step", disable=not cfg.progress, leave=False):
        x, x2 = make_pairs(cfg.pairs, wins, rng.choice(len(wins), size=batch, replace=False), card, rng)
        main, over = net(torch.from_numpy(np.concatenate([x, x2])))
        use_over = cfg.overclusters > 0 and step % 2 == 1
        loss = _group_loss(over if use_over else main, batch, cfg.marginal_weight)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        chunk.append((use_over, loss.item()))
        if (step + 1) % every == 0 or step + 1 == cfg.steps:
            history.append(_history_row(step + 1, chunk))
            chunk = []
    seconds = time.perf_counter() - t0
    head_losses, over_losses = select_losses(net, cfg, wins, card)
    return IICResult(
        net.eval(), int(np.argmin(head_losses)), int(np.argmin(over_losses)) if over_losses else None,
        head_losses, over_losses, history, seconds, cfg.steps * batch / seconds if seconds > 0 else 0.0,
    )


def _history_row(step: int, chunk: list[tuple[bool, float]]) -> dict:
    row: dict = {"step": step}
    for name, flag in (("loss", False), ("over_loss", True)):
        values = [v for f, v in chunk if f == flag]
        if values:
            row[name] = round(float(np.mean(values)), 5)
    return row


@torch.no_grad()
def select_losses(net: IICNet, cfg: IICConfig, wins: Windows, card: ModelCard) -> tuple[list[float], list[float]]:
    """Each sub-head's IIC loss over one fixed, seeded set of pairs (evaluation mode)."""
    rng = np.random.default_rng(cfg.seed + 1_000_003)
    idx = rng.choice(len(wins), size=min(SELECT_PAIRS, len(wins)), replace=False)
    net.eval()
    first: list[list[torch.Tensor]] = []
    second: list[list[torch.Tensor]] = []
    for a in range(0, len(idx), 256):
        x, x2 = make_pairs(cfg.pairs, wins, idx[a : a + 256], card, rng)
        m1, o1 = net(torch.from_numpy(x))
        m2, o2 = net(torch.from_numpy(x2))
        first.append(m1 + o1)  # main sub-heads, then over-clustering sub-heads
        second.append(m2 + o2)
    losses = [float(iic_loss(torch.cat([b[k] for b in first]), torch.cat([b[k] for b in second]), cfg.marginal_weight)) for k in range(len(first[0]))]
    return losses[: len(net.heads)], losses[len(net.heads) :]


@torch.no_grad()
def assign(net: IICNet, wins: Windows, card: ModelCard, head: int, over: bool = False, batch: int = 256) -> np.ndarray:
    """Soft assignments (M, K) of every window by sub-head `head` (of the over-clustering heads with `over`)."""
    net.eval()
    out = []
    for a in range(0, len(wins), batch):
        x = prepare(wins.windows(np.arange(a, min(a + batch, len(wins)))), card)
        main, extra = net(torch.from_numpy(x))
        out.append((extra if over else main)[head].numpy())
    return np.concatenate(out) if out else np.zeros((0, 0), np.float32)


@torch.no_grad()
def trunk_features(net: IICNet, wins: Windows, card: ModelCard, batch: int = 256) -> np.ndarray:
    """(M, D) trunk outputs (for plots of the learned space)."""
    net.eval()
    out = [net.trunk(torch.from_numpy(prepare(wins.windows(np.arange(a, min(a + batch, len(wins)))), card))).numpy()
           for a in range(0, len(wins), batch)]
    return np.concatenate(out)
