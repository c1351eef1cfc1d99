"""Every window of a list of recordings, labelled or not, with its time.

`csi-edge train` keeps only windows whose last packet carries a known class; discovery needs
all of them (an unlabelled capture has none labelled). A `Windows` is the training
`WindowSet` keeping those too (index arrays only, windows gathered on demand, also at arbitrary
first packets for the temporal-neighbour pairs), so the scaler is fitted by the same code
(`csi_edge.tools.train.prep`).

Window label = label of its last packet (the training convention), -1 when that packet is
unlabelled or its label is not a class. Window time = its last packet's index in the recording
divided by the nominal packet rate (`RATE_HZ`): packets lost on the link shift it slightly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from csi_edge.tools.train.datasets import WindowSet, classes_of

RATE_HZ = 100.0


@dataclass
class Windows(WindowSet):
    """Every window (`WindowSet` keeping the unlabelled ones, y = -1); classes default to those
    present in the recordings."""

    keep_unlabelled: ClassVar[bool] = True
    classes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.classes:
            self.classes = classes_of(self.recordings)
        super().__post_init__()

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
