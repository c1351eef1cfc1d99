"""`csi-edge run`: the sensing daemon's command line (see csi_edge.daemon)."""

from __future__ import annotations

import argparse
import sys

from csi_edge.config import describe_keys, load_config, parse_listen, parse_mqtt_url, to_toml
from csi_edge.source.base import SOURCES

EXAMPLES = """examples:
  csi-edge run --source sim --mqtt mqtt://localhost:1883 --node lab
  csi-edge run --source serial:/dev/csi-edge-rx --config /etc/csi-edge/config.toml
  csi-edge run --source serial:usb:303a:1001 --jsonl - --set mqtt.enabled=false
  csi-edge run --source replay:session-01/ --jsonl results.jsonl --seconds 60
  csi-edge run --source sim --no-mqtt --web 127.0.0.1:8080   (then open http://127.0.0.1:8080/)
  csi-edge run --source serial:/dev/csi-edge-rx --baseline /var/lib/csi-edge/baseline.json
  csi-edge run --config config.toml --check-config
"""


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "run",
        help="the sensing daemon: source -> features -> ONNX -> MQTT / JSON lines",
        description="Run the always-on sensing daemon. Every configuration key can be set in the "
        "TOML file or overridden here; explicit flags win over --set, which wins over the file.",
        epilog=EXAMPLES + "\n" + describe_keys(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--config", metavar="FILE", help="TOML configuration (default /etc/csi-edge/config.toml if present)")
    p.add_argument("--source", metavar="SPEC", help=f"KIND[:TARGET], KIND one of {', '.join(SOURCES)}, e.g. sim, serial:PATH, "
                   "serial:usb[:VID:PID[:SERIAL]], replay:PATH  ([source] spec)")
    p.add_argument("--mqtt", metavar="URL", help="broker, mqtt://[user:pass@]HOST:PORT or mqtts://... ([mqtt] host/port/tls)")
    p.add_argument("--no-mqtt", action="store_true", help="do not publish to a broker ([mqtt] enabled = false)")
    p.add_argument("--node", metavar="NAME", help="node name in topics and the HA device ([publish] node)")
    p.add_argument("--model", metavar="PATH", help="model package NAME(.onnx/.json) ([model] path)")
    p.add_argument("--baseline", metavar="FILE", help="empty-room baseline of this link, from csi-edge calibrate ([calibration] baseline)")
    p.add_argument("--jsonl", metavar="PATH", help="also write results as JSON lines; - for stdout ([publish] jsonl)")
    p.add_argument("--web", metavar="HOST:PORT", help="serve the live web view there, e.g. 127.0.0.1:8080 ([web] enabled/host/port)")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="SECTION.KEY=VALUE", help="override any configuration key")
    p.add_argument("--seconds", type=float, metavar="N", help="stop after N seconds (bounded runs, tests)")
    p.add_argument("--check-config", action="store_true", help="validate the configuration and the model, then exit")
    p.add_argument("--print-config", action="store_true", help="print the effective configuration as TOML and exit")
    p.set_defaults(func=run)


def overrides_from_args(args) -> dict:
    out: dict = {}
    if args.mqtt:
        out.update(parse_mqtt_url(args.mqtt))
    if args.no_mqtt:
        out["mqtt.enabled"] = False
    if args.web:
        out.update(parse_listen(args.web))
    for flag, key in (("source", "source.spec"), ("node", "publish.node"), ("model", "model.path"), ("jsonl", "publish.jsonl"),
                      ("baseline", "calibration.baseline")):
        value = getattr(args, flag)
        if value is not None:
            out[key] = value
    return out


def run(args) -> int:
    from csi_edge.errors import UsageError

    if args.seconds is not None and args.seconds <= 0:
        raise UsageError(f"--seconds must be > 0 (got {args.seconds})")
    cfg = load_config(args.config, overrides_from_args(args), args.sets)
    if args.print_config:
        print(to_toml(cfg), end="")
        return 0
    from csi_edge.daemon import Daemon, load_model, node_name
    from csi_edge.logs import setup_logging
    from csi_edge.source import parse_spec

    setup_logging(cfg.log.level, cfg.log.format)
    parse_spec(cfg.source.spec)
    if args.check_config:
        from csi_edge.calibration.controller import LinkCalibration, Timing

        model = load_model(cfg)
        calib = LinkCalibration(cfg.calibration, model.card, Timing(model.card.window, model.card.hop, model.card.rate_hz))
        baseline = f", baseline {cfg.calibration.baseline}" if calib.baseline is not None else ""
        print(f"configuration OK ({cfg.origin}); node {node_name(cfg)}, source {cfg.source.spec}, model {model.card.model_id}"
              f"{baseline}", file=sys.stderr)
        return 0
    return Daemon(cfg, seconds=args.seconds).run()
