"""Shared protocol-v1 vectors (tests/vectors/protocol_v1.json), Python side.

The C host tests (firmware/host_test, test_vectors) check that the firmware's encoder
produces exactly `frame_hex`; here csi_edge.decoder must decode every field of the same
bytes, and the Python encoder must still produce them (the file is not stale).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from csi_edge import protocol as p
from csi_edge.decoder import decode_bytes
from csi_edge.frames import FORMAT_V1

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "protocol_v1.json"
DOC = json.loads(VECTORS.read_text(encoding="utf-8"))
BY_TYPE = {t: [v for v in DOC["vectors"] if v["type"] == t] for t in ("csi", "stats", "hello", "log")}
FLAG_NAMES = ("smoothing", "not_sounding", "aggregation", "stbc", "fec_coding", "sgi", "first_word_invalid",
              "gain_lock")  # fmt: skip


def _decode_one(vector: dict):
    decoded, decoder = decode_bytes(bytes.fromhex(vector["frame_hex"]))
    assert dict(decoder.errors) == {}, vector["name"]
    assert dict(decoder.ignored) == {}, vector["name"]
    return decoded


def test_every_frame_type_and_the_csi_lengths_are_covered():
    assert DOC["protocol"] == p.VERSION
    assert all(BY_TYPE.values())
    assert {v["fields"]["csi_len"] for v in BY_TYPE["csi"]} >= {0, 128, 384, 612}
    assert any(v["fields"]["fft_gain"] < 0 and v["fields"]["rssi"] < 0 for v in BY_TYPE["csi"])


@pytest.mark.parametrize("vector", BY_TYPE["csi"], ids=lambda v: v["name"])
def test_csi_vector_decodes_every_field(vector):
    decoded = _decode_one(vector)
    assert len(decoded.frames) == 1
    meta = decoded.frames.meta[0]
    fields = vector["fields"]
    for name, value in fields.items():
        if name != "flags":
            assert int(meta[name]) == value, name
    flags = fields["flags"]
    for name in FLAG_NAMES:  # every flag bit, derived independently of the decoder
        want = vector["flag_fields"].get(name, 0)
        assert int(meta[name]) == want, name
    assert flags == p.csi_flags(**vector["flag_fields"])
    assert int(meta["format"]) == FORMAT_V1
    want_csi = np.frombuffer(bytes.fromhex(vector["csi_hex"]), dtype=np.int8)
    got = decoded.frames.csi[0, : fields["csi_len"]]
    np.testing.assert_array_equal(got, want_csi)


@pytest.mark.parametrize("vector", BY_TYPE["stats"], ids=lambda v: v["name"])
def test_stats_vector_decodes_every_field(vector):
    decoded = _decode_one(vector)
    assert len(decoded.stats) == 1
    assert decoded.stats[0].to_dict() == vector["fields"]


@pytest.mark.parametrize("vector", BY_TYPE["hello"], ids=lambda v: v["name"])
def test_hello_vector_decodes_every_field(vector):
    decoded = _decode_one(vector)
    assert len(decoded.hellos) == 1
    assert decoded.hellos[0].to_dict() == vector["fields"]


@pytest.mark.parametrize("vector", BY_TYPE["log"], ids=lambda v: v["name"])
def test_log_vector_decodes_every_field(vector):
    decoded = _decode_one(vector)
    assert len(decoded.logs) == 1
    assert decoded.logs[0].level == vector["fields"]["level"]
    assert decoded.logs[0].text == vector["fields"]["text"]


def test_python_encoder_still_produces_the_vectors():
    encoders = {
        "stats": lambda f: p.encode_stats(p.Stats(**f)),
        "hello": lambda f: p.encode_hello(p.Hello(**f)),
        "log": lambda f: p.encode_log(f["level"], f["text"]),
    }
    for v in DOC["vectors"]:
        if v["type"] == "csi":
            fields = dict(v["fields"])
            fields.pop("csi_len")
            got = p.encode_csi(bytes.fromhex(v["csi_hex"]), **fields)
        else:
            got = encoders[v["type"]](v["fields"])
        assert got.hex() == v["frame_hex"], v["name"]


def test_all_vectors_in_one_stream_with_garbage_between_them():
    stream = b"".join(b"boot garbage \xc5\x00 line\n" + bytes.fromhex(v["frame_hex"]) for v in DOC["vectors"])
    decoded, decoder = decode_bytes(stream)
    assert len(decoded.frames) == len(BY_TYPE["csi"])
    assert len(decoded.stats) == len(BY_TYPE["stats"])
    assert len(decoded.hellos) == len(BY_TYPE["hello"])
    assert len(decoded.logs) == len(BY_TYPE["log"])
    assert decoder.errors.get("crc", 0) == 0


def _payload(vector: dict) -> bytes:
    raw = bytes.fromhex(vector["frame_hex"])
    return raw[p.HEADER_SIZE : -p.CRC.size]


@pytest.mark.parametrize("vector", BY_TYPE["hello"] + BY_TYPE["stats"], ids=lambda v: v["name"])
def test_firmware_11_payloads_keep_the_10_layout_in_front(vector):
    """A host that knows only firmware 1.0 reads the first 64 (HELLO) / 52 (STATS) bytes of a
    1.1 payload and gets the same fields; the new ones are appended, never inserted."""
    payload = _payload(vector)
    base = p.HELLO_STRUCT.size if vector["type"] == "hello" else p.STATS_STRUCT.size
    full = (p.parse_hello if vector["type"] == "hello" else p.parse_stats)(payload).to_dict()
    old = (p.parse_hello if vector["type"] == "hello" else p.parse_stats)(payload[:base]).to_dict()
    new_fields = {"status", "csi_scale", "csi_shift", "country", "error_code", "error", "duplicates", "tx_skipped"}
    assert {k: v for k, v in full.items() if k not in new_fields} == {k: v for k, v in old.items() if k not in new_fields}
    assert all(old[k] is None for k in new_fields & set(old))
    assert len(payload) == base + (0 if vector["firmware"] == "1.0" else
                                   (p.HELLO_EXT_STRUCT.size if vector["type"] == "hello" else p.STATS_EXT_STRUCT.size))  # fmt: skip


def test_hello_problem_names_status_and_error_and_a_mix_of_old_and_new_fields_is_refused():
    by_name = {v["name"]: v for v in BY_TYPE["hello"]}
    retrying = p.Hello(**by_name["hello_tx_uart_retrying"]["fields"])
    assert retrying.problem == "start failed, retrying: esp_wifi_set_channel 13/0: ESP_ERR_INVALID_ARG (retry 3 in 8 s)"
    assert retrying.csi_scaling == "auto"
    running = p.Hello(**by_name["hello_rx"]["fields"])
    assert running.problem is None and running.csi_scaling == "manual:4"
    old = p.Hello(**by_name["hello_fw10_rx"]["fields"])
    assert old.problem is None and old.csi_scaling is None and not old.extended
    with pytest.raises(ValueError, match="firmware 1.1 fields go together"):
        p.encode_hello(p.Hello(**dict(by_name["hello_fw10_rx"]["fields"], status=0)))
