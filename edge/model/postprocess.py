"""Model outputs -> estimates: probabilities, smoothed activity, presence, confidence, position.

Per window, in order:
1. activity head: probabilities = softmax(logits), smoothed by an exponential moving average
   (`smoothing` = weight of the newest, 1 = none); hysteresis on the argmax: the reported
   activity changes only when another class's smoothed probability beats the current one's by
   more than `hysteresis`; confidence = smoothed probability of the reported activity;
   presence = 1 - p(empty) >= `presence_threshold` when the model has an `empty` class (None
   otherwise);
2. position head: only when `positions` is on (the model has measured position skill, see
   `card.publishes_position`) and only while presence is not false: an EMA of the position
   (`position_smoothing`), restarted after the room was empty. Otherwise None: a position the
   model guesses for an empty room, or from an unskilled head, carries no information.
3. novelty (when the model has a novelty calibration, csi_edge.calibration.novelty): smoothed
   like the probabilities; above `novelty_threshold` the reported activity is `unknown` and its
   confidence is the novelty. The probabilities stay over the known classes and the hysteresis
   keeps following them, so the known activity resumes as soon as the novelty falls.
The state resets with the window (a long gap) so stale history never leaks into new results.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from csi_edge.model.card import ACTIVITY, POSITION
from csi_edge.model.runtime import ModelOutput


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


@dataclass(frozen=True)
class Estimate:
    """What the model concludes about one window, after smoothing and gating."""

    activity: str
    probabilities: dict[str, float]
    confidence: float
    presence: bool | None
    position: tuple[float, float, float] | None  # metres; None = not published
    novelty: float | None = None  # 0..1, smoothed; None = the model has no novelty calibration


UNKNOWN = "unknown"  # the activity reported for a novel window


class PostProcessor:
    def __init__(self, classes: tuple[str, ...], smoothing: float = 0.5, hysteresis: float = 0.1,
                 position_smoothing: float = 0.5, presence_threshold: float = 0.5, positions: bool = False,
                 novelty_threshold: float | None = None) -> None:
        self.classes = tuple(classes)
        self.alpha, self.margin = smoothing, hysteresis
        self.pos_alpha, self.presence_threshold = position_smoothing, presence_threshold
        self.positions = positions
        self.novelty_threshold = novelty_threshold
        self._empty = self.classes.index("empty") if "empty" in self.classes else None
        self.reset()

    def reset(self) -> None:
        self._probs: np.ndarray | None = None
        self._pos: np.ndarray | None = None
        self._current: int | None = None
        self._novelty: float | None = None

    def __call__(self, outputs: ModelOutput, novelty: np.ndarray | None = None) -> list[Estimate]:
        """Estimates for a batch of windows in time order, from the model's heads (and each
        window's novelty when the model has a novelty calibration)."""
        probs = softmax(np.asarray(outputs[ACTIVITY], dtype=np.float64))
        position = outputs.get(POSITION) if self.positions else None
        out = []
        for i in range(len(probs)):  # B is 1 at 100 Hz; the EMA is sequential by nature
            p = probs[i] if self._probs is None else self.alpha * probs[i] + (1 - self.alpha) * self._probs
            self._probs = p
            best = int(np.argmax(p))
            if self._current is None or p[best] > p[self._current] + self.margin:
                self._current = best
            presence = None if self._empty is None else bool(1.0 - p[self._empty] >= self.presence_threshold)
            nov = self._smooth_novelty(None if novelty is None else float(novelty[i]))
            unknown = nov is not None and self.novelty_threshold is not None and nov > self.novelty_threshold
            out.append(Estimate(
                activity=UNKNOWN if unknown else self.classes[self._current],
                probabilities={c: round(float(v), 4) for c, v in zip(self.classes, p, strict=True)},
                confidence=round(nov if unknown and nov is not None else float(p[self._current]), 4),
                presence=presence,
                position=self._position(None if position is None else position[i], presence),
                novelty=None if nov is None else round(nov, 4),
            ))  # fmt: skip
        return out

    def _smooth_novelty(self, value: float | None) -> float | None:
        if value is None:
            return None
        self._novelty = value if self._novelty is None else self.alpha * value + (1 - self.alpha) * self._novelty
        return self._novelty

    def _position(self, q: np.ndarray | None, presence: bool | None) -> tuple[float, float, float] | None:
        if presence is False:
            self._pos = None  # the next person starts a fresh average
            return None
        if q is None or not np.all(np.isfinite(q)):
            return None
        q = q.astype(np.float64)
        self._pos = q if self._pos is None else self.pos_alpha * q + (1 - self.pos_alpha) * self._pos
        x, y, z = (round(float(v), 3) for v in self._pos)
        return (x, y, z)
