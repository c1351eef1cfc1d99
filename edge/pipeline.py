"""The processing pipeline, one direction: bytes -> decoder -> link -> features -> window ->
preprocess -> ONNX -> post-processing -> `WindowResult`s. No I/O here (the daemon's `Link`
and the benchmark drive it), and no per-packet Python objects: every stage works on a batch.
"""

from __future__ import annotations

import dataclasses
import logging
import time

import numpy as np

from csi_edge.calibration.controller import LinkCalibration, Timing
from csi_edge.calibration.novelty import novelty
from csi_edge.calibration.relative import apply_relative
from csi_edge.coalesce import Coalescer
from csi_edge.config import Config
from csi_edge.decoder import StreamDecoder
from csi_edge.decoder.stream import Decoded
from csi_edge.errors import ModelMismatchError
from csi_edge.features import packet_feature
from csi_edge.frames import FrameBatch, empty_meta
from csi_edge.health import LatencyStats
from csi_edge.link import LinkMonitor
from csi_edge.logs import event
from csi_edge.model.card import ACTIVITY, ModelCard, check_hello, check_stream, other_bandwidth
from csi_edge.model.postprocess import Estimate, PostProcessor
from csi_edge.model.preprocess import prepare
from csi_edge.model.runtime import LoadedModel, ModelOutput
from csi_edge.results import StateFields, WindowResult
from csi_edge.timefmt import utc_iso
from csi_edge.window import WindowOutput, WindowRing

log = logging.getLogger("csi_edge.pipeline")
_EMPTY_FRAMES = FrameBatch.empty()
_NO_META = empty_meta(0)


def post_processor(card: ModelCard, cfg: Config, positions: bool) -> PostProcessor:
    """The daemon's post-processing of a model's heads: the [model] keys, and the card's novelty
    threshold unless [model] novelty_threshold overrides it."""
    m = cfg.model
    threshold = None if card.novelty is None else (m.novelty_threshold or card.novelty.threshold)
    return PostProcessor(card.classes, m.smoothing, m.hysteresis, m.position_smoothing, m.presence_threshold,
                         positions=positions, novelty_threshold=threshold)  # fmt: skip


def estimates_of(post: PostProcessor, card: ModelCard, heads: ModelOutput) -> list[Estimate]:
    """Estimates of a batch of windows in time order (with each window's novelty when the card has a calibration)."""
    return post(heads, None if card.novelty is None else novelty(card.novelty, heads[ACTIVITY]))


class Pipeline:
    ring: WindowRing
    model: LoadedModel
    post: PostProcessor
    fields: StateFields

    def __init__(self, cfg: Config, model: LoadedModel, node: str) -> None:
        self.cfg = cfg
        self.node = node
        self.decoder = StreamDecoder()
        self.link = LinkMonitor()
        self.inference_ms = LatencyStats()
        self.results = 0
        self.frames = 0
        self.last_activity: str | None = None
        self.decoded_meta = _NO_META  # packets the latest feed/finish decoded (for pacing)
        self.decoded_frames = _EMPTY_FRAMES  # the latest batch decoded (for publishers that show packets)
        self._layouts_ok: set[int] = set()
        self.coalescer = Coalescer(self.decoder)
        self._last_meta: np.ndarray | None = None
        self.other_bandwidth = 0  # stray frames of another bandwidth than the model's, masked
        self.calibration: LinkCalibration | None = None
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
        timing = Timing(card.window, hop, card.rate_hz)
        if self.calibration is None:
            self.calibration = LinkCalibration(self.cfg.calibration, card, timing, self.cfg.source.spec)
            self.calibration.set_model(card, timing, model.onnx_path.parent, self.cfg.model.providers)
        else:
            self.calibration.set_model(card, timing, model.onnx_path.parent, self.cfg.model.providers)
        hello = self.link.hello
        if hello is not None:
            check_hello(card, hello.csi_scaling)
        old = getattr(self, "model", None)
        same_windows = old is not None and (old.card.window, old.card.feature.name, old.card.feature.subcarriers) == (
            card.window, card.feature.name, card.feature.subcarriers) and self.ring.hop == hop
        fields = StateFields.of(card, self.cfg.model.position_skill_ratio)
        self.model = model
        self.feature = packet_feature(card.feature.name)
        if not same_windows:
            self.ring = WindowRing(card.window, hop, card.feature.subcarriers, w.max_gap_fill)
        if old is None or self.fields != fields:
            self.post = post_processor(card, self.cfg, fields.position)
        self.fields = fields
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

    def feed(self, chunk: bytes, arrival: float) -> list[WindowResult]:
        """Process bytes that arrived at host monotonic time `arrival`; return the new results.
        Bytes that cannot complete a window may be held and decoded with later ones."""
        ring = self.ring
        decoded = self.coalescer.offer(chunk, arrival, ring.last_seq, ring.packets_to_emit, ring.max_gap_fill)
        return self._process(decoded, arrival)

    def finish(self, arrival: float) -> list[WindowResult]:
        """The stream has ended: decode what is held, report a torn tail."""
        self.coalescer.enabled = False
        out = self.feed(b"", arrival)
        held = self.decoded_meta
        out += self._process(self.decoder.finish(), arrival)
        self.decoded_meta = np.concatenate([held, self.decoded_meta])
        return out

    def _process(self, decoded: Decoded | None, arrival: float) -> list[WindowResult]:
        if decoded is None:
            self.decoded_meta = _NO_META
            self.decoded_frames = _EMPTY_FRAMES
            self.link.update(_EMPTY_FRAMES, arrival)
            return []
        frames = decoded.frames
        self.decoded_meta = frames.meta
        self.decoded_frames = frames
        self.link.update(frames, arrival, decoded.stats, decoded.hellos)
        self._log_board(decoded)
        assert self.calibration is not None
        for hello in decoded.hellos:
            check_hello(self.model.card, hello.csi_scaling)
        self.calibration.frames(frames.meta, decoded.hellos)
        if not len(frames):
            return []
        self.frames += len(frames)
        self._last_meta = frames.meta
        self._check_layouts(frames.meta)
        feats, valid = self.feature(frames)
        stray = other_bandwidth(self.model.card, frames.meta)
        if stray.any():
            self.other_bandwidth += int(np.count_nonzero(stray))
            valid = valid & ~stray  # treated as lost packets by the window ring
        out = self.ring.push(feats, valid, frames.meta["seq"], arrival)
        for reset in out.resets:
            event(log, "window_reset", logging.WARNING, reason="seq restart" if reset.restart else "long gap", gap_packets=reset.lost)
            self.post.reset()
        if not len(out):
            return []
        return self._infer(out)

    @staticmethod
    def _log_board(decoded: Decoded) -> None:
        for hello in decoded.hellos:
            fields: dict[str, object] = {
                "firmware": hello.firmware_version, "role": hello.role, "mac": hello.mac, "channel": hello.channel,
                "secondary_channel": hello.secondary_channel, "rate_Hz": hello.send_rate_hz, "build": hello.build}
            if hello.extended:
                fields.update(csi_scaling=hello.csi_scaling, country=hello.country)
            event(log, "board_hello", logging.INFO, **fields)
            if hello.problem is not None:
                event(log, "board_problem", logging.ERROR, mac=hello.mac, problem=hello.problem)
        for rec in decoded.logs:
            event(log, "board_log", board_level=rec.level, text=rec.text)

    def _infer(self, out: WindowOutput) -> list[WindowResult]:
        card, calib = self.model.card, self.calibration
        assert calib is not None
        t0 = time.perf_counter()
        calib.windows(out.windows)
        x = prepare(apply_relative(card.feature.relative, out.windows, calib.profile), card, calib.adapt)
        heads = self.model.run(x) if calib.session is None else calib.session.run(x)
        self.inference_ms.add((time.perf_counter() - t0) * 1000.0 / len(x))
        estimates = estimates_of(self.post, card, heads)
        if calib.alarm:  # the room changed since its baseline: a position skill measured before it no longer holds
            estimates = [dataclasses.replace(e, position=None) for e in estimates]
        calib.estimates([e.activity for e in estimates], [e.confidence for e in estimates], out.windows)
        now = utc_iso()
        results = []
        for i, estimate in enumerate(estimates):
            self.results += 1
            results.append(WindowResult(now, self.results, self.node, card.model_id, estimate,
                                        int(out.end_seq[i]), float(out.arrival[i])))  # fmt: skip
        self.last_activity = estimates[-1].activity
        return results

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
            **({"packets_other_bandwidth": self.other_bandwidth} if self.other_bandwidth else {}),
            **(self.calibration.health() if self.calibration is not None else {}),
        }
