"""`SimRecording`: simulated packets with their ground truth, and their encodings.

A recording holds only the packets the RX actually received (lost ones are absent, exactly as
in a capture); `truth` is aligned row by row with `header`/`csi`.

Encodings:
- protocol v1 binary CSI frames (`to_v1`, via `csi_edge.protocol.encode_csi_batch`);
- espressif esp-csi `csi_recv` text (`to_esp_csi`): the ESP32/ESP32-S3 header line

      type,id,mac,rssi,rate,sig_mode,mcs,bandwidth,smoothing,not_sounding,aggregation,stbc,
      fec_coding,sgi,noise_floor,ampdu_cnt,channel,secondary_channel,local_timestamp,ant,
      sig_len,rx_state,len,first_word,data

  (one line) and one `CSI_DATA,...,len,first_word,"[b0,b1,...]"` row per packet. The `id`
  column carries the TX sequence number (esp-csi prints a receive counter there; carrying the
  TX sequence keeps losses visible) and `local_timestamp` the RX time in us modulo 2^32 (the
  radio's 32-bit rx_ctrl.timestamp);
- ground truth CSV (`truth_csv`): `seq,activity,x,y,z` (activity by name, metres, `nan` when
  the room is empty).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from csi_edge import protocol as p
from csi_edge.decoder.binary import header_to_meta
from csi_edge.frames import FrameBatch

ACTIVITIES = ("empty", "walking", "sitting", "lying")  # activity code = index
TRUTH_DTYPE = np.dtype(
    [
        ("seq", np.int64),  # TX sequence number (matches the frame's seq)
        ("timestamp_us", np.int64),  # RX time of the packet, us (matches the frame)
        ("activity", np.int8),  # index into ACTIVITIES
        ("x", np.float32),  # metres, room coordinates (see csi_edge.tools.sim.room); NaN if empty
        ("y", np.float32),
        ("z", np.float32),
    ]
)
TX_MAC = "1a:00:00:00:00:00"  # the esp-csi examples' sender MAC
RX_MAC = "1a:00:00:00:00:01"
ESP_CSI_HEADER = (
    "type,id,mac,rssi,rate,sig_mode,mcs,bandwidth,smoothing,not_sounding,aggregation,stbc,fec_coding,sgi,"
    "noise_floor,ampdu_cnt,channel,secondary_channel,local_timestamp,ant,sig_len,rx_state,len,first_word,data\n"
)
_INT8_TEXT = np.array([str(v) for v in range(-128, 128)], dtype=object)


@dataclass(frozen=True)
class SimRecording:
    header: np.ndarray  # (N,) csi_edge.protocol.CSI_HEADER_DTYPE
    csi: np.ndarray  # int8 (N, 128): L-LTF bytes in the ESP32 layout
    truth: np.ndarray  # (N,) TRUTH_DTYPE
    sent: int = 0  # packets the TX sent in this span, received or not

    def __len__(self) -> int:
        return len(self.header)

    @property
    def labels(self) -> np.ndarray:
        """Activity code per packet (index into ACTIVITIES)."""
        return self.truth["activity"]

    @property
    def positions(self) -> np.ndarray:
        """(N, 3) float32 ground-truth x, y, z in metres (NaN when empty)."""
        return np.column_stack([self.truth["x"], self.truth["y"], self.truth["z"]])

    def to_frames(self) -> FrameBatch:
        """The packets as a FrameBatch, exactly as the decoder would return them (v1)."""
        return FrameBatch(header_to_meta(self.header), np.ascontiguousarray(self.csi))

    def to_v1(self) -> bytes:
        return p.encode_csi_batch(self.header, self.csi)

    def to_esp_csi(self, header_line: bool = False) -> bytes:
        """esp-csi `CSI_DATA` rows (optionally preceded by the column header line)."""
        h = self.header
        flags = h["flags"].astype(np.int64)
        first_word = (flags & p.FLAG_FIRST_WORD_INVALID) != 0
        lines = [ESP_CSI_HEADER] if header_line else []
        text = _INT8_TEXT[self.csi.astype(np.int16) + 128]
        for i in range(len(h)):
            r = h[i]
            n = int(r["csi_len"])
            lines.append(
                f"CSI_DATA,{r['seq']},{TX_MAC},{r['rssi']},{r['rate']},{r['sig_mode']},{r['mcs']},{r['bandwidth']},"
                f"{flags[i] & 1},{(flags[i] >> 1) & 1},{(flags[i] >> 2) & 1},{(flags[i] >> 3) & 3},"
                f"{(flags[i] >> 5) & 1},{(flags[i] >> 6) & 1},{r['noise_floor']},0,{r['channel']},"
                f"{r['secondary_channel']},{int(r['timestamp_us']) & 0xFFFFFFFF},{r['ant']},{r['sig_len']},"
                f"{r['rx_state']},{n},{int(first_word[i])},\"[{','.join(text[i, :n])}]\"\n"
            )
        return "".join(lines).encode("ascii")

    def truth_csv(self, header_line: bool = True) -> str:
        return truth_csv(self.truth, header_line)

    def __getitem__(self, index) -> SimRecording:
        return SimRecording(self.header[index], self.csi[index], self.truth[index], 0)

    @staticmethod
    def concat(parts: list[SimRecording]) -> SimRecording:
        if not parts:
            return SimRecording(np.zeros(0, p.CSI_HEADER_DTYPE), np.zeros((0, 128), np.int8), np.zeros(0, TRUTH_DTYPE))
        return SimRecording(
            np.concatenate([r.header for r in parts]),
            np.concatenate([r.csi for r in parts]),
            np.concatenate([r.truth for r in parts]),
            sum(r.sent for r in parts),
        )


def truth_csv(truth: np.ndarray, header_line: bool = True) -> str:
    """TRUTH_DTYPE rows as CSV text: `seq,activity,x,y,z` (activity by name, metres, 3 decimals)."""
    rows = ["seq,activity,x,y,z\n"] if header_line else []
    names = np.array(ACTIVITIES, dtype=object)[truth["activity"]]
    for seq, name, x, y, z in zip(truth["seq"].tolist(), names, truth["x"].tolist(), truth["y"].tolist(), truth["z"].tolist(), strict=True):
        rows.append(f"{seq},{name},{x:.3f},{y:.3f},{z:.3f}\n")
    return "".join(rows)


def activity_code(name: str) -> int:
    try:
        return ACTIVITIES.index(name)
    except ValueError:
        raise ValueError(f"unknown activity {name!r} (known: {', '.join(ACTIVITIES)})") from None
