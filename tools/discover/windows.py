"""Every window of a list of recordings, labelled or not, with its time.

`csi-edge train` keeps only windows whose last packet carries a known class; discovery needs
all of them (an unlabelled capture has none labelled). A `Windows` holds index arrays only
(recording, first packet), like the training `WindowSet`, and gathers windows on demand, also
at arbitrary first packets (the temporal-neighbour pairs). It has the attributes the training
preparation reads (`window`, `hop`, `classes`, `subcarriers`, `windows(idx)`, `len`), so the
scaler is fitted by the same code (`csi_edge.tools.train.prep`).

Window label = label of its last packet (the training convention), -1 when that packet is
unlabelled or its label is not a class. Window time = its last packet's index in the recording
divided by the nominal packet rate (`RATE_HZ`): packets lost on the link shift it slightly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from csi_edge.tools.train.datasets import Recording, classes_of

RATE_HZ = 100.0


@dataclass
class Windows:
    recordings: list[Recording]
    window: int
    hop: int
    classes: tuple[str, ...] = ()
    rec: np.ndarray = field(init=False)  # (M,) recording of each window
    start: np.ndarray = field(init=False)  # (M,) first packet
    y: np.ndarray = field(init=False)  # (M,) class index of the last packet, -1 unlabelled

    def __post_init__(self) -> None:
        if not self.classes:
            self.classes = classes_of(self.recordings)
        lookup = {c: i for i, c in enumerate(self.classes)}
        recs, starts, ys = [], [], []
        for r, recording in enumerate(self.recordings):
            if len(recording) < self.window:
                continue
            s = np.arange(0, len(recording) - self.window + 1, self.hop, dtype=np.int64)
            recs.append(np.full(len(s), r, dtype=np.int64))
            starts.append(s)
            ys.append(np.array([lookup.get(str(v), -1) for v in recording.labels[s + self.window - 1]], dtype=np.int64))
        empty = np.zeros(0, np.int64)
        self.rec = np.concatenate(recs) if recs else empty
        self.start = np.concatenate(starts) if starts else empty
        self.y = np.concatenate(ys) if ys else empty

    def __len__(self) -> int:
        return len(self.rec)

    @property
    def links(self) -> int:
        return 1  # discover reads one link (load_windows refuses links side by side)

    @property
    def subcarriers(self) -> int:
        return int(self.recordings[0].features.shape[1]) if self.recordings else 0

    @property
    def labelled(self) -> np.ndarray:
        return self.y >= 0

    @property
    def end(self) -> np.ndarray:
        """Last packet of each window (index in its recording)."""
        return self.start + self.window - 1

    @property
    def time_s(self) -> np.ndarray:
        """Time of each window's last packet since its recording began (nominal rate)."""
        return self.end / RATE_HZ

    def lengths(self) -> np.ndarray:
        return np.array([len(r) for r in self.recordings], dtype=np.int64)

    def gather(self, rec: np.ndarray, start: np.ndarray) -> np.ndarray:
        """(B, W, S) float32 feature windows starting at packet `start` of recording `rec`."""
        rec, start = np.asarray(rec, dtype=np.int64), np.asarray(start, dtype=np.int64)
        out = np.empty((len(rec), self.window, self.subcarriers), dtype=np.float32)
        offsets = np.arange(self.window)
        for r in np.unique(rec):
            sel = np.nonzero(rec == r)[0]
            out[sel] = self.recordings[r].features[start[sel][:, None] + offsets]
        return out

    def windows(self, idx: np.ndarray) -> np.ndarray:
        idx = np.asarray(idx, dtype=np.int64)
        return self.gather(self.rec[idx], self.start[idx])

    def parts(self) -> dict[str, np.ndarray]:
        """Part name -> window indices, in first-seen order."""
        out: dict[str, list[int]] = {}
        for i, r in enumerate(self.rec):
            out.setdefault(self.recordings[r].part, []).append(i)
        return {k: np.asarray(v, dtype=np.int64) for k, v in out.items()}

    def select(self, idx: np.ndarray) -> Windows:
        """A view with only windows `idx` (recordings shared)."""
        view = object.__new__(Windows)
        view.recordings, view.window, view.hop, view.classes = self.recordings, self.window, self.hop, self.classes
        view.rec, view.start, view.y = self.rec[idx], self.start[idx], self.y[idx]
        return view

    def summary(self) -> dict:
        counts = np.bincount(self.y[self.labelled], minlength=len(self.classes)) if len(self.classes) else []
        return {
            "windows": int(len(self)),
            "labelled_windows": int(self.labelled.sum()),
            "packets": int(self.lengths().sum()),
            "recordings": len(self.recordings),
            "parts": sorted({r.part for r in self.recordings}),
            "class_windows": {c: int(n) for c, n in zip(self.classes, counts, strict=True)},
        }
