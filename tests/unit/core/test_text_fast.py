"""The compiled fast path of the text decoder (text_fast, C kernel) gives exactly what the numpy path gives.

Every comparison decodes the same bytes, cut into the same chunks, twice: once with the kernel
forced on for every region (`fast_min_bytes = 0`) and once with it off (`fast = False`, the
reference path), and compares all META fields (as bytes), the CSI bytes, `errors`, `ignored`
and `lines_seen`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from csi_edge.decoder import StreamDecoder, text_fast, text_kernel
from csi_edge.frames import FrameBatch

pytestmark = pytest.mark.skipif(not text_fast.available(), reason="the C kernel (csi_edge.decoder._textscan) is not built")

REAL = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "real"
REAL_FILES = sorted(p for p in REAL.glob("*/*") if p.suffix in (".csv", ".txt")) if REAL.is_dir() else []
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

RX = "11,1,3,1,1,0,1,0,0,1,-95,2,11,2,123456,0,44,0"  # rate .. rx_state of the wide layouts
ESP_HEADER = (b"type,id,mac,rssi,rate,sig_mode,mcs,bandwidth,smoothing,not_sounding,aggregation,stbc,"
              b"fec_coding,sgi,noise_floor,ampdu_cnt,channel,secondary_channel,local_timestamp,ant,sig_len,"
              b"rx_state,len,first_word,data")  # fmt: skip
TOOL_HEADER = ESP_HEADER.replace(b"type,id,", b"type,role,").replace(b"len,first_word,data", b"real_time_set,real_timestamp,len,CSI_DATA")  # fmt: skip
C6_HEADER = b"type,seq,mac,rssi,rate,noise_floor,fft_gain,agc_gain,channel,local_timestamp,sig_len,rx_state,len,first_word,data"
C6_SWAPPED = C6_HEADER.replace(b"fft_gain,agc_gain", b"agc_gain,fft_gain")
ODD_HEADER = b"type,seq,timestamp,taget,mac,rssi,channel_secondary,local_timestamp,len,first_word_invalid,data"


def decode(data: bytes, fast: bool, cuts=()) -> tuple[FrameBatch, StreamDecoder]:
    decoder = StreamDecoder()
    decoder.text.fast = fast
    decoder.text.fast_min_bytes = 0
    parts, last = [], 0
    for cut in sorted({c for c in cuts if 0 < c < len(data)}) + [len(data)]:
        parts.append(decoder.feed(data[last:cut]).frames)
        last = cut
    parts.append(decoder.finish().frames)
    return FrameBatch.concat(parts), decoder


def assert_same(data: bytes, cuts=()) -> tuple[FrameBatch, StreamDecoder]:
    fast, f = decode(data, True, cuts)
    ref, r = decode(data, False, cuts)
    assert fast.meta.dtype == ref.meta.dtype and len(fast) == len(ref)
    assert fast.meta.tobytes() == ref.meta.tobytes()
    assert fast.csi.shape == ref.csi.shape and fast.csi.tobytes() == ref.csi.tobytes()
    assert dict(f.errors) == dict(r.errors) and dict(f.ignored) == dict(r.ignored)
    assert f.text.lines_seen == r.text.lines_seen and f.text.header == r.text.header
    return fast, f


@pytest.fixture
def reference_lines(monkeypatch):
    """Counts the lines the kernel handed to the reference path."""
    seen = []
    real = text_fast._reference_line

    def spy(decoder, line, *args):
        seen.append(line)
        return real(decoder, line, *args)

    monkeypatch.setattr(text_fast, "_reference_line", spy)
    return seen


# -- real recordings ---------------------------------------------------------------------


@pytest.mark.skipif(not REAL_FILES, reason=f"real recordings not found at {REAL} (shared/data/real)")
@pytest.mark.parametrize("path", REAL_FILES, ids=[f"{p.parent.name}/{p.name}" for p in REAL_FILES])
def test_real_file_fast_path_equals_reference(path, reference_lines):
    data = path.read_bytes()
    frames, decoder = assert_same(data)
    assert len(frames) > 0
    # the kernel decodes every row itself: only header lines go to the reference path
    assert len(reference_lines) == decoder.ignored["header"]
    assert_same(data, cuts=range(997, len(data), 4093))  # and in odd chunks


# -- hand-picked lines at the edges of the kernel's grammar -------------------------------


def esp_row(seq=7, data="1,-2,3,-4", length=4, head=None, tail=b"") -> bytes:
    head = head or f"{seq},1a:00:00:00:00:01,-40,{RX},{length},1"
    return f'CSI_DATA,{head},"[{data}]"'.encode() + tail


def tool_row(data="1 -2 3 -4", real="803.261", role="AP", rssi="-30") -> bytes:
    return f"CSI_DATA,{role},48:E7:29:89:3A:50,{rssi},{RX},0,{real},384,[{data} ]".encode()


EDGE_LINES = [
    esp_row(), tool_row(), esp_row(data="-128,127,0,0"), esp_row(data=" 1 , -2 ,3;-4\t"),
    esp_row(data="-0,1,2,3"), esp_row(data="01,1,2,3"), esp_row(data="1000,1,2,3"), esp_row(data="128,1,2,3"),
    esp_row(data="-129,1,2,3"), esp_row(data="1,2,3"), esp_row(data=""), esp_row(data="1,,2,3,4", length=4),
    esp_row(data="1,2,3,4", length=6), esp_row(data="1,2,3,4\0"), esp_row(data="1-2,3,4,5"), esp_row(data="+1,2,3,4"),
    esp_row(data=",".join(["1"] * 612), length=612), esp_row(data=",".join(["1"] * 614), length=614),
    esp_row(head=f"007,1a:00:00:00:00:01,-40,{RX},4,1"), esp_row(head=f"-0,1a:00:00:00:00:01,-40,{RX},4,1"),
    esp_row(head=f"+7,1a:00:00:00:00:01,-40,{RX},4,1"), esp_row(head=f"7,1A:0B:00:00:00:01,-40,{RX},4,1"),
    esp_row(head=f"7,1a:00:00:00:00:1,-40,{RX},4,1"), esp_row(head=f"7,1a-00-00-00-00-01,-40,{RX},4,1"),
    esp_row(head=f"7,1a:00:00:00:00:01,-40000,{RX},4,1"), esp_row(head=f"7,1a:00:00:00:00:01,-32768,{RX},4,1"),
    esp_row(head=f"7,1a:00:00:00:00:01,-40,{RX.replace(',2,123456', ',127,123456')},4,1"),
    esp_row(head=f"7,1a:00:00:00:00:01,-40,{RX.replace(',2,123456', ',128,123456')},4,1"),
    esp_row(head=f"9999999999999999999,1a:00:00:00:00:01,-40,{RX},4,1"),
    esp_row(head=f"999999999999999999,1a:00:00:00:00:01,-40,{RX},4,1"),
    esp_row(head=f" 7,1a:00:00:00:00:01,-40,{RX},4,1"), esp_row(tail=b",1"), esp_row(tail=b"CSI_DATA,1,2"),
    esp_row().replace(b'"[', b"["), esp_row().replace(b'"[', b'""['), esp_row().replace(b",-40,", b",-4x,"),
    esp_row().replace(b"CSI_DATA,", b"CSI_DATA;"), b"\x1b[0;32m" + esp_row() + b"\x1b[0m", b"12:00 > " + esp_row(),
    b"type,x " + esp_row(), esp_row()[:60], esp_row()[:-3], esp_row()[:50] + esp_row(seq=8),
    tool_row(real="1e3"), tool_row(real="nan"), tool_row(real=".5"), tool_row(real="5."), tool_row(real="-0.0"),
    tool_row(real="0001.2500"), tool_row(real="123456789.123456"), tool_row(real="1234567.12345678"),
    tool_row(real="x.5"), tool_row(real=""), tool_row(role="1"), tool_row(role=""), tool_row(role="A P"),
    tool_row(role="CSI_DATA"), tool_row(rssi="-30.0"), tool_row(data="1 2 3 4 5 6 7"),
    b"CSI_DATA,1,2,3,[1 2]", b"CSI_DATA", b"CSI_DATA,", b"CSI_DATA,,,[]", b"type,id,mac,rssi,x", b"  \t ", b"\xff\xfe caf\xe9",
    ESP_HEADER, TOOL_HEADER, C6_HEADER, C6_SWAPPED, ODD_HEADER, ESP_HEADER + b",class",
    b"CSI_DATA,5,1000,tx,aa:bb:cc:dd:ee:ff,-50,2,999,4,1,[1 2 3 4]",
    b'CSI_DATA,7,1a:00:00:00:00:00,-23,11,-96,-3,40,11,372852,47,0,4,0,"[1,-2,3,-4]"',
]  # fmt: skip


@pytest.mark.parametrize("line", EDGE_LINES)
def test_edge_line_between_good_rows_decodes_identically(line):
    good = [esp_row(seq=1), tool_row(rssi="-31"), esp_row(seq=2)]
    for header in (b"", ESP_HEADER + b"\n", TOOL_HEADER + b"\n", C6_SWAPPED + b"\n", ODD_HEADER + b"\n"):
        assert_same(header + b"\n".join([good[0], line, good[1], line, good[2]]) + b"\n")
        assert_same(header + line)  # alone, without its newline (a torn tail)


def test_header_lines_inside_a_region_apply_to_the_rows_after_them(reference_lines):
    row = b'CSI_DATA,7,1a:00:00:00:00:00,-23,11,-96,-3,40,11,372852,47,0,4,0,"[1,-2,3,-4]"'
    data = b"\n".join([row, C6_SWAPPED, row, C6_HEADER, row, row]) + b"\n"
    frames, decoder = assert_same(data)
    assert frames.meta["fft_gain"].tolist() == [-3, 40, -3, -3]
    assert decoder.ignored == {"header": 2} and len(reference_lines) == 2  # the rows went through the kernel


def test_the_reference_path_runs_when_the_kernel_is_disabled_or_missing(monkeypatch, reference_lines):
    data = b"\n".join([ESP_HEADER, esp_row(seq=1), esp_row(seq=2)] * 50) + b"\n"
    monkeypatch.setenv("CSI_EDGE_NO_KERNEL", "1")
    assert text_kernel._load() is None
    monkeypatch.setattr(text_kernel, "KERNEL", None)  # as if the extension had not been built
    decoder = StreamDecoder()
    assert decoder.text.fast is False
    decoder.feed(data)
    assert decoder.frames_decoded == 100 and not reference_lines  # the kernel never ran


def test_live_reads_stay_on_the_numpy_path_and_bulk_text_takes_the_kernel(reference_lines):
    rows = b"\n".join([ESP_HEADER] + [esp_row(seq=i) for i in range(400)]) + b"\n"  # ~40 kB
    decoder = StreamDecoder()
    for start in range(0, len(rows), 500):  # a live serial read at a time: never the kernel
        decoder.feed(rows[start : start + 500])
    assert not reference_lines and decoder.frames_decoded == 400
    decoder.feed(rows)
    assert reference_lines.count(ESP_HEADER) == 1 and decoder.frames_decoded == 800  # the kernel ran


# -- generated messy text -------------------------------------------------------------------


def _values(draw) -> str:
    n = draw(st.sampled_from([0, 2, 4, 6, 128, 3]))
    vals = draw(st.lists(st.integers(-130, 130), min_size=n, max_size=n))
    sep = draw(st.sampled_from([",", " ", ", ", " ,", "  ", ";", "\t"]))
    return sep.join(map(str, vals)), n


@st.composite
def csi_row(draw) -> bytes:
    data, n = _values(draw)
    kind = draw(st.integers(0, 3))
    number = draw(st.sampled_from(["0", "7", "-40", "127", "128", "-129", "40000", "007", "-0", "1.5", ""]))
    rssi = draw(st.sampled_from(["-40", number]))
    if kind == 0:
        length = draw(st.sampled_from([n, n + 2]))
        row = f'CSI_DATA,{draw(st.integers(0, 10**7))},1a:00:00:00:00:0{draw(st.integers(0, 3))},{rssi},{RX},{length},{number if draw(st.booleans()) else 0},"[{data}]"'  # fmt: skip
    elif kind == 1:
        real = draw(st.sampled_from(["803.261", "1e3", "12", "-0.5", "x", "0.1234567890123456"]))
        row = f"CSI_DATA,{draw(st.sampled_from(['AP', 'STA', '1']))},48:E7:29:89:3A:50,{rssi},{RX},0,{real},384,[{data} ]"
    elif kind == 2:
        row = f'CSI_DATA,{draw(st.integers(0, 99))},1a:00:00:00:00:00,{rssi},11,-96,-3,40,11,372852,47,0,{n},0,"[{data}]"'
    else:
        row = f"CSI_DATA,STA,aa:bb:cc:dd:ee:ff,{rssi},{RX},128,[{data} ]"
    return row.encode() + draw(st.sampled_from([b"", b",1", b'"', b" junk"]))


def mutate(line: bytes, at: int, piece: bytes) -> bytes:
    at %= max(len(line), 1)
    return line[:at] + piece + line[at + 1 :]


junk = st.sampled_from([b"I (123) wifi:mode : sta", b"", b"   ", b"\x1b[0;32mboot\x1b[0m", b"caf\xe9", b"type,id,mac,rssi,x",
                        ESP_HEADER, TOOL_HEADER, C6_HEADER, C6_SWAPPED, ODD_HEADER])  # fmt: skip
damaged = st.builds(mutate, csi_row(), st.integers(0, 2000),
                    st.sampled_from([b",", b"-", b" ", b"x", b".", b'"', b"", b"12", b"0", b"[", b"]", b"\n", b"\r",
                                     b"CSI_DATA", b"\xff", b"\0", b"type,", b";"]))  # fmt: skip
torn = st.builds(lambda row, cut: row[: cut % max(len(row), 1)], csi_row(), st.integers(0, 2000))
line = st.one_of(csi_row(), csi_row(), junk, damaged, torn, st.binary(max_size=40))


GLUED_BEFORE_FALLBACK = [  # a glued line the kernel hands back after a later line: rows stay in line order
    (b'CSI_DATA,0,1a:00:00:00:00:00,-40,11,1,3,1,1,0,1,0,0,1,-95,2,11,2,123456,0,44,0,0,0,"[]"', b""),
    (b"CSI_DATA,AP,48:E7:29:89:3A:50,-40,11,1,3,1,1,0,1,0,0,1,-95,2,11,2,123456,0,44,0,0,803.261,384,[0,0 ]", b"\n"),
    (b"type,id,mac,rssi,x", b""),
    (b'CSI_DATA,0,1a:00:00:00:00:00,-40,11,1,3,1,1,0,1,0,0,1,-95,2,11,2,123456,0,44,0,2,0,"[0,0]"', b"\n"),
]


@SETTINGS
@given(st.lists(st.tuples(line, st.sampled_from([b"\n", b"\r\n", b"\r", b""])), max_size=30),
       st.lists(st.integers(0, 6000), max_size=6))  # fmt: skip
@example(GLUED_BEFORE_FALLBACK, [])
def test_messy_text_fast_path_equals_reference(lines, cuts):
    data = b"".join(text + end for text, end in lines)
    assert_same(data)
    assert_same(data, cuts)
