"""The processing pipeline, one direction: bytes -> decoder -> link -> features -> window ->
preprocess -> ONNX -> post-processing -> `state` payloads. No I/O here (the daemon and the
benchmark drive it), and no per-packet Python objects: every stage works on a batch.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from csi_edge.coalesce import Coalescer
from csi_edge.config import Config
from csi_edge.decoder import StreamDecoder
from csi_edge.errors import ModelMismatchError
from csi_edge.features import packet_feature
from csi_edge.frames import FrameBatch
from csi_edge.health import LatencyStats, utc_iso
from csi_edge.link import LinkMonitor
from csi_edge.logs import event
from csi_edge.model.card import check_stream
from csi_edge.model.postprocess import PostProcessor
from csi_edge.model.preprocess import prepare
from csi_edge.model.runtime import LoadedModel
from csi_edge.window import WindowRing

log = logging.getLogger("csi_edge.pipeline")
_EMPTY_FRAMES = FrameBatch.empty()


class Pipeline:
    ring: WindowRing
    model: LoadedModel
    post: PostProcessor

    def __init__(self, cfg: Config, model: LoadedModel, node: str) -> None:
        self.cfg = cfg
        self.node = node
        self.decoder = StreamDecoder()
        self.link = LinkMonitor()
        self.inference_ms = LatencyStats()
        self.results = 0
        self.frames = 0
        self.last_activity: str | None = None
        self._layouts_ok: set[int] = set()
        self.coalescer = Coalescer(self.decoder)
        self._last_meta: np.ndarray | None = None
        self.set_model(model)

    def set_model(self, model: LoadedModel) -> None:
        """Use `model` from the next batch on. Hot reload keeps the decoder and link state, and
        the window ring and smoothing state too when the new model reads the same windows."""
        card = model.card
        w = self.cfg.window
        if w.size and w.size != card.window:
            raise ModelMismatchError(f"model {card.model_id} needs windows of {card.window} packets, config [window] size is {w.size}")
        if self._last_meta is not None:
            check_stream(card, self._last_meta)  # a reload must fit the stream we are reading
        hop = w.hop or card.hop
        old = getattr(self, "model", None)
        same_windows = old is not None and (old.card.window, old.card.feature.name, old.card.feature.subcarriers) == (
            card.window, card.feature.name, card.feature.subcarriers) and self.ring.hop == hop
        self.model = model
        self.feature = packet_feature(card.feature.name)
        if not same_windows:
            self.ring = WindowRing(card.window, hop, card.feature.subcarriers, w.max_gap_fill)
        if old is None or old.card.classes != card.classes:
            m = self.cfg.model
            self.post = PostProcessor(card.classes, m.smoothing, m.hysteresis, m.position_smoothing, m.presence_threshold)
        self._layouts_ok = set()

    def _check_layouts(self, meta: np.ndarray) -> None:
        sec = meta["secondary_channel"]
        if len(self._layouts_ok) == 1 and np.all(sec == next(iter(self._layouts_ok))):
            return
        new = set(np.unique(sec).tolist()) - self._layouts_ok
        if new:
            check_stream(self.model.card, meta)
            self._layouts_ok |= new

    @property
    def holding(self) -> bool:
        """Bytes are held back for a batched decode (see csi_edge.coalesce)."""
        return self.coalescer.holding

    def feed(self, chunk: bytes, arrival: float) -> list[tuple[dict, float]]:
        """Process bytes that arrived at host monotonic time `arrival`; return the new
        results as (state payload, arrival time of the newest packet in its window).
        Bytes that cannot complete a window may be held and decoded with later ones."""
        ring = self.ring
        decoded = self.coalescer.offer(chunk, arrival, ring.last_seq, ring.packets_to_emit, ring.max_gap_fill)
        return self._process(decoded, arrival)

    def finish(self, arrival: float) -> list[tuple[dict, float]]:
        self.coalescer.enabled = False
        out = self.feed(b"", arrival)
        return out + self._process(self.decoder.finish(), arrival)

    def _process(self, decoded, arrival: float) -> list[tuple[dict, float]]:
        if decoded is None:
            self.link.update(_EMPTY_FRAMES, arrival)
            return []
        frames = decoded.frames
        self.link.update(frames, arrival, decoded.stats, decoded.hellos)
        for hello in decoded.hellos:
            event(log, "board_hello", firmware=hello.firmware_version, role=hello.role, mac=hello.mac,
                  channel=hello.channel, secondary_channel=hello.secondary_channel, rate_Hz=hello.send_rate_hz, build=hello.build)
        if decoded.logs:
            for rec in decoded.logs:
                event(log, "board_log", board_level=rec.level, text=rec.text)
        if not len(frames):
            return []
        self.frames += len(frames)
        self._last_meta = frames.meta
        self._check_layouts(frames.meta)
        feats, valid = self.feature(frames)
        out = self.ring.push(feats, valid, frames.meta["seq"], arrival)
        for gap in out.resets:
            event(log, "window_reset", logging.WARNING, gap_packets=gap, reason="long gap" if gap < (1 << 20) else "seq restart")
            self.post.reset()
        if not len(out):
            return []
        return self._infer(out)

    def _infer(self, out) -> list[tuple[dict, float]]:
        card = self.model.card
        t0 = time.perf_counter()
        x = prepare(out.windows, card)
        res = self.model.run(x)
        self.inference_ms.add((time.perf_counter() - t0) * 1000.0 / len(x))
        results = self.post(res.logits, res.position)
        now = utc_iso()
        payloads = []
        for i, r in enumerate(results):
            self.results += 1
            pos = None if r.position is None else {"x": r.position[0], "y": r.position[1], "z": r.position[2]}
            payload = {
                "time": now, "seq": self.results, "node": self.node, "model": card.model_id,
                "activity": r.activity, "probabilities": r.probabilities, "confidence": r.confidence,
                "presence": r.presence, "position": pos, "packet_seq": int(out.end_seq[i]),
            }
            payloads.append((payload, float(out.arrival[i])))
        self.last_activity = results[-1].activity
        return payloads

    def snapshot(self) -> dict:
        self.link.set_decode_errors(self.decoder.errors)
        p50, p99 = self.inference_ms.percentiles()
        return {
            **self.link.snapshot(),
            "window_fill_percent": round(self.ring.fill_percent, 1),
            "window_resets": self.ring.resets,
            "packets_filled": self.ring.filled,
            "packets_dropped_order": self.ring.dropped,
            "inference_p50_ms": p50,
            "inference_p99_ms": p99,
            "results": self.results,
            "activity": self.last_activity,
            "model": self.model.card.model_id,
        }
