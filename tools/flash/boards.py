"""Serial ports, ESP32-S3 boards and the esptool commands that talk to them.

esptool runs as `python -m esptool ...` (its documented interface; the same commands are
what `--dry-run` prints). Its output is parsed for the chip and the station MAC:

    esptool v5:  "Chip type:          ESP32-S3 (QFN56) (revision v0.2)" / "MAC:      7c:df:a1:.."
    esptool v4:  "Chip is ESP32-S3 (QFN56) (revision v0.2)"             / "MAC: 7c:df:a1:.."
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass

import esptool
import serial
from serial.tools import list_ports

from csi_edge.errors import CsiEdgeError
from csi_edge.tools.flash.layout import FirmwareLayout

WANTED_CHIP = "ESP32-S3"
USB_VIDS = {0x303A: "Espressif USB", 0x10C4: "CP210x", 0x1A86: "CH34x", 0x0403: "FTDI"}
PROBE_TIMEOUT_S = 30
_V5 = int(esptool.__version__.split(".")[0]) >= 5

_CHIP = re.compile(r"Chip (?:type:\s*|is\s+)(ESP32[-\w]*)")
_MAC = re.compile(r"^MAC:\s*([0-9a-f]{2}(?::[0-9a-f]{2}){5})\s*$", re.MULTILINE)


class BoardError(CsiEdgeError):
    """A board or port problem the installer can fix (message names the port)."""


@dataclass(frozen=True)
class Board:
    port: str
    chip: str
    mac: str


def _cmd(name: str) -> str:
    return name if _V5 else name.replace("-", "_")


def esptool_base(port: str, chip: str = "auto") -> list[str]:
    return [sys.executable, "-m", "esptool", "--chip", chip, "--port", port]


def read_mac_command(port: str) -> list[str]:
    return [*esptool_base(port), _cmd("read-mac")]


def read_flash_command(port: str, offset: int, size: int, out_path) -> list[str]:
    """esptool read-flash of `size` bytes at `offset` into `out_path` (resets the board after)."""
    return [*esptool_base(port), _cmd("read-flash"), hex(offset), hex(size), str(out_path)]


def reset_command(port: str) -> list[str]:
    """esptool chip-id: resets the board into its bootloader and back into the app (hard reset)."""
    return [*esptool_base(port), _cmd("chip-id")]


def write_flash_command(port: str, layout: FirmwareLayout, nvs_image, baud: int) -> list[str]:
    """One write-flash of the bootloader, partition table, app and this board's NVS image."""
    flash_args = list(layout.flash_args) if _V5 else [a.replace("-", "_") for a in layout.flash_args]
    pairs = [(img.offset, str(img.path)) for img in layout.images] + [(layout.nvs_offset, str(nvs_image))]
    files = [x for off, path in sorted(pairs) for x in (hex(off), path)]
    return [*esptool_base(port, layout.chip), "--baud", str(baud), "--before", _cmd("default-reset"),
            "--after", _cmd("hard-reset"), _cmd("write-flash"), *flash_args, *files]  # fmt: skip


def parse_probe(port: str, output: str) -> Board:
    """Chip and MAC from esptool's read-mac output; BoardError for a wrong chip."""
    chip = _CHIP.search(output)
    mac = _MAC.search(output)
    if not chip or not mac:
        raise BoardError(f"{port}: esptool found no chip/MAC in its output (is it an ESP32 board?)")
    board = Board(port, chip.group(1), mac.group(1))
    if board.chip != WANTED_CHIP:
        raise BoardError(f"{port}: wrong chip {board.chip} (this firmware needs an {WANTED_CHIP})")
    return board


def explain_failure(port: str, output: str) -> str:
    """One line naming the port and the fix, from esptool's (or pyserial's) error text."""
    wrong = re.search(r"This chip is (\S+), not (\S+?)\.", output)
    if wrong:
        return f"{port}: wrong chip {wrong.group(1)} (this firmware needs an {WANTED_CHIP})"
    if "No such file" in output or ("could not open port" in output and "Errno 2" in output):
        return f"{port}: no such serial port (no board plugged in there?)"
    if "busy" in output.lower() or "Errno 16" in output or "exclusively lock" in output:
        return f"{port}: port busy (close the monitor/capture that has it open)"
    if "Permission denied" in output or "Errno 13" in output:
        return f"{port}: permission denied (add yourself to the dialout group: sudo usermod -aG dialout $USER)"
    if "Failed to connect" in output or "No serial data received" in output:
        return f"{port}: no ESP32 answered (hold BOOT and press RESET, then retry)"
    last = next((ln for ln in reversed(output.strip().splitlines()) if ln.strip()), "no output")
    return f"{port}: esptool failed: {last.strip()}"


def check_port_free(port: str) -> None:
    """Open and close the port with an exclusive lock: BoardError if missing or busy."""
    try:
        serial.Serial(port, exclusive=True).close()
    except (serial.SerialException, OSError) as exc:
        raise BoardError(explain_failure(port, str(exc))) from None


def probe(port: str) -> Board:
    """Run esptool read-mac on one port."""
    try:
        res = subprocess.run(read_mac_command(port), capture_output=True, text=True, timeout=PROBE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise BoardError(f"{port}: esptool timed out after {PROBE_TIMEOUT_S} s (no ESP32 bootloader?)") from None
    output = res.stdout + res.stderr
    if res.returncode != 0:
        raise BoardError(explain_failure(port, output))
    return parse_probe(port, output)


def candidate_ports(all_ports: bool = False) -> list[tuple[str, str]]:
    """(port, description) of USB serial ports that may be ESP32 boards (every port with all_ports)."""
    found = []
    for info in sorted(list_ports.comports(), key=lambda p: p.device):
        if all_ports or info.vid in USB_VIDS:
            found.append((info.device, USB_VIDS.get(info.vid or -1, info.description or "serial")))
    return found
