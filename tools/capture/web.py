"""`csi-edge capture record --web HOST:PORT`: the daemon's web view, during a capture.

`WebView` serves the web page (csi_edge.web) from before the session is created (a busy port
stops the capture before it writes anything); `around(screen, recorder)` then wraps the
capture's screen (terminal or plain): keys and rendering stay the screen's, and on top the
page is fed every decoded batch for the heatmap (the recorder's `on_frames` hook), the link
health once a second, and the label being recorded whenever it changes. A capture has no model: the page shows no activity, card
or position, only the signal, the link and the label. Nothing from the page reaches the capture.
"""

from __future__ import annotations

import socket
import time

from csi_edge.config import Config
from csi_edge.session.counters import error_counts
from csi_edge.timefmt import utc_iso
from csi_edge.tools.capture.ui import protocol_line
from csi_edge.web.publisher import WebPublisher

HEALTH_INTERVAL_S = 1.0


def node_of(config: Config) -> str:
    return config.publish.node or socket.gethostname().split(".")[0] or "csi-edge"


def capture_health(recorder, node: str) -> dict:
    """The health fields a capture has (the daemon's link fields, docs/data-fields.md)."""
    st = recorder.state
    health = {"time": utc_iso(), "node": node, "uptime_s": round(time.monotonic() - st.started_mono, 1),
              "source": recorder.source.status(), **st.counters.monitor.snapshot()}  # fmt: skip
    health["decode_errors"] = error_counts(st.decoder.errors)
    return health


def capture_label(recorder) -> dict:
    st = recorder.state
    lab = st.labeller
    return {"label": lab.label or "(none)", "paused": lab.paused, "session": str(recorder.dir),
            "packets": st.counters.packets, "marks": lab.marks, "protocol": protocol_line(recorder)}  # fmt: skip


class WebView:
    def __init__(self, config: Config) -> None:
        self.node = node_of(config)
        self.publisher = WebPublisher(config.web, self.node, mode="capture")

    @property
    def url(self) -> str:
        return self.publisher.url

    def start(self) -> None:
        self.publisher.start()

    def stop(self) -> None:
        self.publisher.stop(0.0)

    def around(self, screen, recorder) -> WebUI:
        recorder.on_frames = self.publisher.packets
        return WebUI(screen, self)


class WebUI:
    """The capture's screen, with the web page fed on every render (see module docstring)."""

    def __init__(self, screen, view: WebView) -> None:
        self.screen = screen
        self.view = view
        self._next_health = 0.0
        self._label: tuple | None = None

    def poll_keys(self) -> list[str]:
        return self.screen.poll_keys()

    def handle_key(self, key: str, recorder) -> None:
        self.screen.handle_key(key, recorder)

    def render(self, recorder, force: bool = False) -> None:
        self.screen.render(recorder, force)
        web = self.view.publisher
        now = time.monotonic()
        label = capture_label(recorder)
        key = (label["label"], label["paused"], label["marks"])
        if key != self._label or now >= self._next_health:
            self._label = key
            web.label(label)
        if now >= self._next_health:
            self._next_health = now + HEALTH_INTERVAL_S
            web.health(capture_health(recorder, self.view.node))

    def close(self, recorder) -> None:
        try:
            self.screen.close(recorder)
        finally:
            self.view.stop()
