"""Checks of what the configuration points at, before the daemon starts (`run`, `--check-config`).

`edge/config.py` validates keys and values; these look outside: the MQTT password (from the
configuration, `[mqtt] password_file` or the CSI_EDGE_MQTT_PASSWORD environment variable), the
TLS files (exist, are PEM, the key matches the certificate), the source's target (a serial
port that exists), and what deserves a warning (a password in a file other users can read,
credentials sent in clear text to another host). Errors are one line each, naming the key and
the file; the password itself is never shown.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import ssl
import stat
from collections.abc import Mapping
from pathlib import Path

from csi_edge.config import Config, MqttConfig, read_toml
from csi_edge.errors import ConfigError

PASSWORD_ENV = "CSI_EDGE_MQTT_PASSWORD"


def resolve_password(cfg: Config, environ: Mapping[str, str] | None = None) -> Config:
    """The configuration with [mqtt] password filled in: the configured password wins, then
    [mqtt] password_file (its first line), then $CSI_EDGE_MQTT_PASSWORD (with a username only)."""
    env = os.environ if environ is None else environ
    m = cfg.mqtt
    password = m.password
    if not password and m.password_file:
        password = _read_password_file(m.password_file, cfg.origin)
    elif not password and env.get(PASSWORD_ENV) and m.username:
        password = env[PASSWORD_ENV]
    if password == m.password:
        return cfg
    return dataclasses.replace(cfg, mqtt=dataclasses.replace(m, password=password))


def _read_password_file(path: str, where: str) -> str:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{where}: [mqtt] password_file {path}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{where}: [mqtt] password_file {path}: not UTF-8 text") from None
    lines = text.splitlines()
    if not lines or not lines[0]:
        raise ConfigError(f"{where}: [mqtt] password_file {path}: the first line (the password) is empty")
    return lines[0]


def tls_problems(m: MqttConfig, where: str) -> list[str]:
    """One line per unusable TLS file (missing, unreadable, not PEM, key not matching)."""
    if not (m.enabled and m.tls):
        return []
    problems = []
    files = {"ca_file": (m.ca_file, "CERTIFICATE"), "cert_file": (m.cert_file, "CERTIFICATE"), "key_file": (m.key_file, "PRIVATE KEY")}
    for name, (path, marker) in files.items():
        if path:
            problem = _pem_problem(path, marker)
            if problem:
                problems.append(f"{where}: [mqtt] {name} {path}: {problem}")
    if problems:
        return problems
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if m.ca_file:
        try:
            ctx.load_verify_locations(cafile=m.ca_file)
        except (ssl.SSLError, OSError) as exc:
            problems.append(f"{where}: [mqtt] ca_file {m.ca_file}: not a usable CA certificate ({_ssl_reason(exc)})")
    if m.cert_file and m.key_file:
        try:
            ctx.load_cert_chain(m.cert_file, m.key_file, password=_no_passphrase)
        except (ssl.SSLError, OSError) as exc:
            problems.append(f"{where}: [mqtt] cert_file {m.cert_file} / key_file {m.key_file}: cannot be used together "
                            f"({_ssl_reason(exc)})")  # fmt: skip
    return problems


def _no_passphrase() -> bytes:
    raise ssl.SSLError("the private key is encrypted; use an unencrypted key readable by the service user only")


def _pem_problem(path: str, marker: str) -> str | None:
    try:
        head = Path(path).read_bytes()[: 1 << 20]
    except FileNotFoundError:
        return "no such file"
    except IsADirectoryError:
        return "is a directory"
    except OSError as exc:
        return f"cannot read ({exc.strerror})"
    if b"-----BEGIN " not in head or marker.encode() not in head:
        return f"not a PEM file holding a {marker.lower()}"
    return None


def _ssl_reason(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLError):
        return exc.reason or (exc.args[-1] if exc.args else str(exc))
    return getattr(exc, "strerror", None) or str(exc)


def security_warnings(cfg: Config) -> list[str]:
    """Warnings about where the MQTT password is and how it travels (never the password)."""
    m = cfg.mqtt
    out = []
    if cfg.origin not in ("defaults", "") and _world_readable(cfg.origin) and _file_has_password(cfg.origin):
        out.append(f"{cfg.origin} holds [mqtt] password and other users can read it (chmod o-r {cfg.origin}, or move the "
                   f"password to [mqtt] password_file or ${PASSWORD_ENV})")  # fmt: skip
    if m.password_file and _world_readable(m.password_file):
        out.append(f"[mqtt] password_file {m.password_file}: other users can read it (chmod o-r {m.password_file})")
    if m.enabled and m.password and not m.tls and not is_loopback(m.host):
        out.append(f"[mqtt] credentials go in clear text to {m.host}:{m.port} (tls = false): use mqtts:// ([mqtt] tls = true)")
    return out


def _world_readable(path: str) -> bool:
    try:
        return bool(os.stat(path).st_mode & stat.S_IROTH)
    except OSError:
        return False


def _file_has_password(path: str) -> bool:
    try:
        return bool(read_toml(Path(path)).get("mqtt", {}).get("password"))
    except ConfigError:
        return False


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
