"""Every real recording in ../shared/data/real decodes with pinned row counts, outcomes and values.

Each file is also checked row by row against a deliberately naive reference reader (split on
commas, `int()` per value) written here, so the bulk parser is compared with the obvious one.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from csi_edge.decoder import StreamDecoder, decode_bytes
from csi_edge.frames import FORMAT_CSI_TOOL, FORMAT_ESP_CSI, FrameBatch, mac_to_int

REAL = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "real"
pytestmark = pytest.mark.skipif(not REAL.is_dir(), reason=f"real recordings not found at {REAL} (shared/data/real)")

# file, rows, errors, ignored, (first timestamp_us, rssi, csi[12:16]), (last ...)
PINNED = [
    ("esp-csi-s3/los_session01.csv", 741, {}, {"header": 1}, (2042078452, -28, [13, -1, 13, -1]), (2052068465, -28, [13, 3, 12, 3])),
    ("esp-csi-s3/nlos_session01.csv", 750, {}, {"header": 1}, (212873451, -42, [-5, 4, -4, 5]), (222882893, -44, [-1, -4, 0, -5])),
    ("esp32-csi-tool-s3/empty_01.csv", 143, {}, {}, (3129550, -24, [2, 15, 3, 15]), (16371409, -27, [1, -12, 1, -12])),
    ("esp32-csi-tool-s3/empty_01_full_log.txt", 149, {}, {"text_line": 122, "header": 1}, (3105013, -24, [-7, 14, -7, 15]), (16371409, -27, [1, -12, 1, -12])),
    ("esp32-csi-tool-s3/hand_01.csv", 136, {}, {}, (3136717, -30, [3, 15, 3, 14]), (15727217, -32, [-3, 10, -3, 10])),
    ("esp32-csi-tool-s3/hand_01_full_log.txt", 142, {}, {"text_line": 122, "header": 1}, (3109956, -30, [-6, -15, -6, -14]), (15727217, -32, [-3, 10, -3, 10])),
    ("esp32-csi-tool/example_csi.csv", 13, {}, {}, (80272146, -73, [23, 12, 25, 13]), (80364698, -73, [-4, -19, -4, -20])),
    ("mendelas-hand/E00_static_15s_140cm_trial01.csv", 1995, {}, {"header": 1}, (803072868, -31, [4, -16, 4, -16]), (823064776, -32, [-14, -10, -15, -11])),
    ("mendelas-hand/E00_static_15s_140cm_trial02.csv", 1988, {}, {"header": 1}, (830385758, -32, [-2, 15, -2, 16]), (850379036, -30, [-10, 13, -11, 13])),
    ("mendelas-hand/E00_static_15s_60cm_trial01.csv", 1970, {}, {"header": 1}, (148848061, -26, [-10, -16, -9, -16]), (168844196, -28, [15, 5, 16, 5])),
    ("mendelas-hand/E00_static_15s_60cm_trial02.csv", 1976, {}, {"header": 1}, (178511087, -27, [14, 3, 16, 3]), (198507128, -27, [11, 5, 12, 6])),
    ("mendelas-hand/E01_hand_in_static_140cm_trial01.csv", 1989, {}, {"header": 1}, (872112045, -30, [-14, -6, -15, -7]), (892109141, -31, [10, 8, 10, 9])),
    ("mendelas-hand/E01_hand_in_static_140cm_trial02.csv", 1996, {}, {"header": 1}, (902489033, -32, [-12, -10, -13, -10]), (922478217, -31, [-12, -10, -16, -13])),
    ("mendelas-hand/E01_hand_in_static_60cm_trial01.csv", 1977, {}, {"header": 1}, (350890545, -26, [-10, -2, -11, -2]), (370884301, -27, [-10, -15, -10, -15])),
    ("mendelas-hand/E01_hand_in_static_60cm_trial02.csv", 1971, {}, {"header": 1}, (386888227, -26, [9, -14, 10, -14]), (406895003, -26, [-7, -8, -7, -9])),
    ("mendelas-hand/E02_hand_waving_140cm_trial01.csv", 1989, {}, {"header": 1}, (996385582, -31, [-5, -12, -6, -13]), (1016387176, -31, [-11, -13, -12, -13])),
    ("mendelas-hand/E02_hand_waving_140cm_trial02.csv", 1982, {}, {"header": 1}, (1031450867, -31, [14, -3, 15, -3]), (1051448100, -32, [14, 5, 14, 5])),
    ("mendelas-hand/E02_hand_waving_60cm_trial01.csv", 1986, {}, {"header": 1}, (447592188, -28, [10, -13, 11, -13]), (467594373, -27, [3, -16, 4, -17])),
    ("mendelas-hand/E02_hand_waving_60cm_trial02.csv", 1964, {}, {"header": 1}, (480261230, -29, [17, 5, 17, 6]), (500253602, -27, [16, -8, 17, -8])),
]  # fmt: skip


def test_every_real_file_is_pinned():
    files = sorted(str(p.relative_to(REAL)) for p in REAL.glob("*/*") if p.suffix in (".csv", ".txt"))
    assert files == sorted(row[0] for row in PINNED)


@pytest.mark.parametrize("name, rows, errors, ignored, first, last", PINNED, ids=[p[0] for p in PINNED])
def test_real_file_decodes_to_pinned_rows(name, rows, errors, ignored, first, last):
    decoded, dec = decode_bytes((REAL / name).read_bytes())
    frames = decoded.frames
    assert len(frames) == rows
    assert dict(dec.errors) == errors and dict(dec.ignored) == ignored
    for row, (ts, rssi, csi) in ((0, first), (-1, last)):
        assert frames.meta["timestamp_us"][row] == ts and frames.meta["rssi"][row] == rssi
        assert frames.csi[row, 12:16].tolist() == csi


def reference_rows(path: Path) -> list[dict]:
    """The naive reader: one line at a time, `int()` per value."""
    out = []
    for line in path.read_bytes().decode("ascii").splitlines():
        if "CSI_DATA," not in line or "[" not in line:
            continue
        head, _, rest = line[line.index("CSI_DATA,") :].partition("[")
        fields = head.rstrip('",').split(",")
        data = [int(v) for v in re.split(r"[ ,]+", rest.partition("]")[0].strip())]
        out.append({"fields": fields, "csi": data})
    return out


@pytest.mark.parametrize("name", [p[0] for p in PINNED])
def test_real_file_matches_the_naive_reader_row_by_row(name):
    frames = decode_bytes((REAL / name).read_bytes())[0].frames
    ref = reference_rows(REAL / name)
    assert len(ref) == len(frames)
    for i, row in enumerate(ref):
        f = row["fields"]
        m = frames.meta[i]
        n = len(row["csi"])
        assert m["csi_len"] == n and frames.csi[i, :n].tolist() == row["csi"] and not frames.csi[i, n:].any()
        assert m["mac"] == mac_to_int(f[2]) and m["rssi"] == int(f[3]) and m["channel"] == int(f[16])
        assert m["secondary_channel"] == int(f[17]) and m["timestamp_us"] == int(f[18])
        if f[1].isdigit():  # esp-csi: id, len, first_word
            assert m["format"] == FORMAT_ESP_CSI and m["seq"] == int(f[1]) and int(f[22]) == n
            assert m["first_word_invalid"] == int(f[23])
        else:  # ESP32-CSI-Tool: real_timestamp; len may claim more than is printed
            assert m["format"] == FORMAT_CSI_TOOL and m["host_time_s"] == float(f[23]) and int(f[24]) >= n


@pytest.mark.parametrize("stem", ["empty_01", "hand_01"])
def test_full_monitor_log_yields_the_csv_rows_where_they_overlap(stem):
    """The raw `idf.py monitor` session (boot log, CRLF) holds the saved CSV's rows, plus six
    rows from MAC 00:00:00:00:00:00 that the CSV's author filtered out."""
    csv = decode_bytes((REAL / "esp32-csi-tool-s3" / f"{stem}.csv").read_bytes())[0].frames
    log = decode_bytes((REAL / "esp32-csi-tool-s3" / f"{stem}_full_log.txt").read_bytes())[0].frames
    station = log.meta["mac"] == mac_to_int("10:b4:1d:cc:60:e0")
    assert np.count_nonzero(~station) == 6 and not log.meta["mac"][~station].any()
    overlap = log[station]
    assert overlap.meta.tobytes() == csv.meta.tobytes() and overlap.csi.tobytes() == csv.csi.tobytes()


def test_real_file_in_small_chunks_equals_one_shot():
    data = (REAL / "esp32-csi-tool-s3" / "empty_01_full_log.txt").read_bytes()
    whole, dec = decode_bytes(data)
    s = StreamDecoder()
    sizes = [1, 2, 3, 5, 8, 13, 100, 377, 1000]
    parts, pos, k = [], 0, 0
    while pos < len(data):
        parts.append(s.feed(data[pos : pos + sizes[k % len(sizes)]]).frames)
        pos += sizes[k % len(sizes)]
        k += 1
    parts.append(s.finish().frames)
    chunked = FrameBatch.concat(parts)
    assert chunked.meta.tobytes() == whole.frames.meta.tobytes() and chunked.csi.tobytes() == whole.frames.csi.tobytes()
    assert s.errors == dec.errors and s.ignored == dec.ignored


@pytest.mark.parametrize("name", ["esp-csi-s3/nlos_session01.csv", "esp32-csi-tool-s3/hand_01_full_log.txt",
                                  "mendelas-hand/E01_hand_in_static_60cm_trial02.csv"])  # fmt: skip
def test_bulk_header_path_equals_row_by_row_path(name):
    data = (REAL / name).read_bytes()
    fast = StreamDecoder()
    fast.text.bulk_min_rows = 1
    slow = StreamDecoder()
    slow.text.bulk_headers = False
    fast.text.fast = slow.text.fast = False  # the numpy paths (text_fast has its own tests)
    a = FrameBatch.concat([fast.feed(data).frames, fast.finish().frames])
    b = FrameBatch.concat([slow.feed(data).frames, slow.finish().frames])
    assert len(a) > 0 and a.meta.tobytes() == b.meta.tobytes() and a.csi.tobytes() == b.csi.tobytes()
