"""`csi-edge fuse`: the fusion service's command line (see csi_edge.fuse.service)."""

from __future__ import annotations

import argparse
import sys

from csi_edge.config import describe_keys, load_config, parse_mqtt_url, to_toml
from csi_edge.daemon_cli import SECRETS, add_service_arguments, password_in, preflight

EXAMPLES = """examples:
  csi-edge fuse --mqtt mqtt://localhost:1883 --config /etc/csi-edge/config.toml
  csi-edge fuse --mqtt mqtt://broker:1883 --set fuse.site=home --set 'fuse.rooms=[{name = "lab", nodes = ["a", "b"]}]'
  csi-edge fuse --config site.toml --check-config

The site and its rooms (in the same TOML file as the daemon's keys):
  [fuse]
  site = "home"
  [[fuse.rooms]]
  name = "lab"
  nodes = ["a", "b"]          # as given to csi-edge run --node (NODE/LINK: one link of a multi-link daemon)
"""


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "fuse",
        help="fusion service: the nodes' states -> one state per room (MQTT)",
        description="Subscribe to the state topics of a site's nodes, align them in time and publish fused state "
        "per room on PREFIX/SITE/ROOM/state, with health, availability and Home Assistant discovery. "
        "SIGHUP reads the configuration again (rooms and nodes come and go without a restart).",
        epilog=EXAMPLES + "\n" + SECRETS + "\n" + describe_keys(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_service_arguments(p, "the broker's TLS files")
    p.add_argument("--site", metavar="NAME", help="site name in topics ([fuse] site)")
    p.set_defaults(func=run)


def _overrides(args) -> dict:
    out: dict = parse_mqtt_url(args.mqtt) if args.mqtt else {}
    if args.site:
        out["fuse.site"] = args.site
    return out


def run(args) -> int:
    from csi_edge.errors import UsageError

    if args.seconds is not None and args.seconds <= 0:
        raise UsageError(f"--seconds must be > 0 (got {args.seconds})")

    def configure():  # also on SIGHUP: the password from [mqtt] password_file or the environment, as at start
        from csi_edge.daemon_checks import resolve_password

        return resolve_password(load_config(args.config, _overrides(args), args.sets))

    cfg = configure()
    if args.print_config:
        print(to_toml(cfg), end="")
        return 0
    if not cfg.fuse.rooms:
        raise UsageError(f"{cfg.origin}: [fuse] has no rooms: add [[fuse.rooms]] tables (name = \"lab\", nodes = [\"a\", \"b\"])")
    if not cfg.mqtt.enabled:
        raise UsageError("csi-edge fuse needs a broker: [mqtt] enabled must be true (--mqtt URL)")
    from csi_edge.fuse.service import FuseService
    from csi_edge.logs import setup_logging

    setup_logging(cfg.log.level, cfg.log.format)
    cfg = preflight(cfg, check_target=args.check_config, password_in_url=password_in(args), sources=False)
    if args.check_config:
        rooms = ", ".join(f"{r.name} ({len(r.nodes)} nodes)" for r in cfg.fuse.rooms)
        print(f"configuration OK ({cfg.origin}); site {cfg.fuse.site}: {rooms}", file=sys.stderr)
        return 0
    return FuseService(cfg, seconds=args.seconds, reload_config=configure).run()
