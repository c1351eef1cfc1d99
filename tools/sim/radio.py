"""The simulated ESP32-S3 radios: timing, loss, power, AGC/FFT gain, noise, int8 CSI bytes.

Timing (per packet n, seconds): the TX task sends at n / rate (TX crystal +8 ppm, 0.4 ms task
scheduling jitter); the packet leaves after a CSMA channel-access delay (exponential, mean
1.6 ms; 3 % of packets need retries adding 2-8 ms); the RX stamps it with its own clock
(-5 ppm, boot offset). Arrivals stay in order, at least one airtime (0.2 ms) apart. This gives
the real boards' packet-interval spread (median 10 ms, std ~2.6 ms; real 2.9-3.3 ms, see
docs/simulator.md).

Loss: independent losses (0.4 %) plus bursts (interference: a burst starts with probability
0.15 % per packet and lasts a geometric 1..~8 packets): ~0.8 % in total.

Power and gain: received power P = TX power + both antenna gains + 20 log10 rms|H| (dBm); RSSI
is P with 0.5 dB noise, rounded. The AGC picks an integer gain (1 dB steps) to bring the packet
to a fixed level: agc_gain = round(AGC_REF_DB - P + drift + dither), where `drift` is a slow
Ornstein-Uhlenbeck wander (0.4 dB, 40 s) and `dither` the AGC's per-packet decision noise
(0.6 dB). The CSI scale is therefore |H| normalised to the target plus the residual
(agc_gain - (AGC_REF_DB - P)) dB. The FFT gain (reported as fft_gain, 0.5 dB units) steps by
+-1..2 now and then (about once a minute) and is not compensated by the AGC: the occasional level
steps of real recordings. With gain lock the AGC and FFT gains are frozen at the median of the
first `GAIN_LOCK_PACKETS` packets, so the CSI scale then follows the received power.

Board: the RF/baseband chain's fixed frequency response (`board_response_db`) shapes H.

Noise: complex Gaussian per subcarrier at the thermal SNR (P - noise floor) plus the receiver's
implementation floor (EVM -27 dB: channel-estimation, phase noise, I/Q imbalance), then a
random common phase (CFO/PLL) and a random timing-offset phase slope per packet, then int8
rounding with saturation.

Bytes: the 52 L-LTF subcarriers go to the positions of `csi_edge.layout.LAYOUTS[secondary]`,
imaginary byte first, then real; every other position is zero (as on the radio). With
`first_word_invalid` bytes 0..3 carry the junk word real ESP32s put there (84, -64, 4, 0).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from csi_edge import protocol as p
from csi_edge.layout import LAYOUTS, LLTF_BYTES, SUBCARRIER_INDEX

AGC_REF_DB = -5.0  # agc_gain = AGC_REF_DB - P(dBm): ~35 at -40 dBm
TARGET_RMS = 15.0  # rms |CSI| after the AGC, int8 units (real S3 L-LTF rows: ~10-20)
FFT_STEP_DB = 0.5
FFT_BASE = 8
GAIN_LOCK_PACKETS = 100
JUNK_FIRST_WORD = np.array([84, -64, 4, 0], dtype=np.int8)
SECONDARY_CODES = {"none": 0, "above": 1, "below": 2}


@dataclass(frozen=True)
class RadioConfig:
    """Board and link settings (units in the names)."""

    channel: int = 11
    secondary: str = "below"  # "below" (HT40, the 3DO setup) or "none" (HT20)
    first_word_invalid: bool = False
    gain_lock: bool = False
    rate_hz: float = 100.0
    tx_power_dbm: float = 14.0
    antenna_gain_dbi: float = 6.0
    noise_floor_dbm: float = -95.0
    evm_db: float = -27.0
    loss: bool = True
    day_gain_db: float = 0.0  # per-day TX/RX gain difference (set by the simulator)
    fft_base: int = FFT_BASE


@dataclass
class RadioState:
    """What carries over from one segment to the next (so a stream is continuous)."""

    next_packet: int = 0  # TX packet index of the next segment's first packet
    last_arrival_s: float = -1.0
    drift_db: float = 0.0
    fft_gain: int = FFT_BASE
    lock_agc: list = field(default_factory=list)
    locked: tuple[int, int] | None = None
    boot_offset_s: float = 3.0


def packet_timing(n: int, rng: np.random.Generator, cfg: RadioConfig, state: RadioState,
                  rx_rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """TX times (s), RX times (s, RX clock) and the lost mask for the next n packets.

    The send times and channel access are the TX's (`rng`); which packets this receiver loses
    is drawn from `rx_rng` (default `rng`), so several receivers of one TX share the timing.
    """
    k = state.next_packet + np.arange(n)
    tx = k / cfg.rate_hz * (1 + 8e-6) + rng.normal(0, 0.4e-3, n)
    delay = rng.exponential(1.6e-3, n) + (rng.random(n) < 0.03) * rng.uniform(2e-3, 8e-3, n)
    # in order and at least one airtime (0.2 ms) apart: a'_k = max_j<=k (a_j + (k - j) g)
    gap = 0.2e-3
    arrival = np.maximum(tx + delay, state.last_arrival_s + gap * (1 + np.arange(n)))
    steps = gap * np.arange(n)
    arrival = np.maximum.accumulate(arrival - steps) + steps
    rng = rx_rng if rx_rng is not None else rng
    lost = rng.random(n) < 0.004
    starts = np.flatnonzero(rng.random(n) < 0.0015)
    for s, length in zip(starts, rng.geometric(0.3, len(starts)), strict=True):
        lost[s : s + length] = True
    if not cfg.loss:
        lost[:] = False
    state.last_arrival_s = float(arrival[-1]) if n else state.last_arrival_s
    rx = arrival * (1 - 5e-6) + state.boot_offset_s
    return tx, rx, lost


def _ou(rng: np.random.Generator, n: int, start: float, tau_packets: float, std: float) -> np.ndarray:
    from scipy.signal import lfilter  # lazy: scipy.signal takes ~1 s to import

    a = np.exp(-1.0 / tau_packets)
    w = rng.normal(0.0, std * np.sqrt(1 - a * a), n)
    out, _ = lfilter([1.0], [1.0, -a], w, zi=[a * start])
    return out


def gains(power_dbm: np.ndarray, rng: np.random.Generator, cfg: RadioConfig, state: RadioState) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per packet: agc_gain, fft_gain, CSI scale residual (dB) and the gain-lock state."""
    n = len(power_dbm)
    drift = _ou(rng, n, state.drift_db, 40.0 * cfg.rate_hz, 0.4)
    state.drift_db = float(drift[-1]) if n else state.drift_db
    agc = np.round(AGC_REF_DB - power_dbm + drift + rng.normal(0, 0.6, n))
    steps = np.zeros(n)
    events = np.flatnonzero(rng.random(n) < 1.0 / (60.0 * cfg.rate_hz))
    steps[events] = rng.choice([-2, -1, 1, 2], len(events))
    fft = np.clip(state.fft_gain + np.cumsum(steps), cfg.fft_base - 4, cfg.fft_base + 4)
    state.fft_gain = int(fft[-1]) if n else state.fft_gain
    lock = np.zeros(n, dtype=np.int64)
    if cfg.gain_lock:
        agc, fft, lock = _apply_lock(agc, fft, state)
    residual = agc - (AGC_REF_DB - power_dbm) + (fft - cfg.fft_base) * FFT_STEP_DB
    return agc.astype(np.int64), fft.astype(np.int64), residual, lock


def _apply_lock(agc: np.ndarray, fft: np.ndarray, state: RadioState) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lock = np.full(len(agc), 2)
    i = 0
    if state.locked is None:
        need = GAIN_LOCK_PACKETS - len(state.lock_agc)
        i = min(need, len(agc))
        state.lock_agc.extend(zip(agc[:i].tolist(), fft[:i].tolist(), strict=True))
        lock[:i] = 1
        if len(state.lock_agc) >= GAIN_LOCK_PACKETS:
            values = np.array(state.lock_agc)
            state.locked = (int(np.median(values[:, 0])), int(np.median(values[:, 1])))
    if state.locked is not None:
        agc, fft = agc.copy(), fft.copy()
        agc[i:], fft[i:] = state.locked
    return agc, fft, lock


def received_power_dbm(h: np.ndarray, cfg: RadioConfig) -> np.ndarray:
    rms = np.sqrt(np.mean(np.abs(h) ** 2, axis=1))
    return cfg.tx_power_dbm + cfg.day_gain_db + 2 * cfg.antenna_gain_dbi + 20 * np.log10(rms)


def board_response_db() -> np.ndarray:
    """(52,) gain in dB of the boards' RF/baseband chain per L-LTF subcarrier (same every day).

    Real ESP32 L-LTF profiles fall towards the band edges, more at the upper one (all four
    real recordings, see docs/simulator.md): a 4th-order roll-off of 2.5 dB at +-26, a tilt of
    -2 dB from -26 to +26 and a 0.5 dB ripple.
    """
    x = SUBCARRIER_INDEX / 26.0
    return -2.5 * x**4 - 1.0 * x + 0.5 * np.cos(2 * np.pi * SUBCARRIER_INDEX / 18.0 + 0.7)


def csi_bytes(h: np.ndarray, power_dbm: np.ndarray, residual_db: np.ndarray, rng: np.random.Generator, cfg: RadioConfig) -> np.ndarray:
    """int8 (N, 128) L-LTF bytes in the ESP32 layout from the link response H (N, 52)."""
    h = h * 10 ** (board_response_db() / 20)
    n, k = h.shape
    rms = np.sqrt(np.mean(np.abs(h) ** 2, axis=1, keepdims=True))
    snr_db = power_dbm - cfg.noise_floor_dbm
    noise_rel = np.sqrt(10 ** (-snr_db / 10) + 10 ** (cfg.evm_db / 10))[:, None]
    noise = (rng.normal(size=(n, k)) + 1j * rng.normal(size=(n, k))) * (noise_rel / np.sqrt(2))
    common = rng.uniform(-np.pi, np.pi, (n, 1))
    sto = rng.uniform(-0.5, 0.5, (n, 1))
    rot = np.exp(1j * (common - 2 * np.pi * sto * SUBCARRIER_INDEX / 64.0))
    scale = TARGET_RMS * 10 ** (residual_db[:, None] / 20) / rms
    v = (h + noise * rms) * scale * rot
    pos = LAYOUTS[cfg.secondary]
    out = np.zeros((n, LLTF_BYTES), dtype=np.int8)
    out[:, 2 * pos] = np.clip(np.rint(v.imag), -128, 127).astype(np.int8)
    out[:, 2 * pos + 1] = np.clip(np.rint(v.real), -128, 127).astype(np.int8)
    if cfg.first_word_invalid:
        out[:, :4] = JUNK_FIRST_WORD
    return out


@dataclass(frozen=True)
class Received:
    """Per received packet (N,): what the RX radio reports besides the CSI bytes."""

    seq: np.ndarray
    rx_s: np.ndarray  # RX clock, seconds since boot
    tx_s: np.ndarray  # TX clock, seconds since boot
    power_dbm: np.ndarray
    agc: np.ndarray
    fft: np.ndarray
    lock: np.ndarray


def csi_headers(r: Received, rng: np.random.Generator, cfg: RadioConfig) -> np.ndarray:
    """(N,) CSI_HEADER_DTYPE records of the received packets."""
    seq, rx_s, tx_s, power_dbm = r.seq, r.rx_s, r.tx_s, r.power_dbm
    agc, fft, lock = r.agc, r.fft, r.lock
    n = len(seq)
    header = np.zeros(n, dtype=p.CSI_HEADER_DTYPE)
    ht40 = cfg.secondary != "none"
    header["seq"] = seq
    header["timestamp_us"] = np.round(rx_s * 1e6).astype(np.uint64)
    header["tx_timestamp_us"] = (np.round(tx_s * 1e6).astype(np.int64) & 0xFFFFFFFF).astype(np.uint32)
    header["rssi"] = np.clip(np.round(power_dbm + rng.normal(0, 0.5, n)), -127, -1)
    header["noise_floor"] = np.clip(np.round(cfg.noise_floor_dbm + rng.normal(0, 0.4, n)), -127, -1)
    header["rate"] = 11
    header["sig_mode"] = 1
    header["mcs"] = 0
    header["bandwidth"] = 1 if ht40 else 0
    header["channel"] = cfg.channel
    header["secondary_channel"] = SECONDARY_CODES[cfg.secondary]
    header["agc_gain"] = np.clip(agc, 0, 255)
    header["fft_gain"] = np.clip(fft, -128, 127)
    base = p.csi_flags(smoothing=1, not_sounding=1, sgi=1 if ht40 else 0, first_word_invalid=int(cfg.first_word_invalid))
    header["flags"] = base | ((lock.astype(np.uint16) & 3) << p.FLAG_GAIN_LOCK_SHIFT)
    header["sig_len"] = 64
    header["csi_len"] = LLTF_BYTES
    return header
