"""Subcarrier layout: hand-computed values for the none / below / above maps, real rows, 3DO."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from csi_edge.decoder import decode_bytes
from csi_edge.features import amplitude, amplitude_3do
from csi_edge.frames import SECONDARY_ABOVE, SECONDARY_BELOW, SECONDARY_NONE, FrameBatch, empty_meta
from csi_edge.layout import SUBCARRIER_INDEX, lltf_complex, lltf_complex_3do, split_blocks

REAL = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "real"
needs_real = pytest.mark.skipif(not REAL.is_dir(), reason=f"real recordings not found at {REAL} (shared/data/real)")


def batch(rows: list[list[int]], secondary: int, first_word_invalid: int = 0, csi_len: int | None = None) -> FrameBatch:
    csi = np.asarray(rows, dtype=np.int8)
    meta = empty_meta(len(rows))
    meta["secondary_channel"] = secondary
    meta["first_word_invalid"] = first_word_invalid
    meta["csi_len"] = csi.shape[1] if csi_len is None else csi_len
    return FrameBatch(meta, csi)


def marked_row() -> list[int]:
    """Position k (0..63) holds imaginary = k - 32, real = 63 - k: every position is unique."""
    row = []
    for k in range(64):
        row += [k - 32, 63 - k]
    return row


def test_none_layout_hand_computed():
    h, valid = lltf_complex(batch([marked_row()], SECONDARY_NONE))
    assert valid.tolist() == [True]
    # column 0 is subcarrier -26 stored at position 38; column 26 is +1 at position 1
    assert h[0, 0] == complex(63 - 38, 38 - 32)
    assert h[0, 25] == complex(63 - 63, 63 - 32)  # -1 at position 63
    assert h[0, 26] == complex(63 - 1, 1 - 32)  # +1 at position 1
    assert h[0, 51] == complex(63 - 26, 26 - 32)  # +26 at position 26
    positions = np.r_[np.arange(38, 64), np.arange(1, 27)]
    assert np.array_equal(h[0].real, 63 - positions) and np.array_equal(h[0].imag, positions - 32)


@pytest.mark.parametrize("secondary", [SECONDARY_BELOW, SECONDARY_ABOVE])
def test_40mhz_layouts_hand_computed(secondary):
    h, valid = lltf_complex(batch([marked_row()], secondary))
    assert h[0, 0] == complex(63 - 6, 6 - 32)  # -26 at position 6
    assert h[0, 25] == complex(63 - 31, 31 - 32)  # -1 at position 31
    assert h[0, 26] == complex(63 - 33, 33 - 32)  # +1 at position 33 (DC at 32 skipped)
    assert h[0, 51] == complex(63 - 58, 58 - 32)  # +26 at position 58
    assert SUBCARRIER_INDEX[[0, 25, 26, 51]].tolist() == [-26, -1, 1, 26]


def test_first_word_invalid_masks_plus_one_in_the_none_layout_only():
    row = marked_row()
    h, _ = lltf_complex(batch([row, row], SECONDARY_NONE, first_word_invalid=1))
    assert h[0, 26] == h[0, 27] == complex(63 - 2, 2 - 32)  # +1 takes +2's value
    h_ok, _ = lltf_complex(batch([row], SECONDARY_NONE, first_word_invalid=0))
    assert h_ok[0, 26] == complex(63 - 1, 1 - 32)
    h40, _ = lltf_complex(batch([row], SECONDARY_BELOW, first_word_invalid=1))  # positions 0, 1 unused
    assert np.array_equal(h40, lltf_complex(batch([row], SECONDARY_BELOW))[0])


def test_short_rows_are_invalid_and_zero():
    h, valid = lltf_complex(batch([marked_row()[:100] + [0] * 28], SECONDARY_NONE, csi_len=100))
    assert valid.tolist() == [False] and not h.any()


def test_3do_variant_pairs_neighbouring_bytes():
    row = list(range(-64, 64))
    h, valid = lltf_complex_3do(batch([row], SECONDARY_BELOW))
    buf = np.asarray(row)
    k = np.r_[np.arange(6, 32), np.arange(33, 59)]
    assert np.array_equal(h[0].real, buf[2 * k]) and np.array_equal(h[0].imag, buf[2 * k - 1])
    assert h[0, 0] == complex(buf[12], buf[11])  # not complex(buf[13], buf[12]), the correct pairing
    a3, _ = amplitude_3do(batch([row], SECONDARY_BELOW))
    assert a3[0, 0] == pytest.approx(abs(complex(buf[12], buf[11])))


def test_blocks_split_by_length_and_bandwidth():
    assert split_blocks(384, 1) == {"lltf": slice(0, 128), "htltf": slice(128, 384)}
    assert split_blocks(612, 1)["stbc_htltf"] == slice(384, 612)
    assert split_blocks(256, 0) == {"lltf": slice(0, 128), "htltf": slice(128, 256)}
    assert split_blocks(128, 0) == {"lltf": slice(0, 128)}


def real(name: str) -> FrameBatch:
    return decode_bytes((REAL / name).read_bytes())[0].frames


@needs_real
@pytest.mark.parametrize(
    "name, secondary",
    [("esp-csi-s3/los_session01.csv", SECONDARY_BELOW), ("esp32-csi-tool-s3/hand_01.csv", SECONDARY_BELOW),
     ("mendelas-hand/E02_hand_waving_60cm_trial01.csv", SECONDARY_ABOVE)],
)  # fmt: skip
def test_real_rows_have_zeros_exactly_where_the_40mhz_layout_has_no_subcarrier(name, secondary):
    frames = real(name)
    assert set(frames.meta["secondary_channel"].tolist()) == {secondary}
    raw = frames.csi[:, :128].astype(int)
    empty = (raw[:, 0::2] == 0) & (raw[:, 1::2] == 0)  # (N, 64) position holds 0 + 0j
    guard = [2, 3, 4, 5, 32, 59, 60, 61, 62, 63]  # positions 0, 1 are the first word
    assert empty[:, guard].all()
    h, valid = lltf_complex(frames)
    assert valid.all() and np.count_nonzero(h == 0) < 0.001 * h.size  # the 52 are live
    amp, _ = amplitude(frames)
    assert amp.shape == (len(frames), 52) and amp.dtype == np.float32


@needs_real
def test_real_row_hand_computed_below():
    frames = real("esp-csi-s3/los_session01.csv")
    row = frames.csi[0].astype(int)
    # bytes of positions 6, 31, 33, 58 in the first row of los_session01.csv
    assert row[12:14].tolist() == [13, -1] and row[66:68].tolist() == [9, -4]
    h, _ = lltf_complex(frames[0])
    assert h[0, 0] == complex(-1, 13)  # subcarrier -26: real = byte 13, imaginary = byte 12
    assert h[0, 26] == complex(-4, 9)  # subcarrier +1 at position 33
    assert h[0, 25] == complex(row[63], row[62]) and h[0, 51] == complex(row[117], row[116])


@needs_real
def test_real_first_word_is_garbage_in_the_csi_tool_recordings():
    frames = real("mendelas-hand/E00_static_15s_140cm_trial01.csv")
    assert (frames.csi[:, :4] == [84, -64, 4, 0]).all()  # the invalid first word, every row
