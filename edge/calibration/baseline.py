"""The empty-room baseline of one link: what the room looks like when nobody is in it.

Recorded by `csi-edge calibrate` (or by the daemon when asked to recalibrate) from any
source. JSON (`csi-edge/baseline/1`, docs/calibration.md):

| key | meaning |
|---|---|
| `profile` | per-subcarrier amplitude (52 L-LTF, frequency order): median over windows of each window's mean |
| `spread` | per-subcarrier temporal standard deviation within a window (median over windows): the empty room's own flicker, the unit of the motion ratio |
| `link` | `channel`, `bandwidth_MHz`, `secondary` (layout name), `rx_mac`, `tx_mac`, `csi_scale`, `firmware` (null: unknown) |
| `gains` | medians of `agc_gain`, `fft_gain`, `rssi_dBm`, `noise_floor_dBm`, and the `gain_lock` state seen most |
| `null_drift_dB`, `motion` | the drift and motion ratio of the recording's own windows (p50, p95): the noise floor of both scores |
| `window`, `hop`, `packets`, `seconds`, `windows`, `source`, `created` | how it was recorded |

`check_link` refuses a baseline recorded on another link (channel, bandwidth, MACs, CSI
scaling; a field unknown on either side is not compared) with one line.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from csi_edge.errors import CsiEdgeError, DataError

SCHEMA = "csi-edge/baseline/1"


class BaselineMismatchError(CsiEdgeError):
    """A baseline recorded on another link than the stream's."""


@dataclass(frozen=True)
class LinkIdentity:
    """What identifies a link; None = unknown (not compared)."""

    channel: int | None = None
    bandwidth_MHz: int | None = None
    secondary: str | None = None  # layout name: none | above | below (informative, not compared)
    rx_mac: str | None = None
    tx_mac: str | None = None
    csi_scale: str | None = None  # "manual:4", "auto"
    firmware: str | None = None  # informative, not compared

    COMPARED = ("channel", "bandwidth_MHz", "rx_mac", "tx_mac", "csi_scale")

    def differences(self, other: LinkIdentity) -> list[str]:
        """'channel 6 (stream: 11)' for each compared field known on both sides that differs."""
        out = []
        for name in self.COMPARED:
            mine, theirs = getattr(self, name), getattr(other, name)
            if mine is not None and theirs is not None and mine != theirs:
                out.append(f"{name} {mine} (stream: {theirs})")
        return out

    def merged(self, other: LinkIdentity) -> LinkIdentity:
        """Fields of `other` where this one has None."""
        values = {k: v if v is not None else getattr(other, k) for k, v in asdict(self).items()}
        return LinkIdentity(**values)


@dataclass(frozen=True)
class Baseline:
    profile: tuple[float, ...]
    spread: tuple[float, ...]
    link: LinkIdentity = field(default_factory=LinkIdentity)
    gains: dict = field(default_factory=dict)
    null_drift_dB: dict = field(default_factory=dict)
    motion: dict = field(default_factory=dict)
    window: int = 351
    hop: int = 10
    packets: int = 0
    windows: int = 0
    seconds: float = 0.0
    feature: str = "amplitude"
    source: str = ""
    created: str = ""
    schema: str = SCHEMA

    @property
    def subcarriers(self) -> int:
        return len(self.profile)

    @property
    def profile_array(self) -> np.ndarray:
        return np.asarray(self.profile, dtype=np.float32)

    @property
    def spread_array(self) -> np.ndarray:
        return np.asarray(self.spread, dtype=np.float32)

    def to_dict(self) -> dict:
        out = asdict(self)
        out["profile"] = [round(v, 4) for v in self.profile]
        out["spread"] = [round(v, 4) for v in self.spread]
        return out

    def save(self, path: str | Path) -> None:
        """Write atomically (a reader never sees half a file)."""
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        try:
            tmp.write_text(json.dumps(self.to_dict(), indent=1) + "\n")
            tmp.replace(path)
        except OSError as exc:
            raise DataError(f"{path}: cannot write the baseline ({exc.strerror})") from None


def load_baseline(path: str | Path) -> Baseline:
    """Read and validate a baseline file; one-line DataError naming the file otherwise."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise DataError(f"{path}: baseline not found (record one: csi-edge calibrate --source SPEC --out {path})") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{path}: not a readable baseline ({exc})") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        got = data.get("schema") if isinstance(data, dict) else type(data).__name__
        raise DataError(f"{path}: schema is {got!r}, expected {SCHEMA!r} (a file written by csi-edge calibrate)")
    try:
        data = dict(data)
        data["link"] = LinkIdentity(**data.get("link", {}))
        data["profile"] = tuple(float(v) for v in data["profile"])
        data["spread"] = tuple(float(v) for v in data["spread"])
        baseline = Baseline(**data)
    except (TypeError, KeyError, ValueError) as exc:
        raise DataError(f"{path}: bad baseline ({type(exc).__name__}: {exc})") from None
    problems = _problems(baseline)
    if problems:
        raise DataError(f"{path}: " + "; ".join(problems))
    return baseline


def _problems(b: Baseline) -> list[str]:
    p, s = np.asarray(b.profile), np.asarray(b.spread)
    problems = []
    if len(p) < 2 or len(p) != len(s):
        problems.append(f"profile and spread need the same number (>= 2) of subcarriers (got {len(p)} and {len(s)})")
    elif not (np.all(np.isfinite(p)) and np.all(p > 0) and np.all(np.isfinite(s)) and np.all(s > 0)):
        problems.append("profile and spread must be finite and > 0")
    if b.feature != "amplitude":
        problems.append(f"feature must be 'amplitude' (got {b.feature!r})")
    return problems


def check_link(baseline: Baseline, stream: LinkIdentity, where: str) -> None:
    """Refuse a baseline from another link: one line naming the file and what differs."""
    diff = baseline.link.differences(stream)
    if diff:
        raise BaselineMismatchError(
            f"{where}: baseline recorded on another link ({'; '.join(diff)}); record one on this link: "
            f"csi-edge calibrate --source SPEC --out {where}"
        )


class StreamIdentity:
    """What the stream says about its link so far: the board's latest HELLO (receiver role)
    first, then the most frequent channel, bandwidth and transmitter MAC of the frames (a
    stray frame of another device does not change them)."""

    def __init__(self) -> None:
        self.hello = None
        self._counts: dict[str, Counter] = {"channel": Counter(), "bandwidth": Counter(), "mac": Counter(),
                                            "secondary_channel": Counter()}

    def add(self, meta: np.ndarray, hellos: Iterable = ()) -> None:
        for hello in hellos:
            if getattr(hello, "role", 1) == 1:
                self.hello = hello
        if not len(meta):
            return
        for name, counts in self._counts.items():
            values, n = np.unique(meta[name], return_counts=True)
            counts.update(dict(zip(values.tolist(), n.tolist(), strict=True)))

    def _mode(self, name: str, lo: int) -> int | None:
        known = [(n, v) for v, n in self._counts[name].items() if v >= lo]
        return int(max(known)[1]) if known else None

    @property
    def identity(self) -> LinkIdentity:
        from csi_edge.layout import layout_name
        from csi_edge.model.card import BANDWIDTH_MHZ

        ident = LinkIdentity()
        h = self.hello
        if h is not None:
            ident = LinkIdentity(channel=int(h.channel), bandwidth_MHz=BANDWIDTH_MHZ.get(int(h.bandwidth)),
                                 secondary=layout_name(h.secondary_channel), rx_mac=h.mac, tx_mac=h.peer_mac,
                                 csi_scale=h.csi_scaling, firmware=h.firmware_version)
        code, mac, sec = self._mode("bandwidth", 0), self._mode("mac", 1), self._mode("secondary_channel", 0)
        frames = LinkIdentity(channel=self._mode("channel", 1), bandwidth_MHz=None if code is None else BANDWIDTH_MHZ.get(code),
                              secondary=None if sec is None else layout_name(sec),
                              tx_mac=None if mac is None else ":".join(f"{b:02x}" for b in mac.to_bytes(6, "big")))
        return ident.merged(frames)


def identity_from_stream(meta: np.ndarray, hellos: Iterable = ()) -> LinkIdentity:
    """The link identity of one batch of frames (and HELLOs)."""
    acc = StreamIdentity()
    acc.add(meta, hellos)
    return acc.identity
