"""`csi-edge flash`: dry run for two boards, NVS images read back from the binary, firmware
layouts (build dir, bundle), the C/Python settings table, and the one-line error paths."""

from __future__ import annotations

import json
import os
import re
import struct
import zipfile
from pathlib import Path

import pytest
import serial

from csi_edge.cli import main
from csi_edge.errors import DataError
from csi_edge.tools.flash import boards, layout, nvs_image, settings
from csi_edge.tools.flash import models as flash_models

REPO = Path(__file__).resolve().parents[2]
TX_MAC, RX_MAC = "7c:df:a1:00:00:01", "7c:df:a1:00:00:02"


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["flash", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def _pair(tmp_path: Path, *extra: str) -> list[str]:
    return ["pair", "--tx", "/dev/ttyTX0", "--rx", "/dev/ttyRX0", "--dry-run", "--tx-mac", TX_MAC.upper(),
            "--rx-mac", RX_MAC, "--out-dir", str(tmp_path / "out"), *extra]  # fmt: skip


def _read_back(path: Path) -> dict[str, int | str]:
    entries = nvs_image.read_nvs(path.read_bytes(), str(path))
    assert list(entries) == [settings.NAMESPACE]
    return {key: value for key, (_type, value) in entries[settings.NAMESPACE].items()}


def test_dry_run_for_two_boards(tmp_path, capsys):
    code, out, err = _run(capsys, *_pair(tmp_path))
    assert code == 0 and err == ""
    out_dir = tmp_path / "out"
    assert f"output directory: {out_dir}" in out
    esptool = [ln for ln in out.splitlines() if "-m esptool" in ln]
    assert len(esptool) == 2
    for line, port, image in ((esptool[0], "/dev/ttyTX0", "tx_nvs.bin"), (esptool[1], "/dev/ttyRX0", "rx_nvs.bin")):
        assert f"--port {port}" in line and "--chip esp32s3" in line and "write-flash" in line
        offsets = re.findall(r" (0x[0-9a-f]+) (\S+)", line)
        assert [o for o, _ in offsets] == ["0x0", "0x8000", "0x9000", "0x10000"]
        assert dict(offsets)["0x9000"] == str(out_dir / image)
    assert out.count("-m esp_idf_nvs_partition_gen generate") == 2
    assert f"--- TX NVS CSV ({out_dir / 'tx_nvs.csv'}) ---" in out
    assert f"peer_mac,data,string,{RX_MAC}" in out and f"peer_mac,data,string,{TX_MAC}" in out
    # the images it would flash, read back from the binaries
    tx, rx = _read_back(out_dir / "tx_nvs.bin"), _read_back(out_dir / "rx_nvs.bin")
    assert (out_dir / "rx_nvs.bin").stat().st_size == layout.NVS_SIZE
    assert tx["role"] == 0 and rx["role"] == 1
    assert tx["peer_mac"] == RX_MAC and rx["peer_mac"] == TX_MAC  # RX filters on the TX MAC
    # the defaults: the reference setup (HT40 below on channel 11) the shipped model expects
    common = {"channel": 11, "secondary": 2, "bandwidth": 1, "phy_rate": 16, "rate_hz": 100, "transport": 0,
              "baud": 921600, "format": 0, "gain_lock": 0, "gl_packets": 100, "ltf_mask": 1, "country": "01",
              "csi_scale": 1, "csi_shift": 4}  # fmt: skip
    for board in (tx, rx):
        assert {k: board[k] for k in common} == common
    assert set(tx) == {k.key for k in settings.KEYS}
    # the dry run says what the boards will do, the country included, and which models can run it
    assert "link: channel 11 (HT40, secondary below), country 01 (channels 1..11), mcs0 at 100 Hz" in out
    assert f"models in {REPO / 'models'} these settings can run: default" in out


def test_every_setting_reaches_the_nvs_image(tmp_path, capsys):
    code, _out, _err = _run(capsys, *_pair(
        tmp_path, "--channel", "9", "--secondary", "below", "--bandwidth", "40", "--rate-hz", "1000",
        "--phy-rate", "mcs7-sgi", "--transport", "uart", "--baud", "2000000", "--format", "esp-csi",
        "--gain-lock", "--gain-lock-packets", "250", "--ltf", "lltf,htltf,stbc", "--country", "jp",
        "--csi-scale", "auto", "--csi-shift", "0"))  # fmt: skip
    assert code == 0
    rx = _read_back(tmp_path / "out" / "rx_nvs.bin")
    assert rx == {"role": 1, "channel": 9, "secondary": 2, "bandwidth": 1, "phy_rate": 0x1F, "rate_hz": 1000,
                  "peer_mac": TX_MAC, "transport": 1, "baud": 2_000_000, "format": 1, "gain_lock": 1,
                  "gl_packets": 250, "ltf_mask": 7, "country": "JP", "csi_scale": 0, "csi_shift": 0}  # fmt: skip
    # the NVS types the firmware reads with (nvs_get_u8/u16/u32/str must find them)
    types = {k: t for k, (t, _v) in nvs_image.read_nvs((tmp_path / "out" / "rx_nvs.bin").read_bytes())["csi_edge"].items()}
    want = {"u8": 0x01, "u16": 0x02, "u32": 0x04, "string": 0x21}
    assert types == {k.key: want[k.encoding] for k in settings.KEYS}


def test_nvs_reader_checks_crcs(tmp_path, capsys):
    assert _run(capsys, *_pair(tmp_path))[0] == 0
    image = bytearray((tmp_path / "out" / "tx_nvs.bin").read_bytes())
    entries = nvs_image.read_nvs(bytes(image))
    assert entries["csi_edge"]["channel"] == (1, 11)
    pos = image.find(b"channel\0")
    image[pos + 16] = 12  # the u8 value, without fixing the entry CRC
    with pytest.raises(DataError, match="CRC mismatch"):
        nvs_image.read_nvs(bytes(image))


def test_python_settings_table_matches_the_firmware():
    source = (REPO / "firmware" / "components" / "csi_core" / "src" / "csi_config.c").read_text()
    c_keys = re.findall(r'\{"(\w+)", CSI_CFG_(U8|U16|U32|MAC|CC), (\d+), (\d+),', source)
    enc = {"U8": "u8", "U16": "u16", "U32": "u32", "MAC": "string", "CC": "string"}
    assert [(k, enc[t], int(lo), int(hi)) for k, t, lo, hi in c_keys] == [
        (k.key, k.encoding, k.low, k.high) for k in settings.KEYS]  # fmt: skip
    header = (REPO / "firmware" / "components" / "csi_core" / "include" / "csi_config.h").read_text()
    assert f'#define CSI_CONFIG_NVS_NAMESPACE "{settings.NAMESPACE}"' in header


def test_default_layout_matches_the_shipped_partition_table():
    rows = {}
    for line in (REPO / "firmware" / "partitions.csv").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _type, _sub, offset, size = [c.strip() for c in line.split(",")[:5]]
            rows[name] = (int(offset, 16), int(size, 16))
    assert rows["nvs"] == (layout.NVS_OFFSET, layout.NVS_SIZE)
    assert rows["factory"][0] == dict((rel, off) for off, rel in layout.DEFAULT_IMAGES)["csi_edge.bin"]


def _partition_table(nvs_offset: int, nvs_size: int) -> bytes:
    """An ESP-IDF binary partition table (32-byte entries, magic 0x50AA, 0xFF padding)."""
    rows = [(1, 2, nvs_offset, nvs_size, b"nvs"), (1, 1, 0xF000, 0x1000, b"phy_init"), (0, 0, 0x10000, 0x1F0000, b"factory")]
    data = b"".join(struct.pack("<HBBII16sI", 0x50AA, t, s, o, n, label, 0) for t, s, o, n, label in rows)
    return data + b"\xff" * (0xC00 - len(data))


def _fake_build(root: Path, nvs_offset: int = 0x9000) -> Path:
    """A build directory shaped like idf.py's output (the images are placeholders)."""
    for rel in ("bootloader/bootloader.bin", "csi_edge.bin"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(b"\xe9" + bytes(255))
    (root / "partition_table").mkdir(exist_ok=True)
    (root / "partition_table" / "partition-table.bin").write_bytes(_partition_table(nvs_offset, 0x6000))
    (root / "flasher_args.json").write_text(json.dumps({
        "flash_settings": {"flash_mode": "qio", "flash_size": "8MB", "flash_freq": "80m"},
        "flash_files": {"0x0": "bootloader/bootloader.bin", "0x8000": "partition_table/partition-table.bin",
                        "0x10000": "csi_edge.bin"},
        "extra_esptool_args": {"after": "hard_reset", "before": "default_reset", "stub": True, "chip": "esp32s3"},
    }))  # fmt: skip
    return root


def test_build_dir_layout_comes_from_flasher_args_and_partition_table(tmp_path, capsys):
    build = _fake_build(tmp_path / "build", nvs_offset=0x11000)
    code, out, _err = _run(capsys, *_pair(tmp_path, "--build-dir", str(build)))
    assert code == 0
    line = next(ln for ln in out.splitlines() if "--port /dev/ttyRX0" in ln)
    assert "--flash-mode qio" in line and "--flash-size 8MB" in line
    assert f"0x11000 {tmp_path / 'out' / 'rx_nvs.bin'}" in line
    assert f"0x10000 {build / 'csi_edge.bin'}" in line
    assert "image not built yet" not in out


def test_release_bundle_is_unpacked_and_used(tmp_path, capsys):
    build = _fake_build(tmp_path / "build")
    bundle = tmp_path / "fw.zip"
    with zipfile.ZipFile(bundle, "w") as zf:
        for path in build.rglob("*"):
            if path.is_file():
                zf.write(path, path.relative_to(build))
    code, out, _err = _run(capsys, *_pair(tmp_path, "--bundle", str(bundle)))
    assert code == 0
    assert f"firmware: bundle {bundle}" in out
    assert f"0x0 {tmp_path / 'out' / 'bundle' / 'bootloader' / 'bootloader.bin'}" in out


@pytest.mark.parametrize(
    ("extra", "code", "message"),
    [
        (["--tx-mac", "7c:df:a1:00:00"], 2, "--tx-mac: bad MAC '7c:df:a1:00:00'"),
        (["--rx-mac", TX_MAC], 2, "TX and RX have the same MAC"),
        (["--bandwidth", "40", "--secondary", "none"], 2, "--bandwidth 40 needs --secondary above or below"),
        (["--bandwidth", "20", "--secondary", "below"], 2, "--secondary below needs --bandwidth 40"),
        (["--secondary", "above", "--channel", "9"], 2,
         "--secondary above needs --channel 1..7 in --country 01 (its 40 MHz pair is channel + 4; got 9)"),
        (["--secondary", "above", "--channel", "9", "--country", "DE"], 0, ""),
        (["--secondary", "below", "--channel", "4"], 2, "--secondary below needs --channel 5..11 in --country 01"),
        (["--channel", "13"], 2,
         "--channel 13 is not allowed in --country 01 (channels 1..11; e.g. --country DE allows 1..13)"),
        (["--channel", "12", "--country", "US"], 2, "--channel 12 is not allowed in --country US (channels 1..11"),
        (["--channel", "13", "--country", "de"], 0, ""),
        (["--channel", "14", "--country", "JP", "--secondary", "none"], 2,
         "--channel 14 allows only 802.11b (DSSS, Japan): no OFDM, so no CSI"),
        (["--country", "XX"], 2, "--country 'XX' is not a code ESP-IDF knows (one of 01, AT,"),
        (["--phy-rate", "11m"], 2, "--phy-rate 11m is an 802.11b (DSSS) rate: it carries no L-LTF/HT-LTF"),
        (["--phy-rate", "0"], 2, "--phy-rate 1m is an 802.11b (DSSS) rate"),
        (["--phy-rate", "6m", "--ltf", "lltf,htltf"], 2, "--ltf htltf/stbc needs an HT rate"),
        (["--csi-shift", "16"], 2, "--csi-shift must be 0..15 (got 16)"),
        (["--rate-hz", "0"], 2, "--rate-hz must be 1..1000 (got 0)"),
        (["--baud", "3000000"], 2, "--baud must be 9600..2000000"),
        (["--phy-rate", "mcs9"], 2, "--phy-rate: unknown rate 'mcs9'"),
        (["--ltf", "lltf,vht"], 2, "--ltf: unknown block 'vht'"),
        (["--build-dir", "b", "--bundle", "x.zip"], 2, "give --build-dir or --bundle, not both"),
        (["--bundle", "/nonexistent/fw.zip"], 1, "no such bundle"),
    ],
)
def test_usage_errors_are_one_line(tmp_path, capsys, extra, code, message):
    got, out, err = _run(capsys, *_pair(tmp_path, *extra))
    assert got == code
    if code == 0:  # the combinations next to the refused ones are accepted
        assert err == ""
        return
    assert err.count("\n") == 1 and err.startswith("csi-edge flash: error: ")
    assert message in err


def test_bad_bundle_and_same_port_and_missing_macs(tmp_path, capsys):
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip")
    got, _out, err = _run(capsys, *_pair(tmp_path, "--bundle", str(junk)))
    assert got == 1 and "not a zip file" in err
    got, _out, err = _run(capsys, "pair", "--tx", "/dev/ttyA", "--rx", "/dev/ttyA", "--dry-run",
                          "--tx-mac", TX_MAC, "--rx-mac", RX_MAC)  # fmt: skip
    assert got == 2 and "--tx and --rx are the same port" in err
    got, _out, err = _run(capsys, "pair", "--tx", "/dev/ttyA", "--rx", "/dev/ttyB", "--dry-run",
                          "--out-dir", str(tmp_path / "o"))  # fmt: skip
    assert got == 2 and "--dry-run needs --tx-mac" in err


def test_missing_images_stop_before_any_board_is_touched(tmp_path, capsys):
    got, _out, err = _run(capsys, "pair", "--tx", "/dev/ttyA", "--rx", "/dev/ttyB", "--tx-mac", TX_MAC,
                          "--rx-mac", RX_MAC, "--build-dir", str(tmp_path / "empty"), "--out-dir", str(tmp_path / "o"))  # fmt: skip
    assert got == 1
    assert err.count("\n") == 1 and "missing images:" in err and "bootloader.bin" in err


def test_no_board_at_the_port(tmp_path, capsys):
    build = _fake_build(tmp_path / "build")
    got, _out, err = _run(capsys, "pair", "--tx", str(tmp_path / "ttyNONE"), "--rx", "/dev/ttyB", "--tx-mac",
                          TX_MAC, "--rx-mac", RX_MAC, "--build-dir", str(build), "--out-dir", str(tmp_path / "o"))  # fmt: skip
    assert got == 1
    assert err.count("\n") == 1 and "no such serial port" in err


def test_port_busy(tmp_path, capsys):
    build = _fake_build(tmp_path / "build")
    master, slave = os.openpty()
    port = os.ttyname(slave)
    try:
        with serial.Serial(port, exclusive=True):  # someone else (a monitor) holds the board
            got, _out, err = _run(capsys, "pair", "--tx", port, "--rx", "/dev/ttyB", "--tx-mac", TX_MAC,
                                  "--rx-mac", RX_MAC, "--build-dir", str(build), "--out-dir", str(tmp_path / "o"))  # fmt: skip
    finally:
        os.close(master)
        os.close(slave)
    assert got == 1
    assert err.count("\n") == 1 and f"{port}: port busy" in err


ESPTOOL_V5_S3 = """Connected to ESP32-S3 on /dev/ttyACM0:
Chip type:          ESP32-S3 (QFN56) (revision v0.2)
Features:           Wi-Fi, BT 5 (LE), Dual Core + LP Core, 240MHz
MAC:                7c:df:a1:e0:12:34
Hard resetting via RTS pin...
"""
ESPTOOL_V4_ESP32 = """Detecting chip type... Unsupported detection protocol, switching and trying again...
Chip is ESP32-D0WD-V3 (revision v3.0)
MAC: 24:6f:28:aa:bb:cc
"""


def test_probe_output_parsing_and_wrong_chip():
    assert boards.parse_probe("/dev/ttyACM0", ESPTOOL_V5_S3) == boards.Board("/dev/ttyACM0", "ESP32-S3", "7c:df:a1:e0:12:34")
    with pytest.raises(boards.BoardError, match=r"/dev/ttyUSB0: wrong chip ESP32-D0WD-V3 \(this firmware needs an ESP32-S3\)"):
        boards.parse_probe("/dev/ttyUSB0", ESPTOOL_V4_ESP32)
    with pytest.raises(boards.BoardError, match="no chip/MAC"):
        boards.parse_probe("/dev/ttyUSB0", "A fatal error occurred: Failed to connect")


def test_esptool_failures_become_one_line_errors(tmp_path):
    # the real esptool on a port that does not exist
    with pytest.raises(boards.BoardError, match=r"ttyGONE: no such serial port"):
        boards.probe(str(tmp_path / "ttyGONE"))
    assert boards.explain_failure("/dev/ttyACM0", "A fatal error occurred: This chip is ESP32-C3, not ESP32-S3. "
                                  "Wrong chip argument?") == "/dev/ttyACM0: wrong chip ESP32-C3 (this firmware needs an ESP32-S3)"
    busy = "Could not open /dev/ttyACM0, the port is busy or doesn't exist.\n([Errno 16] Device or resource busy)"
    assert boards.explain_failure("/dev/ttyACM0", busy).startswith("/dev/ttyACM0: port busy")


def test_list_without_boards(capsys):
    if boards.candidate_ports():
        pytest.skip("this machine has USB serial ports; the no-board message cannot be checked here")
    code, out, _err = _run(capsys, "list")
    assert code == 0
    assert "no serial ports with ESP32 boards found" in out


def _board_on_pty(reply: bytes):
    """A pseudo-terminal whose far end answers the first 'h' it reads with `reply`."""
    import threading

    master, slave = os.openpty()
    port = os.ttyname(slave)

    def answer() -> None:
        while b"h" not in os.read(master, 64):
            pass
        os.write(master, b"boot log line\r\n" + reply)

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    return master, slave, port, thread


def test_verify_reads_the_hello_over_a_serial_port():
    from csi_edge import protocol as p
    from csi_edge.tools.flash import verify

    hello = p.Hello(fw_major=1, fw_minor=1, fw_patch=0, role=1, mac=RX_MAC, peer_mac=TX_MAC, channel=11,
                    secondary_channel=2, bandwidth=1, phy_rate=16, send_rate_hz=100, transport=0,
                    output_format=0, uart_baud=921600, gain_lock=0, ltf_mask=1, gain_lock_packets=100,
                    build="1.1.0 test", status=0, csi_scale=1, csi_shift=4, country="01", error_code=0,
                    error="")  # fmt: skip
    master, slave, port, thread = _board_on_pty(p.encode_stats(p.Stats(*([0] * 13))) + p.encode_hello(hello))
    try:
        got = verify.read_hello(port, 921600, timeout_s=10)
    finally:
        thread.join(timeout=5)
        os.close(master)
        os.close(slave)
    assert got == hello
    values = settings.LinkSettings().board_values(settings.ROLE_RX, TX_MAC)
    assert verify.hello_mismatches(got, values, RX_MAC) == []
    assert verify.hello_mismatches(got, dict(values, channel=6), RX_MAC) == ["channel: board says 11, flashed 6"]
    assert verify.hello_mismatches(got, dict(values, country="DE"), RX_MAC) == ["country: board says 01, flashed DE"]
    # a firmware 1.0 board does not report the 1.1 fields: they are not compared
    old = p.Hello(**dict(hello.to_dict(), status=None, csi_scale=None, csi_shift=None, country=None,
                         error_code=None, error=None))  # fmt: skip
    assert verify.hello_mismatches(old, dict(values, country="DE"), RX_MAC) == []


def test_verify_reports_the_boards_config_error():
    from csi_edge import protocol as p
    from csi_edge.tools.flash import verify

    master, slave, port, thread = _board_on_pty(p.encode_log(1, "nvs csi_edge: rate_hz must be 1..1000 (got 5000)"))
    try:
        with pytest.raises(boards.BoardError, match=r"the board reports: nvs csi_edge: rate_hz must be 1\.\.1000"):
            verify.read_hello(port, 921600, timeout_s=10)
    finally:
        thread.join(timeout=5)
        os.close(master)
        os.close(slave)


def test_verify_reports_a_board_that_cannot_start_from_its_hello():
    """Firmware 1.1: an ESP-IDF call failing at start is retried, and the HELLO says so (finding 11)."""
    from csi_edge import protocol as p
    from csi_edge.tools.flash import verify

    hello = p.Hello(fw_major=1, fw_minor=1, fw_patch=0, role=0, mac=TX_MAC, peer_mac=RX_MAC, channel=11,
                    secondary_channel=2, bandwidth=1, phy_rate=16, send_rate_hz=100, transport=0,
                    output_format=0, uart_baud=921600, gain_lock=0, ltf_mask=1, gain_lock_packets=100,
                    build="1.1.0 test", status=p.STATUS_RETRYING, csi_scale=1, csi_shift=4, country="01",
                    error_code=0x102, error="esp_wifi_set_channel 11/2: ESP_ERR_INVALID_ARG (try 3, next in 4 s)")  # fmt: skip
    master, slave, port, thread = _board_on_pty(p.encode_hello(hello))
    try:
        with pytest.raises(boards.BoardError) as exc:
            verify.read_hello(port, 921600, timeout_s=10)
    finally:
        thread.join(timeout=5)
        os.close(master)
        os.close(slave)
    assert str(exc.value) == (f"{port}: the board reports: start failed, retrying: esp_wifi_set_channel 11/2: "
                              "ESP_ERR_INVALID_ARG (try 3, next in 4 s)")  # fmt: skip


def test_python_country_table_and_defaults_match_the_firmware():
    source = (REPO / "firmware" / "components" / "csi_core" / "src" / "csi_config.c").read_text()
    table = source[source.index("s_countries[] = {"):]
    c_countries = {cc: int(last) for cc, last in re.findall(r'\{"(\w\w)", (\d+)\}', table[: table.index("};")])}
    assert c_countries == settings.COUNTRY_LAST_CHANNEL
    # Kconfig's defaults (what a board flashed without NVS runs) are flash pair's defaults
    kconfig = (REPO / "firmware" / "main" / "Kconfig.projbuild").read_text()
    defaults = dict(re.findall(r"config CSI_EDGE_(\w+)\n(?:.*\n)*?\s+default (\S+)", kconfig))
    values = settings.LinkSettings().board_values(settings.ROLE_RX, TX_MAC)
    kconfig_key = {"channel": "CHANNEL", "secondary": "SECONDARY", "bandwidth": "BANDWIDTH", "phy_rate": "PHY_RATE",
                   "rate_hz": "RATE_HZ", "transport": "TRANSPORT", "baud": "UART_BAUD", "format": "FORMAT",
                   "gl_packets": "GAIN_LOCK_PACKETS", "ltf_mask": "LTF_MASK", "country": "COUNTRY",
                   "csi_scale": "CSI_SCALE", "csi_shift": "CSI_SHIFT"}  # fmt: skip
    assert {k: str(values[k]) for k in kconfig_key} == {k: defaults[v].strip('"') for k, v in kconfig_key.items()}


def test_defaults_are_what_the_shipped_model_and_the_simulator_use():
    """Finding 14: a pair flashed with the defaults streams what the default model accepts."""
    from csi_edge.model.card import load_card
    from csi_edge.tools.sim.radio import RadioConfig

    link = settings.LinkSettings()
    card, _onnx = load_card(REPO / "models" / "default")
    sim = RadioConfig()
    assert (link.channel, link.secondary, link.rate_hz) == (sim.channel, sim.secondary, card.rate_hz)
    assert link.secondary in card.feature.layouts
    fits = flash_models.fits(REPO / "models", link)
    assert [f.name for f in fits if f.runs] == ["default", "room3"]
    assert [f.line() for f in fits][1] == ("room3: runs (but it reads 3 receivers of one room together: flash a transmitter and "
                                           "3 receivers with these settings)")  # fmt: skip


def test_flash_pair_names_the_models_that_cannot_run(tmp_path, capsys):
    import shutil

    models_dir = tmp_path / "models"
    models_dir.mkdir()
    for ext in ("json", "onnx"):
        shutil.copy(REPO / "models" / f"default.{ext}", models_dir / f"default.{ext}")
    (models_dir / "broken.json").write_text("{not json")
    code, out, _err = _run(capsys, *_pair(tmp_path, "--secondary", "none", "--rate-hz", "50", "--models",
                                          str(models_dir)))  # fmt: skip
    assert code == 0
    assert f"models in {models_dir} these settings can run: none" in out
    assert ("  default: cannot run: trained on subcarrier layouts ['below'], these settings give 'none' "
            "(--secondary)") in out  # fmt: skip
    assert "  broken: cannot run: unusable model:" in out
    code, out, _err = _run(capsys, *_pair(tmp_path, "--rate-hz", "50", "--models", str(models_dir)))
    assert "  default: runs (but its window of 351 packets is 3.51 s at the 100 Hz it was trained on, 7.02 s at " \
           "--rate-hz 50)" in out
