"""The simulator: an activity schedule of segments, each turned into received packets.

A recording is a sequence of segments. With a single activity every segment is that activity
(30 s each, so an endless stream has bounded memory); with "mixed" the segments cycle through
shuffled rounds of empty / walking / sitting / lying, 20-60 s each. Every random draw comes
from a generator seeded by (seed, day, segment index, purpose), so the same arguments give the
same bytes, and `simulate(seconds)` gives exactly the packets of `stream(seconds=seconds)`
(a recording of N seconds cuts its last segment short, so it is not the prefix of a longer one).

Days: day 1 is the reference; day 2 is the same room (furniture nudged by millimetres, chairs
put back slightly differently), another execution (different paths, person height +-4 cm,
different habitual offsets) and +0.7 dB of gain; day 3 has the furniture and chairs moved and
-0.5 dB of gain (see `room.py`).

Links: `link` N puts the receiver at `room.RX_POSITIONS[N]`. The person, the schedule and the
TX's send times do not depend on the link, so every link of one seed sees the same person at
the same sequence numbers; the receiver's own draws (loss, clock offset, AGC, RSSI and noise)
do, and link 0 is exactly the single-link simulator.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import numpy as np

from csi_edge.tools.sim.channel import link_response, subcarrier_frequencies
from csi_edge.tools.sim.person import Person, motion_for
from csi_edge.tools.sim.radio import (
    RadioConfig,
    RadioState,
    Received,
    csi_bytes,
    csi_headers,
    gains,
    packet_timing,
    received_power_dbm,
)
from csi_edge.tools.sim.recording import ACTIVITIES, TRUTH_DTYPE, SimRecording, activity_code
from csi_edge.tools.sim.room import room_for_day, with_receiver

SINGLE_SEGMENT_S = 30.0
MIXED_SEGMENT_S = (20.0, 60.0)
DAY_GAIN_DB = {1: 0.0, 2: 0.7, 3: -0.5}
DAY_FFT_BASE = {1: 8, 2: 9, 3: 8}
_PURPOSE = {"schedule": 1, "person": 2, "motion": 3, "radio": 4, "noise": 5}
_RECEIVER_PURPOSES = ("radio", "noise")  # draws that differ between the links of one room


@dataclass(frozen=True)
class SimConfig:
    day: int = 1
    activity: str = "mixed"
    seed: int = 0
    start_seq: int = 0
    room_seed: int = 0
    chair: int | None = None  # the person starts at this chair (0 or 1; sitting sits on it); None: anywhere
    segment_s: tuple[float, float] = MIXED_SEGMENT_S  # "mixed": segment length range, seconds
    radio: RadioConfig = field(default_factory=RadioConfig)
    link: int = 0  # receiver position (room.RX_POSITIONS)

    def __post_init__(self) -> None:
        if self.day not in (1, 2, 3):
            raise ValueError(f"day must be 1, 2 or 3 (got {self.day})")
        if self.activity != "mixed":
            activity_code(self.activity)
        if not 1.0 <= self.segment_s[0] <= self.segment_s[1]:
            raise ValueError(f"segment_s must be (lo, hi) with 1 <= lo <= hi seconds (got {self.segment_s})")
        if self.chair not in (None, 0, 1):
            raise ValueError(f"chair must be 0, 1 or None (got {self.chair})")
        if self.radio.secondary not in ("none", "below"):
            raise ValueError(f"secondary must be 'below' or 'none' (got {self.radio.secondary!r})")


def _rng(cfg: SimConfig, segment: int, purpose: str, receiver: bool = False) -> np.random.Generator:
    """The generator of one purpose; `receiver`: this link's own draws (link 0: the shared ones)."""
    key = [cfg.seed, cfg.day, segment, _PURPOSE[purpose], cfg.room_seed]
    if receiver and cfg.link:
        assert purpose in _RECEIVER_PURPOSES
        key.append(cfg.link)
    return np.random.default_rng(key)


def schedule(cfg: SimConfig) -> Iterator[tuple[str, int]]:
    """Endless (activity, packets) segments of a configuration."""
    rate = cfg.radio.rate_hz
    if cfg.activity != "mixed":
        while True:
            yield cfg.activity, int(round(SINGLE_SEGMENT_S * rate))
    rng = _rng(cfg, 0, "schedule")
    while True:
        for activity in rng.permutation(ACTIVITIES):
            yield str(activity), int(round(rng.uniform(*cfg.segment_s) * rate))


def _person(cfg: SimConfig) -> Person:
    rng = _rng(cfg, 0, "person")
    return Person(height=1.75 + rng.normal(0, 0.04), speed=rng.uniform(0.85, 1.15), offset=tuple(rng.normal(0, 0.05, 2)))


class Simulator:
    """Generates consecutive segments of one configuration; keeps the radio state between them."""

    def __init__(self, cfg: SimConfig, limit_packets: int | None = None) -> None:
        self.cfg = cfg
        self.limit = limit_packets  # total TX packets; the last segment is cut short to fit
        self.radio_cfg = replace(cfg.radio, day_gain_db=DAY_GAIN_DB[cfg.day], fft_base=DAY_FFT_BASE[cfg.day])
        self.room = with_receiver(room_for_day(cfg.day, cfg.room_seed), cfg.link)
        self.person = _person(cfg)
        self.freqs = subcarrier_frequencies(cfg.radio.channel)
        self.state = RadioState(fft_gain=self.radio_cfg.fft_base, boot_offset_s=2.5 + _rng(cfg, 0, "radio", receiver=True).uniform(0, 2))
        self._last_xy: np.ndarray | None = None if cfg.chair is None else self.room.chairs[cfg.chair].copy()
        self._segments = schedule(cfg)
        self._index = 0

    def next_segment(self) -> SimRecording:
        activity, n = next(self._segments)
        if self.limit is not None:
            n = min(n, self.limit - self.state.next_packet)
        self._index += 1
        seg = self._index
        cfg, rcfg, state = self.cfg, self.radio_cfg, self.state
        first = state.next_packet
        radio_rng = _rng(cfg, seg, "radio")  # the TX's send times and channel access
        rx_rng = _rng(cfg, seg, "radio", receiver=True) if cfg.link else radio_rng
        tx_s, rx_s, lost = packet_timing(n, radio_rng, rcfg, state, rx_rng)
        motion = motion_for(activity, tx_s, _rng(cfg, seg, "motion"), self.person, self.room, self._last_xy)
        if activity != "empty":  # the next segment starts where the person is
            self._last_xy = motion.truth[-1, :2].copy()
        h = link_response(self.room, motion, self.freqs, cfg.room_seed)
        power = received_power_dbm(h, rcfg)
        agc, fft, residual, lock = gains(power, rx_rng, rcfg, state)
        keep = ~lost
        seq = (cfg.start_seq + first + np.arange(n))[keep]
        received = Received(seq, rx_s[keep], tx_s[keep], power[keep], agc[keep], fft[keep], lock[keep])
        header = csi_headers(received, rx_rng, rcfg)
        csi = csi_bytes(h[keep], power[keep], residual[keep], _rng(cfg, seg, "noise", receiver=True), rcfg)
        truth = np.zeros(int(keep.sum()), dtype=TRUTH_DTYPE)
        truth["seq"] = seq
        truth["timestamp_us"] = header["timestamp_us"].astype(np.int64)
        truth["activity"] = activity_code(activity)
        for k, axis in enumerate("xyz"):
            truth[axis] = motion.truth[keep, k]
        state.next_packet = first + n
        return SimRecording(header, csi, truth, sent=n)

    def packets(self) -> Iterator[SimRecording]:
        """Consecutive segments, until `limit_packets` have been sent (endless without one)."""
        while self.limit is None or self.state.next_packet < self.limit:
            yield self.next_segment()


def simulate(seconds: float, day: int = 1, activity: str = "mixed", seed: int = 0, start_seq: int = 0,
             chair: int | None = None, segment_s: tuple[float, float] = MIXED_SEGMENT_S, link: int = 0, **radio) -> SimRecording:  # fmt: skip
    """Simulate `seconds` of the 100 Hz link; see the package docstring for the options."""
    cfg = SimConfig(day=day, activity=activity, seed=seed, start_seq=start_seq, chair=chair, segment_s=tuple(segment_s),
                    radio=RadioConfig(**radio), link=link)  # fmt: skip
    sent = int(round(seconds * cfg.radio.rate_hz))
    if sent <= 0:
        raise ValueError(f"seconds must be > 0 (got {seconds})")
    return SimRecording.concat(list(Simulator(cfg, limit_packets=sent).packets()))
