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
(docs/benchmarks.md#calibration-drift-novelty-and-adaptation-across-sessions measures both).

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


class BatchNormAdapter:
    """BatchNorm statistics re-estimated on the stream, for the adaptable graph of a card.

    Each layer's per-channel moments (the graph's `<name>_m1`, `<name>_m2` outputs) are
    averaged over about `windows` windows (cumulative, then exponential); the graph is fed
    mean = m1 and var = m2 - m1^2 once `min_windows` were seen, the training statistics
    before. `reset()` returns to the training statistics; `frozen` stops the averaging."""

    def __init__(self, layers, windows: int = 3000, min_windows: int = 100) -> None:
        self.layers = list(layers)
        self.windows, self.min_windows = windows, min_windows
        self.frozen = False
        self.reset()

    def reset(self) -> None:
        self.seen = 0
        self._m1 = [np.asarray(b.mean, dtype=np.float64) for b in self.layers]
        self._m2 = [np.asarray(b.var, dtype=np.float64) + m**2 for b, m in zip(self.layers, self._m1, strict=True)]

    @property
    def active(self) -> bool:
        return self.seen >= self.min_windows

    def feed_list(self) -> list[np.ndarray]:
        """[mean_0, var_0, mean_1, var_1, ...] float32: the training statistics until active."""
        out = []
        for b, m1, m2 in zip(self.layers, self._m1, self._m2, strict=True):
            if self.active:
                out += [m1.astype(np.float32), np.maximum(m2 - m1**2, 0.0).astype(np.float32)]
            else:
                out += [np.asarray(b.mean, np.float32), np.asarray(b.var, np.float32)]
        return out

    def feeds(self) -> dict[str, np.ndarray]:
        names = [f"{b.name}_{k}" for b in self.layers for k in ("mean", "var")]
        return dict(zip(names, self.feed_list(), strict=True))

    def update(self, moments: list[np.ndarray], n: int = 1) -> None:
        """`moments` = [m1_0, m2_0, m1_1, ...] of a batch of `n` windows."""
        if self.frozen or n <= 0:
            return
        self.seen += n
        a = min(1.0, n / min(self.seen, self.windows))
        for i in range(len(self.layers)):
            self._m1[i] += a * (np.asarray(moments[2 * i], np.float64) - self._m1[i])
            self._m2[i] += a * (np.asarray(moments[2 * i + 1], np.float64) - self._m2[i])

    def status(self) -> dict:
        return {"mode": "batchnorm", "windows": self.seen, "active": self.active, "frozen": self.frozen,
                "layers": len(self.layers)}


class AdaptableSession:
    """The card's adaptable graph in ONNX Runtime, run with a BatchNormAdapter's statistics."""

    def __init__(self, card, model_dir, providers, threads: int = 1, windows: int = 3000) -> None:
        import os

        import onnxruntime as ort

        from csi_edge.errors import ModelMismatchError
        from csi_edge.model.card import sha256_file
        from csi_edge.model.runtime import pick_providers

        spec = card.adapt
        if spec is None or not spec.onnx_file or not spec.batchnorm:
            raise ModelMismatchError(f"model {card.model_id} has no adaptable graph (adapt.onnx_file): [calibration] adapt = "
                                     "batchnorm needs a model trained with it (or use mean)")
        path = model_dir / spec.onnx_file
        if not path.exists() or sha256_file(path) != spec.onnx_sha256:
            raise ModelMismatchError(f"{path}: the adaptable graph is missing or does not match the card's sha256")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.log_severity_level = 3
        self.session = ort.InferenceSession(os.fspath(path), sess_options=options,
                                            providers=pick_providers(list(providers), ort.get_available_providers()))
        self.card = card
        self.adapter = BatchNormAdapter(spec.batchnorm, windows=windows)
        self._fetch = list(card.outputs) + [f"{b.name}_{k}" for b in spec.batchnorm for k in ("m1", "m2")]

    def run(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """Heads by name (as LoadedModel.run); the moments update the adapter."""
        out = self.session.run(self._fetch, {self.card.input_name: x, **self.adapter.feeds()})
        n_heads = len(self.card.heads)
        self.adapter.update(out[n_heads:], len(x))
        return {h.name: np.asarray(a, dtype=np.float32).reshape(len(x), -1)[:, : h.size]
                for h, a in zip(self.card.heads, out[:n_heads], strict=True)}
