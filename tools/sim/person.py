"""The person: body-part scatterers moving through one activity segment.

The body is six point scatterers (torso, head, left/right arm, left/right leg) with radar
cross-sections typical of an adult at 2.4 GHz (`PART_RCS`, m^2, scaled by body height). Each
activity generator returns, for the packet times `t` (seconds, shape (N,)):

- `parts`: (N, 6, 3) part positions in metres (room coordinates, see `room.py`);
- `truth`: (N, 3) the ground-truth position: the torso centre (x, y, z), as a tracker would
  report the body centre (walking z ~ 0.55 x height, sitting ~ 0.75 m, lying ~ 0.15 m);
- `top`: (N,) the highest point of the body (for shadowing the static paths).

Activities:
- walking: free walk on a smooth random path (cubic spline through random waypoints in the
  monitored area) at ~1 m/s, with gait: legs and arms swing in anti-phase at ~1.8 steps/s and
  the torso bobs by 2 cm;
- sitting: on one of the two chairs (the one the person is at, if any), breathing (5 mm at ~0.25 Hz), slow head turns and small
  arm/leg gestures (low-pass filtered noise);
- lying: on the floor at a random place and orientation, struggling (limbs flailing, 0.1-0.3 m
  at ~1-2 Hz, in bouts) and shifting slowly around that place (0.05-0.15 m std, below 0.05 Hz);
- empty: no person (`parts` is None, truth NaN).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from csi_edge.tools.sim.room import AREA_X, AREA_Y, CHAIR_SEAT_Z, Room

PART_NAMES = ("torso", "head", "arm_l", "arm_r", "leg_l", "leg_r")
PART_RCS = np.array([0.6, 0.05, 0.08, 0.08, 0.15, 0.15])  # m^2 for a 1.75 m adult
FS_MOTION = 100.0  # motion is evaluated at the packet times; filters assume ~100 Hz


@dataclass(frozen=True)
class Person:
    height: float = 1.75  # metres
    speed: float = 1.0  # walking speed, m/s
    offset: tuple[float, float] = (0.0, 0.0)  # habitual offset from the chair/spot, metres


@dataclass(frozen=True)
class Motion:
    parts: np.ndarray | None  # (N, 6, 3)
    truth: np.ndarray  # (N, 3)
    top: np.ndarray  # (N,)

    @property
    def rcs(self) -> np.ndarray:
        return PART_RCS


def smooth_noise(rng: np.random.Generator, n: int, cutoff_hz: float, std: float, dims: int = 1) -> np.ndarray:
    """Low-pass filtered Gaussian noise (n, dims) with standard deviation `std`, at 100 Hz.

    The noise is generated with two cutoff periods of margin on each side and scaled by the
    filter's own noise gain (not by the sample's std), so a short segment of a slow process
    is a slow wander of the right size, not a ramp blown up to `std`.
    """
    if n < 16:
        return np.zeros((n, dims))
    from scipy.signal import sosfiltfilt  # lazy: scipy.signal takes ~1 s to import

    sos, gain, pad = _lowpass(float(cutoff_hz))
    white = rng.normal(size=(n + 2 * pad, dims))
    return sosfiltfilt(sos, white, axis=0)[pad : pad + n] / gain * std


@functools.lru_cache(maxsize=64)
def _lowpass(cutoff_hz: float) -> tuple[np.ndarray, float, int]:
    """(sos, output std for unit white input, margin in samples) of the zero-phase low-pass."""
    from scipy.signal import butter, sosfiltfilt

    sos = butter(2, min(cutoff_hz / (FS_MOTION / 2), 0.99), output="sos")
    pad = max(32, int(np.ceil(2 * FS_MOTION / cutoff_hz)))
    impulse = np.zeros(8 * pad + 1)
    impulse[4 * pad] = 1.0
    response = sosfiltfilt(sos, impulse)
    return sos, float(np.sqrt(np.sum(response**2))), pad


def _clip_area(xy: np.ndarray, margin: float = 0.2) -> np.ndarray:
    xy[..., 0] = np.clip(xy[..., 0], AREA_X[0] + margin, AREA_X[1] - margin)
    xy[..., 1] = np.clip(xy[..., 1], AREA_Y[0] + margin, AREA_Y[1] - margin)
    return xy


def _random_point(rng: np.random.Generator, margin: float = 0.3) -> np.ndarray:
    return np.array([rng.uniform(AREA_X[0] + margin, AREA_X[1] - margin), rng.uniform(AREA_Y[0] + margin, AREA_Y[1] - margin)])


def walking(t: np.ndarray, rng: np.random.Generator, person: Person, start: np.ndarray | None) -> Motion:
    from scipy.interpolate import CubicSpline  # lazy, see smooth_noise

    n = len(t)
    duration = float(t[-1] - t[0]) + 1.0 if n else 1.0
    points = [start if start is not None else _random_point(rng)]
    times = [0.0]
    while times[-1] < duration + 2.0:
        nxt = _random_point(rng)
        dist = np.linalg.norm(nxt - points[-1])
        if dist < 0.8:
            continue
        speed = person.speed * rng.uniform(0.8, 1.2)
        times.append(times[-1] + dist / speed)
        points.append(nxt)
    spline = CubicSpline(np.array(times), np.array(points), bc_type="natural")
    tt = t - t[0]
    xy = _clip_area(spline(tt))
    vel = spline(tt, 1)
    speed = np.linalg.norm(vel, axis=1)
    heading = vel / np.maximum(speed, 1e-6)[:, None]
    side = np.column_stack([-heading[:, 1], heading[:, 0]])
    dt = np.diff(tt, prepend=tt[0])
    phase = 2 * np.pi * np.cumsum(speed * dt) / (2 * 0.7)  # stride = two 0.7 m steps
    h = person.height
    swing = np.sin(phase)[:, None]
    parts = np.empty((n, 6, 3))
    torso_z = 0.55 * h + 0.02 * np.sin(2 * phase)
    parts[:, 0, :2], parts[:, 0, 2] = xy, torso_z
    parts[:, 1, :2], parts[:, 1, 2] = xy + 0.03 * heading, 0.93 * h + 0.02 * np.sin(2 * phase)
    parts[:, 2, :2], parts[:, 2, 2] = xy + 0.22 * side + 0.25 * swing * heading, 0.5 * h
    parts[:, 3, :2], parts[:, 3, 2] = xy - 0.22 * side - 0.25 * swing * heading, 0.5 * h
    parts[:, 4, :2], parts[:, 4, 2] = xy + 0.1 * side - 0.3 * swing * heading, 0.27 * h
    parts[:, 5, :2], parts[:, 5, 2] = xy - 0.1 * side + 0.3 * swing * heading, 0.27 * h
    truth = np.column_stack([xy, torso_z])
    return Motion(parts, truth, np.full(n, h))


def sitting(t: np.ndarray, rng: np.random.Generator, person: Person, room: Room, start: np.ndarray | None) -> Motion:
    """Sitting on the chair the person is at (`start` within 0.5 m of it), else a random one."""
    n = len(t)
    pick = rng.integers(len(room.chairs))
    if start is not None:
        dist = np.linalg.norm(room.chairs - start, axis=1)
        pick = int(np.argmin(dist)) if dist.min() < 0.5 else pick
    chair = room.chairs[pick] + np.asarray(person.offset)
    facing = rng.uniform(0, 2 * np.pi)
    fwd = np.array([np.cos(facing), np.sin(facing)])
    side = np.array([-fwd[1], fwd[0]])
    h = person.height
    seat = CHAIR_SEAT_Z + 0.3 * (h / 1.75)
    breath = 0.005 * np.sin(2 * np.pi * rng.uniform(0.2, 0.3) * (t - t[0]) + rng.uniform(0, 2 * np.pi))
    sway = smooth_noise(rng, n, 0.3, 0.015, 2)
    head = smooth_noise(rng, n, 0.4, 0.05, 3)
    arms = smooth_noise(rng, n, 0.8, 0.12, 6).reshape(n, 2, 3)
    legs = smooth_noise(rng, n, 0.5, 0.04, 6).reshape(n, 2, 3)
    base = chair + sway
    parts = np.empty((n, 6, 3))
    parts[:, 0, :2], parts[:, 0, 2] = base + breath[:, None] * fwd, seat
    parts[:, 1, :2], parts[:, 1, 2] = base + head[:, :2], seat + 0.45 * h / 1.75 + head[:, 2] * 0.3
    for k, sgn in ((2, 1), (3, -1)):
        parts[:, k, :2] = base + sgn * 0.22 * side + 0.15 * fwd + arms[:, k - 2, :2]
        parts[:, k, 2] = seat - 0.05 + arms[:, k - 2, 2]
    for k, sgn in ((4, 1), (5, -1)):
        parts[:, k, :2] = base + sgn * 0.12 * side + 0.45 * fwd + legs[:, k - 4, :2]
        parts[:, k, 2] = 0.3 + legs[:, k - 4, 2]
    truth = parts[:, 0, :].copy()
    return Motion(parts, truth, parts[:, 1, 2] + 0.12)


def lying(t: np.ndarray, rng: np.random.Generator, person: Person, start: np.ndarray | None) -> Motion:
    n = len(t)
    spot = start if start is not None else _random_point(rng, margin=0.6)
    axis_angle = rng.uniform(0, 2 * np.pi) + np.cumsum(smooth_noise(rng, n, 0.1, 0.002, 1)[:, 0])
    along = np.column_stack([np.cos(axis_angle), np.sin(axis_angle)])
    across = np.column_stack([-along[:, 1], along[:, 0]])
    shift = smooth_noise(rng, n, 0.05, rng.uniform(0.05, 0.15), 2)  # slow shifts of ~0.1 m, bounded
    xy = _clip_area(spot + shift, margin=0.5)
    bouts = np.clip(smooth_noise(rng, n, 0.15, 1.0, 1)[:, 0] + 0.6, 0.1, 1.5)[:, None]
    limbs = smooth_noise(rng, n, rng.uniform(1.0, 2.0), 0.18, 12).reshape(n, 4, 3) * bouts[:, :, None]
    h = person.height / 1.75
    parts = np.empty((n, 6, 3))
    parts[:, 0, :2], parts[:, 0, 2] = xy, 0.15
    parts[:, 1, :2], parts[:, 1, 2] = xy + 0.65 * h * along, 0.12 + np.abs(limbs[:, 0, 2]) * 0.3
    ends = (0.25 * along + 0.25 * across, 0.25 * along - 0.25 * across, -0.6 * along + 0.12 * across, -0.6 * along - 0.12 * across)
    for k, offset in enumerate(ends):
        parts[:, 2 + k, :2] = xy + h * offset + limbs[:, k, :2]
        parts[:, 2 + k, 2] = 0.1 + np.abs(limbs[:, k, 2])
    truth = parts[:, 0, :].copy()
    return Motion(parts, truth, np.max(parts[:, :, 2], axis=1))


def empty(t: np.ndarray) -> Motion:
    n = len(t)
    return Motion(None, np.full((n, 3), np.nan), np.zeros(n))


def motion_for(activity: str, t: np.ndarray, rng: np.random.Generator, person: Person, room: Room, start: np.ndarray | None) -> Motion:
    """The body motion of one activity segment at packet times `t` (seconds)."""
    if activity == "walking":
        return walking(t, rng, person, start)
    if activity == "sitting":
        return sitting(t, rng, person, room, start)
    if activity == "lying":
        return lying(t, rng, person, start)
    if activity == "empty":
        return empty(t)
    raise ValueError(f"unknown activity {activity!r}")
