"""Simulated boards: a physically motivated ESP32-S3 CSI link with a person in the room.

Stable API (other parts of csi-edge depend on it):

`simulate(seconds, day=1, activity="mixed", seed=0, start_seq=0, chair=None, segment_s=(20, 60), **radio)`
    `seconds` of the 100 Hz link. `day` 1, 2 or 3 (reference / same room, other execution /
    furniture moved); `activity` one of "empty", "walking", "sitting", "lying" or "mixed"
    (segments of `segment_s` seconds cycling through all four). `chair` 0 or 1: the person starts at that
    chair of the day (sitting sits on it), None: anywhere. `radio` options (`RadioConfig`): channel (11),
    secondary ("below": HT40 as in the 3DO setup, or "none"), first_word_invalid (False),
    gain_lock (False), loss (True), rate_hz (100), tx_power_dbm, antenna_gain_dbi,
    noise_floor_dbm, evm_db. Same arguments -> byte-identical output.

`SimRecording` (only the packets the RX received; lost ones are absent)
    `.header` (N,) `csi_edge.protocol.CSI_HEADER_DTYPE`; `.csi` int8 (N, 128) L-LTF bytes in
    the ESP32 layout (imaginary then real); `.truth` (N,) `TRUTH_DTYPE` (seq, timestamp_us,
    activity code, x, y, z); `.labels`, `.positions`, `.sent` (packets transmitted);
    `.to_v1()` protocol v1 bytes, `.to_esp_csi(header_line)` espressif esp-csi text,
    `.to_frames()` a `FrameBatch`, `.truth_csv()` the `seq,activity,x,y,z` CSV.

`stream(day, activity, seed, fmt="v1", realtime=True, seconds=None, start_seq=0, segment_s=(20, 60), **radio)`
    Iterator of (bytes, truth rows) chunks of ~100 ms, endless unless `seconds` is given;
    v1 starts with a HELLO frame and sends a STATS frame every second; esp-csi starts with
    the column header line. Same packets as `simulate()` with the same arguments.

`benchmark_days(days=(1, 2, 3), activities=ACTIVITIES, sequences=3, seconds=60, seed=0, **radio)`
    The 3-day benchmark: a list of `BenchmarkSequence` (day, activity, index, seed, frames:
    FrameBatch, labels, positions, truth), one per (day, activity, sequence).

`ACTIVITIES` = ("empty", "walking", "sitting", "lying"): activity code = index.

Coordinates and the scene are described in `room.py`, the body in `person.py`, the channel
in `channel.py`, the radio (timing, loss, AGC, noise, bytes) in `radio.py`; the comparison
with real recordings is docs/simulator.md.
"""

from __future__ import annotations

from csi_edge.tools.sim.benchmark import BenchmarkSequence, benchmark_days
from csi_edge.tools.sim.radio import RadioConfig
from csi_edge.tools.sim.recording import ACTIVITIES, TRUTH_DTYPE, SimRecording
from csi_edge.tools.sim.simulator import simulate
from csi_edge.tools.sim.streaming import FORMATS, stream

__all__ = [
    "ACTIVITIES",
    "FORMATS",
    "TRUTH_DTYPE",
    "BenchmarkSequence",
    "RadioConfig",
    "SimRecording",
    "benchmark_days",
    "simulate",
    "stream",
]
