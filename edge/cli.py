"""The one entry point: `csi-edge <command> ...`.

Each command lives in its own module that exposes `register(subparsers)`; the module adds its
parser and sets `func` (called with the parsed arguments, returns an exit code or None).
Commands are imported lazily by name so that `csi-edge run` never imports torch.
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
    "capture": "csi_edge.tools.capture.cli",
    "sim": "csi_edge.tools.sim.cli",
    "decode": "csi_edge.decoder.cli",
    "flash": "csi_edge.tools.flash.cli",
    "train": "csi_edge.tools.train.cli",
    "eval": "csi_edge.tools.train.eval_cli",
    "discover": "csi_edge.tools.discover.cli",
    "bench": "csi_edge.tools.bench.cli",
    "demo": "csi_edge.tools.demo",
    "info": "csi_edge.info_cli",
    "export": "csi_edge.tools.train.export_cli",
    "import": "csi_edge.importers_cli",
}


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
        except ModuleNotFoundError as exc:
            if exc.name is not None and exc.name.startswith("csi_edge"):
                continue  # command not built yet
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(only=command if command in COMMANDS else None)
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
