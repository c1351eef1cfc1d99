"""Why the broker cannot be reached, in words: connection failures that paho keeps to itself.

paho's network thread retries a failed connection forever but hands `on_connect_fail` no
reason: a closed port, an unknown host and a TLS certificate the broker's name does not match
all look the same (and are silent). `ReasonedClient` overrides `reconnect` (the one call paho's
loop makes to connect) to catch the exception on its way out and hand it to `on_connect_error`;
`describe` turns it into one line: "connection refused", "unknown host (Name or service not
known)", "TLS certificate verification failed: Hostname mismatch, ...".
"""

from __future__ import annotations

import errno
import socket
import ssl
from collections.abc import Callable

import paho.mqtt.client as mqtt


class ReasonedClient(mqtt.Client):
    """A paho client that reports why each connection attempt failed (`on_connect_error`)."""

    on_connect_error: Callable[[BaseException], None] | None = None

    def reconnect(self) -> mqtt.MQTTErrorCode:
        try:
            return super().reconnect()
        except (OSError, ValueError) as exc:
            hook = self.on_connect_error
            if hook is not None:
                hook(exc)
            raise


def describe(exc: BaseException) -> str:
    """One line saying why a connection attempt failed."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS certificate verification failed: {exc.verify_message or exc.reason}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS handshake failed: {exc.reason or exc}"
    if isinstance(exc, socket.gaierror):
        return f"unknown host ({exc.strerror})"
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return "timed out"
    if isinstance(exc, OSError) and exc.errno is not None:
        name = errno.errorcode.get(exc.errno, "")
        text = (exc.strerror or str(exc)).lower()
        return f"{text} ({name})" if name else text
    return f"{type(exc).__name__}: {exc}"
