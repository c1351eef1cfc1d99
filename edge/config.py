"""The one configuration system of every command: schema declared once, TOML file, CLI overrides.

Each section is a frozen dataclass; each key is declared with `key(default, description, ...)`
(type from the annotation, bounds, choices, pattern). The same declaration drives:

- the TOML file (`/etc/csi-edge/config.toml` when installed, `--config FILE` otherwise),
- command-line overrides (`--set section.key=value`, plus the explicit flags a command names),
- validation with one clear message per bad key: `config.toml: [mqtt] port must be 1..65535
  (got 70000)`; unknown keys are errors with a did-you-mean,
- `--help` text (`describe_keys`) and docs/config.md (`python -m csi_edge.config --markdown`).

Layering: defaults < TOML file < command line. `load_config(path, overrides)` returns a `Config`.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import re
import sys
import typing
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from csi_edge.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 (the Jetson)
    import tomli as tomllib

DEFAULT_PATH = Path("/etc/csi-edge/config.toml")
NAME_PATTERN = r"[A-Za-z0-9_-]{1,64}"


def key(default, doc: str, *, lo=None, hi=None, choices=None, pattern=None, secret=False):
    """Declare one configuration key (a dataclass field carrying its schema)."""
    meta = {"doc": doc, "lo": lo, "hi": hi, "choices": choices, "pattern": pattern, "secret": secret}
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class SourceConfig:
    """Where the byte stream comes from."""

    spec: str = key("sim", "source: `sim`, `serial:PATH`, `serial:usb` (match by usb_vid_pid/usb_serial), `replay:PATH` or "
                    "`udp:[HOST:]PORT`")
    baud: int = key(921600, "serial baud rate (ignored by USB-Serial-JTAG, used by UART adapters)", lo=1200, hi=12_000_000)
    usb_vid_pid: str = key("303a:1001", "USB VID:PID matched by `serial:usb` (Espressif USB-Serial-JTAG)", pattern=r"[0-9a-fA-F]{4}:[0-9a-fA-F]{4}")
    usb_serial: str = key("", "USB serial number matched by `serial:usb` (empty: any)")
    reconnect_min_s: float = key(0.5, "first delay before reopening a lost serial port, seconds", lo=0.05, hi=60.0)
    reconnect_max_s: float = key(30.0, "longest delay between reopen attempts (exponential backoff), seconds", lo=0.05, hi=3600.0)
    replay_realtime: bool = key(True, "replay at the recorded pace (RX timestamps) instead of as fast as possible")
    read_timeout_s: float = key(0.2, "longest a read blocks waiting for bytes, seconds", lo=0.001, hi=5.0)
    udp_buffer_bytes: int = key(1 << 20, "receive buffer of a `udp:` source (SO_RCVBUF), bytes", lo=4096, hi=1 << 26)


@dataclass(frozen=True)
class SimConfig:
    """The simulated boards (`--source sim`)."""

    day: int = key(1, "simulated recording day (environment variant)", lo=1, hi=3)
    activity: str = key("mixed", "simulated activity; `mixed` cycles through all in 20-60 s segments",
                        choices=("mixed", "empty", "walking", "sitting", "lying"))
    seed: int = key(0, "random seed of the simulator", lo=0, hi=2**31 - 1)
    format: str = key("v1", "wire format the simulated receiver emits", choices=("v1", "esp-csi"))
    realtime: bool = key(True, "emit packets at their real rate (100 Hz) instead of as fast as possible")
    link: int = key(0, "receiver position around the monitored area (0: opposite the TX, 1, 2: to either side); `--source sim:N` "
                    "overrides it per source", lo=0, hi=2)


@dataclass(frozen=True)
class ModelConfig:
    """The ONNX model and its post-processing."""

    path: str = key("", "model package `NAME.onnx` + `NAME.json` (empty: the shipped models/default)")
    providers: list[str] = key(["tensorrt", "cuda", "cpu"], "ONNX Runtime providers in order of preference; those not present are skipped")
    intra_op_threads: int = key(1, "ONNX Runtime intra-op threads", lo=1, hi=64)
    warmup_runs: int = key(2, "inference runs on zeros at load (first-run allocation, TensorRT build)", lo=0, hi=100)
    smoothing: float = key(0.5, "EMA weight of the newest probabilities (1 = no smoothing)", lo=0.01, hi=1.0)
    hysteresis: float = key(0.1, "a new activity must beat the current one by this probability margin", lo=0.0, hi=1.0)
    position_smoothing: float = key(0.5, "EMA weight of the newest position (1 = no smoothing)", lo=0.01, hi=1.0)
    presence_threshold: float = key(0.5, "presence when 1 - p(empty) reaches this", lo=0.0, hi=1.0)
    position_skill_ratio: float = key(0.8, "publish positions only from a model whose measured position RMSE is at most this "
                                      "fraction of the constant baseline's (its card's position skill)", lo=0.0, hi=1.0)


@dataclass(frozen=True)
class WindowConfig:
    """The window ring that turns packets into model inputs."""

    size: int = key(0, "packets per window (0: from the model card; 351 = 3.5 s at 100 Hz)", lo=0, hi=100_000)
    hop: int = key(0, "packets between results (0: from the model card, default 10)", lo=0, hi=100_000)
    max_gap_fill: int = key(20, "lost packets up to this many (20 = 0.2 s at 100 Hz) are filled by linear interpolation; longer gaps reset the window",
                            lo=0, hi=1000)


@dataclass(frozen=True)
class MqttConfig:
    """The MQTT broker connection (`--mqtt mqtt://HOST:PORT`, `mqtts://` for TLS)."""

    enabled: bool = key(True, "publish to an MQTT broker")
    host: str = key("localhost", "broker host name or address")
    port: int = key(1883, "broker TCP port", lo=1, hi=65535)
    username: str = key("", "user name (empty: anonymous)")
    password: str = key("", "password", secret=True)
    client_id: str = key("", "MQTT client id (empty: csi-edge-NODE)")
    qos: int = key(1, "QoS of state and health messages", lo=0, hi=2)
    keepalive_s: int = key(30, "MQTT keepalive, seconds", lo=5, hi=3600)
    tls: bool = key(False, "connect with TLS")
    ca_file: str = key("", "CA certificate file for TLS (empty: system CAs)")
    cert_file: str = key("", "client certificate file for TLS")
    key_file: str = key("", "client private key file for TLS")
    topic_prefix: str = key("csi-edge", "topics are PREFIX/NODE/state, /health, /availability")
    discovery: bool = key(True, "publish Home Assistant MQTT discovery configs")
    discovery_prefix: str = key("homeassistant", "Home Assistant discovery prefix")
    queue_size: int = key(10_000, "results kept while the broker is away (oldest dropped first, counted)", lo=1, hi=10_000_000)
    max_inflight: int = key(20, "messages handed to the client library and not yet acknowledged", lo=1, hi=1000)
    shutdown_flush_s: float = key(5.0, "at shutdown, wait this long for queued results to reach the broker", lo=0.0, hi=300.0)


@dataclass(frozen=True)
class PublishConfig:
    """What is published and where besides MQTT."""

    node: str = key("", "node name in topics and the Home Assistant device (empty: host name)", pattern=r"|" + NAME_PATTERN)
    jsonl: str = key("", "also write results as JSON lines to this file, `-` for stdout (empty: off)")


@dataclass(frozen=True)
class HealthConfig:
    """The periodic health report."""

    interval_s: float = key(10.0, "seconds between health messages", lo=0.5, hi=3600.0)


@dataclass(frozen=True)
class LogConfig:
    """Structured logs on stderr (one line per event)."""

    level: str = key("info", "lowest level logged", choices=("debug", "info", "warning", "error"))
    format: str = key("logfmt", "line format: `logfmt` (key=value) or `json`", choices=("logfmt", "json"))


@dataclass(frozen=True)
class CaptureConfig:
    """Recording labelled sessions (`csi-edge capture`)."""

    classes: list[str] = key(["empty", "walking", "sitting", "lying"], "activity labels offered while recording")
    fsync_interval_s: float = key(1.0, "seconds between fsyncs of the raw log (0: every write)", lo=0.0, hi=60.0)


@dataclass(frozen=True)
class Config:
    source: SourceConfig = field(default_factory=SourceConfig)
    sim: SimConfig = field(default_factory=SimConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    window: WindowConfig = field(default_factory=WindowConfig)
    mqtt: MqttConfig = field(default_factory=MqttConfig)
    publish: PublishConfig = field(default_factory=PublishConfig)
    health: HealthConfig = field(default_factory=HealthConfig)
    log: LogConfig = field(default_factory=LogConfig)
    capture: CaptureConfig = field(default_factory=CaptureConfig)
    origin: str = "defaults"  # where the file layer came from (for messages)


SECTIONS: dict[str, type] = {
    f.name: typing.get_type_hints(Config)[f.name] for f in dataclasses.fields(Config) if f.name != "origin"
}


@dataclass(frozen=True)
class KeySpec:
    section: str
    name: str
    type: object
    default: object
    doc: str
    lo: object = None
    hi: object = None
    choices: tuple | None = None
    pattern: str | None = None
    secret: bool = False

    @property
    def path(self) -> str:
        return f"{self.section}.{self.name}"

    def type_name(self) -> str:
        names: dict[object, str] = {int: "integer", float: "number", str: "string", bool: "true/false"}
        return names.get(self.type, "list of strings")


def schema() -> dict[str, dict[str, KeySpec]]:
    """section -> key -> KeySpec, in declaration order."""
    out: dict[str, dict[str, KeySpec]] = {}
    for section, cls in SECTIONS.items():
        hints = typing.get_type_hints(cls)
        keys = {}
        for f in dataclasses.fields(cls):
            default = f.default if f.default_factory is dataclasses.MISSING else f.default_factory()
            m = f.metadata
            keys[f.name] = KeySpec(section, f.name, hints[f.name], default, m["doc"], m["lo"], m["hi"], m["choices"], m["pattern"], m["secret"])
        out[section] = keys
    return out


def _did_you_mean(word: str, options) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(options)})"


def coerce(spec: KeySpec, value, where: str):
    """Check one value against its key; return it in the key's type or raise ConfigError."""
    label = f"{where}: [{spec.section}] {spec.name}"
    if spec.type is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{label} must be true or false (got {value!r})")
    elif spec.type is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{label} must be an integer (got {value!r})")
    elif spec.type is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{label} must be a number (got {value!r})")
        value = float(value)
    elif spec.type is str:
        if not isinstance(value, str):
            raise ConfigError(f"{label} must be a string (got {value!r})")
    else:  # list[str]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{label} must be a list of strings (got {value!r})")
    if spec.lo is not None and not (spec.lo <= value <= spec.hi):
        raise ConfigError(f"{label} must be {spec.lo}..{spec.hi} (got {value!r})")
    if spec.choices is not None and value not in spec.choices:
        raise ConfigError(f"{label} must be one of {', '.join(spec.choices)} (got {value!r})")
    if spec.pattern is not None and not re.fullmatch(spec.pattern, value):
        raise ConfigError(f"{label} has a bad format (got {value!r}, expected {spec.pattern})")
    return value


def _merge(values: dict, data: dict, where: str, errors: list[str]) -> None:
    """Validate a {section: {key: value}} layer into `values`, collecting errors."""
    keys = schema()
    for section, body in data.items():
        if section not in keys:
            errors.append(f"{where}: unknown section [{section}]{_did_you_mean(section, keys)}")
            continue
        if not isinstance(body, dict):
            errors.append(f"{where}: [{section}] must be a table")
            continue
        for name, value in body.items():
            if name not in keys[section]:
                errors.append(f"{where}: unknown key [{section}] {name}{_did_you_mean(name, keys[section])}")
                continue
            try:
                values[section][name] = coerce(keys[section][name], value, where)
            except ConfigError as exc:
                errors.append(str(exc))


def parse_override(text: str) -> tuple[str, str, object]:
    """`section.key=value` -> (section, key, value). The value is read as TOML when it parses
    (numbers, true/false, ["a", "b"]), else taken as a plain string; `a,b` is a list for list keys."""
    path, sep, raw = text.partition("=")
    section, dot, name = path.strip().partition(".")
    if not sep or not dot:
        raise ConfigError(f"--set {text!r}: expected section.key=value, e.g. --set mqtt.port=1884")
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    spec = schema().get(section, {}).get(name)
    if spec is not None and spec.type not in (int, float, str, bool) and isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if spec is not None and spec.type is str and not isinstance(value, str):
        value = raw
    return section, name, value


def read_toml(path: Path) -> dict:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read configuration ({exc.strerror})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None


def load_config(path: str | Path | None = None, overrides: dict | None = None, sets: Sequence[str] = ()) -> Config:
    """Defaults < TOML file at `path` (None: DEFAULT_PATH if it exists) < `sets` < `overrides`.

    `overrides` is {"section.key": value} from explicit command-line flags. All bad keys are
    reported together, one per line-part, in a single ConfigError.
    """
    keys = schema()
    values = {s: {k: spec.default for k, spec in ks.items()} for s, ks in keys.items()}
    errors: list[str] = []
    origin = "defaults"
    if path is None and DEFAULT_PATH.exists():
        path = DEFAULT_PATH
    if path is not None:
        origin = str(path)
        _merge(values, read_toml(Path(path)), str(path), errors)
    layer: dict[str, dict] = {}
    for text in sets:
        section, name, value = parse_override(text)
        layer.setdefault(section, {})[name] = value
    for dotted, value in (overrides or {}).items():
        section, _, name = dotted.partition(".")
        layer.setdefault(section, {})[name] = value
    _merge(values, layer, "command line", errors)
    if not errors:
        errors.extend(_cross_checks(values, str(path) if path else "command line"))
    if errors:
        raise ConfigError("; ".join(errors))
    sections = {s: SECTIONS[s](**v) for s, v in values.items()}
    return Config(**sections, origin=origin)


def _cross_checks(v: dict, where: str) -> list[str]:
    """Rules between keys; each names the key path."""
    errors = []
    if v["source"]["reconnect_min_s"] > v["source"]["reconnect_max_s"]:
        errors.append(f"{where}: [source] reconnect_min_s must be <= reconnect_max_s ({v['source']['reconnect_max_s']})")
    if v["window"]["size"] and v["window"]["hop"] > v["window"]["size"]:
        errors.append(f"{where}: [window] hop must be <= size ({v['window']['size']})")
    if bool(v["mqtt"]["cert_file"]) != bool(v["mqtt"]["key_file"]):
        errors.append(f"{where}: [mqtt] cert_file and key_file must be given together")
    if (v["mqtt"]["ca_file"] or v["mqtt"]["cert_file"]) and not v["mqtt"]["tls"]:
        errors.append(f"{where}: [mqtt] ca_file/cert_file need tls = true")
    if v["mqtt"]["password"] and not v["mqtt"]["username"]:
        errors.append(f"{where}: [mqtt] password needs a username")
    return errors


def parse_mqtt_url(url: str) -> dict:
    """`mqtt://[user[:pass]@]HOST[:PORT]` or `mqtts://...` -> {"mqtt.host": ..., ...} overrides."""
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl") or not parts.hostname:
        raise ConfigError(f"--mqtt {url!r}: expected mqtt://HOST:PORT (or mqtts:// for TLS)")
    try:
        port = parts.port
    except ValueError:
        got = parts.netloc.rsplit(":", 1)[-1]
        raise ConfigError(f"--mqtt {url!r}: [mqtt] port must be 1..65535 (got {got})") from None
    tls = parts.scheme in ("mqtts", "ssl")
    out = {"mqtt.host": parts.hostname, "mqtt.tls": tls, "mqtt.enabled": True}
    out["mqtt.port"] = port if port is not None else (8883 if tls else 1883)
    if parts.username:
        out["mqtt.username"] = unquote(parts.username)
    if parts.password:
        out["mqtt.password"] = unquote(parts.password)
    return out


def _fmt_default(spec: KeySpec) -> str:
    if spec.type is bool:
        return "true" if spec.default else "false"
    if spec.type is str or isinstance(spec.default, list):
        return json.dumps(spec.default)  # a JSON string/array of strings is valid TOML
    return repr(spec.default)


def _bounds(spec: KeySpec) -> str:
    if spec.lo is not None:
        return f"{spec.lo}..{spec.hi}"
    if spec.choices:
        return " | ".join(spec.choices)
    return ""


def describe_keys() -> str:
    """Plain-text list of every key, for `--help` epilogs."""
    lines = ["configuration keys (TOML file sections; override any with --set section.key=value):"]
    for keys in schema().values():
        for spec in keys.values():
            bound = _bounds(spec)
            lines.append(f"  {spec.path} = {_fmt_default(spec)}{'  [' + bound + ']' if bound else ''}  {spec.doc}")
    return "\n".join(lines)


def markdown() -> str:
    """docs/config.md, generated from the schema."""
    out = [
        "# Configuration",
        "",
        "One TOML file (`/etc/csi-edge/config.toml` when installed; `--config FILE` to choose another).",
        "Every key can be overridden on the command line with `--set section.key=value` (values are read",
        "as TOML: `--set mqtt.port=1884`, `--set capture.classes='[\"empty\",\"walking\"]'`), and some",
        "have explicit flags (`csi-edge run --source --mqtt --node --model --jsonl`). Precedence:",
        "defaults < file < command line. Unknown sections and keys are errors (with a did-you-mean);",
        "every bad value is reported as `FILE: [section] key must be ... (got ...)`.",
        "`csi-edge run --check-config` validates the configuration (and the model) and exits.",
        "",
        "Generated from `edge/config.py` by `python -m csi_edge.config --markdown`; do not edit by hand.",
    ]
    for section, keys in schema().items():
        cls = SECTIONS[section]
        out += ["", f"## [{section}]", "", (cls.__doc__ or "").strip(), "", "| key | type | default | range | description |", "|---|---|---|---|---|"]
        for spec in keys.values():
            bound = _bounds(spec).replace("|", "\\|")
            out.append(f"| `{spec.name}` | {spec.type_name()} | `{_fmt_default(spec)}` | {bound} | {spec.doc.replace('|', '/')} |")
    return "\n".join(out) + "\n"


def to_toml(config: Config, hide_secrets: bool = True) -> str:
    """The effective configuration as TOML (what `--print-config` shows)."""
    lines = []
    for section, keys in schema().items():
        lines.append(f"[{section}]")
        values = getattr(config, section)
        for name, spec in keys.items():
            value = getattr(values, name)
            if spec.secret and hide_secrets and value:
                value = "***"
            lines.append(f"{name} = {_fmt_default(dataclasses.replace(spec, default=value))}")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":  # python -m csi_edge.config --markdown | --toml
    print(markdown() if "--markdown" in sys.argv else to_toml(Config()), end="")
