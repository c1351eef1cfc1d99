"""Who may see and do what on the web view: the access token, its cookie, TLS.

- No token configured: the page and its read-only endpoints are open to anyone who can reach
  the port (127.0.0.1 by default), and control actions are refused (403).
- A token configured (`[web] token` or `token_file`): every /api and /ws request must carry it,
  as `Authorization: Bearer TOKEN` (scripts, curl) or as the session cookie the page gets from
  `POST /api/login` (HttpOnly, SameSite=Strict; its value is an HMAC of the token, not the
  token). Otherwise: 401. The page itself and its static files carry no data and stay open.
- Requests that change something (POST) and the WebSocket must come from the page's own
  origin (an `Origin` header naming another host is refused, 403): no other site can drive
  them from a visitor's browser.
"""

from __future__ import annotations

import hashlib
import hmac
import ssl
from pathlib import Path
from urllib.parse import urlsplit

from csi_edge.config import WebConfig
from csi_edge.errors import ConfigError

COOKIE = "csi_edge_session"


def load_token(cfg: WebConfig) -> str:
    """The configured token ('' for none); `token_file`'s first line, stripped."""
    if not cfg.token_file:
        return cfg.token
    try:
        lines = Path(cfg.token_file).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ConfigError(f"[web] token_file {cfg.token_file}: cannot read the token ({reason})") from None
    token = lines[0].strip() if lines else ""
    if not token:
        raise ConfigError(f"[web] token_file {cfg.token_file}: the first line is empty (expected the access token)")
    return token


def ssl_context(cfg: WebConfig) -> ssl.SSLContext | None:
    """A server TLS context from [web] cert_file/key_file (and ca_file: client certificates)."""
    if not cfg.tls:
        return None
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        ctx.load_cert_chain(cfg.cert_file, cfg.key_file)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"[web] cert_file {cfg.cert_file} / key_file {cfg.key_file}: cannot load ({_reason(exc)})") from None
    if cfg.ca_file:
        try:
            ctx.load_verify_locations(cfg.ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"[web] ca_file {cfg.ca_file}: cannot load ({_reason(exc)})") from None
        ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def _reason(exc: Exception) -> str:
    return getattr(exc, "strerror", None) or getattr(exc, "reason", None) or str(exc)


class Access:
    """Checks one request against the configured token (see module docstring)."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.session = hmac.new(token.encode(), b"csi-edge web session", hashlib.sha256).hexdigest() if token else ""

    @property
    def required(self) -> bool:
        return bool(self.token)

    def allows(self, headers, cookies) -> bool:
        """The request carries the token (header) or the session cookie; always, without a token."""
        if not self.token:
            return True
        auth = headers.get("Authorization", "")
        if auth.startswith("Bearer ") and hmac.compare_digest(auth[7:].strip().encode(), self.token.encode()):
            return True
        cookie = cookies.get(COOKIE, "")
        return bool(cookie) and hmac.compare_digest(cookie.encode(), self.session.encode())

    def check_login(self, token: str) -> bool:
        return bool(self.token) and hmac.compare_digest(token.encode(), self.token.encode())


def same_origin(headers, host: str) -> bool:
    """No Origin header (curl, scripts), or one naming this server's host:port."""
    origin = headers.get("Origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc == host
