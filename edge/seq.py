"""TX sequence arithmetic: the one place that decides what a packet's seq means.

The transmitter numbers its packets with a u32 that counts up by one per packet and starts
again at 0 when the board reboots. Relative to the newest packet accepted so far (`prev`),
each packet is one of:

- `NEXT`: prev + 1;
- `GAP`: prev + 2 .. prev + RESTART_JUMP: the packets in between were lost (step - 1 of them);
- `LATE`: prev itself (a duplicate, e.g. a MAC retry) or up to LATE_SPAN behind it: it is
  not taken into windows and does not move `prev`;
- `RESTART`: anything else, a backward jump of more than LATE_SPAN (the TX rebooted and
  counts from 0 again) or a forward jump beyond RESTART_JUMP: a new chain starts here.

All differences are modulo 2**32, so the u32 wrap is a NEXT like any other. The link monitor,
the window ring, the read coalescer and the capture counters all classify with `classify`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np

SEQ_MOD = 1 << 32
LATE_SPAN = 64  # 0.64 s at 100 Hz: duplicates and retries arrive within a few packets
RESTART_JUMP = 1 << 20  # a forward jump beyond this (2.9 h at 100 Hz) is not a gap but a new chain
_MAX_PASSES = 8


class SeqKind(IntEnum):
    NEXT = 0
    GAP = 1
    LATE = 2
    RESTART = 3


def forward(prev: int, seq: int) -> int:
    """Forward distance from `prev` to `seq` modulo 2**32 (1 = consecutive)."""
    return (int(seq) - int(prev)) % SEQ_MOD


@dataclass(frozen=True)
class SeqSteps:
    """Per-packet classification of a batch of seqs (see the module docstring)."""

    kind: np.ndarray  # uint8 SeqKind per packet
    step: np.ndarray  # int64 forward distance from the packet's accepted predecessor (0 for LATE)
    last: int | None  # the newest accepted seq after this batch (`prev` for the next batch)

    @property
    def late(self) -> np.ndarray:
        return self.kind == SeqKind.LATE

    @property
    def lost(self) -> int:
        """Packets lost in the gaps of this batch (restarts excluded)."""
        gap = self.kind == SeqKind.GAP
        return int((self.step[gap] - 1).sum())

    def count(self, kind: SeqKind) -> int:
        return int(np.count_nonzero(self.kind == kind))


def classify(prev: int | None, seq: np.ndarray) -> SeqSteps:
    """Classify each seq of a batch against `prev` (None: the first packet ever is NEXT).

    LATE packets are taken out of the chain, so the packet after a duplicate is compared with
    the newest accepted one, not with the duplicate.
    """
    seq = np.asarray(seq, dtype=np.int64) % SEQ_MOD
    n = len(seq)
    kind = np.full(n, SeqKind.LATE, dtype=np.uint8)
    step = np.zeros(n, dtype=np.int64)
    if n == 0:
        return SeqSteps(kind, step, prev)
    start = int(seq[0]) - 1 if prev is None else int(prev)
    keep = np.ones(n, dtype=bool)
    for _ in range(_MAX_PASSES):
        idx = np.flatnonzero(keep)
        if not len(idx):
            break
        d = np.diff(np.concatenate(([start], seq[idx]))) % SEQ_MOD
        late = (d == 0) | (d >= SEQ_MOD - LATE_SPAN)
        if not late.any():
            break
        keep[idx[late]] = False
    else:  # pathological input: whatever is still flagged is late
        idx = np.flatnonzero(keep)
        d = np.diff(np.concatenate(([start], seq[idx]))) % SEQ_MOD
        keep[idx[(d == 0) | (d >= SEQ_MOD - LATE_SPAN)]] = False
    idx = np.flatnonzero(keep)
    if len(idx):
        d = np.diff(np.concatenate(([start], seq[idx]))) % SEQ_MOD
        step[idx] = d
        kind[idx] = np.where(d == 1, SeqKind.NEXT, np.where(d <= RESTART_JUMP, SeqKind.GAP, SeqKind.RESTART))
        last: int | None = int(seq[idx[-1]])
    else:
        last = prev
    return SeqSteps(kind, step, last)
