"""Calibration of one link in the running daemon: baseline, drift, recalibration, adaptation.

The pipeline hands every decoded batch (`frames`) and every batch of amplitude windows
(`windows`, before inference) to its `LinkCalibration`, and the estimates after inference
(`estimates`). It

- checks the stream against the baseline's link (channel, bandwidth, MACs, CSI scaling) and
  refuses a baseline from another link (`BaselineMismatchError`, one line);
- keeps the drift monitor (health `drift`, `recalibrate`);
- records a new baseline when asked (`request`, the daemon's `recalibrate` command): the next
  `[calibration] seconds` of windows, or, for the automatic path, the stretch of confident
  emptiness that triggered it; the new baseline replaces the old (saved to
  `[calibration] baseline` when `save` is on), and the drift monitor and the adaptation
  start afresh;
- asks for recalibration by itself (`take_auto_request`) after `auto_minutes` of confident
  emptiness, when recalibration is needed or no baseline is loaded;
- runs the test-time adaptation (`adapt`), frozen while the drift alarm is on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from csi_edge.calibration.adapt import AdaptableSession, StreamAdapter
from csi_edge.calibration.baseline import Baseline, StreamIdentity, check_link, load_baseline
from csi_edge.calibration.drift import DriftMonitor, DriftSettings
from csi_edge.calibration.stats import BaselineBuilder, window_stats
from csi_edge.config import CalibrationConfig
from csi_edge.errors import CsiEdgeError, ModelMismatchError
from csi_edge.logs import event
from csi_edge.model.card import ModelCard

log = logging.getLogger("csi_edge.calibration")


@dataclass(frozen=True)
class Timing:
    window: int  # packets per window
    hop: int  # packets between windows
    rate_hz: float

    @property
    def window_s(self) -> float:
        return self.hop / self.rate_hz


class LinkCalibration:
    def __init__(self, cfg: CalibrationConfig, card: ModelCard, timing: Timing, source: str = "") -> None:
        self.cfg = cfg
        self.timing = timing
        self.source = source
        self.where = cfg.baseline or "baseline"
        self.baseline: Baseline | None = self._load(cfg)
        self.stream = StreamIdentity()
        self.drift: DriftMonitor | None = None
        self.recording: BaselineBuilder | None = None
        self.recording_origin = ""
        self._stretch: BaselineBuilder | None = None  # confident emptiness, for the automatic path
        self._stretch_s = 0.0
        self._auto_due = False
        self._quiet = np.zeros(0, dtype=bool)
        self.adapter: StreamAdapter | None = None
        self.session: AdaptableSession | None = None  # [calibration] adapt = batchnorm
        self.recalibrations = 0
        self.set_model(card, timing)
        self._start_drift()

    @staticmethod
    def _load(cfg: CalibrationConfig) -> Baseline | None:
        """The configured baseline; a missing file is an error, unless the automatic path will
        record it (`auto_minutes` > 0: the first start of a service)."""
        if not cfg.baseline:
            return None
        if cfg.auto_minutes > 0 and not Path(cfg.baseline).exists():
            event(log, "baseline_missing", logging.WARNING, path=cfg.baseline, then=f"recorded after {cfg.auto_minutes:g} "
                  "minutes of confident emptiness, or on the recalibrate command")
            return None
        return load_baseline(cfg.baseline)

    # model and baseline --------------------------------------------------------------------
    def set_model(self, card: ModelCard, timing: Timing, model_dir: Path | None = None, providers=("cpu",)) -> None:
        """A (new) model: its baseline needs, its adaptation statistics, its window timing."""
        if card.needs_baseline and self.baseline is None:
            raise ModelMismatchError(f"model {card.model_id} takes baseline-relative features (feature.relative = "
                                     f"{card.feature.relative}) and needs a baseline: csi-edge calibrate --source SPEC "
                                     "--out FILE, then csi-edge run --baseline FILE")
        self.card = card
        if timing != self.timing:
            self.timing = timing
            if self.drift is not None:
                self.drift.window_s = timing.window_s
        self.adapter, self.session = None, None
        if self.cfg.adapt == "batchnorm" and model_dir is not None:
            self.session = AdaptableSession(card, model_dir, providers, windows=self.cfg.adapt_windows)
        elif self.cfg.adapt in ("mean", "mean-std"):
            if card.adapt is None:
                event(log, "adaptation_unavailable", logging.WARNING, model=card.model_id, reason="no adapt statistics in the card")
            else:
                self.adapter = StreamAdapter(card.adapt, windows=self.cfg.adapt_windows, mode=self.cfg.adapt)

    def _start_drift(self) -> None:
        if self.baseline is None:
            self.drift = None
            return
        c = self.cfg
        settings = DriftSettings(c.drift_alarm_dB, c.drift_clear_dB, c.drift_hold_s, c.drift_tau_s, c.quiet_motion)
        self.drift = DriftMonitor(self.baseline, settings, self.timing.window_s)

    @property
    def profile(self) -> np.ndarray | None:
        return None if self.baseline is None else self.baseline.profile_array

    @property
    def alarm(self) -> bool:
        return self.drift is not None and self.drift.alarm

    # the stream -------------------------------------------------------------------------------
    def frames(self, meta: np.ndarray, hellos=()) -> None:
        """Every decoded batch: the link's identity against the baseline's; a recording's gains."""
        if len(meta) or hellos:
            self.stream.add(meta, hellos)
            if self.baseline is not None:
                check_link(self.baseline, self.stream.identity, self.where)
        for builder in (self.recording, self._stretch):
            if builder is not None:
                builder.add_frames(meta, hellos)

    def windows(self, windows: np.ndarray) -> None:
        """Amplitude windows (B, W, S) about to be classified."""
        if self.drift is not None:
            self._quiet = self.drift.update(window_stats(windows))
        else:
            self._quiet = np.zeros(len(windows), dtype=bool)
        for adapter in self._adapters():
            adapter.frozen = self.alarm
        if self.recording is not None:
            self.recording.add_windows(windows)
            if self.recording.seconds >= self.cfg.seconds:
                self._adopt(self.recording, self.recording_origin)

    def _adapters(self) -> list:
        return [a for a in (self.adapter, None if self.session is None else self.session.adapter) if a is not None]

    def adapt(self, unscaled: np.ndarray) -> np.ndarray:
        """The adaptation step of `prepare` (identity when off)."""
        if self.adapter is None:
            return unscaled
        self.adapter.update(unscaled)
        return self.adapter(unscaled)

    def estimates(self, activities: list[str], confidences: list[float], windows: np.ndarray) -> None:
        """After inference: track confident emptiness for the automatic path."""
        if self.cfg.auto_minutes <= 0:
            return
        quiet = self._quiet if len(self._quiet) == len(activities) else np.ones(len(activities), dtype=bool)
        for i, (activity, confidence) in enumerate(zip(activities, confidences, strict=True)):
            if activity == "empty" and confidence >= self.cfg.auto_confidence and (self.drift is None or quiet[i]):
                if self._stretch is None:
                    self._stretch = BaselineBuilder(self.timing.window, self.timing.hop, f"{self.source} (automatic)")
                self._stretch.add_windows(windows[i : i + 1])
                self._stretch_s += self.timing.window_s
            else:
                self._stretch, self._stretch_s = None, 0.0
        needed = self.baseline is None or self.alarm
        if needed and self._stretch_s >= self.cfg.auto_minutes * 60.0 and self.recording is None:
            self._auto_due = True

    def take_auto_request(self) -> bool:
        """True once when the automatic path wants a recalibration (the daemon queues it)."""
        due, self._auto_due = self._auto_due, False
        return due

    # recalibration ------------------------------------------------------------------------------
    def request(self, origin: str) -> None:
        """The `recalibrate` command: adopt the confident-empty stretch (automatic path) or
        start recording the next `[calibration] seconds`."""
        if origin == "auto" and self._stretch is not None and self._stretch.n_windows:
            self._adopt(self._stretch, origin)
            return
        self.recording = BaselineBuilder(self.timing.window, self.timing.hop, f"{self.source} (recalibrate from {origin})")
        self.recording_origin = origin
        event(log, "recalibration_started", origin=origin, seconds=self.cfg.seconds)

    def _adopt(self, builder: BaselineBuilder, origin: str) -> None:
        builder.stream = self.stream  # everything this link's stream said, not only the recording's part
        baseline = builder.build()
        self.baseline = baseline
        self.recording = None
        self._stretch, self._stretch_s = None, 0.0
        self.recalibrations += 1
        self._start_drift()
        for adapter in self._adapters():
            adapter.reset()
        event(log, "recalibrated", origin=origin, windows=baseline.windows, seconds=baseline.seconds,
              null_drift_p95_dB=baseline.null_drift_dB.get("p95"))
        if self.cfg.save and self.cfg.baseline:
            try:
                baseline.save(self.cfg.baseline)
                event(log, "baseline_saved", path=self.cfg.baseline)
            except CsiEdgeError as exc:
                event(log, "baseline_save_failed", logging.ERROR, error=str(exc))

    # health -------------------------------------------------------------------------------------
    def health(self) -> dict:
        d = self.drift
        state = "recording" if self.recording is not None else "none" if d is None else "drift" if d.alarm else "ok"
        info: dict[str, object] = {"state": state, "recalibrations": self.recalibrations}
        if self.baseline is not None:
            info.update(baseline_created=self.baseline.created, baseline_source=self.baseline.source)
        if d is not None:
            info.update(quiet_s=round(d.quiet_s, 1), motion=None if d.last_motion is None else round(d.last_motion, 3),
                        quiet=d.last_quiet)
        if self.recording is not None:
            info["recording_percent"] = round(min(100.0, 100.0 * self.recording.seconds / self.cfg.seconds), 1)
        if self.cfg.auto_minutes > 0:
            info["empty_stretch_s"] = round(self._stretch_s, 1)
        out = {"drift": None if d is None or d.drift_dB is None else round(d.drift_dB, 3), "recalibrate": self.alarm,
               "calibration": info}
        for adapter in self._adapters():
            out["adaptation"] = adapter.status()
        return out
