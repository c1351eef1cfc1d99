"""The always-on daemon behind `csi-edge run`: links -> publishers, under systemd.

`Daemon.run()` reads the whole flow in one place:

    start:  model (checked, warmed up) -> the links (one source + pipeline each; several
            sources are read on their own threads, csi_edge.daemon_links) -> publishers (MQTT
            connects in the background) -> open the sources (a serial port that is away is
            retried, not fatal) -> signal handlers
    loop:   commands (recalibrate, ...) -> each link: read (bounded wait) -> pipeline ->
            packets to the publishers that show them (web view) -> results -> publish -> pump
            the MQTT queue -> health every interval -> READY=1 (and a first health report) once
            frames flow -> WATCHDOG=1 -> SIGHUP reload (and recalibrate when the request file exists)
    stop:   SIGTERM/SIGINT/--seconds/every source ended -> flush the queue within a bound ->
            `offline` -> close the sources

Signals only set flags; all the work happens on the loop thread.
"""

from __future__ import annotations

import logging
import re
import signal
import socket
import time
from pathlib import Path

from csi_edge.commands import Commands
from csi_edge.config import Config
from csi_edge.daemon_link import Link
from csi_edge.daemon_links import LinkSet
from csi_edge.errors import CsiEdgeError, DataError, UsageError
from csi_edge.health import HealthClock, status_line
from csi_edge.logs import event, log_errors
from csi_edge.model.runtime import LoadedModel, default_model_path
from csi_edge.publish.base import build_publishers
from csi_edge.results import WindowResult, state_payload
from csi_edge.sdnotify import Notifier
from csi_edge.timefmt import utc_iso

log = logging.getLogger("csi_edge.daemon")


def node_name(cfg: Config) -> str:
    """[publish] node, else the host name made topic-safe (letters, digits, `-`, `_`)."""
    return cfg.publish.node or re.sub(r"[^A-Za-z0-9_-]", "-", socket.gethostname().split(".")[0])[:64] or "csi-edge"


def model_path(cfg: Config) -> Path:
    if cfg.model.path:
        return Path(cfg.model.path)
    found = default_model_path()
    if found is None:
        raise UsageError("no model: pass --model PATH (NAME.onnx + NAME.json); models/default.json was not found")
    return found


def load_model(cfg: Config) -> LoadedModel:
    m = cfg.model
    return LoadedModel.load(model_path(cfg), providers=m.providers, threads=m.intra_op_threads, warmup=m.warmup_runs)


class Daemon:
    def __init__(self, cfg: Config, seconds: float | None = None, notifier: Notifier | None = None) -> None:
        self.cfg = cfg
        self.seconds = seconds
        self.node = node_name(cfg)
        self.notifier = notifier or Notifier()
        self.stop_requested = False
        self.reload_requested = False
        self.exit_reason = ""
        self.links: LinkSet = LinkSet([])
        self.commands = Commands()  # from MQTT, the web view, signals; run on the loop thread
        self.commands.register("recalibrate", self._recalibrate)

    # lifecycle -------------------------------------------------------------------------------
    def run(self) -> int:
        model = load_model(self.cfg)
        self.links = LinkSet.build(self.cfg, model, self.node, self.seconds)
        self.publishers = build_publishers(self.cfg, self.node)
        self.publishers.model_changed(self.links.fields(self.cfg))
        self.publishers.accept_commands(self.commands)
        self.publishers.start()
        try:
            self.links.open()
            self._install_signals()
            event(log, "started", node=self.node, source=",".join(link.spec for link in self.links), model=model.card.model_id,
                  providers=",".join(model.providers), config=self.cfg.origin)
            self._loop()
        finally:
            self._stop()
        return 0

    def _install_signals(self) -> None:
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)
        signal.signal(signal.SIGHUP, self._on_reload)

    def _on_stop(self, signum, frame) -> None:
        self.stop_requested = True
        self.exit_reason = signal.Signals(signum).name

    def _on_reload(self, signum, frame) -> None:
        self.reload_requested = True

    def _loop(self) -> None:
        start = time.monotonic()
        deadline = start + self.seconds if self.seconds else None
        clock = HealthClock(self.cfg.health.interval_s, start)
        timeout = self.cfg.source.read_timeout_s
        while not self.stop_requested:
            if self.reload_requested:
                self._reload()
            self.commands.run_pending()
            self._publish(self.links.step(timeout, self._fed))
            for link in self.links:
                if link.calibration.take_auto_request():
                    self.commands.put("recalibrate", "auto")
            if self.links.ended:
                self.exit_reason = "end of source"
                self._check_not_empty()
                break
            now = time.monotonic()
            if not self.notifier.ready_sent and any(link.pipeline.frames for link in self.links):
                self.notifier.ready(f"processing {','.join(link.spec for link in self.links)}")
                event(log, "ready", frames=sum(link.pipeline.frames for link in self.links))
                self._health(now - start)  # the first report as soon as frames flow, then every interval
            if clock.due(now):
                self._health(now - start)
            self.notifier.watchdog(now)
            if deadline is not None and now >= deadline:
                self.exit_reason = "--seconds reached"
                break

    def _check_not_empty(self) -> None:
        """A source that ended without a single CSI packet is an error (one line, exit 1)."""
        for link in self.links:
            if not link.pipeline.frames:
                errors = dict(link.pipeline.decoder.errors)
                detail = f" (decode errors: {', '.join(f'{k} {v}' for k, v in errors.items())})" if errors else ""
                raise DataError(f"{link.spec}: no CSI packets in this file{detail}")

    def _fed(self, link: Link) -> None:
        """After a link processed a read: its packets to the publishers that show them (web view)."""
        if len(link.pipeline.decoded_frames):
            self.publishers.packets(link.pipeline.decoded_frames, time.monotonic())

    def _publish(self, results: list[WindowResult]) -> None:
        for result in results:
            self.publishers.state(state_payload(result, time.monotonic()))
        self.publishers.pump()

    def _health(self, uptime_s: float) -> dict:
        health = {"time": utc_iso(), "node": self.node, "uptime_s": round(uptime_s, 1), **self.links.health()}
        health.setdefault("broker_connected", None)
        health.update(self.publishers.status())
        errors = health.setdefault("output_errors", {})
        for output, count in (("log", log_errors()), ("sd_notify", self.notifier.errors)):
            if count:
                errors[output] = count
        if self.commands.counts:
            health["commands"] = self.commands.status()
        self.publishers.health(health)
        self.notifier.status(status_line(health))
        event(log, "health", rate_Hz=health["packet_rate_Hz"], loss_percent=health["loss_percent"],
              window_fill_percent=health["window_fill_percent"], inference_p99_ms=health["inference_p99_ms"],
              queue=health.get("publish_queue_depth"), dropped=health.get("publish_dropped"),
              broker=health.get("broker_connected"), source_connected=health["source"]["connected"])
        return health

    def _recalibrate(self, origin: str) -> None:
        """The `recalibrate` command (MQTT, web view, SIGHUP with the request file, automatic)."""
        for link in self.links:
            link.calibration.request(origin)

    def _recalibration_requested(self) -> bool:
        """SIGHUP with `[calibration] request_file` present: remove it and recalibrate."""
        path = Path(self.cfg.calibration.request_file) if self.cfg.calibration.request_file else None
        if path is None or not path.exists():
            return False
        try:
            path.unlink()
        except OSError as exc:
            event(log, "recalibration_request_unreadable", logging.WARNING, path=str(path), error=exc.strerror)
        return self.commands.put("recalibrate", "signal")

    def _reload(self) -> None:
        """SIGHUP: load the model again (maybe a new one); keep the old one if that fails."""
        self.reload_requested = False
        self._recalibration_requested()
        self.notifier.notify(reloading=1, monotonic_usec=int(time.clock_gettime(time.CLOCK_MONOTONIC) * 1e6))
        old = self.links[0].pipeline.model.card.model_id
        try:
            model = load_model(self.cfg)
            self.links.set_model(model)  # every link (and a joint model) or none: refuses a model that does not fit
        except CsiEdgeError as exc:
            event(log, "reload_failed", logging.ERROR, error=str(exc), kept=old)
        else:
            self.publishers.model_changed(self.links.fields(self.cfg))
            event(log, "model_reloaded", old=old, new=model.card.model_id)
        self.notifier.notify(ready=1)

    def _stop(self) -> None:
        self.notifier.stopping()
        event(log, "stopping", reason=self.exit_reason or "error", results=sum(link.pipeline.results for link in self.links))
        self.links.close()
        self.publishers.stop(self.cfg.mqtt.shutdown_flush_s)
        self.notifier.close()
