"""`csi-edge run`: the sensing daemon's command line (see csi_edge.daemon)."""

from __future__ import annotations

import argparse
import sys

from csi_edge.config import Config, describe_keys, load_config, parse_listen, parse_mqtt_url, to_toml
from csi_edge.source.base import SOURCES

SECRETS = """the MQTT password, in order of precedence:
  [mqtt] password (config file, --set, or USER:PASS@ in --mqtt: visible to every local user in `ps`),
  [mqtt] password_file (its first line; chmod 600 / owned by the service user),
  the environment variable CSI_EDGE_MQTT_PASSWORD (e.g. systemd's EnvironmentFile= or LoadCredential=);
  a config file holding a password should not be readable by other users (a warning says so).
"""

EXAMPLES = """examples:
  csi-edge run --source serial:/dev/csi-edge-rx --mqtt mqtt://edge@broker.local:1883 --node lab
  csi-edge run --source sim --mqtt mqtt://localhost:1883 --node lab   # simulated boards (warned at start)
  csi-edge run --source serial:/dev/csi-edge-rx --config /etc/csi-edge/config.toml
  csi-edge run --source serial:usb:303a:1001 --jsonl - --set mqtt.enabled=false
  csi-edge run --source replay:session-01/ --jsonl results.jsonl --seconds 60
  csi-edge run --source north=serial:/dev/csi-edge-rx0 --source south=serial:/dev/csi-edge-rx1 --node jetson1
  csi-edge run --source sim:0 --source sim:1 --source sim:2 --node lab   # one simulated room, three receivers
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
        epilog=EXAMPLES + "\n" + SECRETS + "\n" + describe_keys(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_service_arguments(p, "the model")
    p.add_argument("--source", metavar="SPEC", action="append", help=f"required: KIND[:TARGET], KIND one of {', '.join(SOURCES)}, "
                   "e.g. serial:PATH, serial:usb[:VID:PID[:SERIAL]], replay:PATH, udp:PORT, sim (simulated boards)  ([source] "
                   "spec); repeat it to read several sources at once, one link each, as [NAME=]SPEC ([source] specs)")
    p.add_argument("--no-mqtt", action="store_true", help="do not publish to a broker ([mqtt] enabled = false)")
    p.add_argument("--node", metavar="NAME", help="node name in topics and the HA device ([publish] node)")
    p.add_argument("--model", metavar="PATH", help="model package NAME(.onnx/.json) ([model] path)")
    p.add_argument("--baseline", metavar="FILE", help="empty-room baseline of this link, from csi-edge calibrate ([calibration] baseline)")
    p.add_argument("--jsonl", metavar="PATH", help="also write results as JSON lines; - for stdout ([publish] jsonl)")
    p.add_argument("--web", metavar="HOST:PORT", help="serve the live web view there, e.g. 127.0.0.1:8080 ([web] enabled/host/port)")
    p.set_defaults(func=run)


def add_service_arguments(p: argparse.ArgumentParser, also_checked: str) -> None:
    """The options of every long-running service (run, fuse): configuration file, broker, overrides, bounds."""
    p.add_argument("--config", metavar="FILE", help="TOML configuration (default /etc/csi-edge/config.toml if present)")
    p.add_argument("--mqtt", metavar="URL", help="broker, mqtt://[USER@]HOST:PORT or mqtts://... ([mqtt] host/port/tls/username); "
                   "the password: [mqtt] password_file or $CSI_EDGE_MQTT_PASSWORD (USER:PASS@ in the URL shows in `ps`)")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="SECTION.KEY=VALUE", help="override any configuration key")
    p.add_argument("--seconds", type=float, metavar="N", help="stop after N seconds (bounded runs, tests)")
    p.add_argument("--check-config", action="store_true", help=f"validate the configuration and {also_checked}, then exit")
    p.add_argument("--print-config", action="store_true", help="print the effective configuration as TOML and exit")


def overrides_from_args(args) -> dict:
    out: dict = {}
    if args.mqtt:
        out.update(parse_mqtt_url(args.mqtt))
    if args.no_mqtt:
        out["mqtt.enabled"] = False
    if args.web:
        out.update(parse_listen(args.web))
    for flag, key in (("node", "publish.node"), ("model", "model.path"), ("jsonl", "publish.jsonl"), ("baseline", "calibration.baseline")):
        value = getattr(args, flag)
        if value is not None:
            out[key] = value
    if args.source:
        if len(args.source) == 1 and "=" not in args.source[0].split(":")[0]:
            out["source.spec"] = args.source[0]
        else:
            out["source.specs"] = list(args.source)
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
    from csi_edge.daemon_links import link_specs
    from csi_edge.errors import ModelMismatchError
    from csi_edge.logs import setup_logging

    setup_logging(cfg.log.level, cfg.log.format)
    cfg = preflight(cfg, check_target=args.check_config, password_in_url=password_in(args))
    specs = link_specs(cfg)
    if args.check_config:
        from csi_edge.calibration.controller import LinkCalibration, Timing

        model = load_model(cfg)
        if model.card.links > 1 and model.card.links != len(specs):
            raise ModelMismatchError(f"model {model.card.model_id} reads {model.card.links} links together; the configuration has {len(specs)}")
        calib = LinkCalibration(cfg.calibration, model.card, Timing(model.card.window, model.card.hop, model.card.rate_hz))
        baseline = f", baseline {cfg.calibration.baseline}" if calib.baseline is not None else ""
        sources = ", ".join(f"{name}={spec}" if len(specs) > 1 else spec for name, spec in specs)
        print(f"configuration OK ({cfg.origin}); node {node_name(cfg)}, source {sources}, model {model.card.model_id}{baseline}",
              file=sys.stderr)
        return 0
    return Daemon(cfg, seconds=args.seconds).run()


def password_in(args) -> bool:
    """Did the --mqtt URL carry a password (visible in `ps`: warned)?"""
    return bool(args.mqtt and "mqtt.password" in parse_mqtt_url(args.mqtt))


def preflight(cfg: Config, check_target: bool, password_in_url: bool = False, sources: bool = True) -> Config:
    """What the configuration points at: the sources (unless `sources` is false: the fusion
    service reads none), the password, the TLS files; warnings logged. `check_target`
    (--check-config): each source's device or file must be there now."""
    import logging

    from csi_edge.daemon_checks import resolve_password, security_warnings, tls_problems
    from csi_edge.daemon_links import link_specs
    from csi_edge.errors import ConfigError
    from csi_edge.logs import event
    from csi_edge.source import parse_spec

    log = logging.getLogger("csi_edge.daemon")
    links = [(spec, *parse_spec(spec)) for _, spec in link_specs(cfg)] if sources else []
    where = cfg.origin if cfg.origin != "defaults" else "command line"
    cfg = resolve_password(cfg)
    problems = tls_problems(cfg.mqtt, where)
    for spec, cls, target in links if check_target else []:
        problem = cls.target_problem(target, cfg)
        if problem:
            problems.append(f"[source] {'specs' if cfg.source.specs else 'spec'} {spec}: {problem}")
    if problems:
        raise ConfigError("; ".join(problems))
    warnings = security_warnings(cfg)
    if password_in_url:
        warnings.append("the --mqtt URL carries a password: every local user sees it in `ps`; use [mqtt] password_file "
                        "or $CSI_EDGE_MQTT_PASSWORD")  # fmt: skip
    for warning in warnings:
        event(log, "config_warning", logging.WARNING, warning=warning)
    for spec, cls, _ in links:
        if cls.kind != "sim":
            continue
        event(log, "source_simulated", logging.WARNING, source=spec,
              warning="the source is the SIMULATOR: every result is simulated, not measured")
    return cfg
