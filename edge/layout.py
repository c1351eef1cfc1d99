"""Subcarrier layout: raw ESP32 CSI bytes -> complex subcarriers in frequency order.

Facts (ESP-IDF "Wi-Fi Channel State Information" guide, and the real recordings in
shared/data/real; hand-computed cases in tests/unit/core/test_layout.py):

- Each subcarrier is two int8: imaginary first, then real.
- Blocks: L-LTF, then HT-LTF, then STBC-HT-LTF, each only when enabled and present.
- L-LTF, secondary channel none: stored as subcarriers 0..31 then -32..-1 (64 positions);
  valid positions 1..26 (+1..+26) and 38..63 (-26..-1).
- L-LTF, secondary channel below or above (40 MHz capable): 64 positions holding the primary
  20 MHz channel's subcarriers -32..31 (DC at position 32); valid positions 6..31 (-26..-1) and
  33..58 (+1..+26). ("below" stores 0..63 and "above" -64..-1 of the 40 MHz index, which is
  the same -32..31 of the 20 MHz primary; the real recordings of both show DC at 32.)
- `first_word_invalid`: bytes 0..3 (positions 0 and 1) are invalid. In the "none" layout
  position 1 is subcarrier +1: it is masked and filled from its neighbour +2.

The map is chosen from each row's secondary channel, never from its length.
"""

from __future__ import annotations

import numpy as np

from csi_edge.frames import SECONDARY_NONE, FrameBatch

N_LLTF = 52
LLTF_BYTES = 128
SUBCARRIER_INDEX = np.r_[np.arange(-26, 0), np.arange(1, 27)]  # frequency order of the 52
SUBCARRIER_SPACING_HZ = 312_500.0

# position (0..63) of each of the 52 subcarriers, in frequency order
POSITIONS_NONE = np.r_[np.arange(38, 64), np.arange(1, 27)]
POSITIONS_40 = np.r_[np.arange(6, 32), np.arange(33, 59)]
LAYOUTS = {"none": POSITIONS_NONE, "below": POSITIONS_40, "above": POSITIONS_40}


def layout_name(secondary_channel: int) -> str:
    return {0: "none", 1: "above", 2: "below"}.get(int(secondary_channel), "none")


def lltf_positions(secondary_channel: np.ndarray) -> np.ndarray:
    """(N, 52) positions of the L-LTF subcarriers for each row's secondary channel."""
    sec = np.asarray(secondary_channel)
    none = (sec == SECONDARY_NONE) | (sec < 0)
    positions = np.tile(POSITIONS_40, (len(sec), 1))
    positions[none] = POSITIONS_NONE
    return positions


def lltf_complex(batch: FrameBatch) -> tuple[np.ndarray, np.ndarray]:
    """The 52 L-LTF subcarriers of every row: complex64 (N, 52) and a validity mask (N,).

    Physically correct pairing: subcarrier at position k is complex(buf[2k+1], buf[2k]).
    Rows with fewer than 128 CSI bytes are invalid (mask False, values 0).
    """
    n = len(batch)
    out = np.zeros((n, N_LLTF), dtype=np.complex64)
    valid = batch.meta["csi_len"] >= LLTF_BYTES
    if n == 0 or batch.csi.shape[1] < LLTF_BYTES:
        return out, valid & False
    raw = batch.csi[:, :LLTF_BYTES].astype(np.float32)
    imag, real = raw[:, 0::2], raw[:, 1::2]  # (N, 64) each
    pos = lltf_positions(batch.meta["secondary_channel"])
    rows = np.arange(n)[:, None]
    out.real = real[rows, pos]
    out.imag = imag[rows, pos]
    fix = (batch.meta["first_word_invalid"] == 1) & (
        (batch.meta["secondary_channel"] == SECONDARY_NONE) | (batch.meta["secondary_channel"] < 0)
    )
    if fix.any():  # +1 (position 1, column 26) is invalid: take +2's value
        out[fix, 26] = out[fix, 27]
    out[~valid] = 0
    return out, valid


def lltf_complex_3do(batch: FrameBatch) -> tuple[np.ndarray, np.ndarray]:
    """3DO-compatible pairing, complex(buf[2k], buf[2k-1]) at positions 6..31 and 33..58.

    Byte 2k is the imaginary part of position k and byte 2k-1 the real part of position k-1,
    so this mixes neighbouring subcarriers. It reproduces the loaders published with the 3DO
    dataset; use it only to run models trained that way.
    """
    n = len(batch)
    valid = batch.meta["csi_len"] >= LLTF_BYTES
    out = np.zeros((n, N_LLTF), dtype=np.complex64)
    if n == 0 or batch.csi.shape[1] < LLTF_BYTES:
        return out, valid & False
    raw = batch.csi[:, :LLTF_BYTES].astype(np.float32)
    k = POSITIONS_40
    out.real = raw[:, 2 * k]
    out.imag = raw[:, 2 * k - 1]
    out[~valid] = 0
    return out, valid


def split_blocks(csi_len: int, bandwidth: int) -> dict[str, slice]:
    """Byte ranges of the L-LTF, HT-LTF and STBC-HT-LTF blocks in a row of `csi_len` bytes."""
    blocks = {"lltf": slice(0, min(csi_len, LLTF_BYTES))}
    if csi_len > LLTF_BYTES:
        ht = 256 if bandwidth == 1 else 128
        blocks["htltf"] = slice(LLTF_BYTES, min(csi_len, LLTF_BYTES + ht))
        if csi_len > LLTF_BYTES + ht:
            blocks["stbc_htltf"] = slice(LLTF_BYTES + ht, csi_len)
    return blocks
