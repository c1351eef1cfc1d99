"""The simulated RX board as a byte stream: what would come over its USB port.

`stream()` yields (bytes, truth rows) chunks of 100 ms of TX time (10 packets at 100 Hz, fewer
when packets were lost). Protocol v1: the first chunk starts with a HELLO frame (role RX and
the link configuration) and a STATS frame follows every second of TX time (cumulative counters,
as the firmware sends them). esp-csi text: the first chunk starts with the column header line
(the text format has no HELLO or STATS). The packets are exactly those of `simulate()` with
the same arguments (and `seconds`), so a file written from the stream and `simulate()` agree
byte for byte.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator

import numpy as np

from csi_edge import protocol as p
from csi_edge.tools.sim.radio import SECONDARY_CODES, RadioConfig
from csi_edge.tools.sim.recording import RX_MAC, TX_MAC, SimRecording
from csi_edge.tools.sim.simulator import MIXED_SEGMENT_S, SimConfig, Simulator

FORMATS = ("v1", "esp-csi")
CHUNK_PACKETS = 10
FIRMWARE_VERSION = (0, 1, 0)
QUEUE_CAPACITY = 64


def rx_mac(link: int) -> str:
    """The MAC of receiver `link` (link 0: RX_MAC)."""
    return RX_MAC if link == 0 else f"{RX_MAC[:-2]}{link + 1:02x}"


def hello_frame(cfg: RadioConfig, fmt: str, link: int = 0) -> bytes:
    hello = p.Hello(
        *FIRMWARE_VERSION, role=1, mac=rx_mac(link), peer_mac=TX_MAC, channel=cfg.channel,
        secondary_channel=SECONDARY_CODES[cfg.secondary], bandwidth=0 if cfg.secondary == "none" else 1,
        phy_rate=0, send_rate_hz=int(cfg.rate_hz), transport=0, output_format=FORMATS.index(fmt),
        uart_baud=921600, gain_lock=int(cfg.gain_lock), ltf_mask=1, gain_lock_packets=100, build="csi-edge-sim",
        status=p.STATUS_RUNNING, csi_scale=1, csi_shift=4, country="01", error_code=0, error="",  # firmware 1.1 fields
    )  # fmt: skip
    return p.encode_hello(hello)


class _Counters:
    """Cumulative STATS counters of the simulated RX."""

    def __init__(self) -> None:
        self.captured = 0
        self.sent_frames = 0
        self.dropped_write = 0
        self.tx_sent = 0  # packets the TX sent so far (the RX infers it from the sequence numbers)
        self.last: np.void | None = None  # header of the last received packet

    def stats_frame(self, rec: SimRecording) -> bytes:
        if len(rec):
            self.last = rec.header[-1]
        last = self.last
        flags = int(last["flags"]) if last is not None else 0
        stats = p.Stats(
            uptime_us=int(last["timestamp_us"]) if last is not None else 0, captured=self.captured,
            sent=self.sent_frames, dropped_queue=0, dropped_write=self.dropped_write, filtered=0,
            seq_gaps=self.tx_sent - self.captured, queue_high_water=3, queue_capacity=QUEUE_CAPACITY,
            agc_gain=int(last["agc_gain"]) if last is not None else 0,
            fft_gain=int(last["fft_gain"]) if last is not None else 0,
            gain_lock=(flags >> p.FLAG_GAIN_LOCK_SHIFT) & 3, role=1,
        )  # fmt: skip
        return p.encode_stats(stats)


def _prefetch(segments: Iterator[SimRecording]) -> Iterator[SimRecording]:
    """Generate the next segment in a background thread while the current one is streamed,
    so a real-time stream does not stall for the second or two a 30 s segment takes."""
    ready: queue.Queue = queue.Queue(maxsize=1)
    end = object()
    stop = threading.Event()  # set when the consumer closes the stream

    def put(item) -> None:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.2)
                return
            except queue.Full:
                continue

    def produce() -> None:
        try:
            for seg in segments:
                put(seg)
                if stop.is_set():
                    return
            put(end)
        except BaseException as exc:  # handed to the consumer
            put(exc)

    threading.Thread(target=produce, name="sim-prefetch", daemon=True).start()
    try:
        while True:
            item = ready.get()
            if item is end:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()


def _chunks(sim: Simulator, realtime: bool) -> Iterator[tuple[SimRecording, int, bool]]:
    """(received packets, TX packets sent so far, a second ended) per 100 ms of TX time."""
    rate = int(round(sim.cfg.radio.rate_hz))
    sent = 0
    for seg in _prefetch(sim.packets()) if realtime else sim.packets():
        offsets = seg.header["seq"].astype(np.int64) - (sim.cfg.start_seq + sent)
        for start in range(0, seg.sent, CHUNK_PACKETS):
            stop = min(seg.sent, start + CHUNK_PACKETS)
            lo, hi = np.searchsorted(offsets, [start, stop])
            total = sent + stop
            yield seg[lo:hi], total, (total // rate) > ((sent + start) // rate)
        sent += seg.sent


def stream(day: int = 1, activity: str = "mixed", seed: int = 0, fmt: str = "v1", realtime: bool = True,
           seconds: float | None = None, start_seq: int = 0, segment_s: tuple[float, float] = MIXED_SEGMENT_S,
           link: int = 0, **radio) -> Iterator[tuple[bytes, np.ndarray]]:  # fmt: skip
    """Endless (or `seconds` long) stream of (bytes, truth rows) chunks of ~100 ms.

    `realtime=True` paces the chunks by the wall clock (100 Hz); `False` yields as fast as the
    consumer takes them. `link` is the receiver position (`room.RX_POSITIONS`). `radio` takes
    `RadioConfig` fields (channel, secondary, ...).
    """
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)} (got {fmt!r})")
    cfg = SimConfig(day=day, activity=activity, seed=seed, start_seq=start_seq, segment_s=tuple(segment_s), radio=RadioConfig(**radio),
                    link=link)  # fmt: skip
    limit = None if seconds is None else int(round(seconds * cfg.radio.rate_hz))
    sim = Simulator(cfg, limit_packets=limit)
    counters = _Counters()
    prefix = hello_frame(cfg.radio, fmt, link) if fmt == "v1" else b""
    header_line = fmt == "esp-csi"
    t0 = time.monotonic()
    for rec, total, second in _chunks(sim, realtime):
        body = rec.to_v1() if fmt == "v1" else rec.to_esp_csi(header_line=header_line)
        header_line = False
        counters.captured += len(rec)
        counters.sent_frames += len(rec)
        counters.tx_sent = total
        if second and fmt == "v1":
            body += counters.stats_frame(rec)
        if realtime:
            delay = t0 + total / cfg.radio.rate_hz - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        yield prefix + body, rec.truth
        prefix = b""
