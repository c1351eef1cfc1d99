"""What the operator sees and presses while recording.

`TerminalUI` (stdin is a terminal): termios cbreak input read without blocking, and a plain
ANSI full-screen status redrawn REFRESH_HZ times a second. Keys: 1..N switch the label among
the classes, space pauses/resumes labelling (packets are still recorded), m marks an event,
q quits. In protocol mode the label keys and space are disabled (the protocol drives labels)
and the screen shows the segment, a countdown and the next prompt.

`PlainUI` (no terminal, or stdout is not one): no keys; protocol prompts and a progress line
every PROGRESS_S go to stderr as plain lines.
"""

from __future__ import annotations

import math
import os
import select
import sys
import termios
import time
import tty

from csi_edge.frames import FFT_GAIN_UNKNOWN
from csi_edge.tools.capture.labels import PAUSE

REFRESH_HZ = 5
PROGRESS_S = 10.0
COUNTDOWN_S = 5.0  # announce the next segment this long before it starts
LOCK_NAMES = {0: "off", 1: "collecting", 2: "locked", 3: "skipped"}


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def protocol_line(recorder) -> str | None:
    """'segment 2/5 sitting: 12 s left, next: lying' (None without a protocol)."""
    lab = recorder.state.labeller
    st = lab.protocol
    if st is None:
        return None
    if st.done:
        return "protocol done"
    if st.current is None:
        return f"protocol: {st.segments[0].describe()} starts with the first packet"
    packet = recorder.state.first_packet + recorder.state.counters.packets
    left = st.remaining(lab.clock.now_s, packet)
    seconds = st.current.seconds is not None
    nxt = st.segments[st.index + 1].label if st.index + 1 < len(st.segments) else "end"
    what = "PAUSE" if st.current.label == PAUSE else st.current.label.upper()
    line = f"segment {st.index + 1}/{len(st.segments)} {what}: {f'{left:.1f} s' if seconds else f'{left} packets'} left"
    if seconds and left <= COUNTDOWN_S:
        return line + f"   >>> get ready: {nxt.upper()} in {math.ceil(left)} s <<<"
    return line + f", next: {nxt}"


def status_lines(recorder) -> list[str]:
    st = recorder.state
    c, lab = st.counters, st.labeller
    elapsed = time.monotonic() - st.started_mono
    gains = "-" if c.agc_gain is None else f"AGC {c.agc_gain}  FFT {c.fft_gain if c.fft_gain != FFT_GAIN_UNKNOWN else '?'}"
    state = "PAUSED" if lab.paused else "RECORDING"
    lines = [
        f"csi-edge capture -> {recorder.dir}   [{state}]",
        f"elapsed {_clock(elapsed)}   packets {c.packets}   {st.rate_hz():6.1f} pkt/s   "
        f"lost {c.lost} ({c.loss_percent:.2f} %)   errors {sum(st.decoder.errors.values())}",
        f"RSSI {c.rssi_last if c.rssi_last is not None else '-'} dBm   {gains}   "
        f"lock {LOCK_NAMES.get(c.gain_lock, '-')}   gain changes {c.gain_change_count}",
        f"label: {'(paused)' if lab.paused else lab.label or '(none)'}   marks {lab.marks}",
    ]
    proto = protocol_line(recorder)
    if proto:
        lines.append(proto)
    lines.append("")
    for i, name in enumerate(lab.classes):
        here = "*" if name == lab.label and not lab.paused else " "
        lines.append(f"  [{i + 1}] {name:<12}{here} {lab.counts[name]:>8} packets")
    lines.append("")
    keys = "m mark  q quit" if lab.protocol else f"1-{len(lab.classes)} label  space pause/resume  m mark  q quit"
    lines.append(f"keys: {keys}")
    return lines


def handle_key(key: str, recorder) -> None:
    """Turn one keypress into a label request (or a stop)."""
    lab = recorder.state.labeller
    if key in ("q", "Q"):
        recorder.state.stop_reason = "stop"
    elif key in ("m", "M"):
        lab.request("mark", note="key")
    elif lab.protocol is not None:
        return
    elif key == " ":
        lab.request("resume" if lab.paused else "pause", by="key")
    elif key.isdigit() and 1 <= int(key) <= len(lab.classes):
        lab.request("label", label=lab.classes[int(key) - 1], by="key")


class TerminalUI:
    def __init__(self, fd: int | None = None, out=None) -> None:
        self.fd = sys.stdin.fileno() if fd is None else fd
        self.out = out or sys.stdout
        self._saved = termios.tcgetattr(self.fd)
        tty.setcbreak(self.fd)
        self._next_draw = 0.0
        self.out.write("\x1b[?25l")  # hide the cursor

    def poll_keys(self) -> list[str]:
        keys = []
        while select.select([self.fd], [], [], 0)[0]:
            data = os.read(self.fd, 64)
            if not data:
                break
            keys.extend(data.decode("utf-8", "replace"))
        return keys

    handle_key = staticmethod(handle_key)

    def render(self, recorder, force: bool = False) -> None:
        now = time.monotonic()
        if now < self._next_draw and not force:
            return
        self._next_draw = now + 1.0 / REFRESH_HZ
        body = "\x1b[K\n".join(status_lines(recorder))
        self.out.write("\x1b[H" + body + "\x1b[K\n\x1b[J")
        self.out.flush()

    def close(self, recorder) -> None:
        self.render(recorder, force=True)
        self.out.write("\x1b[?25h\n")
        self.out.flush()
        termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)


class PlainUI:
    def __init__(self, err=None) -> None:
        self.err = err or sys.stderr
        self._next_progress = time.monotonic() + PROGRESS_S
        self._announced: set[tuple[int, str]] = set()

    def poll_keys(self) -> list[str]:
        return []

    handle_key = staticmethod(handle_key)

    def _say(self, key: tuple[int, str], text: str) -> None:
        if key not in self._announced:
            self._announced.add(key)
            print(text, file=self.err, flush=True)

    def render(self, recorder, force: bool = False) -> None:
        lab = recorder.state.labeller
        st = lab.protocol
        if st is not None and st.current is not None and not st.done:
            seg = st.current
            what = "PAUSE" if seg.label == PAUSE else f"now: {seg.label.upper()}"
            self._say((st.index, "start"), f"segment {st.index + 1}/{len(st.segments)} {what} ({seg.describe()})")
            left = st.remaining(lab.clock.now_s, recorder.state.first_packet + recorder.state.counters.packets)
            if seg.seconds is not None and left <= COUNTDOWN_S and st.index + 1 < len(st.segments):
                self._say((st.index, "next"), f"  next in {left:.0f} s: {st.segments[st.index + 1].label}")
        now = time.monotonic()
        if now >= self._next_progress or force:
            self._next_progress = now + PROGRESS_S
            c = recorder.state.counters
            print(f"packets {c.packets}  {recorder.state.rate_hz():.1f} pkt/s  lost {c.lost} ({c.loss_percent:.2f} %)",
                  file=self.err, flush=True)  # fmt: skip

    def close(self, recorder) -> None:
        self.render(recorder, force=True)
