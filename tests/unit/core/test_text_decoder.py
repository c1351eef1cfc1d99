"""Text decoder: esp-csi and ESP32-CSI-Tool lines, every header variant, and damaged logs."""

from __future__ import annotations

import numpy as np
import pytest

from csi_edge.decoder import StreamDecoder, decode_bytes
from csi_edge.frames import FORMAT_CSI_TOOL, FORMAT_ESP_CSI, FrameBatch, mac_to_int

MAC = "1a:00:00:00:00:01"
ESP_HEADER = (b"type,id,mac,rssi,rate,sig_mode,mcs,bandwidth,smoothing,not_sounding,aggregation,stbc,"
              b"fec_coding,sgi,noise_floor,ampdu_cnt,channel,secondary_channel,local_timestamp,ant,sig_len,"
              b"rx_state,len,first_word,data")  # fmt: skip
TOOL_HEADER = (b"type,role,mac,rssi,rate,sig_mode,mcs,bandwidth,smoothing,not_sounding,aggregation,stbc,"
               b"fec_coding,sgi,noise_floor,ampdu_cnt,channel,secondary_channel,local_timestamp,ant,sig_len,"
               b"rx_state,real_time_set,real_timestamp,len,CSI_DATA")  # fmt: skip


def values(n: int = 128, seed: int = 0) -> list[int]:
    rng = np.random.default_rng(seed)
    v = rng.integers(-128, 128, n)
    v[:3] = [-128, 127, 0]
    return v.tolist()


def esp_line(seq=7, data=None, rssi=-40, sec=2, ts=123456, fw=1, length=None, sep=",", quote=True, extra=b"") -> bytes:
    data = values() if data is None else data
    length = len(data) if length is None else length
    arr = "[" + sep.join(map(str, data)) + "]"
    arr = f'"{arr}"' if quote else arr
    head = f"CSI_DATA,{seq},{MAC},{rssi},11,1,3,1,1,0,1,0,0,1,-95,2,11,{sec},{ts},0,44,0,{length},{fw},"
    return head.encode() + arr.encode() + extra


def tool_line(data=None, rssi=-30, ts=803072868, real="803.261", length=384, sep=" ", role="AP") -> bytes:
    data = values() if data is None else data
    arr = "[" + sep.join(map(str, data)) + " ]"
    head = f"CSI_DATA,{role},{MAC},{rssi},11,1,4,1,1,1,1,0,0,0,-90,1,6,1,{ts},0,84,0,0,{real},{length},"
    return head.encode() + arr.encode()


def decode(data: bytes):
    decoded, decoder = decode_bytes(data)
    return decoded.frames, decoder


def test_esp_csi_line_fills_every_column():
    frames, dec = decode(esp_line(seq=150002, ts=2042078452, fw=1) + b"\n")
    m = frames.meta[0]
    assert len(frames) == 1 and not dec.errors
    assert m["seq"] == 150002 and m["timestamp_us"] == 2042078452 and m["mac"] == mac_to_int(MAC)
    assert (m["rssi"], m["rate"], m["sig_mode"], m["mcs"], m["bandwidth"]) == (-40, 11, 1, 3, 1)
    assert (m["smoothing"], m["not_sounding"], m["aggregation"], m["stbc"], m["fec_coding"], m["sgi"]) == (1, 0, 1, 0, 0, 1)
    assert (m["noise_floor"], m["ampdu_cnt"], m["channel"], m["secondary_channel"]) == (-95, 2, 11, 2)
    assert (m["ant"], m["sig_len"], m["rx_state"], m["first_word_invalid"]) == (0, 44, 0, 1)
    assert m["format"] == FORMAT_ESP_CSI and m["csi_len"] == 128 and np.isnan(m["host_time_s"])
    assert frames.csi[0].tolist() == values()


def test_csi_tool_line_uses_the_printed_count_not_len():
    frames, dec = decode(tool_line(length=384) + b"\n")
    m = frames.meta[0]
    assert len(frames) == 1 and not dec.errors
    assert m["csi_len"] == 128 and frames.csi.shape == (1, 128)
    assert m["format"] == FORMAT_CSI_TOOL and m["seq"] == -1
    assert m["timestamp_us"] == 803072868 and m["host_time_s"] == pytest.approx(803.261)
    assert frames.csi[0].tolist() == values()


@pytest.mark.parametrize("sep", [",", " ", ", ", " , ", "  "])
@pytest.mark.parametrize("quote", [True, False])
def test_array_separators_and_quotes(sep, quote):
    frames, dec = decode(esp_line(sep=sep, quote=quote) + b"\n")
    assert not dec.errors and frames.csi[0].tolist() == values()


def test_newer_esp_csi_header_with_gains_is_read_from_the_header_line():
    header = b"type,seq,mac,rssi,rate,noise_floor,fft_gain,agc_gain,channel,local_timestamp,sig_len,rx_state,len,first_word,data\n"
    row = b'CSI_DATA,7,1a:00:00:00:00:00,-23,11,-96,-3,40,11,372852,47,0,4,0,"[1,-2,3,-4]"\n'
    frames, dec = decode(header + row)
    m = frames.meta[0]
    assert (m["seq"], m["rssi"], m["noise_floor"], m["fft_gain"], m["agc_gain"]) == (7, -23, -96, -3, 40)
    assert (m["channel"], m["timestamp_us"], m["secondary_channel"]) == (11, 372852, -1)
    assert frames.csi[0].tolist() == [1, -2, 3, -4] and dec.ignored["header"] == 1
    frames2, _ = decode(row)  # without the header line: inferred from the column count
    assert frames2.meta.tobytes() == frames.meta.tobytes()


def test_a_header_line_with_other_columns_maps_them_by_name():
    header = (b"type,seq,timestamp,taget_seq,taget,mac,rssi,rate,sig_mode,mcs,cwb,smoothing,not_sounding,"
              b"aggregation,stbc,fec_coding,sgi,noise_floor,ampdu_cnt,channel_primary,channel_secondary,"
              b"local_timestamp,ant,sig_len,rx_state,agc_gain,fft_gain,len,first_word_invalid,data\n")  # fmt: skip
    row = b"CSI_DATA,5,1000,77,tx,aa:bb:cc:dd:ee:ff,-50,11,1,0,1,0,0,0,0,0,0,-90,0,6,2,999,0,60,0,33,-2,4,1,[1 2 3 4]\n"
    frames, dec = decode(header + row)
    m = frames.meta[0]
    assert not dec.errors and len(frames) == 1
    assert (m["seq"], m["mac"], m["bandwidth"], m["channel"], m["secondary_channel"]) == (5, 0xAABBCCDDEEFF, 1, 6, 2)
    assert (m["timestamp_us"], m["agc_gain"], m["fft_gain"], m["first_word_invalid"]) == (999, 33, -2, 1)


def test_old_csi_tool_without_real_timestamp_and_the_c6_layout_are_inferred():
    old = b"CSI_DATA,STA,aa:bb:cc:dd:ee:ff,-61,11,1,0,0,0,0,0,0,0,0,-93,0,1,0,4242,0,90,0,128,[1 2 3 4 ]\n"
    frames, dec = decode(old)
    assert not dec.errors and frames.meta["timestamp_us"][0] == 4242 and np.isnan(frames.meta["host_time_s"][0])
    assert frames.meta["format"][0] == FORMAT_CSI_TOOL and frames.csi[0].tolist() == [1, 2, 3, 4]


def test_header_lines_of_both_programs_are_recognised_not_counted_as_rows():
    frames, dec = decode(ESP_HEADER + b",class\n" + esp_line(extra=b",1") + b"\n" + TOOL_HEADER + b"\n" + tool_line() + b"\n")
    assert len(frames) == 2 and not dec.errors and dec.ignored == {"header": 2}
    assert frames.meta["format"].tolist() == [FORMAT_ESP_CSI, FORMAT_CSI_TOOL]


def test_survives_what_real_serial_logs_contain():
    good = [esp_line(seq=i, data=values(seed=i)) for i in range(6)]
    log = b"".join([
        b"ESP-ROM:esp32s3-20210327\r\n",
        b"I (123) wifi:mode : sta (aa:bb:cc:dd:ee:ff)\r\n",
        b"\x1b[0;32m" + good[0] + b"\x1b[0m\r\n",                     # ANSI colour around a row
        b"2026-11-22 03:04:05.123 > " + good[1] + b"\n",             # a host timestamp before it
        b"\r\n\n   \n",                                              # blank lines
        good[2] + b"\r",                                             # lone CR
        good[3][:200] + b"I (5000) wifi:bcn_timeout\n",              # log text spliced into a row
        b"caf\xe9 \xff\xfe garbage \x00\x01\n",                        # non-UTF-8 bytes
        good[4] + b"\n",
        good[5][:-30],                                               # the stream ends mid-row
    ])  # fmt: skip
    frames, dec = decode(log)
    assert frames.meta["seq"].tolist() == [0, 1, 2, 4]
    for row, seq in enumerate([0, 1, 2, 4]):
        assert frames.csi[row].tolist() == values(seed=seq)
    assert dec.errors == {"truncated_line": 2}
    assert dec.ignored == {"text_line": 3}


def test_two_rows_glued_without_a_newline_keep_the_complete_one():
    torn = esp_line(seq=1)[:150]
    frames, dec = decode(torn + esp_line(seq=2) + b"\n" + esp_line(seq=3) + b"\n")
    assert frames.meta["seq"].tolist() == [2, 3] and dec.errors == {"truncated_line": 1}


@pytest.mark.parametrize(
    "line, reason",
    [
        (esp_line().replace(b",-40,", b",-4x,"), "bad_field"),
        (esp_line().replace(b",-40,", b",,"), "bad_field"),
        (esp_line().replace(b",-40,", b","), "layout"),  # 22 columns: the old CSI-Tool width
        (esp_line().replace(b",123456,", b",12.5,"), "bad_field"),
        (esp_line(data=[1, 2, 300, 4]), "bad_array"),
        (esp_line(data=[1, 2, 77, 4]).replace(b",77,", b",7a7,"), "bad_array"),
        (esp_line(data=[1, 2, 77, 4]).replace(b",77,", b",-,"), "bad_array"),
        (esp_line().replace(b",-40,", b",-,"), "bad_field"),
        (esp_line().replace(b",-40,", b", ,"), "bad_field"),
        (esp_line(data=[1, 2, 3, 4], length=6), "array_length"),
        (esp_line(data=[1, 2, 3]), "array_length"),
        (esp_line(data=[]), "array_length"),
        (tool_line(data=list(range(1, 8))), "array_length"),
        (tool_line(data=[1] * 614, length=614), "array_length"),
        (tool_line(real="x.5"), "bad_field"),
        (esp_line(sec=258), "bad_field"),  # secondary_channel is int8 in META
        (esp_line(rssi=-40000), "bad_field"),
        (esp_line()[:100], "truncated_line"),
        (b"CSI_DATA,1,2,3,[1 2]", "layout"),
    ],
)
def test_bad_lines_are_counted_by_reason_and_good_ones_kept(line, reason):
    frames, dec = decode(esp_line(seq=1) + b"\n" + line + b"\n" + esp_line(seq=2) + b"\n")
    assert frames.meta["seq"].tolist() == [1, 2]
    assert dec.errors == {reason: 1}


def test_rows_of_different_lengths_are_zero_padded():
    frames, dec = decode(tool_line(data=[1, 2]) + b"\n" + tool_line(data=[3, 4, 5, 6]) + b"\n")
    assert frames.csi.tolist() == [[1, 2, 0, 0], [3, 4, 5, 6]] and frames.meta["csi_len"].tolist() == [2, 4]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be-bom", "utf-8-sig", "cp1252"])
def test_windows_text_encodings(encoding):
    text = ("Démarrage — café\r\n" + TOOL_HEADER.decode() + "\r\n" + tool_line().decode() + "\r\n" + tool_line(rssi=-31).decode() + "\r\n")
    if encoding == "utf-16-be-bom":
        data = b"\xfe\xff" + text.encode("utf-16-be")
    else:
        data = text.encode(encoding)
    frames, dec = decode(data)
    assert frames.meta["rssi"].tolist() == [-30, -31] and not dec.errors
    assert dec.ignored == {"header": 1, "text_line": 1}
    # and chunked one byte at a time at the start (the BOM split) then in odd sizes
    s = StreamDecoder()
    parts = [s.feed(data[i : i + 1]).frames for i in range(5)]
    parts += [s.feed(data[i : i + 7]).frames for i in range(5, len(data), 7)] + [s.finish().frames]
    assert FrameBatch.concat(parts).csi.tobytes() == frames.csi.tobytes()


def test_text_and_binary_frames_on_one_stream():
    from csi_edge import protocol as p

    binary = p.encode_csi(bytes(range(8)), seq=99, rssi=-50, csi_len=8)
    frames, dec = decode(b"I (1) boot\n" + esp_line(seq=1) + b"\n" + binary + esp_line(seq=2) + b"\n")
    assert frames.meta["seq"].tolist() == [1, 99, 2] and not dec.errors


def test_serial_noise_that_starts_like_a_utf16_bom_is_not_transcoded():
    from csi_edge import protocol as p

    binary = p.encode_csi(bytes(range(16)), seq=5, csi_len=16)
    frames, dec = decode(b"\xff\xfe\x13\x99garbage" + binary * 3)
    assert frames.meta["seq"].tolist() == [5, 5, 5] and dec.encoding.encoding == "bytes"


def test_a_header_line_applies_to_the_rows_after_it_only():
    # a 13-column row read by the inferred C6 layout, then a header that names 13 other columns
    row = b'CSI_DATA,7,1a:00:00:00:00:00,-23,11,-96,-3,40,11,372852,47,0,4,0,"[1,-2,3,-4]"\n'
    header = b"type,seq,mac,rssi,rate,noise_floor,agc_gain,fft_gain,channel,local_timestamp,sig_len,rx_state,len,first_word,data\n"
    frames, dec = decode(row + header + row)
    assert frames.meta["fft_gain"].tolist() == [-3, 40] and frames.meta["agc_gain"].tolist() == [40, -3]
    assert dec.ignored == {"header": 1} and not dec.errors


def test_esp_csi_rows_with_a_label_and_the_array_quoted_without_brackets():
    """An esp-csi variant re-saved by a spreadsheet tool: `"0,0,9,..."` (no brackets), then a
    `label` column. Every row used to count as truncated_line (a torn row): they are complete."""
    def row(seq: int, label: str) -> bytes:
        data = values(seed=seq)
        head = f"CSI_DATA,{seq},{MAC},-41,11,1,3,1,1,0,1,0,0,1,-95,2,11,2,{1000 + seq},0,44,0,{len(data)},0,"
        return (head + '"' + ",".join(map(str, data)) + '",' + label).encode()

    rows = [row(1, "walk"), row(2, "sit"), row(3, "empty")]
    for header in (ESP_HEADER + b",label\n", b""):  # with the tool's header line, and without
        for newline in (b"\n", b"\r\n"):
            frames, dec = decode(header + newline.join(rows) + newline)
            assert frames.meta["seq"].tolist() == [1, 2, 3] and not dec.errors
            assert frames.meta["timestamp_us"].tolist() == [1001, 1002, 1003]
            assert [frames.csi[i].tolist() for i in range(3)] == [values(seed=s) for s in (1, 2, 3)]
    torn = rows[1][:300]  # the quote opens and never closes: this one is torn
    frames, dec = decode(rows[0] + b"\n" + torn + b"\n" + rows[2] + b"\n")
    assert frames.meta["seq"].tolist() == [1, 3] and dec.errors == {"truncated_line": 1}
