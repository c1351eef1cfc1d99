"""`csi-edge flash`: find ESP32-S3 boards, and flash + configure a TX/RX pair."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

from csi_edge.tools.flash import boards, models, settings
from csi_edge.tools.flash.pair import flash_and_verify, plan_pair

DESCRIPTION = """\
Flash the csi-edge firmware onto two ESP32-S3 boards and write each one's settings into its
NVS partition (namespace csi_edge): the TX sends ESP-NOW packets to the RX at --rate-hz, the
RX keeps only the TX's CSI and streams it. MACs are read with esptool unless given; after
flashing, each board's HELLO frame is read back and compared with what was written, and a
board that cannot start says why. The defaults are the reference setup the shipped model was
trained for (channel 11, HT40 with the secondary channel below, MCS0, 100 Hz); the command
lists which models in the models folder the chosen settings can run."""

EPILOG = """\
examples:
  csi-edge flash list
  csi-edge flash pair --tx /dev/ttyACM0 --rx /dev/ttyACM1 --build-dir firmware/build
  csi-edge flash pair --tx /dev/ttyACM0 --rx /dev/ttyACM1 --bundle csi-edge-fw-1.1.0.zip \\
      --country DE --channel 13 --ltf lltf,htltf
  csi-edge flash pair --tx /dev/ttyACM0 --rx /dev/ttyACM1 --dry-run \\
      --tx-mac 7c:df:a1:00:00:01 --rx-mac 7c:df:a1:00:00:02   # no board needed"""


def register(subparsers) -> None:
    parser = subparsers.add_parser("flash", help="flash and configure the TX/RX boards",
                                   description=DESCRIPTION, epilog=EPILOG,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    sub = parser.add_subparsers(dest="flash_command", metavar="ACTION")
    ls = sub.add_parser("list", help="serial ports with ESP32-S3 boards (port, MAC, chip)")
    ls.add_argument("--all", action="store_true", help="probe every serial port, not only USB ones")
    ls.set_defaults(func=run_list)
    pair = sub.add_parser("pair", help="flash a TX and an RX board and write their settings",
                          description=DESCRIPTION, epilog=EPILOG,
                          formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    pair.add_argument("--tx", required=True, metavar="PORT", help="serial port of the transmitter board")
    pair.add_argument("--rx", required=True, metavar="PORT", help="serial port of the receiver board")
    pair.add_argument("--tx-mac", metavar="MAC", help="TX station MAC (default: read with esptool)")
    pair.add_argument("--rx-mac", metavar="MAC", help="RX station MAC (default: read with esptool)")
    fw = pair.add_argument_group("firmware (default: firmware/build of this checkout)")
    fw.add_argument("--build-dir", metavar="DIR", help="ESP-IDF build directory (idf.py build output)")
    fw.add_argument("--bundle", metavar="ZIP", help="release bundle: zip of flasher_args.json and the images")
    link = pair.add_argument_group("link settings (written to both boards' NVS)")
    link.add_argument("--channel", type=int, default=11,
                      help="Wi-Fi channel, as --country allows (default 11)")  # fmt: skip
    link.add_argument("--country", default="01",
                      help="regulatory country code: 01 (world safe mode, channels 1..11), DE, US, ... (default 01)")  # fmt: skip
    link.add_argument("--secondary", choices=tuple(settings.SECONDARY), default=None,
                      help="secondary channel: below/above (HT40) or none (HT20) (default below)")  # fmt: skip
    link.add_argument("--bandwidth", type=int, choices=(20, 40), default=None,
                      help="MHz (default: 40, or 20 with --secondary none)")  # fmt: skip
    link.add_argument("--rate-hz", type=int, default=100, help="TX packets per second 1..1000 (default 100)")
    link.add_argument("--phy-rate", default="mcs0",
                      help="TX PHY rate: mcs0..mcs7[-sgi], 6m..54m or a code 8..31 (default mcs0; 11b rates carry no CSI)")  # fmt: skip
    link.add_argument("--transport", choices=tuple(settings.TRANSPORT), default="usb",
                      help="RX output: usb (USB-Serial-JTAG) or uart (UART1, GPIO17 TX / GPIO18 RX) (default usb)")  # fmt: skip
    link.add_argument("--baud", type=int, default=921600, help="UART baud 9600..2000000 (default 921600)")
    link.add_argument("--format", dest="output_format", choices=tuple(settings.FORMAT), default="v1",
                      help="RX output: v1 binary frames or esp-csi text (default v1)")  # fmt: skip
    link.add_argument("--gain-lock", action=argparse.BooleanOptionalAction, default=False,
                      help="lock AGC/FFT gain after a median of the first packets (default off)")  # fmt: skip
    link.add_argument("--gain-lock-packets", type=int, default=100, help="packets in that median 10..1000 (default 100)")
    link.add_argument("--ltf", default="lltf", help="CSI blocks: lltf[,htltf,stbc] (default lltf)")
    link.add_argument("--csi-scale", choices=tuple(settings.CSI_SCALE), default="manual",
                      help="CSI scaling: manual (one fixed scale, --csi-shift) or auto (the driver rescales every "
                           "report) (default manual)")  # fmt: skip
    link.add_argument("--csi-shift", type=int, default=4, help="manual CSI scaling: left shift 0..15 (default 4)")
    pair.add_argument("--models", metavar="DIR", default=str(models.DEFAULT_MODELS_DIR),
                      help="models folder whose cards are checked against these settings (default: models/)")  # fmt: skip
    pair.add_argument("--dry-run", action="store_true",
                      help="touch no board: print the commands and CSVs, write the NVS images only")  # fmt: skip
    pair.add_argument("--out-dir", metavar="DIR", help="where the NVS CSVs and images go (default: a new temp dir)")
    pair.set_defaults(func=run_pair)
    parser.set_defaults(func=lambda args: parser.print_help() or 2)


def _link(args) -> settings.LinkSettings:
    secondary, bandwidth = settings.resolve_band(args.secondary, args.bandwidth)
    link = settings.LinkSettings(
        channel=args.channel, secondary=secondary, bandwidth_mhz=bandwidth,
        phy_rate=settings.parse_phy_rate(args.phy_rate), rate_hz=args.rate_hz, transport=args.transport,
        baud=args.baud, output_format=args.output_format, gain_lock=args.gain_lock,
        gain_lock_packets=args.gain_lock_packets, ltf_mask=settings.parse_ltf(args.ltf),
        country=args.country.strip().upper(), csi_scale=args.csi_scale, csi_shift=args.csi_shift,
    )  # fmt: skip
    link.check()
    return link


def _print_models(models_dir: Path, link: settings.LinkSettings) -> None:
    found = models.fits(models_dir, link)
    if not found:
        print(f"models: none in {models_dir} (--models DIR names another folder)")
        return
    runs = [f.name for f in found if f.runs]
    print(f"models in {models_dir} these settings can run: {', '.join(runs) if runs else 'none'}")
    for f in found:
        print(f"  {f.line()}")


def _show(cmd: list[str]) -> str:
    return shlex.join(cmd)


def run_pair(args) -> int:
    link = _link(args)
    plan, nvs_cmds = plan_pair(args, link)
    fw = plan.firmware
    head = "dry run: no board is touched" if args.dry_run else "flashing"
    print(f"csi-edge flash pair ({head})")
    print(f"firmware: {fw.source}, chip {fw.chip}, NVS partition 0x{fw.nvs_offset:x} ({fw.nvs_size} bytes)")
    for img in fw.missing():
        print(f"  note: image not built yet: {img}")
    print(f"link: {link.describe()}")
    _print_models(Path(args.models), link)
    for b in plan.boards:
        print(f"{b.name}: {b.port}  mac {b.mac} ({b.mac_source}), peer {b.values['peer_mac']}")
    for b in plan.boards:
        print(f"--- {b.name} NVS CSV ({b.csv_path}) ---")
        print(b.csv_path.read_text(encoding="utf-8"), end="")
    print(f"NVS images (generated and read back): {plan.boards[0].nvs_path}, {plan.boards[1].nvs_path}")
    print(f"output directory: {plan.out_dir}")
    print("commands:")
    for cmd in nvs_cmds:
        print(f"  {_show(cmd)}   # done")
    for cmd in plan.flash_commands():
        print(f"  {_show(cmd)}")
    for b in plan.boards:
        print(f"  verify: read HELLO from {b.port} (send 'h', decode, compare with {b.csv_path.name})")
    if args.dry_run:
        return 0
    flash_and_verify(plan, print)
    print("pair flashed and verified")
    return 0


def run_list(args) -> int:
    ports = boards.candidate_ports(all_ports=args.all)
    if not ports:
        print("no serial ports with ESP32 boards found (plug a board in over USB; csi-edge flash list --all probes every port)")
        return 0
    found = 0
    print(f"{'port':<20} {'mac':<18} chip")
    for port, what in ports:
        try:
            board = boards.probe(port)
        except boards.BoardError as exc:
            print(f"{port:<20} {'-':<18} ({what}) {exc}")
            continue
        found += 1
        print(f"{board.port:<20} {board.mac:<18} {board.chip}")
    if not found:
        print(f"no ESP32-S3 boards found on {len(ports)} port(s)")
    return 0


