"""The one in-memory representation of CSI packets: a `FrameBatch`.

Every decoder (protocol v1 binary, esp-csi text, ESP32-CSI-Tool CSV, 3DO import) produces
batches of this shape, and everything downstream (link monitor, layout, features, capture,
training) consumes it. A batch is two numpy arrays, never one Python object per packet:

- `meta`: structured array (N,) of `META_DTYPE`, one record per packet;
- `csi`:  int8 array (N, L), the raw CSI bytes as the radio reported them (imaginary, real,
  imaginary, real, ...), zero-padded on the right to the longest row of the batch.
  `meta["csi_len"]` is the number of bytes actually present in each row.

Unknown values are -1 (signed fields) so that text formats that lack a field stay honest.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FFT_GAIN_UNKNOWN = -32768  # fft_gain is signed, so -1 is a real value
MAX_CSI_BYTES = 612  # L-LTF (128) + HT-LTF 40 MHz (256) + STBC-HT-LTF (228), the ESP32 maximum

# Source format of a frame (meta["format"]).
FORMAT_V1 = 1
FORMAT_ESP_CSI = 2
FORMAT_CSI_TOOL = 3
FORMAT_3DO = 4
FORMAT_NAMES = {FORMAT_V1: "v1", FORMAT_ESP_CSI: "esp-csi", FORMAT_CSI_TOOL: "csi-tool", FORMAT_3DO: "3do"}

# Secondary channel codes (wifi_second_chan_t).
SECONDARY_NONE = 0
SECONDARY_ABOVE = 1
SECONDARY_BELOW = 2

# Gain-lock state (meta["gain_lock"]): also the STATS frame's lock state.
GAIN_LOCK_OFF = 0
GAIN_LOCK_COLLECTING = 1
GAIN_LOCK_LOCKED = 2
GAIN_LOCK_SKIPPED = 3  # AGC too low to lock safely

META_DTYPE = np.dtype(
    [
        ("seq", np.int64),  # TX sequence number (u32 on the wire); -1 unknown
        ("timestamp_us", np.int64),  # RX board clock, microseconds (unwrapped where possible)
        ("tx_timestamp_us", np.int64),  # TX board clock (low 32 bits), -1 unknown
        ("host_time_s", np.float64),  # host wall clock when known (capture), NaN otherwise
        ("mac", np.uint64),  # transmitter MAC as a 48-bit integer, 0 unknown
        ("rssi", np.int16),  # dBm
        ("noise_floor", np.int16),  # dBm
        ("rate", np.int16),
        ("sig_mode", np.int8),  # 0 non-HT (11b/g), 1 HT (11n), 3 VHT
        ("mcs", np.int16),
        ("bandwidth", np.int8),  # cwb: 0 = 20 MHz, 1 = 40 MHz
        ("smoothing", np.int8),
        ("not_sounding", np.int8),
        ("aggregation", np.int8),
        ("stbc", np.int8),
        ("fec_coding", np.int8),
        ("sgi", np.int8),
        ("ampdu_cnt", np.int16),
        ("channel", np.int16),
        ("secondary_channel", np.int8),  # 0 none, 1 above, 2 below
        ("ant", np.int8),
        ("sig_len", np.int32),
        ("rx_state", np.int16),
        ("agc_gain", np.int16),  # -1 unknown
        ("fft_gain", np.int16),  # int8 on the radio; FFT_GAIN_UNKNOWN when absent
        ("gain_lock", np.int8),  # GAIN_LOCK_*; -1 unknown
        ("first_word_invalid", np.int8),  # 1: bytes 0..3 of csi are invalid
        ("csi_len", np.int16),  # raw CSI bytes present in this row
        ("format", np.uint8),  # FORMAT_*
    ]
)
META_FIELDS: tuple[str, ...] = META_DTYPE.names or ()  # the field names, in order
_META_FIELDS = dict(META_DTYPE.fields or {})
META_OFFSETS: dict[str, int] = {name: int(spec[1]) for name, spec in _META_FIELDS.items()}  # byte offset in a record


def empty_meta(n: int) -> np.ndarray:
    """A meta array of n records with every field 'unknown' (-1, NaN or 0)."""
    meta = np.zeros(n, dtype=META_DTYPE)
    for name, (dtype, *_) in _META_FIELDS.items():
        kind = dtype.kind
        if kind == "i":
            meta[name] = -1
        elif kind == "f":
            meta[name] = np.nan
    meta["fft_gain"] = FFT_GAIN_UNKNOWN
    meta["first_word_invalid"] = 0
    meta["csi_len"] = 0
    return meta


@dataclass(frozen=True)
class FrameBatch:
    """N CSI packets: per-packet metadata and the raw CSI bytes (see module docstring)."""

    meta: np.ndarray
    csi: np.ndarray

    def __post_init__(self) -> None:
        if self.meta.dtype != META_DTYPE:
            raise TypeError("FrameBatch.meta must have META_DTYPE")
        if self.csi.dtype != np.int8 or self.csi.ndim != 2 or len(self.csi) != len(self.meta):
            raise TypeError("FrameBatch.csi must be int8 (N, L) with N = len(meta)")

    def __len__(self) -> int:
        return len(self.meta)

    @classmethod
    def empty(cls) -> FrameBatch:
        return cls(np.zeros(0, dtype=META_DTYPE), np.zeros((0, 0), dtype=np.int8))

    def __getitem__(self, index) -> FrameBatch:
        """Select rows (slice, boolean mask or index array); always returns a batch."""
        if isinstance(index, (int, np.integer)):
            index = slice(int(index), int(index) + 1 or None)
        return FrameBatch(self.meta[index], self.csi[index])

    @staticmethod
    def concat(batches: list[FrameBatch]) -> FrameBatch:
        """Concatenate batches, padding CSI rows with zeros to the longest."""
        batches = [b for b in batches if len(b)]
        if not batches:
            return FrameBatch.empty()
        if len(batches) == 1:
            return batches[0]
        width = max(b.csi.shape[1] for b in batches)
        csi = np.zeros((sum(len(b) for b in batches), width), dtype=np.int8)
        row = 0
        for b in batches:
            csi[row : row + len(b), : b.csi.shape[1]] = b.csi
            row += len(b)
        return FrameBatch(np.concatenate([b.meta for b in batches]), csi)


def mac_to_int(mac: str) -> int:
    """'aa:bb:cc:dd:ee:ff' -> 48-bit integer (0 for an unparsable MAC)."""
    try:
        parts = mac.strip().replace("-", ":").split(":")
        if len(parts) != 6:
            return 0
        return int("".join(p.zfill(2) for p in parts), 16)
    except ValueError:
        return 0
