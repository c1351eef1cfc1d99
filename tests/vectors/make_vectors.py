"""Generate tests/vectors/protocol_v1.json with the Python encoder (csi_edge.protocol).

Run once (and again only when the protocol changes on purpose):

    .venv/bin/python tests/vectors/make_vectors.py

Both test suites read the output: the C host tests (firmware/host_test, ctest) encode each
vector's fields and compare the bytes with `frame_hex`; tests/firmware/test_vectors.py decodes
`frame_hex` with csi_edge.decoder and checks every field.

File shape, kept one vector per line so the C side can read it without a JSON library:
`{"name", "type": csi|stats|hello|log, ["firmware": "1.0"|"1.1",] "fields": {...},
["flag_fields": {...},] "csi_hex" (CSI only), "frame_hex"}`. Field names are the wire-protocol
names; strings contain no quote or backslash characters. STATS and HELLO vectors say which
firmware layout they use: "1.1" (the full payload the firmware sends) or "1.0" (the shorter
payload of older boards, which readers still accept; its 1.1 fields are null).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from csi_edge import protocol as p

OUT = Path(__file__).with_name("protocol_v1.json")


def _csi_bytes(n: int, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    return rng.integers(-128, 128, size=n, dtype=np.int16).astype(np.int8).tobytes()


def _csi_vector(name: str, csi_len: int, seed: int, flag_fields: dict, **fields) -> dict:
    raw = _csi_bytes(csi_len, seed)
    flags = p.csi_flags(**flag_fields)
    all_fields = dict(fields, flags=flags, csi_len=csi_len)
    frame = p.encode_csi(raw, **all_fields)
    return {"name": name, "type": "csi", "fields": all_fields, "flag_fields": flag_fields,
            "csi_hex": raw.hex(), "frame_hex": frame.hex()}  # fmt: skip


def _csi_vectors() -> list[dict]:
    base = dict(seq=1, timestamp_us=1_000_000, tx_timestamp_us=999_000, rssi=-40, noise_floor=-92,
                rate=11, sig_mode=1, mcs=0, bandwidth=0, channel=11, secondary_channel=0,
                agc_gain=40, fft_gain=-3, sig_len=60, rx_state=0, ant=0)  # fmt: skip
    return [
        _csi_vector("csi_empty", 0, 1, {}, **dict(base, seq=0, timestamp_us=0, tx_timestamp_us=0)),
        _csi_vector("csi_lltf_128_none", 128, 2, {"first_word_invalid": 1, "gain_lock": 1}, **base),
        _csi_vector(
            "csi_384_ht40_below", 384, 3,
            {"smoothing": 1, "not_sounding": 1, "stbc": 1, "gain_lock": 2},
            **dict(base, seq=123456, bandwidth=1, channel=11, secondary_channel=2, sig_mode=1, mcs=7,
                   rssi=-71, noise_floor=-97, agc_gain=52, fft_gain=-12, sig_len=44),
        ),  # fmt: skip
        _csi_vector(
            "csi_612_max", 612, 4,
            {"smoothing": 1, "not_sounding": 1, "aggregation": 1, "stbc": 3, "fec_coding": 1, "sgi": 1,
             "first_word_invalid": 1, "gain_lock": 3},
            **dict(base, seq=0xFFFFFFFF, timestamp_us=(1 << 40) + 12345, tx_timestamp_us=0xFFFFFFFF,
                   rssi=-128, noise_floor=-128, rate=31, sig_mode=3, mcs=76, bandwidth=1, channel=5,
                   secondary_channel=1, agc_gain=255, fft_gain=-128, sig_len=4095, rx_state=7, ant=1),
        ),  # fmt: skip
        _csi_vector("csi_128_positive_gain", 128, 5, {"sgi": 1}, **dict(base, fft_gain=17, rssi=-1, channel=1)),
    ]


def _stats_vectors() -> list[dict]:
    cases = {
        "stats_rx": p.Stats(uptime_us=61_000_123, captured=6100, sent=6090, dropped_queue=7, dropped_write=1,
                            filtered=42, seq_gaps=3, queue_high_water=17, queue_capacity=64, agc_gain=38,
                            fft_gain=-6, gain_lock=2, role=1, duplicates=12, tx_skipped=0),
        "stats_tx": p.Stats(uptime_us=3_600_000_000_000, captured=0, sent=0, dropped_queue=0, dropped_write=0,
                            filtered=0, seq_gaps=0, queue_high_water=0, queue_capacity=0, agc_gain=0,
                            fft_gain=0, gain_lock=0, role=0, tx_sent=359_999_000, tx_send_errors=1001,
                            tx_recoveries=2, duplicates=0, tx_skipped=57),
        "stats_max": p.Stats(uptime_us=(1 << 64) - 1, captured=0xFFFFFFFF, sent=0xFFFFFFFE, dropped_queue=1,
                             dropped_write=0xFFFFFFFF, filtered=5, seq_gaps=0x80000000, queue_high_water=65535,
                             queue_capacity=65535, agc_gain=255, fft_gain=-128, gain_lock=3, role=1,
                             tx_sent=0xFFFFFFFF, tx_send_errors=0xFFFFFFFF, tx_recoveries=0xFFFFFFFF,
                             duplicates=0xFFFFFFFF, tx_skipped=0xFFFFFFFE),
        # a firmware 1.0 board (52 bytes): still decoded, the 1.1 fields read as None
        "stats_fw10": p.Stats(uptime_us=61_000_123, captured=6100, sent=6090, dropped_queue=7, dropped_write=1,
                              filtered=42, seq_gaps=3, queue_high_water=17, queue_capacity=64, agc_gain=38,
                              fft_gain=-6, gain_lock=2, role=1),
    }  # fmt: skip
    return [{"name": n, "type": "stats", "firmware": "1.0" if s.duplicates is None else "1.1",
             "fields": s.to_dict(), "frame_hex": p.encode_stats(s).hex()} for n, s in cases.items()]  # fmt: skip


def _hello_vectors() -> list[dict]:
    ok = dict(status=p.STATUS_RUNNING, csi_scale=1, csi_shift=4, country="01", error_code=0, error="")
    cases = {
        "hello_rx": p.Hello(fw_major=1, fw_minor=1, fw_patch=0, role=1, mac="7c:df:a1:00:00:02",
                            peer_mac="7c:df:a1:00:00:01", channel=11, secondary_channel=2, bandwidth=1,
                            phy_rate=16, send_rate_hz=100, transport=0, output_format=0, uart_baud=921600,
                            gain_lock=1, ltf_mask=1, gain_lock_packets=100, build="1.1.0 g1a2b3c4 2026-11-29",
                            **ok),
        "hello_tx_uart_retrying": p.Hello(
            fw_major=2, fw_minor=15, fw_patch=255, role=0, mac="aa:bb:cc:dd:ee:ff", peer_mac="ff:ff:ff:ff:ff:ff",
            channel=13, secondary_channel=0, bandwidth=0, phy_rate=11, send_rate_hz=1000, transport=1,
            output_format=1, uart_baud=2_000_000, gain_lock=0, ltf_mask=7, gain_lock_packets=1000, build="B" * 32,
            status=p.STATUS_RETRYING, csi_scale=0, csi_shift=0, country="DE", error_code=0x102,
            error="esp_wifi_set_channel 13/0: ESP_ERR_INVALID_ARG (retry 3 in 8 s)"),
        "hello_settings_refused": p.Hello(
            fw_major=1, fw_minor=1, fw_patch=0, role=1, mac="00:11:22:33:44:55", peer_mac="66:77:88:99:aa:bb",
            channel=1, secondary_channel=1, bandwidth=1, phy_rate=24, send_rate_hz=1, transport=1,
            output_format=0, uart_baud=9600, gain_lock=0, ltf_mask=3, gain_lock_packets=10, build="",
            status=p.STATUS_SETTINGS, csi_scale=1, csi_shift=15, country="JP", error_code=-1,
            error="E" * 96),
        # firmware 1.0 boards (64 bytes): still decoded, the 1.1 fields read as None
        "hello_fw10_rx": p.Hello(fw_major=1, fw_minor=0, fw_patch=0, role=1, mac="7c:df:a1:00:00:02",
                                 peer_mac="7c:df:a1:00:00:01", channel=11, secondary_channel=2, bandwidth=1,
                                 phy_rate=16, send_rate_hz=100, transport=0, output_format=0, uart_baud=921600,
                                 gain_lock=1, ltf_mask=1, gain_lock_packets=100, build="1.0.0 g1a2b3c4 2026-11-22"),
        "hello_fw10_empty_build": p.Hello(fw_major=0, fw_minor=1, fw_patch=2, role=1, mac="00:11:22:33:44:55",
                                          peer_mac="66:77:88:99:aa:bb", channel=1, secondary_channel=1,
                                          bandwidth=1, phy_rate=24, send_rate_hz=1, transport=1, output_format=0,
                                          uart_baud=9600, gain_lock=0, ltf_mask=3, gain_lock_packets=10, build=""),
    }  # fmt: skip
    return [{"name": n, "type": "hello", "firmware": "1.1" if h.extended else "1.0", "fields": h.to_dict(),
             "frame_hex": p.encode_hello(h).hex()} for n, h in cases.items()]  # fmt: skip


def _log_vectors() -> list[dict]:
    cases = {"log_info": (3, "writer started, queue 64 frames"), "log_utf8": (2, "latency 12 µs > budget"),
             "log_empty": (1, "")}  # fmt: skip
    return [{"name": n, "type": "log", "fields": {"level": lvl, "text": text},
             "frame_hex": p.encode_log(lvl, text).hex()} for n, (lvl, text) in cases.items()]  # fmt: skip


def build() -> dict:
    return {
        "protocol": p.VERSION,
        "generator": "tests/vectors/make_vectors.py (csi_edge.protocol encoder)",
        "vectors": _csi_vectors() + _stats_vectors() + _hello_vectors() + _log_vectors(),
    }


def dump(doc: dict) -> str:
    """JSON with exactly one vector per line (the C reader relies on it)."""
    head = {k: v for k, v in doc.items() if k != "vectors"}
    lines = [json.dumps(v, ensure_ascii=False, separators=(", ", ": ")) for v in doc["vectors"]]
    for v in doc["vectors"]:
        text = json.dumps(v, ensure_ascii=False)
        assert "\\" not in text, f"vector {v['name']} needs escaping; the C reader does not unescape"
    body = ",\n".join("  " + line for line in lines)
    return json.dumps(head, ensure_ascii=False)[:-1] + ', "vectors": [\n' + body + "\n]}\n"


if __name__ == "__main__":
    doc = build()
    OUT.write_text(dump(doc), encoding="utf-8")
    assert json.loads(OUT.read_text(encoding="utf-8")) == doc
    print(f"wrote {len(doc['vectors'])} vectors to {OUT}")
