"""`csi-edge flash`: find ESP32-S3 boards, and flash + configure a TX/RX pair."""

from __future__ import annotations

import argparse
import shlex

from csi_edge.tools.flash import boards, settings
from csi_edge.tools.flash.pair import flash_and_verify, plan_pair

DESCRIPTION = """\
Flash the csi-edge firmware onto two ESP32-S3 boards and write each one's settings into its
NVS partition (namespace csi_edge): the TX sends ESP-NOW packets to the RX at --rate-hz, the
RX keeps only the TX's CSI and streams it. MACs are read with esptool unless given; after
flashing, each board's HELLO frame is read back and compared with what was written."""

EPILOG = """\
examples:
  csi-edge flash list
  csi-edge flash pair --tx /dev/ttyACM0 --rx /dev/ttyACM1 --build-dir firmware/build
  csi-edge flash pair --tx /dev/ttyACM0 --rx /dev/ttyACM1 --bundle csi-edge-fw-1.0.0.zip \\
      --channel 11 --secondary below --bandwidth 40 --ltf lltf,htltf
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
    link.add_argument("--channel", type=int, default=11, help="Wi-Fi channel 1..14 (default 11)")
    link.add_argument("--secondary", choices=tuple(settings.SECONDARY), default="none",
                      help="secondary channel for HT40 (default none)")  # fmt: skip
    link.add_argument("--bandwidth", type=int, choices=(20, 40), default=20, help="MHz (default 20)")
    link.add_argument("--rate-hz", type=int, default=100, help="TX packets per second 1..1000 (default 100)")
    link.add_argument("--phy-rate", default="mcs0", help="TX PHY rate: mcs0..mcs7[-sgi], 1m..54m or a code (default mcs0)")
    link.add_argument("--transport", choices=tuple(settings.TRANSPORT), default="usb",
                      help="RX output: usb (USB-Serial-JTAG) or uart (UART0) (default usb)")  # fmt: skip
    link.add_argument("--baud", type=int, default=921600, help="UART baud 9600..2000000 (default 921600)")
    link.add_argument("--format", dest="output_format", choices=tuple(settings.FORMAT), default="v1",
                      help="RX output: v1 binary frames or esp-csi text (default v1)")  # fmt: skip
    link.add_argument("--gain-lock", action=argparse.BooleanOptionalAction, default=False,
                      help="lock AGC/FFT gain after a median of the first packets (default off)")  # fmt: skip
    link.add_argument("--gain-lock-packets", type=int, default=100, help="packets in that median 10..1000 (default 100)")
    link.add_argument("--ltf", default="lltf", help="CSI blocks: lltf[,htltf,stbc] (default lltf)")
    pair.add_argument("--dry-run", action="store_true",
                      help="touch no board: print the commands and CSVs, write the NVS images only")  # fmt: skip
    pair.add_argument("--out-dir", metavar="DIR", help="where the NVS CSVs and images go (default: a new temp dir)")
    pair.set_defaults(func=run_pair)
    parser.set_defaults(func=lambda args: parser.print_help() or 2)


def _link(args) -> settings.LinkSettings:
    link = settings.LinkSettings(
        channel=args.channel, secondary=args.secondary, bandwidth_mhz=args.bandwidth,
        phy_rate=settings.parse_phy_rate(args.phy_rate), rate_hz=args.rate_hz, transport=args.transport,
        baud=args.baud, output_format=args.output_format, gain_lock=args.gain_lock,
        gain_lock_packets=args.gain_lock_packets, ltf_mask=settings.parse_ltf(args.ltf),
    )  # fmt: skip
    link.check()
    return link


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


