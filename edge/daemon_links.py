"""The daemon's links: one source (`[source] spec`) or several read at once (`[source] specs`).

With one link nothing changes: the loop thread reads the source with a bounded wait, exactly
as before (no thread, no queue). With several (e.g. two USB receivers on one Jetson), each
source is read by its own thread, which puts what it read into one bounded queue
(`READ_QUEUE_CHUNKS`; when full, the chunk is dropped and counted in the link's
`read_queue_dropped`: the decoder resynchronises and the gap shows as lost packets); the loop
thread takes the chunks in arrival order and feeds each to its link's pipeline, so one slow
or silent source never delays the others (their reads do not queue behind its timeout).
A replay paced in real time paces on the loop thread (from the one decode, as with one link);
its reader keeps at most `PACED_AHEAD` chunks in the queue, so the links' chunks arrive
interleaved in recorded time and every link is replayed at its pace, together.

Models: a card with `links: 1` (every older card) runs on each link, and each link's results
carry the link's name (published on `<prefix>/<node>/<link>/state`); a card with `links: N`
is a joint model over N links: each link's pipeline stops at its window ring, and
`JointInference` stacks the links' windows that end at the same TX packet (within a hop:
every receiver of one TX sees the same sequence numbers) into one input and publishes one
result on `<prefix>/<node>/state`.

Health: one link keeps the single-link health fields exactly; several add `links` (link name ->
that link's fields) and aggregate the top-level fields (rates and counts summed, the worst
window fill, every source connected).
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable

import numpy as np

from csi_edge.config import Config, link_name, link_spec
from csi_edge.daemon_link import HOLDING_READ_S, Link
from csi_edge.errors import ModelMismatchError
from csi_edge.health import LatencyStats
from csi_edge.logs import event
from csi_edge.model.preprocess import prepare
from csi_edge.model.runtime import LoadedModel
from csi_edge.pipeline import Pipeline, estimates_of, post_processor
from csi_edge.results import StateFields, WindowResult
from csi_edge.source import SourceClosed
from csi_edge.timefmt import utc_iso
from csi_edge.window import WindowOutput

log = logging.getLogger("csi_edge.daemon")
READ_QUEUE_CHUNKS = 1024  # chunks waiting for the loop thread, all links together (~10 s of serial reads)
PACED_AHEAD = 2  # chunks a paced (real-time replay) source may have waiting
SUMMED = ("packets_received", "packets_lost", "packets_reordered", "seq_restarts", "window_resets", "packets_filled",
          "packets_dropped_order", "results")  # fmt: skip


def link_specs(cfg: Config) -> list[tuple[str, str]]:
    """(name, spec) of every link: [source] specs, else the one [source] spec."""
    if cfg.source.specs:
        return [(link_name(s, i), link_spec(s)) for i, s in enumerate(cfg.source.specs)]
    return [("link0", cfg.source.spec)]


class WindowsPipeline(Pipeline):
    """A link's pipeline up to its window ring: the windows wait for the joint model."""

    def __init__(self, cfg: Config, model: LoadedModel, node: str) -> None:
        self.windows: list[WindowOutput] = []
        super().__init__(cfg, model, node)

    def _infer(self, out: WindowOutput) -> list[WindowResult]:
        self.windows.append(out)
        return []


class _Reader(threading.Thread):
    """Reads one link's source into the shared queue until it ends or the daemon stops."""

    def __init__(self, index: int, link: Link, out: queue.Queue, timeout: float, stop: threading.Event) -> None:
        super().__init__(name=f"read-{link.name}", daemon=True)
        self.index, self.link, self.out, self.timeout, self.stop = index, link, out, timeout, stop
        self.dropped = 0
        self.ahead = threading.Semaphore(PACED_AHEAD) if link.source is not None and link.source.paced else None

    def taken(self) -> None:
        """The loop thread has processed one of this reader's chunks."""
        if self.ahead is not None:
            self.ahead.release()

    def run(self) -> None:
        source = self.link.source
        assert source is not None
        while not self.stop.is_set():
            if self.ahead is not None and not self.ahead.acquire(timeout=self.timeout):
                continue
            try:
                chunk = source.read(self.timeout)
            except SourceClosed:
                self.out.put((self.index, None, time.monotonic()))
                return
            except Exception as exc:  # noqa: BLE001 - a source failing must not stay silent
                event(log, "source_failed", logging.ERROR, link=self.link.name, source=self.link.spec, error=repr(exc))
                self.out.put((self.index, None, time.monotonic()))
                return
            if not chunk:
                self.taken()
                continue
            try:
                self.out.put_nowait((self.index, chunk, time.monotonic()))
            except queue.Full:
                self.dropped += 1
                self.taken()


class JointInference:
    """Windows of N links ending at the same TX packet -> one input (1, N, S, W') -> one result."""

    def __init__(self, cfg: Config, model: LoadedModel, node: str, links: int) -> None:
        self.cfg, self.node, self.links = cfg, node, links
        self.pending: list[deque[tuple[int, np.ndarray, float]]] = [deque() for _ in range(links)]
        self.unmatched = 0  # windows of one link that found no partner in the others
        self.results = 0
        self.last_activity: str | None = None
        self.inference_ms = LatencyStats()
        self.set_model(model)

    def set_model(self, model: LoadedModel) -> None:
        card, m = model.card, self.cfg.model
        self.model = model
        self.tolerance = self.cfg.window.hop or card.hop
        self.post = post_processor(card, self.cfg, StateFields.of(card, m.position_skill_ratio).position)

    def collect(self, pipelines: list[WindowsPipeline]) -> list[WindowResult]:
        for queue_, pipeline in zip(self.pending, pipelines, strict=True):
            for out in pipeline.windows:
                queue_.extend(zip(out.end_seq.tolist(), out.windows, out.arrival.tolist(), strict=True))
            pipeline.windows.clear()
        results = []
        while all(self.pending):
            newest = max(q[0][0] for q in self.pending)
            for q in self.pending:  # windows that ended before every other link's are dropped
                while q and q[0][0] < newest - self.tolerance:
                    q.popleft()
                    self.unmatched += 1
            if not all(self.pending):
                break
            heads = [q.popleft() for q in self.pending]
            results.append(self._infer(heads))
        return results

    def _infer(self, heads: list[tuple[int, np.ndarray, float]]) -> WindowResult:
        card = self.model.card
        t0 = time.perf_counter()
        x = prepare(np.concatenate([w[None] for _, w, _ in heads], axis=2), card)  # (1, W, N x S) -> (1, N, S, W')
        outputs = self.model.run(x)
        self.inference_ms.add((time.perf_counter() - t0) * 1000.0)
        est = estimates_of(self.post, card, outputs)[0]
        self.results += 1
        self.last_activity = est.activity
        return WindowResult(utc_iso(), self.results, self.node, card.model_id, est, int(max(h[0] for h in heads)),
                            float(max(h[2] for h in heads)))  # fmt: skip


class LinkSet(list):
    """The daemon's links (a list of `Link`), read and processed together."""

    def __init__(self, links: list[Link], joint: JointInference | None = None) -> None:
        super().__init__(links)
        self.joint = joint
        self._queue: queue.Queue = queue.Queue(READ_QUEUE_CHUNKS)
        self._stop = threading.Event()
        self._readers: list[_Reader] = []

    @classmethod
    def build(cls, cfg: Config, model: LoadedModel, node: str, seconds: float | None = None) -> LinkSet:
        specs = link_specs(cfg)
        n = model.card.links
        if n > 1 and n != len(specs):
            raise ModelMismatchError(f"model {model.card.model_id} reads {n} links together; the configuration has "
                                     f"{len(specs)} ([source] specs)")  # fmt: skip
        if n > 1 and model.card.needs_baseline:
            raise ModelMismatchError(f"model {model.card.model_id}: a joint model with baseline-relative features is not "
                                     "supported yet (each link would need its own baseline)")  # fmt: skip
        if len(specs) == 1:
            return cls([Link(specs[0][1], cfg, model, node, seconds)])
        pipeline = WindowsPipeline if n > 1 else Pipeline
        links = [Link(spec, cfg, model, node, seconds, name=name, pipeline=pipeline, stamp=n == 1) for name, spec in specs]
        return cls(links, JointInference(cfg, model, node, n) if n > 1 else None)

    @property
    def names(self) -> list[str]:
        return [link.name or "link0" for link in self]

    def fields(self, cfg: Config) -> StateFields:
        """What the published states carry (per-link states name their links)."""
        fields = self[0].pipeline.fields
        if len(self) > 1 and self.joint is None:
            return dataclasses.replace(fields, links=tuple(self.names))
        return fields

    # reading ----------------------------------------------------------------------------------
    def open(self) -> None:
        for link in self:
            link.open()
        if len(self) > 1:
            timeout = self[0].cfg.source.read_timeout_s
            self._readers = [_Reader(i, link, self._queue, timeout, self._stop) for i, link in enumerate(self)]
            for reader in self._readers:
                reader.start()

    @property
    def ended(self) -> bool:
        return all(link.ended for link in self)

    def step(self, timeout: float, fed: Callable[[Link], None] | None = None) -> list[WindowResult]:
        """Read and process what arrives within `timeout` on any link; `fed(link)` after each
        read a link processed (its `pipeline.decoded_frames` are that read's packets)."""
        fed = fed or _nothing
        if len(self) > 1:
            return self._joined(self._step_many(timeout, fed))
        link = self[0]
        if link.ended:
            return []
        results = link.step(timeout)
        fed(link)
        return results

    def _step_many(self, timeout: float, fed: Callable[[Link], None]) -> list[WindowResult]:
        results: list[WindowResult] = []
        holding = [link for link in self if link.pipeline.holding and not link.ended]
        try:
            item = self._queue.get(timeout=min(timeout, HOLDING_READ_S) if holding else timeout)
        except queue.Empty:  # nothing new: decode what the pipelines held back
            for link in holding:
                results += link.feed(b"", time.monotonic())
                fed(link)
            return results
        until = time.monotonic() + timeout  # back to the loop (publish, health) at least this often
        for i in range(READ_QUEUE_CHUNKS):
            index, chunk, arrival = item
            link = self[index]
            results += link.end(arrival) if chunk is None else link.feed(chunk, arrival)  # a paced replay may wait here
            self._readers[index].taken()
            fed(link)
            if i == READ_QUEUE_CHUNKS - 1 or time.monotonic() > until:
                break  # the rest waits for the next step (nothing taken from the queue is lost)
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
        return results

    def _joined(self, results: list[WindowResult]) -> list[WindowResult]:
        if self.joint is None:
            return results
        return self.joint.collect([link.pipeline for link in self])

    def set_model(self, model: LoadedModel) -> None:
        """Every link (and the joint model) switches to `model`, or none does."""
        old = self[0].pipeline.model
        if (model.card.links > 1) != (self.joint is not None) or (self.joint is not None and model.card.links != len(self)):
            raise ModelMismatchError(f"model {model.card.model_id} reads {model.card.links} link(s) together; "
                                     f"this daemon runs {'a joint' if self.joint else 'a per-link'} model on {len(self)} link(s): restart to switch")  # fmt: skip
        switched: list[Link] = []
        try:
            for link in self:
                link.set_model(model)
                switched.append(link)
        except Exception:
            for link in switched:
                link.set_model(old)
            raise
        if self.joint is not None:
            self.joint.set_model(model)

    def close(self) -> None:
        self._stop.set()
        for reader in self._readers:
            reader.join(timeout=max(1.0, self[0].cfg.source.read_timeout_s * 2))
        for link in self:
            link.close()

    # health -----------------------------------------------------------------------------------
    def health(self) -> dict:
        """The links' fields of the health message (docs/data-fields.md)."""
        if len(self) == 1:
            return self[0].health()
        per_link = {}
        dropped = [reader.dropped for reader in self._readers] or [0] * len(self)
        for name, link, n in zip(self.names, self, dropped, strict=True):
            per_link[name] = {**link.health(), "read_queue_dropped": n}
        values = list(per_link.values())
        received = sum(v["packets_received"] for v in values)
        lost = sum(v["packets_lost"] for v in values)
        out = {k: sum(v[k] for v in values) for k in SUMMED}
        out.update(
            source={"name": ",".join(v["source"].get("name", "") for v in values), "connected": all(v["source"].get("connected") for v in values),
                    "losses": sum(v["source"].get("losses", 0) for v in values), "reconnects": sum(v["source"].get("reconnects", 0) for v in values)},
            packet_rate_Hz=round(sum(v["packet_rate_Hz"] for v in values), 1),
            loss_percent=round(100.0 * lost / (received + lost), 2) if received + lost else 0.0,
            window_fill_percent=min(v["window_fill_percent"] for v in values),
            inference_p50_ms=max((v["inference_p50_ms"] for v in values if v["inference_p50_ms"] is not None), default=None),
            inference_p99_ms=max((v["inference_p99_ms"] for v in values if v["inference_p99_ms"] is not None), default=None),
            activity=None, model=values[0]["model"], links=per_link,
        )  # fmt: skip
        if self.joint is not None:
            p50, p99 = self.joint.inference_ms.percentiles()
            out.update(results=self.joint.results, activity=self.joint.last_activity, joint_unmatched=self.joint.unmatched,
                       inference_p50_ms=p50, inference_p99_ms=p99)  # fmt: skip
        return out


def _nothing(link: Link) -> None:
    pass
