"""Lazy windows over continuous recordings.

A `Recording` is one continuous stretch of packets: per-packet features (N, S) float32 (or
(N, L x S) for L links of one room side by side, the input of a joint model), one label per packet, optional positions (N, 3) in metres (NaN where unknown, e.g. an empty room),
and the dataset *part* it belongs to (e.g. `d2` for day 2, `trial02`). Windows never cross
recordings: a new file, a new 3DO sequence or a new `group` in an amplitudes NPZ starts a new
recording.

A `WindowSet` holds only index arrays (recording number, first packet) of the windows; a batch
of windows is gathered on demand with fancy indexing, so memory stays O(packets), never
O(windows x W x S).

Per-window targets (documented in docs/training.md):
- label = the label of the window's LAST packet (what the daemon reports at that moment);
- position = MEAN of the window's finite per-packet positions (NaN when none is finite).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np


@dataclass(frozen=True)
class Recording:
    features: np.ndarray  # (N, S) float32 per-packet feature
    labels: np.ndarray  # (N,) str
    part: str  # dataset part (day, trial, ...), the unit metrics are reported per
    source: str  # file or description, for messages and the card's data summary
    positions: np.ndarray | None = None  # (N, 3) float32 metres, NaN unknown
    layouts: tuple[str, ...] = ()  # secondary-channel layouts seen in the frames
    bandwidth: int | None = None  # MHz of most frames (20 or 40); None unknown
    links: int = 1  # links side by side in `features` (link after link, S each): a joint model's input
    seq: np.ndarray | None = None  # (N,) TX sequence number of each packet, where known

    def __len__(self) -> int:
        return len(self.features)


@dataclass
class WindowSet:
    """Windows of `window` packets every `hop` packets over a list of recordings."""

    keep_unlabelled: ClassVar[bool] = False  # True: keep windows whose last label is not a class (y = -1)

    recordings: list[Recording]
    window: int
    hop: int
    classes: tuple[str, ...]
    rec: np.ndarray = field(init=False)  # (M,) recording number of each window
    start: np.ndarray = field(init=False)  # (M,) first packet of each window
    y: np.ndarray = field(init=False)  # (M,) class index of each window's last packet

    def __post_init__(self) -> None:
        recs, starts, ys = [], [], []
        lookup = {c: i for i, c in enumerate(self.classes)}
        for r, recording in enumerate(self.recordings):
            n = len(recording)
            if n < self.window:
                continue
            s = np.arange(0, n - self.window + 1, self.hop, dtype=np.int64)
            last = recording.labels[s + self.window - 1]
            code = np.array([lookup.get(str(v), -1) for v in last], dtype=np.int64)
            keep = np.ones(len(code), dtype=bool) if self.keep_unlabelled else code >= 0  # else unknown labels are skipped
            recs.append(np.full(int(keep.sum()), r, dtype=np.int64))
            starts.append(s[keep])
            ys.append(code[keep])
        self.rec = np.concatenate(recs) if recs else np.zeros(0, np.int64)
        self.start = np.concatenate(starts) if starts else np.zeros(0, np.int64)
        self.y = np.concatenate(ys) if ys else np.zeros(0, np.int64)

    def __len__(self) -> int:
        return len(self.rec)

    @property
    def links(self) -> int:
        return self.recordings[0].links if self.recordings else 1

    @property
    def width(self) -> int:
        """Values per packet: links x subcarriers."""
        return int(self.recordings[0].features.shape[1]) if self.recordings else 0

    @property
    def subcarriers(self) -> int:
        """Subcarriers of one link."""
        return self.width // self.links

    @property
    def has_positions(self) -> bool:
        return any(r.positions is not None and np.isfinite(r.positions).any() for r in self.recordings)

    def parts(self) -> dict[str, np.ndarray]:
        """Part name -> window indices, in first-seen order."""
        names = [self.recordings[r].part for r in self.rec]
        out: dict[str, list[int]] = {}
        for i, name in enumerate(names):
            out.setdefault(name, []).append(i)
        return {k: np.asarray(v, dtype=np.int64) for k, v in out.items()}

    def windows(self, idx: np.ndarray) -> np.ndarray:
        """(B, W, links x S) float32 feature windows for window indices `idx`."""
        idx = np.asarray(idx, dtype=np.int64)
        return self.gather(self.rec[idx], self.start[idx])

    def gather(self, rec: np.ndarray, start: np.ndarray) -> np.ndarray:
        """(B, W, links x S) float32 feature windows starting at packet `start` of recording `rec`
        (any first packet, not only the windows' own)."""
        rec, start = np.asarray(rec, dtype=np.int64), np.asarray(start, dtype=np.int64)
        out = np.empty((len(rec), self.window, self.width), dtype=np.float32)
        offsets = np.arange(self.window)
        for r in np.unique(rec):
            sel = np.nonzero(rec == r)[0]
            out[sel] = self.recordings[r].features[start[sel][:, None] + offsets]
        return out

    def positions(self, idx: np.ndarray) -> np.ndarray:
        """(B, 3) mean position over each window; NaN where the window has none."""
        idx = np.asarray(idx, dtype=np.int64)
        out = np.full((len(idx), 3), np.nan, dtype=np.float32)
        offsets = np.arange(self.window)
        for r in np.unique(self.rec[idx]):
            pos = self.recordings[r].positions
            if pos is None:
                continue
            sel = np.nonzero(self.rec[idx] == r)[0]
            block = pos[self.start[idx[sel]][:, None] + offsets]  # (b, W, 3)
            finite = np.isfinite(block).all(axis=2)
            count = finite.sum(axis=1)
            total = np.where(finite[..., None], block, 0.0).sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                out[sel] = np.where(count[:, None] > 0, total / np.maximum(count, 1)[:, None], np.nan)
        return out

    def subset(self, idx: np.ndarray) -> WindowSet:
        """A view with only the windows `idx` (recordings are shared, not copied)."""
        view = object.__new__(type(self))
        view.recordings, view.window, view.hop, view.classes = self.recordings, self.window, self.hop, self.classes
        view.rec, view.start, view.y = self.rec[idx], self.start[idx], self.y[idx]
        return view

    def summary(self) -> dict:
        counts = np.bincount(self.y, minlength=len(self.classes)) if len(self.y) else np.zeros(len(self.classes))
        return {
            "windows": int(len(self)),
            "packets": int(sum(len(r) for r in self.recordings)),
            "recordings": len(self.recordings),
            "parts": sorted({r.part for r in self.recordings}),
            "class_windows": {c: int(n) for c, n in zip(self.classes, counts, strict=True)},
        }


def classes_of(recordings: list[Recording]) -> tuple[str, ...]:
    """Sorted class names present in the recordings, with "empty" first when present.

    The empty string means "unlabelled" (e.g. a paused capture) and is never a class."""
    names = sorted({str(v) for r in recordings for v in np.unique(r.labels)} - {""})
    if "empty" in names:
        names.remove("empty")
        names.insert(0, "empty")
    return tuple(names)


def split_random(ws: WindowSet, fraction: float, seed: int) -> tuple[WindowSet, WindowSet]:
    """The paper's 8:2 split of day 1 (fraction = 0.2): random windows, seeded.

    Overlapping windows of one recording land on both sides, so validation on it is optimistic;
    prefer a cross-session `--val` (see docs/training.md).
    """
    order = np.random.default_rng(seed).permutation(len(ws))
    n_val = int(round(len(ws) * fraction))
    return ws.subset(np.sort(order[n_val:])), ws.subset(np.sort(order[:n_val]))
