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


def key(default, doc: str, *, lo=None, hi=None, choices=None, pattern=None, secret=False, required=False):
    """Declare one configuration key (a dataclass field carrying its schema). A key whose type is
    a list of dataclasses is an array of tables (`[[section.key]]`), each table declared the same
    way; `required` keys must be given in every table."""
    meta = {"doc": doc, "lo": lo, "hi": hi, "choices": choices, "pattern": pattern, "secret": secret, "required": required}
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class SourceConfig:
    """Where the byte stream comes from."""

    spec: str = key("", "source: `serial:PATH`, `serial:usb` (match by usb_vid_pid/usb_serial), `replay:PATH`, "
                    "`udp:[HOST:]PORT` or `sim` (simulated boards); required by `run` and `capture record`")
    specs: list[str] = key([], "several sources read at once, one link each (e.g. two receivers on one host): `NAME=SPEC` or "
                           "`SPEC` (named link0, link1, ...); when given, replaces `spec`")
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
    smoothing: float = key(0.2, "EMA weight of the newest probabilities (1 = no smoothing)", lo=0.01, hi=1.0)
    hysteresis: float = key(0.3, "a new activity must beat the current one by this probability margin", lo=0.0, hi=1.0)
    position_smoothing: float = key(0.5, "EMA weight of the newest position (1 = no smoothing)", lo=0.01, hi=1.0)
    presence_threshold: float = key(0.5, "presence when 1 - p(empty) reaches this", lo=0.0, hi=1.0)
    position_skill_ratio: float = key(0.8, "publish positions only from a model whose measured position RMSE is at most this "
                                      "fraction of the constant baseline's (its card's position skill)", lo=0.0, hi=1.0)
    novelty_threshold: float = key(0.0, "report activity `unknown` when a window's novelty (0..1) exceeds this (0: the "
                                   "threshold in the model card; 1: never)", lo=0.0, hi=1.0)


@dataclass(frozen=True)
class CalibrationConfig:
    """Site calibration: the empty-room baseline, drift alarm, recalibration, test-time adaptation."""

    baseline: str = key("", "empty-room baseline of this link (`csi-edge calibrate --out FILE`); empty: none (drift is null)")
    save: bool = key(True, "write a baseline recorded on `recalibrate` to `baseline` (when set)")
    seconds: float = key(60.0, "length of the recording a `recalibrate` command starts, seconds (the room should be empty)",
                         lo=5.0, hi=3600.0)
    drift_alarm_dB: float = key(1.5, "raise `recalibrate` when the quiet room's drift stays at or above this for drift_hold_s",
                                lo=0.05, hi=40.0)
    drift_clear_dB: float = key(1.0, "clear the alarm when the drift stays at or below this for drift_hold_s", lo=0.0, hi=40.0)
    drift_hold_s: float = key(20.0, "seconds of quiet windows the drift must stay beyond a level to change the alarm",
                              lo=0.0, hi=86400.0)
    drift_tau_s: float = key(20.0, "time constant of the quiet-room profile average, seconds of quiet windows", lo=0.1, hi=86400.0)
    quiet_motion: float = key(1.5, "a window is quiet when its motion ratio (flicker / the baseline's) is at most this",
                              lo=0.5, hi=100.0)
    auto_minutes: float = key(0.0, "recalibrate by itself after this many minutes of confident emptiness while recalibration "
                              "is needed or no baseline is loaded (0: never)", lo=0.0, hi=60.0)
    auto_confidence: float = key(0.9, "confident emptiness: activity `empty` with at least this confidence in a quiet window",
                                 lo=0.0, hi=1.0)
    request_file: str = key("/var/lib/csi-edge/recalibrate", "on SIGHUP, when this file exists it is removed and the daemon "
                            "recalibrates (besides reloading the model)")
    adapt: str = key("off", "test-time adaptation on the stream: the BatchNorm statistics (`batchnorm`, needs the card's "
                     "adaptable graph), or the input's per-subcarrier mean (`mean`) or mean and spread (`mean-std`)",
                     choices=("off", "batchnorm", "mean", "mean-std"))
    adapt_windows: int = key(3000, "windows the adaptation averages over (3000 = 5 min at 10 results/s)", lo=10, hi=1_000_000)


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
    password: str = key("", "password; better kept out of this file: `password_file` or the CSI_EDGE_MQTT_PASSWORD "
                        "environment variable", secret=True)
    password_file: str = key("", "file whose first line is the password (readable by the service user only); used when "
                             "`password` is empty")
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
    reconnect_min_s: float = key(0.5, "first delay before reconnecting to the broker, seconds (doubles after each failure)",
                                 lo=0.1, hi=60.0)
    reconnect_max_s: float = key(5.0, "longest delay between reconnect attempts, seconds: a broker back after an outage "
                                 "is found within this", lo=0.5, hi=3600.0)
    warn_every_s: float = key(60.0, "a broker that stays unreachable is logged at the first failure, then at most this often",
                              lo=1.0, hi=86400.0)


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
class WebConfig:
    """The live web view (`csi-edge run --web HOST:PORT`, docs/web.md)."""

    enabled: bool = key(False, "serve the live web view (read-only page; recalibration only with the token)")
    host: str = key("127.0.0.1", "address to listen on (127.0.0.1: this machine only; 0.0.0.0: every interface)")
    port: int = key(8080, "TCP port of the web view", lo=1, hi=65535)
    token: str = key("", "access token: when set, every /api and /ws request must carry it (empty: read-only view for anyone "
                     "who can reach the port, and no control actions)", secret=True)
    token_file: str = key("", "file whose first line is the access token (instead of `token`)")
    tls: bool = key(False, "serve HTTPS (needs cert_file and key_file)")
    cert_file: str = key("", "server certificate (PEM) for TLS")
    key_file: str = key("", "server private key (PEM) for TLS")
    ca_file: str = key("", "CA certificate (PEM): when set, browsers must present a client certificate it signed")
    heatmap_decimation: int = key(4, "send every Nth packet's amplitudes to the heatmap (4: 25 rows/s at 100 Hz)", lo=1, hi=1000)
    heatmap_s: float = key(10.0, "seconds of heatmap a page receives when it connects", lo=1.0, hi=120.0)
    timeline_s: float = key(600.0, "seconds of activity timeline a page receives when it connects", lo=10.0, hi=86400.0)
    client_queue: int = key(256, "messages queued per browser; a slow browser loses the oldest ones (counted in web_dropped)",
                            lo=16, hi=100_000)
    max_clients: int = key(8, "browsers connected at once (more are refused with 503)", lo=1, hi=1000)


@dataclass(frozen=True)
class FuseRoom:
    """One room of the site (a `[[fuse.rooms]]` table)."""

    name: str = key("", "room name, in topics `PREFIX/SITE/ROOM/...`", pattern=NAME_PATTERN, required=True)
    nodes: list[str] = key([], "the links that see this room: node names as given to `csi-edge run --node`, or `NODE/LINK` for one "
                           "link of a daemon with several sources", required=True)


@dataclass(frozen=True)
class FuseLink:
    """What fuse knows about one link (a `[[fuse.links]]` table, optional): its weight and where its boards are."""

    node: str = key("", "the link, as named in `[[fuse.rooms]] nodes`", required=True)
    weight: float = key(1.0, "the link's vote in pooling and positions (e.g. from its model's validation accuracy: docs/fleet.md)",
                        lo=0.0, hi=100.0)
    tx_m: list[float] = key([], "transmitter position [x, y, z] in the room coordinates of the positions, metres (with rx_m)")
    rx_m: list[float] = key([], "receiver position [x, y, z], metres (with tx_m)")


@dataclass(frozen=True)
class FuseConfig:
    """The fusion service (`csi-edge fuse`): the site's rooms and how node states are combined."""

    site: str = key("home", "site name, in topics `PREFIX/SITE/ROOM/...` (must differ from every node name)", pattern=NAME_PATTERN)
    rooms: list[FuseRoom] = key([], "the rooms of the site: `[[fuse.rooms]]` tables of `name` and `nodes`")
    links: list[FuseLink] = key([], "per-link weights and geometry (optional): `[[fuse.links]]` tables of `node`, `weight`, `tx_m`, `rx_m`")
    hold_s: float = key(0.15, "after a room's first new state, wait at most this long for its other nodes before publishing", lo=0.0, hi=5.0)
    max_age_s: float = key(1.0, "a state older than this when it arrives (after clock-offset correction) is late: counted, not fused",
                           lo=0.05, hi=60.0)
    max_skew_s: float = key(2.0, "largest node clock offset that is corrected (the estimate is clamped to +-this)", lo=0.0, hi=3600.0)
    stale_s: float = key(3.0, "a node without a state for this long is stale: not fused, reported in health", lo=0.1, hi=3600.0)
    drop_s: float = key(30.0, "a node without a state for this long (or offline) is dropped until it publishes again", lo=0.1, hi=86400.0)
    pooling: str = key("product", "how class probabilities combine: `product` (weighted geometric mean: on the simulator it beats "
                       "the best single link on days 2 and 3, `mean` does not on day 3; docs/benchmarks.md) or `mean` "
                       "(weighted mean)", choices=("mean", "product"))  # fmt: skip
    presence_threshold: float = key(0.5, "fused presence when 1 - p(empty) reaches this", lo=0.0, hi=1.0)
    geometry_scale_m: float = key(1.5, "a position estimate this far from its link's TX-RX line gets weight exp(-1/2) (with [[fuse.links]])",
                                  lo=0.05, hi=100.0)


@dataclass(frozen=True)
class Config:
    source: SourceConfig = field(default_factory=SourceConfig)
    sim: SimConfig = field(default_factory=SimConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    window: WindowConfig = field(default_factory=WindowConfig)
    calibration: CalibrationConfig = field(default_factory=CalibrationConfig)
    mqtt: MqttConfig = field(default_factory=MqttConfig)
    publish: PublishConfig = field(default_factory=PublishConfig)
    health: HealthConfig = field(default_factory=HealthConfig)
    log: LogConfig = field(default_factory=LogConfig)
    capture: CaptureConfig = field(default_factory=CaptureConfig)
    web: WebConfig = field(default_factory=WebConfig)
    fuse: FuseConfig = field(default_factory=FuseConfig)
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
    required: bool = False
    label: str = ""  # how messages name the key; default `[section] name`

    @property
    def path(self) -> str:
        return f"{self.section}.{self.name}"

    @property
    def where(self) -> str:
        return self.label or f"[{self.section}] {self.name}"

    @property
    def table(self) -> typing.Any:
        """The table dataclass of an array-of-tables key (list[SomeTable]), else None."""
        args = typing.get_args(self.type)
        return args[0] if args and dataclasses.is_dataclass(args[0]) else None

    def type_name(self) -> str:
        names: dict[object, str] = {int: "integer", float: "number", str: "string", bool: "true/false", list[float]: "list of numbers"}
        return "array of tables" if self.table else names.get(self.type, "list of strings")


def _keys_of(cls: type, section: str) -> dict[str, KeySpec]:
    hints = typing.get_type_hints(cls)
    keys = {}
    for f in dataclasses.fields(cls):
        default = f.default if f.default_factory is dataclasses.MISSING else f.default_factory()
        m = f.metadata
        keys[f.name] = KeySpec(section, f.name, hints[f.name], default, m["doc"], m["lo"], m["hi"], m["choices"], m["pattern"],
                               m["secret"], m.get("required", False))
    return keys


def schema() -> dict[str, dict[str, KeySpec]]:
    """section -> key -> KeySpec, in declaration order."""
    return {section: _keys_of(cls, section) for section, cls in SECTIONS.items()}


def table_keys(spec: KeySpec) -> dict[str, KeySpec]:
    """The keys of one table of an array-of-tables key (section `section.key`)."""
    assert spec.table is not None
    return _keys_of(spec.table, spec.path)


def _did_you_mean(word: str, options) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(options)})"


def coerce(spec: KeySpec, value, where: str):
    """Check one value against its key; return it in the key's type or raise ConfigError.
    The value of a secret key (the password) is never put into a message."""
    if spec.table is not None:
        return _coerce_tables(spec, value, where)
    label = f"{where}: {spec.where}"
    got = f"a {type(value).__name__}, value not shown" if spec.secret else repr(value)
    if spec.type is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{label} must be true or false (got {got})")
    elif spec.type is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{label} must be an integer (got {got})")
    elif spec.type is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{label} must be a number (got {got})")
        value = float(value)
    elif spec.type is str:
        if not isinstance(value, str):
            raise ConfigError(f"{label} must be a string (got {got})")
    elif spec.type == list[float]:
        if not isinstance(value, list) or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            raise ConfigError(f"{label} must be a list of numbers (got {got})")
        value = [float(v) for v in value]
    else:  # list[str]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{label} must be a list of strings (got {got})")
    if spec.lo is not None and not (spec.lo <= value <= spec.hi):
        raise ConfigError(f"{label} must be {spec.lo}..{spec.hi} (got {got})")
    if spec.choices is not None and value not in spec.choices:
        raise ConfigError(f"{label} must be one of {', '.join(spec.choices)} (got {got})")
    if spec.pattern is not None and not re.fullmatch(spec.pattern, value):
        raise ConfigError(f"{label} has a bad format (got {got}, expected {spec.pattern})")
    return value


def _coerce_tables(spec: KeySpec, value, where: str) -> list:
    """An array of tables: each table's keys checked like a section's; errors name the table,
    e.g. `config.toml: [fuse.rooms][1] nodes must be a list of strings (got 3)` (index from 0)."""
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ConfigError(f"{where}: {spec.where} must be an array of tables ([[{spec.path}]] in the file, or "
                          f"--set '{spec.path}=[{{key = value, ...}}]') (got {value!r})")
    keys = table_keys(spec)
    errors: list[str] = []
    out = []
    for i, body in enumerate(value):
        table = f"[{spec.path}][{i}]"
        fields = {}
        for name, item in body.items():
            if name not in keys:
                errors.append(f"{where}: unknown key {table} {name}{_did_you_mean(name, keys)}")
                continue
            try:
                fields[name] = coerce(dataclasses.replace(keys[name], label=f"{table} {name}"), item, where)
            except ConfigError as exc:
                errors.append(str(exc))
        errors += [f"{where}: {table} {name} is required" for name, k in keys.items() if k.required and name not in body]
        if not errors:
            out.append(spec.table(**fields))
    if errors:
        raise ConfigError("; ".join(errors))
    return out


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


ELEMENT = re.compile(r"(?P<key>\w+)\[(?P<index>\d+)\]\.(?P<field>\w+)")  # rooms[1].nodes: one key of one table


def _override_spec(section: str, name: str) -> KeySpec | None:
    keys = schema().get(section, {})
    m = ELEMENT.fullmatch(name)
    if m is None:
        return keys.get(name)
    spec = keys.get(m["key"])
    return table_keys(spec).get(m["field"]) if spec is not None and spec.table is not None else None


def parse_override(text: str) -> tuple[str, str, object]:
    """`section.key=value` -> (section, key, value). The value is read as TOML when it parses
    (numbers, true/false, ["a", "b"], [{name = "lab"}]), else taken as a plain string; `a,b` is a
    list for list keys. `section.key[i].field=value` sets one key of table i of an array of
    tables (i = the number of tables appends one)."""
    path, sep, raw = text.partition("=")
    section, dot, name = path.strip().partition(".")
    if not sep or not dot:
        shown = "..." if "pass" in text.lower() else repr(text)  # never echo a password
        raise ConfigError(f"--set {shown}: expected section.key=value, e.g. --set mqtt.port=1884")
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    spec = _override_spec(section, name)
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
    data: dict = {}
    if path is not None:
        origin = str(path)
        data = read_toml(Path(path))
        _merge(values, data, str(path), errors)
    layer: dict[str, dict] = {}
    for text in sets:
        section, name, value = parse_override(text)
        if ELEMENT.fullmatch(name):
            errors.extend(_set_table_key(layer, data, section, name, value))
        else:
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


def _set_table_key(layer: dict, data: dict, section: str, name: str, value) -> list[str]:
    """`--set section.key[i].field=value`: change one table (copied from the file, or from an
    earlier --set) in the command-line layer, which is then validated as a whole."""
    m = ELEMENT.fullmatch(name)
    assert m is not None
    key_name, index = m["key"], int(m["index"])
    body = layer.setdefault(section, {})
    if key_name not in body:
        file_tables = data.get(section, {}).get(key_name, []) if isinstance(data.get(section), dict) else []
        body[key_name] = [dict(t) for t in file_tables] if isinstance(file_tables, list) else file_tables
    tables = body[key_name]
    if not isinstance(tables, list) or index > len(tables):
        return [f"command line: [{section}.{key_name}][{index}] does not exist (there are {len(tables)} tables; "
                f"index {len(tables)} adds one)"]
    if index == len(tables):
        tables.append({})
    if isinstance(tables[index], dict):
        tables[index][m["field"]] = value
    return []


def _cross_checks(v: dict, where: str) -> list[str]:
    """Rules between keys; each names the key path."""
    errors = []
    if v["source"]["reconnect_min_s"] > v["source"]["reconnect_max_s"]:
        errors.append(f"{where}: [source] reconnect_min_s must be <= reconnect_max_s ({v['source']['reconnect_max_s']})")
    if v["window"]["size"] and v["window"]["hop"] > v["window"]["size"]:
        errors.append(f"{where}: [window] hop must be <= size ({v['window']['size']})")
    if v["calibration"]["drift_clear_dB"] > v["calibration"]["drift_alarm_dB"]:
        errors.append(f"{where}: [calibration] drift_clear_dB must be <= drift_alarm_dB ({v['calibration']['drift_alarm_dB']})")
    if bool(v["mqtt"]["cert_file"]) != bool(v["mqtt"]["key_file"]):
        errors.append(f"{where}: [mqtt] cert_file and key_file must be given together")
    if (v["mqtt"]["ca_file"] or v["mqtt"]["cert_file"]) and not v["mqtt"]["tls"]:
        errors.append(f"{where}: [mqtt] ca_file/cert_file need tls = true")
    if v["mqtt"]["reconnect_min_s"] > v["mqtt"]["reconnect_max_s"]:
        errors.append(f"{where}: [mqtt] reconnect_min_s must be <= reconnect_max_s ({v['mqtt']['reconnect_max_s']})")
    if (v["mqtt"]["password"] or v["mqtt"]["password_file"]) and not v["mqtt"]["username"]:
        errors.append(f"{where}: [mqtt] password needs a username")
    names = [link_name(spec, i) for i, spec in enumerate(v["source"]["specs"])]
    for i, name in enumerate(names):
        if not re.fullmatch(NAME_PATTERN, name) or name in names[:i]:
            errors.append(f"{where}: [source] specs[{i}]: link name {name!r} must be unique, letters, digits, - and _")
    errors += _web_checks(v["web"], where)
    return errors + _fuse_checks(v["fuse"], where)


def link_name(spec: str, index: int) -> str:
    """The link name of a [source] specs entry: `NAME=SPEC` -> NAME, `SPEC` -> link<index>."""
    name, sep, rest = spec.partition("=")
    return name if sep and ":" not in name and rest else f"link{index}"


def link_spec(spec: str) -> str:
    """The source spec of a [source] specs entry (without its `NAME=`)."""
    name, sep, rest = spec.partition("=")
    return rest if sep and ":" not in name and rest else spec


NODE_PATTERN = NAME_PATTERN + "(/" + NAME_PATTERN + ")?"  # NODE or NODE/LINK


def _fuse_checks(f: dict, where: str) -> list[str]:
    errors = []
    seen: dict[str, int] = {}
    for i, room in enumerate(f["rooms"]):
        if room.name in seen:
            errors.append(f"{where}: [fuse.rooms][{i}] name {room.name!r} is already room [fuse.rooms][{seen[room.name]}]")
        seen.setdefault(room.name, i)
        if not room.nodes:
            errors.append(f"{where}: [fuse.rooms][{i}] nodes must name at least one node")
        for node in room.nodes:
            if not re.fullmatch(NODE_PATTERN, node):
                errors.append(f"{where}: [fuse.rooms][{i}] nodes: {node!r} is not NODE or NODE/LINK (letters, digits, - and _)")
            elif node.split("/")[0] == f["site"]:
                errors.append(f"{where}: [fuse.rooms][{i}] nodes: {node!r} has the site's name ([fuse] site): their topics would collide")
        if len(set(room.nodes)) != len(room.nodes):
            errors.append(f"{where}: [fuse.rooms][{i}] nodes lists a node twice")
    known = {n for room in f["rooms"] for n in room.nodes}
    for i, link in enumerate(f["links"]):
        if link.node not in known:
            errors.append(f"{where}: [fuse.links][{i}] node {link.node!r} is in no [[fuse.rooms]] nodes")
        for name in ("tx_m", "rx_m"):
            if len(getattr(link, name)) not in (0, 3) or bool(link.tx_m) != bool(link.rx_m):
                errors.append(f"{where}: [fuse.links][{i}] {name} must be [x, y, z], with both tx_m and rx_m (got {getattr(link, name)})")
    if f["drop_s"] < f["stale_s"]:
        errors.append(f"{where}: [fuse] drop_s must be >= stale_s ({f['stale_s']})")
    return errors


def redact_url(url: str) -> str:
    """The URL with any password replaced by ***: `mqtt://edge:***@host:1883`."""
    return re.sub(r"(//[^/@:]*:)[^/]*@", r"\1***@", url)
def _web_checks(web: dict, where: str) -> list[str]:
    errors = []
    if web["token"] and web["token_file"]:
        errors.append(f"{where}: [web] token and token_file are exclusive (give one)")
    if web["tls"] and not (web["cert_file"] and web["key_file"]):
        errors.append(f"{where}: [web] tls = true needs cert_file and key_file")
    if (web["cert_file"] or web["key_file"] or web["ca_file"]) and not web["tls"]:
        errors.append(f"{where}: [web] cert_file/key_file/ca_file need tls = true")
    return errors


def parse_listen(text: str, flag: str = "--web") -> dict:
    """`HOST:PORT`, `[IPv6]:PORT` or `PORT` -> {"web.enabled": True, "web.host": ..., "web.port": ...}."""
    host, sep, port_text = text.rpartition(":")
    if not sep:
        host, port_text = "", text
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ConfigError(f"{flag} {text!r}: expected HOST:PORT with a port 1..65535, e.g. {flag} 127.0.0.1:8080")
    out: dict = {"web.enabled": True, "web.port": int(port_text)}
    if host:
        out["web.host"] = host
    return out


def parse_mqtt_url(url: str) -> dict:
    """`mqtt://[user[:pass]@]HOST[:PORT]` or `mqtts://...` -> {"mqtt.host": ..., ...} overrides.
    Messages show the URL without its password."""
    from urllib.parse import unquote, urlsplit

    shown = redact_url(url)
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError:
        raise ConfigError(f"--mqtt {shown!r}: expected mqtt://HOST:PORT (or mqtts:// for TLS)") from None
    if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl") or not hostname:
        raise ConfigError(f"--mqtt {shown!r}: expected mqtt://HOST:PORT (or mqtts:// for TLS)")
    try:
        port = parts.port
    except ValueError:
        got = parts.netloc.rsplit("@", 1)[-1].rsplit(":", 1)[-1]
        raise ConfigError(f"--mqtt {shown!r}: [mqtt] port must be 1..65535 (got {got})") from None
    tls = parts.scheme in ("mqtts", "ssl")
    out: dict[str, object] = {"mqtt.host": hostname, "mqtt.tls": tls, "mqtt.enabled": True}
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


def _documented(keys: dict[str, KeySpec]):
    """(name as documented, spec) of every key, the keys of each array of tables after it as
    `key[].field`."""
    for spec in keys.values():
        yield spec.name, spec
        if spec.table is not None:
            for sub in table_keys(spec).values():
                yield f"{spec.name}[].{sub.name}", sub


def describe_keys() -> str:
    """Plain-text list of every key, for `--help` epilogs."""
    lines = ["configuration keys (TOML file sections; override any with --set section.key=value):"]
    for section, keys in schema().items():
        for name, spec in _documented(keys):
            bound = _bounds(spec)
            lines.append(f"  {section}.{name} = {_fmt_default(spec)}{'  [' + bound + ']' if bound else ''}  {spec.doc}")
    return "\n".join(lines)


def markdown() -> str:
    """docs/config.md, generated from the schema."""
    out = [
        "# Configuration",
        "",
        "One TOML file (`/etc/csi-edge/config.toml` when installed; `--config FILE` to choose another).",
        "Every key can be overridden on the command line with `--set section.key=value` (values are read",
        "as TOML: `--set mqtt.port=1884`, `--set capture.classes='[\"empty\",\"walking\"]'`), and some",
        "have explicit flags (`csi-edge run --source --mqtt --node --model --jsonl --web`). Precedence:",
        "defaults < file < command line. Unknown sections and keys are errors (with a did-you-mean);",
        "every bad value is reported as `FILE: [section] key must be ... (got ...)`.",
        "`csi-edge run --check-config` validates the configuration (and the model) and exits.",
        "Arrays of tables (`[[fuse.rooms]]`) list their keys as `rooms[].name`; errors name the table",
        "from 0 (`[fuse.rooms][1] nodes ...`); `--set 'fuse.rooms=[{name = \"lab\", nodes = [\"a\"]}]'`",
        "replaces the array, `--set fuse.rooms[1].nodes=a,b` changes one key of one table.",
        "",
        "Generated from `edge/config.py` by `python -m csi_edge.config --markdown`; do not edit by hand.",
    ]
    for section, keys in schema().items():
        cls = SECTIONS[section]
        out += ["", f"## [{section}]", "", (cls.__doc__ or "").strip(), "", "| key | type | default | range | description |", "|---|---|---|---|---|"]
        for name, spec in _documented(keys):
            bound = _bounds(spec).replace("|", "\\|")
            required = " (required)" if spec.required else ""
            out.append(f"| `{name}` | {spec.type_name()} | `{_fmt_default(spec)}` | {bound} | {spec.doc.replace('|', '/')}{required} |")
    return "\n".join(out) + "\n"


def to_toml(config: Config, hide_secrets: bool = True) -> str:
    """The effective configuration as TOML (what `--print-config` shows)."""
    lines = []
    for section, keys in schema().items():
        lines.append(f"[{section}]")
        values = getattr(config, section)
        tables: list[str] = []
        for name, spec in keys.items():
            value = getattr(values, name)
            if spec.table is not None:  # after the section's plain keys, as [[section.key]] blocks
                tables += [line for table in value for line in ["", f"[[{spec.path}]]", *_toml_lines(table, table_keys(spec), hide_secrets)]]
                continue
            lines += _toml_lines(values, {name: spec}, hide_secrets)
        lines += [*tables, ""]
    return "\n".join(lines)


def _toml_lines(values, keys: dict[str, KeySpec], hide_secrets: bool) -> list[str]:
    out = []
    for name, spec in keys.items():
        value = getattr(values, name)
        if spec.secret and hide_secrets and value:
            value = "***"
        out.append(f"{name} = {_fmt_default(dataclasses.replace(spec, default=value))}")
    return out


if __name__ == "__main__":  # python -m csi_edge.config --markdown | --toml
    print(markdown() if "--markdown" in sys.argv else to_toml(Config()), end="")
