"""The one entry point: `csi-edge <command> ...`.

Command modules follow one scheme: a command lives in the `cli` module of its package
(`csi_edge.tools.capture.cli`, with subcommands) or in a `<module>_cli` module beside the
module it drives (`csi_edge.daemon_cli` drives `csi_edge.daemon`). Each exposes
`register(subparsers)`, which adds its parser and sets `func` to its handler: `run(args)`
(`run_<subcommand>(args)` for subcommands), called with the parsed arguments and returning
an exit code or None. Commands are imported lazily by name, only the one that runs (all of
them for `--help`), so that `csi-edge run` never imports torch. A command module that cannot
be imported is never hidden: `--help` marks it unavailable with the reason, and running it
fails with one line naming the module.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import typing

from csi_edge import __version__
from csi_edge.errors import CsiEdgeError

# command name -> module that registers it (keep the help order here).
COMMANDS: dict[str, str] = {
    "run": "csi_edge.daemon_cli",
    "fuse": "csi_edge.fuse.cli",
    "calibrate": "csi_edge.calibration.cli",
    "capture": "csi_edge.tools.capture.cli",
    "sim": "csi_edge.tools.sim.cli",
    "decode": "csi_edge.decoder.cli",
    "flash": "csi_edge.tools.flash.cli",
    "train": "csi_edge.tools.train.cli",
    "eval": "csi_edge.tools.train.eval_cli",
    "discover": "csi_edge.tools.discover.cli",
    "bench": "csi_edge.tools.bench.cli",
    "demo": "csi_edge.tools.demo_cli",
    "info": "csi_edge.info_cli",
    "export": "csi_edge.tools.train.export_cli",
    "import": "csi_edge.importers_cli",
}


class CommandUnavailable(CsiEdgeError):
    """A command's module cannot be imported (a missing dependency, a broken install)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> typing.NoReturn:  # one line, exit 2
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    parser = _Parser(prog="csi-edge", description="WiFi sensing with ESP32-S3 CSI at the edge.")
    parser.add_argument("--version", action="version", version=f"csi-edge {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, module_name in COMMANDS.items():
        if only is not None and name != only:
            sub.add_parser(name, help=f"(see csi-edge {name} --help)")
            continue
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            if only is not None:
                raise CommandUnavailable(f"cannot load {module_name} ({exc})") from None
            sub.add_parser(name, help=f"(unavailable: {exc})")
            continue
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = next((a for a in argv if not a.startswith("-")), None)
    try:
        parser = build_parser(only=command if command in COMMANDS else None)
    except CommandUnavailable as exc:
        print(f"csi-edge {command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        code = args.func(args)
    except CsiEdgeError as exc:
        print(f"csi-edge {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"csi-edge {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
