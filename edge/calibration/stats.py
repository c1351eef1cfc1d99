"""Window statistics against a baseline: the drift and motion scores, and building a baseline.

For a window of amplitudes (W packets x S subcarriers):
- its profile: the mean amplitude of each subcarrier; its flicker: the temporal std of each;
- **motion ratio** = median over subcarriers of flicker / baseline spread: about 1 in the
  empty room the baseline was recorded in, 1.1-1.3 with a still person, 1.5-3 while someone
  walks (docs/calibration.md). Windows at or below `[calibration] quiet_motion` are *quiet*;
- **profile change** d_k = 20 log10(profile_k / baseline_k) in dB, and the **drift** of a
  profile: the root mean square over subcarriers of d_k minus its mean over subcarriers (a
  common gain change, e.g. the AGC, is removed; what remains is the change of the room's
  frequency response, in dB).

`BaselineBuilder` collects window profiles and flickers (and the link's identity and gains)
and turns them into a `Baseline`: medians over windows, so a minute in which someone walks
out of the room at the start still gives the empty room's profile.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from csi_edge.calibration.baseline import Baseline, StreamIdentity
from csi_edge.frames import FFT_GAIN_UNKNOWN
from csi_edge.timefmt import utc_iso

EPS = 1e-3  # amplitudes are int8 magnitudes (~10-20); this only guards log(0)
MAX_WINDOWS = 36_000  # one hour of windows every 10 packets at 100 Hz
MAX_META = 360_000  # one hour of packets


@dataclass(frozen=True)
class WindowStats:
    profile: np.ndarray  # (B, S) mean amplitude per subcarrier
    flicker: np.ndarray  # (B, S) temporal std per subcarrier


def window_stats(windows: np.ndarray) -> WindowStats:
    """(B, W, S) amplitude windows -> per-window profile and flicker."""
    w = np.asarray(windows, dtype=np.float32)
    return WindowStats(w.mean(axis=1), w.std(axis=1))


def motion_ratio(flicker: np.ndarray, spread: np.ndarray) -> np.ndarray:
    """(B,) median over subcarriers of flicker / the baseline's spread."""
    return np.median(flicker / np.maximum(spread, EPS), axis=-1)


def profile_change_dB(profile: np.ndarray, baseline_profile: np.ndarray) -> np.ndarray:
    """(..., S) 20 log10(profile / baseline) in dB."""
    return 20.0 * np.log10(np.maximum(profile, EPS) / np.maximum(baseline_profile, EPS))


def shape_drift_dB(change_dB: np.ndarray) -> np.ndarray:
    """(...,) RMS over subcarriers of the change with its common (gain) part removed."""
    centred = change_dB - change_dB.mean(axis=-1, keepdims=True)
    return np.sqrt(np.mean(centred**2, axis=-1))


def _percentiles(values: np.ndarray) -> dict:
    if not len(values):
        return {}
    p50, p95 = np.percentile(values, [50, 95])
    return {"p50": round(float(p50), 4), "p95": round(float(p95), 4), "max": round(float(values.max()), 4)}


@dataclass
class BaselineBuilder:
    """Accumulates windows (and the frames' metadata, the board's HELLO) into a baseline."""

    window: int
    hop: int
    source: str = ""
    profiles: list[np.ndarray] = field(default_factory=list)
    flickers: list[np.ndarray] = field(default_factory=list)
    gains: dict[str, list[np.ndarray]] = field(default_factory=lambda: {k: [] for k in ("agc_gain", "fft_gain", "rssi", "noise_floor", "gain_lock")})
    stream: StreamIdentity = field(default_factory=StreamIdentity)
    packets: int = 0
    n_windows: int = 0
    first_us: int | None = None
    last_us: int | None = None

    def add_frames(self, meta: np.ndarray, hellos=()) -> None:
        """Metadata of decoded frames (gains, link identity, time span)."""
        self.stream.add(meta, hellos)
        if not len(meta):
            return
        self.packets += len(meta)
        if self.packets <= MAX_META:
            for name, values in self.gains.items():
                values.append(np.asarray(meta[name], dtype=np.float64))
        ts = meta["timestamp_us"]
        ts = ts[ts >= 0]
        if len(ts):
            self.first_us = int(ts[0]) if self.first_us is None else self.first_us
            self.last_us = int(ts[-1])

    def add_windows(self, windows: np.ndarray) -> None:
        if not len(windows) or self.n_windows >= MAX_WINDOWS:
            return
        stats = window_stats(windows)
        self.profiles.append(stats.profile)
        self.flickers.append(stats.flicker)
        self.n_windows += len(windows)

    @property
    def seconds(self) -> float:
        """Time span of the frames seen, by the receiver's clock."""
        if self.first_us is None or self.last_us is None:
            return 0.0
        return max(0.0, (self.last_us - self.first_us) / 1e6)

    def build(self) -> Baseline:
        if not self.n_windows:
            raise ValueError("no complete window yet")
        profiles = np.concatenate(self.profiles)
        flickers = np.concatenate(self.flickers)
        profile = np.maximum(np.median(profiles, axis=0), EPS)
        spread = np.maximum(np.median(flickers, axis=0), EPS)
        drift = shape_drift_dB(profile_change_dB(profiles, profile))
        motion = motion_ratio(flickers, spread)
        return Baseline(
            profile=tuple(float(v) for v in profile), spread=tuple(float(v) for v in spread), link=self.stream.identity,
            gains=self._gains(), null_drift_dB=_percentiles(drift), motion=_percentiles(motion),
            window=self.window, hop=self.hop, packets=self.packets, windows=self.n_windows,
            seconds=round(self.seconds, 2), source=self.source, created=utc_iso(),
        )  # fmt: skip

    def _gains(self) -> dict:
        out: dict[str, object] = {}
        names = {"agc_gain": "agc_gain", "fft_gain": "fft_gain", "rssi": "rssi_dBm", "noise_floor": "noise_floor_dBm"}
        for key, name in names.items():
            v = np.concatenate(self.gains[key]) if self.gains[key] else np.zeros(0)
            v = v[(v != -1) & (v != FFT_GAIN_UNKNOWN)] if key in ("agc_gain", "fft_gain") else v
            out[name] = round(float(np.median(v)), 2) if len(v) else None
        lock = np.concatenate(self.gains["gain_lock"]) if self.gains["gain_lock"] else np.zeros(0)
        lock = lock[lock >= 0]
        out["gain_lock"] = int(np.bincount(lock.astype(np.int64)).argmax()) if len(lock) else None
        return out
