"""Wire protocol v1: constants, payload layouts and the Python encoder.

The byte layout is documented in docs/wire-protocol.md (the contract with the firmware).
The decoder lives in `csi_edge.decoder.binary`; this module holds what both directions share
plus the encoder used by the simulator and the tests.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import asdict, dataclass

import numpy as np

from csi_edge.frames import MAX_CSI_BYTES

SYNC = b"\xc5\xed"
VERSION = 1
ENVELOPE = struct.Struct("<2sBBH")  # sync, version, type, payload length
CRC = struct.Struct("<I")
HEADER_SIZE = ENVELOPE.size  # 6
OVERHEAD = HEADER_SIZE + CRC.size  # 10
MAX_PAYLOAD = 1024
MAX_FRAME = OVERHEAD + MAX_PAYLOAD

TYPE_CSI = 1
TYPE_STATS = 2
TYPE_HELLO = 3
TYPE_LOG = 4
TYPE_NAMES = {TYPE_CSI: "csi", TYPE_STATS: "stats", TYPE_HELLO: "hello", TYPE_LOG: "log"}

# CSI payload header (34 bytes) as a numpy dtype, so a batch of headers is one view.
CSI_HEADER_DTYPE = np.dtype(
    [
        ("seq", "<u4"),
        ("timestamp_us", "<u8"),
        ("tx_timestamp_us", "<u4"),
        ("rssi", "i1"),
        ("noise_floor", "i1"),
        ("rate", "u1"),
        ("sig_mode", "u1"),
        ("mcs", "u1"),
        ("bandwidth", "u1"),
        ("channel", "u1"),
        ("secondary_channel", "u1"),
        ("agc_gain", "u1"),
        ("fft_gain", "i1"),
        ("flags", "<u2"),
        ("sig_len", "<u2"),
        ("rx_state", "u1"),
        ("ant", "u1"),
        ("csi_len", "<u2"),
    ]
)
CSI_HEADER_SIZE = CSI_HEADER_DTYPE.itemsize  # 34
assert CSI_HEADER_SIZE == 34
_CSI_FIELDS = dict(CSI_HEADER_DTYPE.fields or {})
CSI_SEQ_OFFSET: int = _CSI_FIELDS["seq"][1]  # 0
CSI_LEN_OFFSET: int = _CSI_FIELDS["csi_len"][1]  # 32

# flags bits
FLAG_SMOOTHING = 1 << 0
FLAG_NOT_SOUNDING = 1 << 1
FLAG_AGGREGATION = 1 << 2
FLAG_STBC_SHIFT = 3  # 2 bits
FLAG_FEC_CODING = 1 << 5
FLAG_SGI = 1 << 6
FLAG_FIRST_WORD_INVALID = 1 << 7
FLAG_GAIN_LOCK_SHIFT = 8  # 2 bits

# STATS and HELLO: the firmware 1.0 layouts (also the minimum a reader accepts), then the
# fields firmware 1.1 appends (a 1.0 reader ignores them; docs/wire-protocol.md).
STATS_STRUCT = struct.Struct("<QIIIIIIHHBbBBIII")
STATS_EXT_STRUCT = struct.Struct("<II")  # duplicates, tx_skipped
HELLO_STRUCT = struct.Struct("<BBBB6s6sBBBBHBBIBBH32s")
HELLO_EXT_STRUCT = struct.Struct("<BBBB4si96s")  # status, csi_scale, csi_shift, reserved, country, error_code, error
assert STATS_STRUCT.size == 52 and HELLO_STRUCT.size == 64
assert STATS_STRUCT.size + STATS_EXT_STRUCT.size == 60 and HELLO_STRUCT.size + HELLO_EXT_STRUCT.size == 172
# The shortest payload of each known type (the firmware 1.0 layouts); a longer one is a compatible
# extension (what the reader does not know is ignored), a shorter one is rejected (`payload`).
MIN_PAYLOAD = {TYPE_CSI: CSI_HEADER_SIZE, TYPE_STATS: STATS_STRUCT.size, TYPE_HELLO: HELLO_STRUCT.size, TYPE_LOG: 1}

# HELLO status (firmware 1.1): is the board doing its job, and if not, why (`error`)
STATUS_RUNNING = 0  # started: streaming (RX) or sending (TX)
STATUS_SETTINGS = 1  # the settings in NVS were refused: not starting until reflashed
STATUS_RETRYING = 2  # a start step failed at run time: retrying with backoff
STATUS_NAMES = {STATUS_RUNNING: "running", STATUS_SETTINGS: "settings refused", STATUS_RETRYING: "start failed, retrying"}
CSI_SCALE_NAMES = {0: "auto", 1: "manual"}


@dataclass(frozen=True)
class Stats:
    """A STATS frame (cumulative counters since boot)."""

    uptime_us: int
    captured: int
    sent: int
    dropped_queue: int
    dropped_write: int
    filtered: int
    seq_gaps: int
    queue_high_water: int
    queue_capacity: int
    agc_gain: int
    fft_gain: int
    gain_lock: int
    role: int
    tx_sent: int = 0
    tx_send_errors: int = 0
    tx_recoveries: int = 0
    # firmware 1.1 (None: a 1.0 board, which does not send them)
    duplicates: int | None = None  # RX: retried packets (a seq already streamed) dropped
    tx_skipped: int | None = None  # TX: send periods skipped (previous send pending, recovering)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Hello:
    """A HELLO frame: firmware version and the board's full configuration."""

    fw_major: int
    fw_minor: int
    fw_patch: int
    role: int  # 0 TX, 1 RX
    mac: str
    peer_mac: str
    channel: int
    secondary_channel: int
    bandwidth: int
    phy_rate: int
    send_rate_hz: int
    transport: int
    output_format: int
    uart_baud: int
    gain_lock: int
    ltf_mask: int
    gain_lock_packets: int
    build: str
    # firmware 1.1 (None: a 1.0 board, which does not send them)
    status: int | None = None  # STATUS_*
    csi_scale: int | None = None  # 0 automatic (per-report scaling by the driver), 1 manual
    csi_shift: int | None = None  # manual scaling: left shift 0..15
    country: str | None = None  # regulatory country code the radio runs under ("01", "DE", ...)
    error_code: int | None = None  # esp_err_t of the last failure, 0 none
    error: str | None = None  # one line naming the failure ("" none)

    @property
    def firmware_version(self) -> str:
        return f"{self.fw_major}.{self.fw_minor}.{self.fw_patch}"

    @property
    def extended(self) -> bool:
        """True when the board sent the firmware 1.1 fields."""
        return self.status is not None

    @property
    def problem(self) -> str | None:
        """'start failed, retrying: esp_wifi_set_channel: ESP_ERR_INVALID_ARG' when the board is
        not running, else None (also None for a 1.0 board, which cannot say)."""
        if self.status is None or self.status == STATUS_RUNNING:
            return None
        what = STATUS_NAMES.get(self.status, f"status {self.status}")
        return f"{what}: {self.error}" if self.error else what

    @property
    def csi_scaling(self) -> str | None:
        """'auto', 'manual:4', or None for a 1.0 board."""
        if self.csi_scale is None:
            return None
        return f"manual:{self.csi_shift}" if self.csi_scale == 1 else CSI_SCALE_NAMES.get(self.csi_scale, "?")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class LogRecord:
    level: int
    text: str


def _mac_bytes(mac: str) -> bytes:
    parts = mac.split(":")
    if len(parts) != 6:
        raise ValueError(f"bad MAC {mac!r}")
    return bytes(int(p, 16) for p in parts)


def _mac_str(raw: bytes) -> str:
    return ":".join(f"{b:02x}" for b in raw)


def frame(frame_type: int, payload: bytes) -> bytes:
    """Wrap a payload in the v1 envelope (sync, version, type, length, payload, CRC-32)."""
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    body = struct.pack("<BBH", VERSION, frame_type, len(payload)) + payload
    return SYNC + body + CRC.pack(zlib.crc32(body))


def csi_flags(
    *,
    smoothing: int = 0,
    not_sounding: int = 0,
    aggregation: int = 0,
    stbc: int = 0,
    fec_coding: int = 0,
    sgi: int = 0,
    first_word_invalid: int = 0,
    gain_lock: int = 0,
) -> int:
    return (
        (FLAG_SMOOTHING if smoothing else 0)
        | (FLAG_NOT_SOUNDING if not_sounding else 0)
        | (FLAG_AGGREGATION if aggregation else 0)
        | ((stbc & 3) << FLAG_STBC_SHIFT)
        | (FLAG_FEC_CODING if fec_coding else 0)
        | (FLAG_SGI if sgi else 0)
        | (FLAG_FIRST_WORD_INVALID if first_word_invalid else 0)
        | ((gain_lock & 3) << FLAG_GAIN_LOCK_SHIFT)
    )


def encode_csi_batch(header: np.ndarray, csi: np.ndarray) -> bytes:
    """Encode N CSI frames: `header` is (N,) CSI_HEADER_DTYPE, `csi` int8 (N, L).

    `header["csi_len"]` says how many bytes of each row to send (<= L). Vectorised: this is
    what the simulator uses to produce 100,000-frame files quickly.
    """
    header = np.asarray(header, dtype=CSI_HEADER_DTYPE)
    csi = np.asarray(csi, dtype=np.int8)
    if len(header) != len(csi):
        raise ValueError("header and csi row counts differ")
    if np.any(header["csi_len"] > min(csi.shape[1] if csi.ndim == 2 else 0, MAX_CSI_BYTES)):
        raise ValueError("csi_len exceeds the CSI bytes given (or 612)")
    out = bytearray()
    head_bytes = header.tobytes()
    for i in range(len(header)):
        n = int(header["csi_len"][i])
        payload = head_bytes[i * CSI_HEADER_SIZE : (i + 1) * CSI_HEADER_SIZE] + csi[i, :n].tobytes()
        out += frame(TYPE_CSI, payload)
    return bytes(out)


def encode_csi(csi: bytes | np.ndarray, **fields) -> bytes:
    """Encode one CSI frame; `fields` are CSI_HEADER_DTYPE names (flags via `csi_flags`)."""
    raw = np.asarray(np.frombuffer(bytes(csi), dtype=np.int8) if isinstance(csi, (bytes, bytearray)) else csi, dtype=np.int8)
    header = np.zeros(1, dtype=CSI_HEADER_DTYPE)
    for name, value in fields.items():
        header[name] = value
    header["csi_len"] = raw.size
    return encode_csi_batch(header, raw.reshape(1, -1))


def _all_or_none(values: tuple, what: str) -> bool:
    """True if every value is set, False if none is; ValueError for a mix."""
    given = [v is not None for v in values]
    if any(given) and not all(given):
        raise ValueError(f"{what}: the firmware 1.1 fields go together (all set, or all None for a 1.0 frame)")
    return all(given)


def encode_stats(stats: Stats) -> bytes:
    """The 60-byte STATS of firmware 1.1, or the 52-byte 1.0 one when its new fields are None."""
    s = stats
    payload = STATS_STRUCT.pack(
        s.uptime_us, s.captured, s.sent, s.dropped_queue, s.dropped_write, s.filtered,
        s.seq_gaps, s.queue_high_water, s.queue_capacity, s.agc_gain, s.fft_gain,
        s.gain_lock, s.role, s.tx_sent, s.tx_send_errors, s.tx_recoveries,
    )  # fmt: skip
    if _all_or_none((s.duplicates, s.tx_skipped), "Stats"):
        payload += STATS_EXT_STRUCT.pack(s.duplicates, s.tx_skipped)
    return frame(TYPE_STATS, payload)


def encode_hello(hello: Hello) -> bytes:
    """The 172-byte HELLO of firmware 1.1, or the 64-byte 1.0 one when its new fields are None."""
    h = hello
    payload = HELLO_STRUCT.pack(
        h.fw_major, h.fw_minor, h.fw_patch, h.role, _mac_bytes(h.mac), _mac_bytes(h.peer_mac),
        h.channel, h.secondary_channel, h.bandwidth, h.phy_rate, h.send_rate_hz, h.transport,
        h.output_format, h.uart_baud, h.gain_lock, h.ltf_mask, h.gain_lock_packets,
        h.build.encode("ascii")[:32],
    )  # fmt: skip
    ext = (h.status, h.csi_scale, h.csi_shift, h.country, h.error_code, h.error)
    if _all_or_none(ext, "Hello"):
        payload += HELLO_EXT_STRUCT.pack(
            h.status, h.csi_scale, h.csi_shift, 0, str(h.country).encode("ascii")[:4], h.error_code,
            str(h.error).encode("utf-8")[:96],
        )  # fmt: skip
    return frame(TYPE_HELLO, payload)


def encode_log(level: int, text: str) -> bytes:
    return frame(TYPE_LOG, bytes([level]) + text.encode("utf-8"))


def _text(raw: bytes, encoding: str = "ascii") -> str:
    return raw.split(b"\0", 1)[0].decode(encoding, "replace")


def parse_stats(payload: bytes) -> Stats:
    """A STATS payload of >= 52 bytes; the 1.1 fields are read when present (None otherwise)."""
    v = list(STATS_STRUCT.unpack_from(payload))
    if len(payload) >= STATS_STRUCT.size + STATS_EXT_STRUCT.size:
        v += STATS_EXT_STRUCT.unpack_from(payload, STATS_STRUCT.size)
    return Stats(*v)


def parse_hello(payload: bytes) -> Hello:
    """A HELLO payload of >= 64 bytes; the 1.1 fields are read when present (None otherwise)."""
    v = list(HELLO_STRUCT.unpack_from(payload))
    v[4], v[5] = _mac_str(v[4]), _mac_str(v[5])
    v[17] = v[17].rstrip(b"\0").decode("ascii", "replace")
    if len(payload) >= HELLO_STRUCT.size + HELLO_EXT_STRUCT.size:
        status, scale, shift, _reserved, country, code, error = HELLO_EXT_STRUCT.unpack_from(payload, HELLO_STRUCT.size)
        v += [status, scale, shift, _text(country), code, _text(error, "utf-8")]
    return Hello(*v)


def parse_log(payload: bytes) -> LogRecord:
    return LogRecord(payload[0], bytes(payload[1:]).decode("utf-8", "replace"))
