"""Model outputs -> published results: probabilities, smoothed activity, position, confidence.

Per window, in order:
1. probabilities = softmax(logits);
2. smoothing: an exponential moving average of the probabilities (`smoothing` = weight of the
   newest, 1 = none) and of the position (`position_smoothing`);
3. hysteresis on the argmax: the reported activity changes only when another class's smoothed
   probability beats the current activity's by more than `hysteresis`;
4. confidence = smoothed probability of the reported activity; presence = 1 - p(empty) >=
   `presence_threshold` when the model has an `empty` class (None otherwise).
The state resets with the window (a long gap) so stale history never leaks into new results.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


@dataclass(frozen=True)
class Result:
    """One published result (the `state` payload is built from it)."""

    activity: str
    probabilities: dict[str, float]
    confidence: float
    presence: bool | None
    position: tuple[float, float, float] | None  # metres


class PostProcessor:
    def __init__(self, classes: tuple[str, ...], smoothing: float = 0.5, hysteresis: float = 0.1,
                 position_smoothing: float = 0.5, presence_threshold: float = 0.5) -> None:
        self.classes = tuple(classes)
        self.alpha, self.margin = smoothing, hysteresis
        self.pos_alpha, self.presence_threshold = position_smoothing, presence_threshold
        self._empty = self.classes.index("empty") if "empty" in self.classes else None
        self.reset()

    def reset(self) -> None:
        self._probs: np.ndarray | None = None
        self._pos: np.ndarray | None = None
        self._current: int | None = None

    def __call__(self, logits: np.ndarray, position: np.ndarray | None) -> list[Result]:
        """Results for a batch of windows in time order: logits (B, C), position (B, 3) or None."""
        probs = softmax(np.asarray(logits, dtype=np.float64))
        out = []
        for i in range(len(probs)):  # B is 1 at 100 Hz; the EMA is sequential by nature
            p = probs[i] if self._probs is None else self.alpha * probs[i] + (1 - self.alpha) * self._probs
            self._probs = p
            best = int(np.argmax(p))
            if self._current is None or p[best] > p[self._current] + self.margin:
                self._current = best
            xyz = None
            if position is not None and np.all(np.isfinite(position[i])):
                q = position[i].astype(np.float64)
                self._pos = q if self._pos is None else self.pos_alpha * q + (1 - self.pos_alpha) * self._pos
                x, y, z = (round(float(v), 3) for v in self._pos)
                xyz = (x, y, z)
            presence = None if self._empty is None else bool(1.0 - p[self._empty] >= self.presence_threshold)
            out.append(Result(
                activity=self.classes[self._current],
                probabilities={c: round(float(v), 4) for c, v in zip(self.classes, p, strict=True)},
                confidence=round(float(p[self._current]), 4),
                presence=presence,
                position=xyz,
            ))
        return out
