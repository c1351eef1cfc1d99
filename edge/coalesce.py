"""Read coalescing: build decoded batches at 100 Hz without delaying any result.

At 100 Hz a serial read returns one frame, and the fixed cost of running every stage on a
1-packet batch dominates the CPU use. But a result is only due every `hop` packets (when the
window ring emits), so packets that cannot complete a window may wait and be built together
with the one that does. Every read is framed at once by the decoder (`StreamDecoder.take`:
envelope and CRC, once); `Coalescer` then flushes the decoder (`StreamDecoder.flush`: CSI rows
gathered, text parsed, once per batch) when

- the newest CSI frame taken (`StreamDecoder.pending_seq`, CRC-checked, so a sync pattern inside
  CSI bytes cannot fool it) brings the window ring to its next emission (`needed` packets after
  the ring's last seq), or is not a plain step forward from it (`csi_edge.seq.forward`: a gap the
  ring does not fill, a late packet, a restart);
- what was taken is not v1 CSI frames (text formats: no holding);
- the oldest taken bytes have waited `max_hold_s` (a bound on staleness of link figures).

The packet that completes a window is therefore built on the read that brought it: the
packet-to-publish latency is unchanged, while building, feature and window work runs once per hop.
"""

from __future__ import annotations

from csi_edge.decoder import Decoded, StreamDecoder
from csi_edge.seq import forward


class Coalescer:
    """Holds what `decoder` has taken until a window can complete (see the module docstring)."""

    def __init__(self, decoder: StreamDecoder, max_hold_s: float = 0.1) -> None:
        self.decoder = decoder
        self.max_hold_s = max_hold_s
        self._since: float | None = None  # arrival of the oldest bytes held
        self.enabled = True

    @property
    def holding(self) -> bool:
        return self._since is not None

    def offer(self, chunk: bytes, arrival: float, last_seq: int | None, needed: int, max_fill: int) -> Decoded | None:
        """Take `chunk`; return everything taken so far, built, when it should go on now, else None.

        `last_seq`: seq of the newest packet in the window ring; `needed`: packets until its
        next emission; `max_fill`: the ring's longest filled gap (a longer one resets it).
        """
        if chunk:
            self.decoder.take(chunk)
        if not self.decoder.pending:
            self._since = None
            return None
        since = arrival if self._since is None else self._since
        if self.enabled and needed > 1 and last_seq is not None and arrival - since < self.max_hold_s:
            seq = self.decoder.pending_seq
            if seq is not None:
                step = forward(last_seq, seq)
                if 0 < step < needed and step <= max_fill + 1:
                    self._since = since
                    return None  # the packets taken cannot complete a window yet
        self._since = None
        return self.decoder.flush()
