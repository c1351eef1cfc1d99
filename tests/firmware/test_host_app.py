"""The host-built firmware (firmware/host_test: main/*.c on the fake ESP-IDF) end to end with
the Python side: settings written by `csi-edge flash` come back in the board's HELLO, and the
stream it writes under injected load decodes with csi_edge.decoder with every packet
accounted for (captured == sent + dropped), in both output formats."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from csi_edge.cli import main
from csi_edge.decoder import decode_bytes
from csi_edge.tools.flash import verify

REPO = Path(__file__).resolve().parents[2]
HOST_TEST = REPO / "firmware" / "host_test"
TX_MAC, RX_MAC = "7c:df:a1:00:00:01", "7c:df:a1:00:00:02"  # host_app's fake radio uses these


@pytest.fixture(scope="module")
def host_app(tmp_path_factory) -> Path:
    """The host_app binary: reuse run.sh's build dir, else build it in a temp dir."""
    if not shutil.which("cmake") or not shutil.which("gcc"):
        pytest.skip("cmake and gcc are needed for the firmware host build")
    build = Path(os.environ.get("CSI_EDGE_HOST_BUILD", HOST_TEST / "build"))
    if not (build / "CMakeCache.txt").is_file():
        build = tmp_path_factory.mktemp("host_build")
        subprocess.run(["cmake", "-S", str(HOST_TEST), "-B", str(build)], check=True, capture_output=True)
    subprocess.run(["cmake", "--build", str(build), "--target", "host_app", "-j", "2"], check=True,
                   capture_output=True)  # fmt: skip
    return build / "host_app"


def _run_app(app: Path, *args: str) -> str:
    res = subprocess.run([str(app), *args], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    return res.stdout


def test_flashed_settings_come_back_in_the_hello(host_app, tmp_path, capsys):
    out_dir = tmp_path / "flash"
    code = main(["flash", "pair", "--tx", "/dev/ttyTX", "--rx", "/dev/ttyRX", "--dry-run", "--tx-mac", TX_MAC,
                 "--rx-mac", RX_MAC, "--out-dir", str(out_dir), "--channel", "9", "--secondary", "below",
                 "--bandwidth", "40", "--rate-hz", "500", "--phy-rate", "mcs3-sgi", "--gain-lock",
                 "--gain-lock-packets", "20", "--ltf", "lltf,htltf"])  # fmt: skip
    capsys.readouterr()
    assert code == 0
    stream = tmp_path / "rx.bin"
    _run_app(host_app, "--nvs-csv", str(out_dir / "rx_nvs.csv"), "--rate", "500", "--seconds", "3",
             "--gain-lock", "--ltf-mask", "3", "--out", str(stream))  # fmt: skip
    decoded, decoder = decode_bytes(stream.read_bytes())
    assert decoder.errors.get("crc", 0) == 0
    hello = decoded.hellos[0]
    values = {k: v for k, v in _csv_values(out_dir / "rx_nvs.csv").items()}
    assert verify.hello_mismatches(hello, values, RX_MAC) == []
    assert (hello.channel, hello.secondary_channel, hello.bandwidth, hello.phy_rate) == (9, 2, 1, 0x1B)
    # a different flashed value is reported as a mismatch, naming the field
    assert verify.hello_mismatches(hello, dict(values, rate_hz=100), RX_MAC) == [
        "send_rate_hz: board says 500, flashed 100"]  # fmt: skip


def _csv_values(path: Path) -> dict[str, int | str]:
    values: dict[str, int | str] = {}
    for line in path.read_text().splitlines()[2:]:
        key, _type, encoding, value = line.split(",")
        values[key] = value if encoding == "string" else int(value)
    return values


@pytest.mark.parametrize(("transport", "expect_drops"), [("usb", False), ("uart", True)])
def test_v1_stream_under_1khz_load_decodes_with_every_packet_accounted(host_app, tmp_path, transport, expect_drops):
    stream = tmp_path / "rx.bin"
    summary = _run_app(host_app, "--rate", "1000", "--seconds", "3", "--transport", transport, "--baud", "921600",
                       "--lose-every", "50", "--out", str(stream))  # fmt: skip
    decoded, decoder = decode_bytes(stream.read_bytes())
    assert dict(decoder.errors) == {}
    last = decoded.stats[-1]
    assert last.captured == 3000 - 3000 // 50
    assert last.captured == last.sent + last.dropped_queue + last.dropped_write
    assert len(decoded.frames) == last.sent
    assert (last.dropped_queue > 0) == expect_drops
    seq = decoded.frames.meta["seq"]
    assert np.all(np.diff(seq) > 0)
    # every 50th seq is lost on air (49, 99, ..., 2999); the RX counts the 59 it can see
    assert last.seq_gaps == 3000 // 50 - 1
    assert f"captured {last.captured}, sent {last.sent}" in summary


def test_esp_csi_text_stream_decodes_with_the_text_decoder(host_app, tmp_path):
    stream = tmp_path / "rx.txt"
    _run_app(host_app, "--rate", "100", "--seconds", "3", "--format", "esp-csi", "--csi-len", "384",
             "--ltf-mask", "7", "--out", str(stream))  # fmt: skip
    decoded, decoder = decode_bytes(stream.read_bytes())
    assert dict(decoder.errors) == {}
    last = decoded.stats[-1]
    assert last.sent == 300 and last.dropped_queue == 0
    assert len(decoded.frames) == 300
    meta = decoded.frames.meta
    assert np.all(meta["csi_len"] == 384)
    assert np.all(meta["first_word_invalid"] == 1)
    assert np.array_equal(meta["seq"], np.arange(300))
    # host_app fills csi[i] = seq + i (as int8)
    want = ((np.arange(300)[:, None] + np.arange(384)[None, :]) & 0xFF).astype(np.uint8).view(np.int8)
    assert np.array_equal(decoded.frames.csi[:, :384], want)
