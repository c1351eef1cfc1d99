"""Joint networks: input (B, 1, S, W) -> (class_logits (B, C), position (B, 3) metres).

- `compact` (default): a patch conv and three strided conv blocks, global average pooling;
  ~15 k parameters, ~2.3 M multiply-adds per 52 x 351 window, cheap on a Jetson CPU;
  `compact-wide`: the same with twice the channels (~58 k parameters, ~8 M multiply-adds).
- `efficientnetv2s`: the paper's backbone, EfficientNetV2-S (Tan & Le 2021, Table 4: a 3x3
  stride-2 stem with 24 channels, then fused-MBConv stages 1/4/4 and MBConv stages 4/6/6 with
  squeeze-and-excitation, a 1x1 head conv to 1280 channels) adapted to a 1-channel input, with
  the classification head and an extra 3-unit regression head. Written here with plain torch
  (no torchvision); stochastic depth is left out.
"""

from __future__ import annotations

import torch
from torch import nn

from csi_edge.tools.train import ARCHS  # noqa: F401 - re-exported: the architectures built here


class JointHeads(nn.Module):
    def __init__(self, features: int, n_classes: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.drop = nn.Dropout(dropout)
        self.cls = nn.Linear(features, n_classes)
        self.pos = nn.Linear(features, 3)

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = self.drop(z)
        return self.cls(z), self.pos(z)


def _conv_bn(cin: int, cout: int, k, stride=1, groups: int = 1, act: bool = True) -> nn.Sequential:
    pad = (k[0] // 2, k[1] // 2) if isinstance(k, tuple) else k // 2
    layers = [nn.Conv2d(cin, cout, k, stride, pad, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    if act:
        layers.append(nn.SiLU())
    return nn.Sequential(*layers)


class CompactCNN(nn.Module):
    """(B, L, S, W), L links as channels (1 for one link): a 4x8 patch conv (stride 2x4) to `width` channels, then three 3x3 stride-2
    conv blocks (2w, 4w, 4w channels), global average pooling and the two heads.

    For S = 52, W = 351 and width 8: 8x26x87 -> 16x13x44 -> 32x7x22 -> 32x4x11; ~15 k parameters,
    ~2.3 M multiply-adds per window (strided convolutions instead of pooling keep it cheap)."""

    def __init__(self, n_classes: int, width: int = 8, in_channels: int = 1) -> None:
        super().__init__()
        w = width
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, w, (4, 8), (2, 4), (1, 2), bias=False),
            nn.BatchNorm2d(w),
            nn.SiLU(),
            _conv_bn(w, 2 * w, 3, 2),
            _conv_bn(2 * w, 4 * w, 3, 2),
            _conv_bn(4 * w, 4 * w, 3, 2),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.heads = JointHeads(4 * w, n_classes, dropout=0.1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.heads(self.body(x))


class SqueezeExcite(nn.Module):
    def __init__(self, channels: int, reduced: int) -> None:
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Sequential(nn.Conv2d(channels, reduced, 1), nn.SiLU(), nn.Conv2d(reduced, channels, 1), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.fc(self.pool(x))


class FusedMBConv(nn.Module):
    """3x3 expansion conv (or a single conv when expand == 1) then 1x1 projection; residual when shapes match."""

    def __init__(self, cin: int, cout: int, stride: int, expand: int) -> None:
        super().__init__()
        mid = cin * expand
        if expand == 1:
            self.block = _conv_bn(cin, cout, 3, stride)
        else:
            self.block = nn.Sequential(_conv_bn(cin, mid, 3, stride), _conv_bn(mid, cout, 1, act=False))
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.block(x)
        return x + y if self.residual else y


class MBConv(nn.Module):
    """1x1 expansion, 3x3 depthwise, squeeze-excite (0.25 of the input channels), 1x1 projection."""

    def __init__(self, cin: int, cout: int, stride: int, expand: int) -> None:
        super().__init__()
        mid = cin * expand
        self.block = nn.Sequential(
            _conv_bn(cin, mid, 1),
            _conv_bn(mid, mid, 3, stride, groups=mid),
            SqueezeExcite(mid, max(1, cin // 4)),
            _conv_bn(mid, cout, 1, act=False),
        )
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.block(x)
        return x + y if self.residual else y


# (block, expand, stride, out channels, layers): EfficientNetV2-S
V2S_STAGES = (
    (FusedMBConv, 1, 1, 24, 2),
    (FusedMBConv, 4, 2, 48, 4),
    (FusedMBConv, 4, 2, 64, 4),
    (MBConv, 4, 2, 128, 6),
    (MBConv, 6, 1, 160, 9),
    (MBConv, 6, 2, 256, 15),
)


class EfficientNetV2S(nn.Module):
    def __init__(self, n_classes: int, in_channels: int = 1, head_channels: int = 1280) -> None:
        super().__init__()
        layers: list[nn.Module] = [_conv_bn(in_channels, 24, 3, 2)]
        cin = 24
        for block, expand, stride, cout, repeats in V2S_STAGES:
            for i in range(repeats):
                layers.append(block(cin, cout, stride if i == 0 else 1, expand))
                cin = cout
        layers += [_conv_bn(cin, head_channels, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        self.body = nn.Sequential(*layers)
        self.heads = JointHeads(head_channels, n_classes, dropout=0.2)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.heads(self.body(x))


class Reducer(nn.Module):
    """Fixed linear map over the subcarrier axis (PCA / ICA): (B, 1, S, W) -> (B, 1, d, W).

    out[:, 0, j, t] = sum_s W[j, s] * x[:, 0, s, t] + b[j]; exported as one MatMul + Add, so the
    ONNX input stays [B, 1, S, W] and the daemon needs no extra step.
    """

    def __init__(self, weight, bias) -> None:
        super().__init__()
        self.register_buffer("weight", torch.as_tensor(weight, dtype=torch.float32))
        self.register_buffer("bias", torch.as_tensor(bias, dtype=torch.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.matmul(self.weight, x) + self.bias[:, None]


class JointModel(nn.Module):
    """Optional reducer followed by a network: what is trained and what is exported."""

    def __init__(self, net: nn.Module, reducer: Reducer | None = None) -> None:
        super().__init__()
        self.reducer = reducer
        self.net = net

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.reducer is not None:
            x = self.reducer(x)
        return self.net(x)


def build_net(arch: str, n_classes: int, links: int = 1) -> nn.Module:
    """The network for `links` links (a joint model stacks them as input channels)."""
    if arch == "compact":
        return CompactCNN(n_classes, in_channels=links)
    if arch == "compact-wide":
        return CompactCNN(n_classes, width=16, in_channels=links)
    if arch == "efficientnetv2s":
        return EfficientNetV2S(n_classes, in_channels=links)
    raise ValueError(f"unknown architecture {arch!r} (known: {', '.join(ARCHS)})")
