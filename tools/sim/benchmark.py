"""The simulated 3-day benchmark: the paper's cross-day protocol on simulated boards.

Like the 3DO dataset (per day 5 sequences of 5 minutes per activity), but shorter by default:
per day, `sequences` recordings of `seconds` each for every activity. Train on day 1 (8:2
split), test on day 2 (same room, another execution) and day 3 (furniture moved).

Each `BenchmarkSequence` carries a `csi_edge.frames.FrameBatch` (exactly what the decoder
returns for the same packets sent as protocol v1), the activity code per packet (index into
`ACTIVITIES`) and the ground-truth position per packet (metres, NaN when the room is empty).
Sitting sequences take the two chairs of the day in turn (sequence i sits on chair i mod 2), as a
recording protocol would; lying and walking start anywhere.
Sequences are independent recordings (each starts at seq 0); the seed of a sequence depends
on (seed, activity, index) and the day enters every random draw, so all are distinct.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from csi_edge.frames import FrameBatch
from csi_edge.tools.sim.recording import ACTIVITIES, activity_code
from csi_edge.tools.sim.simulator import simulate

DAYS = (1, 2, 3)


@dataclass(frozen=True)
class BenchmarkSequence:
    day: int
    activity: str
    index: int  # sequence number within (day, activity)
    seed: int
    frames: FrameBatch
    labels: np.ndarray  # int8 (N,), index into ACTIVITIES
    positions: np.ndarray  # float32 (N, 3), x, y, z in metres; NaN when empty
    truth: np.ndarray  # (N,) TRUTH_DTYPE (seq, timestamp_us, activity, x, y, z)

    def __len__(self) -> int:
        return len(self.frames)


def sequence_seed(seed: int, activity: str, index: int) -> int:
    return seed * 10_000 + activity_code(activity) * 100 + index


def benchmark_days(days: Sequence[int] = DAYS, activities: Sequence[str] = ACTIVITIES, sequences: int = 3,
                   seconds: float = 60.0, seed: int = 0, progress: bool = True, **radio) -> list[BenchmarkSequence]:  # fmt: skip
    """Generate the benchmark: one `BenchmarkSequence` per (day, activity, sequence index).

    Defaults: 3 days x 4 activities x 3 sequences x 60 s = 216,000 packets (~17 s CPU here).
    `radio` takes `RadioConfig` fields (e.g. secondary="none", first_word_invalid=True).
    """
    jobs = [(d, a, i) for d in days for a in activities for i in range(sequences)]
    out = []
    for day, activity, index in tqdm(jobs, desc="simulating benchmark", unit="seq", disable=not progress):
        s = sequence_seed(seed, activity, index)
        chair = index % 2 if activity == "sitting" else None  # sitting sequences take the chairs in turn
        rec = simulate(seconds, day=day, activity=activity, seed=s, chair=chair, **radio)
        out.append(BenchmarkSequence(day, activity, index, s, rec.to_frames(), rec.labels.copy(),
                                     rec.positions.astype(np.float32), rec.truth))  # fmt: skip
    return out
