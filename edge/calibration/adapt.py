"""Test-time adaptation in the daemon: the model's input statistics re-estimated on the stream.

The daemon runs ONNX (no torch), so re-estimating BatchNorm statistics inside the network
would need graph surgery per architecture. This adapts the input instead, which works for
any model: per subcarrier, the mean and standard deviation of the model's *unscaled* input
(after transform and per-window normalisation, before the scaler) are tracked on the stream
and mapped onto the training statistics stored in the card (`adapt`: mean, std):

    mode "mean":      u' = u - mu_stream + mu_train
    mode "mean-std":  u' = mu_train + (u - mu_stream) * clip(std_train / std_stream, 1 / max_gain, max_gain)

"mean" re-estimates the static level only (what a stream-level shift of the room changes; a
no-op for models with per-window centring, whose input has mean 0); "mean-std" also rescales
each subcarrier's spread, which follows what people do in the room, not only the room
(docs/benchmarks-calibration.md measures both).

Bounded: the stream statistics are an exponential average over about `windows` windows, the
gain is clipped to [1/max_gain, max_gain], and nothing changes before `min_windows` windows
have been seen. Reversible: `reset()` returns to the identity (on recalibration), `frozen`
stops updating (while the drift alarm is on: a changed room must not be learned as normal).
"""

from __future__ import annotations

import numpy as np

from csi_edge.model.card import AdaptSpec

ADAPT_MODES = ("mean", "mean-std")


class StreamAdapter:
    def __init__(self, spec: AdaptSpec, windows: int = 3000, min_windows: int = 100, max_gain: float = 2.0,
                 mode: str = "mean") -> None:  # fmt: skip
        if mode not in ADAPT_MODES:
            raise ValueError(f"adaptation mode must be one of {ADAPT_MODES} (got {mode!r})")
        self.mode = mode
        self.mu_t = np.asarray(spec.mean, dtype=np.float64)
        self.sd_t = np.maximum(np.asarray(spec.std, dtype=np.float64), 1e-6)
        self.windows, self.min_windows, self.max_gain = windows, min_windows, max_gain
        self.frozen = False
        self.reset()

    def reset(self) -> None:
        self.seen = 0
        self._mean = self.mu_t.copy()
        self._sq = self.sd_t**2 + self.mu_t**2

    @property
    def active(self) -> bool:
        return self.seen >= self.min_windows

    def update(self, unscaled: np.ndarray) -> None:
        """Account for a batch (B, W', S) of unscaled inputs (skipped while frozen)."""
        if self.frozen or not len(unscaled):
            return
        u = np.asarray(unscaled, dtype=np.float64)
        for m, sq in zip(u.mean(axis=1), (u**2).mean(axis=1), strict=True):
            self.seen += 1
            a = 1.0 / min(self.seen, self.windows)
            self._mean += a * (m - self._mean)
            self._sq += a * (sq - self._sq)

    def gain(self) -> np.ndarray:
        if self.mode == "mean":
            return np.ones_like(self.sd_t)
        sd_s = np.sqrt(np.maximum(self._sq - self._mean**2, 1e-12))
        return np.clip(self.sd_t / sd_s, 1.0 / self.max_gain, self.max_gain)

    def __call__(self, unscaled: np.ndarray) -> np.ndarray:
        """(B, W', S) -> adapted (identity until `min_windows` windows were seen)."""
        if not self.active:
            return unscaled
        out = self.mu_t + (np.asarray(unscaled, dtype=np.float64) - self._mean) * self.gain()
        return out.astype(np.float32)

    def status(self) -> dict:
        g = self.gain()
        return {"mode": self.mode, "windows": self.seen, "active": self.active, "frozen": self.frozen,
                "gain_min": round(float(g.min()), 3), "gain_max": round(float(g.max()), 3)}
