"""The web view as a publisher: `csi-edge run --web HOST:PORT` ([web] in the configuration).

It gets what every publisher gets (state, health, the model's fields and card) and, through
the port's optional `packets` hook, every decoded batch, which it decimates at once for the
heatmap (csi_edge.web.feed). All of it is handed to the server thread (csi_edge.web.server)
without waiting. Its health fields: `web_clients` (pages connected) and `web_dropped`
(messages a slow page did not get, plus hand-offs lost if the server thread stalled).
"""

from __future__ import annotations

from csi_edge.commands import Commands
from csi_edge.config import Config, WebConfig
from csi_edge.frames import FrameBatch
from csi_edge.publish.base import Publisher
from csi_edge.results import StateFields
from csi_edge.web.auth import Access, load_token, ssl_context
from csi_edge.web.cardview import card_view
from csi_edge.web.feed import Feed
from csi_edge.web.hub import Hub, HubSettings
from csi_edge.web.server import WebServer


class WebPublisher(Publisher):
    kind = "web"

    def __init__(self, cfg: WebConfig, node: str, mode: str = "run") -> None:
        token = load_token(cfg)
        self.feed = Feed(cfg.heatmap_decimation)
        settings = HubSettings(node=node, mode=mode, heatmap_s=cfg.heatmap_s, timeline_s=cfg.timeline_s,
                               control=bool(token) and mode == "run",
                               client_queue=cfg.client_queue)  # fmt: skip
        self.hub = Hub(settings, self.feed)
        self.server = WebServer(self.hub, Access(token), cfg.host, cfg.port, ssl_context(cfg), cfg.max_clients)

    @classmethod
    def enabled(cls, cfg: Config) -> bool:
        return cfg.web.enabled

    @classmethod
    def from_config(cls, cfg: Config, node: str) -> WebPublisher:
        return cls(cfg.web, node)

    @property
    def url(self) -> str:
        return self.server.url

    def start(self) -> None:
        self.server.start()

    def packets(self, frames: FrameBatch, arrival: float) -> None:
        self.feed.packets(frames, arrival)

    def state(self, payload: dict) -> None:
        self.feed.message("state", payload)

    def health(self, payload: dict) -> None:
        self.feed.message("health", payload)

    def label(self, payload: dict) -> None:
        """What a capture is recording (its label, pause state, counts): shown on the page."""
        self.feed.message("label", payload)

    def model_changed(self, fields: StateFields) -> None:
        self.feed.message("card", card_view(fields))

    def accept_commands(self, commands: Commands) -> None:
        self.server.commands = commands

    def stop(self, flush_s: float) -> None:
        self.server.stop()

    def status(self) -> dict:
        return {"web_clients": len(self.hub.clients), "web_dropped": self.hub.dropped + self.feed.handoff_dropped}
