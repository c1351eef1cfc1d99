"""The web view's parts without a browser: decimation, the binary frame, fan-out, access, config."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import numpy as np
import pytest

from csi_edge.config import load_config, parse_listen
from csi_edge.decoder import StreamDecoder
from csi_edge.errors import ConfigError
from csi_edge.features import amplitude
from csi_edge.frames import FrameBatch
from csi_edge.model.card import load_card
from csi_edge.model.runtime import default_model_path
from csi_edge.results import StateFields
from csi_edge.web.auth import COOKIE, Access, load_token, same_origin
from csi_edge.web.cardview import card_view
from csi_edge.web.feed import HEATMAP_SCALE, Feed, quantise
from csi_edge.web.hub import FRAME_HEADER, Client, Hub, HubSettings, encode_rows

REAL = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "real" / "esp-csi-s3" / "los_session01.csv"


@pytest.fixture(scope="module")
def real_frames() -> FrameBatch:
    """Real ESP32-S3 packets (esp-csi text, HT40 below), decoded by the one decoder."""
    if not REAL.exists():
        pytest.skip(f"{REAL}: the shared real recordings are absent")
    decoder = StreamDecoder()
    frames = decoder.feed(REAL.read_bytes()[:400_000]).frames
    assert len(frames) >= 300
    return frames[:300]


def decode_frame(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """The page's parser, in Python: (ages in ms, rows uint8 (N, S))."""
    kind, version, s, n, _, scale, _sent = FRAME_HEADER.unpack_from(data)
    assert (kind, version, scale) == (0x48, 1, pytest.approx(HEATMAP_SCALE))
    ages = np.frombuffer(data, "<u2", n, FRAME_HEADER.size)
    rows = np.frombuffer(data, np.uint8, n * s, FRAME_HEADER.size + 2 * n).reshape(n, s)
    assert len(data) == FRAME_HEADER.size + 2 * n + n * s
    return ages, rows


@pytest.mark.parametrize("chunks", [[300], [1] * 300, [7, 3, 90, 1, 199], [4] * 75])
def test_feed_keeps_every_nth_packet_however_the_stream_is_batched(real_frames, chunks):
    feed = Feed(decimation=4)
    start = 0
    for i, size in enumerate(chunks):
        feed.packets(real_frames[start : start + size], float(i))
        start += size
    rows, _ = feed.drain()
    kept = np.concatenate([r.values for r in rows])
    amp, valid = amplitude(real_frames[0::4])
    np.testing.assert_array_equal(kept, quantise(amp[valid]))
    assert feed.packets_total == 300 and feed.last_packet == float(len(chunks) - 1)
    assert kept.dtype == np.uint8 and kept.shape[1] == 52 and 0 < kept.max() < 255  # real amplitudes fit the scale
    assert len(np.unique(kept)) > 40  # and keep their detail (a linear uint8 would give them about 15 levels)


def test_heatmap_values_are_dB_steps():
    q = quantise(np.array([0.2, 1.0, 10.0, 100.0, 181.02], dtype=np.float32))
    assert q.tolist() == [0, 0, round(20 * HEATMAP_SCALE), round(40 * HEATMAP_SCALE), 253]


def test_handoff_is_bounded_and_counts_what_it_loses():
    feed = Feed(decimation=1)
    for i in range(2000):
        feed.message("state", {"seq": i})
    _, messages = feed.drain()
    assert len(messages) == 1024 and messages[-1].payload == {"seq": 1999}  # the newest are kept
    assert feed.handoff_dropped == 2000 - 1024


def test_binary_frame_round_trip():
    rows = np.arange(3 * 52, dtype=np.uint8).reshape(3, 52)
    frame = encode_rows(np.array([9.0, 9.5, 9.9]), rows, now=10.0)
    ages, back = decode_frame(frame)
    np.testing.assert_array_equal(back, rows)
    assert ages.tolist() == [1000, 500, 100] and FRAME_HEADER.unpack_from(frame)[-1] == 10.0


def settings(**kw) -> HubSettings:
    base = {"node": "n", "mode": "run", "heatmap_s": 10.0, "timeline_s": 60.0, "control": False, "client_queue": 8}
    return HubSettings(**{**base, **kw})


def test_a_stalled_page_loses_messages_counted_and_the_others_get_everything(real_frames):
    async def run() -> tuple[Client, Client, Hub]:
        feed = Feed(decimation=1)
        hub = Hub(settings(), feed)
        stalled, reading = Client(4), Client(1000)
        hub.clients |= {stalled, reading}
        for i in range(20):
            feed.message("state", {"seq": i, "activity": "walking"})
            feed.packets(real_frames[i * 10 : i * 10 + 10], 100.0 + i)
            hub.pump(100.0 + i)
        return stalled, reading, hub

    stalled, reading, hub = asyncio.run(run())
    got = [reading.queue.get_nowait() for _ in range(reading.queue.qsize())]
    assert len(got) == 40 and sum(isinstance(m, bytes) for m in got) == 20
    assert json.loads(got[-1])["data"]["seq"] == 19
    assert stalled.queue.qsize() == 4 and stalled.dropped == 36 and hub.dropped == 36
    newest = [stalled.queue.get_nowait() for _ in range(4)]  # it keeps the newest, to show them
    assert json.loads(newest[-1])["data"]["seq"] == 19 and isinstance(newest[-2], bytes)


def test_a_new_page_gets_the_card_latest_messages_timeline_and_the_last_seconds_of_heatmap(real_frames):
    async def run() -> list:
        feed = Feed(decimation=2)
        hub = Hub(settings(heatmap_s=5.0), feed)
        feed.message("card", {"model_id": "m@1"})
        for i in range(30):  # one batch of 10 packets per second, for 30 s
            feed.packets(real_frames[i * 10 : i * 10 + 10], 1000.0 + i)
            feed.message("state", {"seq": i, "activity": "sitting", "confidence": 0.9, "presence": True})
            hub.pump(1000.0 + i)
        feed.message("health", {"packet_rate_Hz": 10.0})
        hub.pump(1030.0)
        return hub.hello(1030.0)

    hello = asyncio.run(run())
    texts = [json.loads(m) for m in hello if isinstance(m, str)]
    assert [m["type"] for m in texts] == ["hello", "card", "health", "state", "timeline"]
    assert texts[0]["data"]["mode"] == "run" and texts[0]["data"]["heatmap"]["decimation"] == 2
    assert texts[3]["data"]["seq"] == 29
    ages, rows = decode_frame(hello[-1])
    assert ages.max() <= 5000 and 20 <= len(rows) <= 25  # only the last 5 s (5 rows per second kept)
    amp, valid = amplitude(real_frames[0::2])
    np.testing.assert_array_equal(rows, quantise(amp[valid])[-len(rows) :])  # the newest rows, in order
    assert len(texts[4]["data"]["items"]) > 0


def test_access_token_header_cookie_and_origin():
    access = Access("s3cret-token")
    assert not access.allows({}, {})
    assert access.allows({"Authorization": "Bearer s3cret-token"}, {})
    assert not access.allows({"Authorization": "Bearer wrong"}, {})
    assert access.allows({}, {COOKIE: access.session}) and "s3cret" not in access.session
    assert not access.allows({}, {COOKIE: "s3cret-token"})
    assert Access("").allows({}, {}) and not Access("").check_login("")
    assert same_origin({}, "127.0.0.1:8080") and same_origin({"Origin": "http://127.0.0.1:8080"}, "127.0.0.1:8080")
    assert not same_origin({"Origin": "http://evil.example"}, "127.0.0.1:8080")


def test_web_config_is_checked_with_the_key_named(tmp_path):
    with pytest.raises(ConfigError, match=r"\[web\] tls = true needs cert_file and key_file"):
        load_config(None, {"web.tls": True})
    with pytest.raises(ConfigError, match=r"\[web\] token and token_file are exclusive"):
        load_config(None, {"web.token": "a", "web.token_file": "b"})
    with pytest.raises(ConfigError, match=r"\[web\] port must be 1..65535"):
        load_config(None, {"web.port": 0})
    with pytest.raises(ConfigError, match=r"--web 'localhost': expected HOST:PORT"):
        parse_listen("localhost")
    assert parse_listen("0.0.0.0:8080") == {"web.enabled": True, "web.host": "0.0.0.0", "web.port": 8080}
    assert parse_listen("[::1]:81") == {"web.enabled": True, "web.host": "::1", "web.port": 81}
    assert parse_listen("9000") == {"web.enabled": True, "web.port": 9000}
    cfg = load_config(None, parse_listen("9000"))
    assert (cfg.web.enabled, cfg.web.host, cfg.web.port) == (True, "127.0.0.1", 9000)  # loopback unless told


def test_token_file(tmp_path):
    f = tmp_path / "token"
    f.write_text("abc123\nignored\n")
    assert load_token(load_config(None, {"web.token_file": str(f)}).web) == "abc123"
    with pytest.raises(ConfigError, match=r"\[web\] token_file .*missing: cannot read the token"):
        load_token(load_config(None, {"web.token_file": str(tmp_path / "missing")}).web)
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(ConfigError, match="the first line is empty"):
        load_token(load_config(None, {"web.token_file": str(tmp_path / "empty")}).web)


def test_card_view_of_the_shipped_model():
    path = default_model_path()
    assert path is not None
    card, _ = load_card(path)
    view = card_view(StateFields.of(card, 0.8))
    assert view["model_id"] == card.model_id and view["classes"] == list(card.classes)
    assert view["window"] == card.window and view["heads"][0]["name"] == "activity"
    parts = {p for p, m in card.metrics.items() if isinstance(m, dict) and "n" in m}  # not the seeds summary
    assert set(view["metrics"]) == parts  # per day, as the card states them
    assert "history" not in json.dumps(view)  # the training history stays out
