"""Drift of the quiet room from its baseline, with an alarm that has hysteresis.

Per window (csi_edge.calibration.stats): the motion ratio says whether the window is quiet
(nobody moving); only quiet windows update the quiet-room profile change, an exponential
moving average of d_k (dB) with time constant `tau_s` (each window counts `hop / rate`
seconds). `drift` = the shape drift of that average (dB, gain removed).

Alarm (`recalibrate`): raised after the drift has stayed at or above `alarm_dB` for `hold_s`
seconds of quiet windows, cleared after it has stayed at or below `clear_dB` for `hold_s`
(two levels and a hold time: no flapping). Windows with motion do not count time either way,
so a busy room neither raises nor clears the alarm. A new baseline starts the monitor afresh.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from csi_edge.calibration.baseline import Baseline
from csi_edge.calibration.stats import WindowStats, motion_ratio, profile_change_dB, shape_drift_dB


@dataclass(frozen=True)
class DriftSettings:
    alarm_dB: float = 1.5
    clear_dB: float = 1.0
    hold_s: float = 20.0
    tau_s: float = 20.0
    quiet_motion: float = 1.5


class DriftMonitor:
    def __init__(self, baseline: Baseline, settings: DriftSettings, window_s: float) -> None:
        self.baseline = baseline
        self.settings = settings
        self.window_s = window_s  # seconds each window stands for (hop / rate)
        self._profile = baseline.profile_array
        self._spread = baseline.spread_array
        self._change: np.ndarray | None = None
        self.drift_dB: float | None = None
        self.alarm = False
        self.quiet_s = 0.0  # quiet time seen since the baseline
        self.windows = 0
        self._above_s = 0.0
        self._below_s = 0.0
        self.last_motion: float | None = None
        self.last_quiet = False

    def update(self, stats: WindowStats) -> np.ndarray:
        """Account for a batch of windows (in time order); returns their quiet mask (B,)."""
        motion = motion_ratio(stats.flicker, self._spread)
        quiet = motion <= self.settings.quiet_motion
        if len(motion):
            self.last_motion, self.last_quiet = float(motion[-1]), bool(quiet[-1])
        self.windows += len(motion)
        if not quiet.any():
            return quiet
        a = min(1.0, self.window_s / self.settings.tau_s)
        for change in profile_change_dB(stats.profile[quiet], self._profile):
            self._change = change if self._change is None else self._change + a * (change - self._change)
            self.drift_dB = float(shape_drift_dB(self._change))
            self.quiet_s += self.window_s
            self._hysteresis()
        return quiet

    def _hysteresis(self) -> None:
        s, drift = self.settings, self.drift_dB
        assert drift is not None
        self._above_s = self._above_s + self.window_s if drift >= s.alarm_dB else 0.0
        self._below_s = self._below_s + self.window_s if drift <= s.clear_dB else 0.0
        if not self.alarm and self._above_s >= s.hold_s:
            self.alarm = True
        elif self.alarm and self._below_s >= s.hold_s:
            self.alarm = False
