"""`csi-edge flash pair`: plan, then (unless --dry-run) run, the flashing of a TX/RX pair.

Plan: check the settings, find the firmware images, know both MACs (given, or read with
esptool), write each board's NVS CSV, generate its NVS image with esp-idf-nvs-partition-gen
and read it back. Run: one esptool write-flash per board (bootloader, partition table, app,
NVS), then read each board's HELLO and compare it with what was flashed.
"""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from csi_edge.errors import CsiEdgeError, DataError, UsageError
from csi_edge.tools.flash import boards, layout, nvs_image, settings, verify

FLASH_BAUD = 460800
HELLO_TIMEOUT_S = 8.0


@dataclass(frozen=True)
class BoardPlan:
    name: str  # "TX" or "RX"
    port: str
    mac: str
    mac_source: str  # "given" or "read with esptool"
    values: dict
    csv_path: Path
    nvs_path: Path


@dataclass(frozen=True)
class PairPlan:
    boards: tuple[BoardPlan, BoardPlan]
    firmware: layout.FirmwareLayout
    out_dir: Path
    link: settings.LinkSettings

    def flash_commands(self) -> list[list[str]]:
        return [boards.write_flash_command(b.port, self.firmware, b.nvs_path, FLASH_BAUD) for b in self.boards]


def _default_build_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "firmware" / "build"


def _new_out_dir(args) -> Path:
    out_dir = Path(args.out_dir) if args.out_dir else Path(tempfile.mkdtemp(prefix="csi-edge-flash-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    return out_dir


def _check_args(args) -> tuple[str | None, str | None]:
    """Cheap checks before anything is written: one firmware source, distinct ports, MAC
    syntax, dry-run needs MACs. Returns the normalised MACs given (or None)."""
    if args.build_dir and args.bundle:
        raise UsageError("give --build-dir or --bundle, not both")
    if args.tx == args.rx:
        raise UsageError(f"--tx and --rx are the same port ({args.tx})")
    tx_mac = settings.normalise_mac(args.tx_mac, "--tx-mac") if args.tx_mac else None
    rx_mac = settings.normalise_mac(args.rx_mac, "--rx-mac") if args.rx_mac else None
    for name, mac in (("tx", tx_mac), ("rx", rx_mac)):
        if args.dry_run and mac is None:
            raise UsageError(f"--dry-run needs --{name}-mac (it does not touch the boards)")
    if tx_mac and tx_mac == rx_mac:
        raise UsageError(f"TX and RX have the same MAC {tx_mac}: two different boards are needed")
    return tx_mac, rx_mac


def _macs(tx_port: str, rx_port: str, tx_mac: str | None, rx_mac: str | None):
    """(tx_mac, rx_mac, source): given MACs as they are, missing ones read with esptool."""
    macs = {"TX": tx_mac, "RX": rx_mac}
    source = {k: "given" for k, v in macs.items() if v}
    for name, port in (("TX", tx_port), ("RX", rx_port)):
        if macs[name] is None:
            macs[name] = boards.probe(port).mac
            source[name] = "read with esptool"
    if macs["TX"] == macs["RX"]:
        raise UsageError(f"TX and RX have the same MAC {macs['TX']}: two different boards are needed")
    return macs["TX"], macs["RX"], source


def _write_nvs(board: BoardPlan, size: int) -> list[str]:
    """CSV -> image with the real generator, then read the image back and compare."""
    board.csv_path.write_text(settings.nvs_csv(board.values), encoding="utf-8")
    cmd = nvs_image.generator_command(board.csv_path, board.nvs_path, size)
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0 or not board.nvs_path.is_file():
        tail = (res.stdout + res.stderr).strip().splitlines()[-1:] or ["no output"]
        raise CsiEdgeError(f"{board.csv_path}: esp-idf-nvs-partition-gen failed: {tail[0]}")
    stored = nvs_image.read_nvs(board.nvs_path.read_bytes(), str(board.nvs_path)).get(settings.NAMESPACE, {})
    for key, want in board.values.items():
        got = stored.get(key, (None, None))[1]
        if str(got) != str(want):
            raise DataError(f"{board.nvs_path}: key {key} reads back as {got!r}, expected {want!r}")
    return cmd


def plan_pair(args, link: settings.LinkSettings) -> tuple[PairPlan, list[list[str]]]:
    """Everything up to (not including) touching the boards' flash; returns the NVS commands run."""
    given_tx, given_rx = _check_args(args)
    out_dir = None
    if args.bundle:  # unpacked into the output directory
        out_dir = _new_out_dir(args)
        firmware = layout.from_bundle(Path(args.bundle), out_dir / "bundle")
    else:
        firmware = layout.from_build_dir(Path(args.build_dir) if args.build_dir else _default_build_dir())
    missing = firmware.missing()
    if missing and not args.dry_run:
        raise CsiEdgeError(f"missing images: {', '.join(map(str, missing))} ({firmware.source}; run idf.py build)")
    if not args.dry_run:
        for port in (args.tx, args.rx):
            boards.check_port_free(port)
    tx_mac, rx_mac, source = _macs(args.tx, args.rx, given_tx, given_rx)
    out_dir = out_dir or _new_out_dir(args)
    plans = []
    for name, port, mac, role, peer in (("TX", args.tx, tx_mac, settings.ROLE_TX, rx_mac),
                                        ("RX", args.rx, rx_mac, settings.ROLE_RX, tx_mac)):  # fmt: skip
        stem = name.lower()
        plans.append(BoardPlan(name, port, mac, source[name], link.board_values(role, peer),
                               out_dir / f"{stem}_nvs.csv", out_dir / f"{stem}_nvs.bin"))  # fmt: skip
    nvs_cmds = [_write_nvs(b, firmware.nvs_size) for b in plans]
    return PairPlan((plans[0], plans[1]), firmware, out_dir, link), nvs_cmds


def flash_and_verify(plan: PairPlan, echo) -> None:
    """Write both boards, then check each one's HELLO against its NVS values."""
    for board, cmd in zip(plan.boards, plan.flash_commands(), strict=True):
        echo(f"flashing {board.name} on {board.port}: {' '.join(cmd)}")
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode != 0:
            raise boards.BoardError(boards.explain_failure(board.port, res.stdout + res.stderr))
    for board in plan.boards:
        hello = verify.read_hello(board.port, plan.link.baud, HELLO_TIMEOUT_S)
        wrong = verify.hello_mismatches(hello, board.values, board.mac)
        if wrong:
            raise CsiEdgeError(f"{board.port}: {board.name} HELLO differs from what was flashed: {'; '.join(wrong)}")
        echo(f"{board.name} {board.port}: HELLO ok (firmware {hello.firmware_version}, build {hello.build!r}, "
             f"mac {hello.mac}, peer {hello.peer_mac})")  # fmt: skip
