"""Per-packet features from CSI frames: the one implementation used by run, capture and train.

A feature maps a FrameBatch to float32 (N, S) plus a validity mask (N,). The default is
`amplitude`: |H| of the 52 L-LTF subcarriers in frequency order (-26..-1, +1..+26).
`amplitude-3do` is the explicitly named compatibility variant for models trained with the
3DO dataset's loaders (see `layout.lltf_complex_3do`). A model card records the feature name,
and the daemon refuses a model whose feature it does not compute.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from csi_edge.frames import FrameBatch
from csi_edge.layout import lltf_complex, lltf_complex_3do

FeatureFn = Callable[[FrameBatch], "tuple[np.ndarray, np.ndarray]"]


def amplitude(batch: FrameBatch) -> tuple[np.ndarray, np.ndarray]:
    h, valid = lltf_complex(batch)
    return np.abs(h).astype(np.float32), valid


def amplitude_3do(batch: FrameBatch) -> tuple[np.ndarray, np.ndarray]:
    h, valid = lltf_complex_3do(batch)
    return np.abs(h).astype(np.float32), valid


def phase(batch: FrameBatch) -> tuple[np.ndarray, np.ndarray]:
    """Raw phase (radians, -pi..pi) of the 52 L-LTF subcarriers."""
    h, valid = lltf_complex(batch)
    return np.angle(h).astype(np.float32), valid


PACKET_FEATURES: dict[str, FeatureFn] = {
    "amplitude": amplitude,
    "amplitude-3do": amplitude_3do,
    "phase": phase,
}
DEFAULT_FEATURE = "amplitude"


def packet_feature(name: str) -> FeatureFn:
    try:
        return PACKET_FEATURES[name]
    except KeyError:
        known = ", ".join(sorted(PACKET_FEATURES))
        raise KeyError(f"unknown feature {name!r} (known: {known})") from None
