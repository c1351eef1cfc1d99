"""The simulated scene: the rooms, the walls, the boards and the furniture of each "day".

Coordinates are metres, right-handed, z up, floor at z = 0:

    y
    ^            RX (2.0, 4.85, 1.0)          RX room
    |  ========================== plasterboard wall, y = 3.6 ==========
    |  |  monitored room x -0.6..4.6, y -1.1..3.6, ceiling 2.6 m    |
    |  |     monitored area (the person): x 0..4, y 0..2.5          |
    |  ========================== plasterboard wall, y = -1.1 =========
    |            TX (2.0, -2.35, 1.0)         TX room
    +--------------------------------------------------------> x

TX and RX are 7.2 m apart, both 1.0 m above the floor, each behind one plasterboard wall,
with directional antennas facing each other along +y / -y. The ground truth (x, y, z) of the
person is given in these coordinates.

Several receivers (links, `RX_POSITIONS`, `with_receiver`): one TX broadcasts and every
receiver captures the same packets (same sequence numbers), so the links of one room see one
person at one time. Link 0 is the reference receiver above; links 1 and 2 sit in the RX room
too, 1.8 m to either side (x 0.2 and 3.8), so their rays cross the monitored area at +-14
degrees and shadow other parts of it. Both antennas of a link are aimed along that link (the
TX antenna really points at link 0: at 14 degrees off its axis the ~70 degree beam loses
0.4 dB, which the simulator neglects).

Day 1 is the reference furniture layout; day 2 is the same room with small disturbances (items
nudged by millimetres, chairs put back ~5 cm differently); day 3 has the furniture moved
(the paper's "furniture moved" day). The layout depends only on (day, room_seed), never on the
recording seed, so every recording of one day sees the same room.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

AREA_X = (0.0, 4.0)  # monitored area, metres
AREA_Y = (0.0, 2.5)
ROOM_X = (-0.6, 4.6)  # monitored room interior
ROOM_Y = (-1.1, 3.6)  # the two plasterboard walls
CEILING_Z = 2.6
TX_POS = np.array([2.0, -2.35, 1.0])
RX_POS = np.array([2.0, 4.85, 1.0])
# Receiver positions of the links of one room (link N = RX_POSITIONS[N]); link 0 is RX_POS.
RX_POSITIONS = (RX_POS, np.array([0.2, 4.85, 1.0]), np.array([3.8, 4.85, 1.0]))
WALL_LOSS_DB = 4.0  # one plasterboard wall (two 12.5 mm boards + studs) at normal incidence
SPEED_OF_LIGHT = 299_792_458.0

# (name, x, y, z, radar cross-section m^2) of the day-1 furniture.
_FURNITURE_DAY1 = (
    ("shelf", -0.35, 0.6, 1.2, 1.5),
    ("cabinet", 4.35, 2.9, 1.0, 1.2),
    ("table", 3.3, 0.35, 0.75, 0.8),
    ("sofa", 0.6, 3.25, 0.45, 1.0),
    ("tv", 4.35, 0.8, 1.1, 0.6),
    ("radiator", 2.0, 3.45, 0.5, 0.9),
    ("plant", -0.35, 3.2, 0.9, 0.3),
    ("lamp", 4.3, -0.8, 1.5, 0.2),
)
# Day 3: the same items, moved.
_FURNITURE_DAY3 = {
    "shelf": (-0.35, 2.4, 1.2),
    "table": (0.9, 0.3, 0.75),
    "sofa": (3.4, 3.25, 0.45),
    "tv": (4.35, 2.0, 1.1),
    "plant": (4.3, -0.8, 0.9),
    "lamp": (-0.3, -0.8, 1.5),
}
_CHAIRS = {1: ((1.2, 1.6), (2.8, 0.9)), 3: ((2.2, 2.0), (3.4, 1.5))}
CHAIR_SEAT_Z = 0.45

# Specular reflectors of the monitored room: (axis, plane coordinate, amplitude reflection coeff.)
REFLECTORS = (("z", 0.0, 0.45), ("z", CEILING_Z, 0.3), ("x", ROOM_X[0], 0.35), ("x", ROOM_X[1], 0.35))


@dataclass(frozen=True)
class Room:
    """Static scene of one day: scatterer positions (K, 3) and cross-sections (K,)."""

    day: int
    scatterers: np.ndarray
    rcs: np.ndarray
    chairs: np.ndarray  # (2, 2) chair positions (x, y)
    tx: np.ndarray = field(default_factory=TX_POS.copy)
    rx: np.ndarray = field(default_factory=RX_POS.copy)


def room_for_day(day: int, room_seed: int = 0) -> Room:
    """The furniture layout of `day` (1, 2 or 3); deterministic in (day, room_seed)."""
    if day not in (1, 2, 3):
        raise ValueError(f"day must be 1, 2 or 3 (got {day})")
    rng = np.random.default_rng([room_seed, 7919])
    names = [f[0] for f in _FURNITURE_DAY1]
    pos = np.array([f[1:4] for f in _FURNITURE_DAY1], dtype=float)
    rcs = np.array([f[4] for f in _FURNITURE_DAY1], dtype=float)
    # small clutter (books, door frame, cables): same random draw for every day of a room
    n_small = 14
    small = np.column_stack([
        rng.uniform(ROOM_X[0], ROOM_X[1], n_small),
        rng.uniform(ROOM_Y[0], ROOM_Y[1], n_small),
        rng.uniform(0.1, 2.2, n_small),
    ])  # fmt: skip
    small_rcs = rng.uniform(0.02, 0.2, n_small)
    chairs = np.array(_CHAIRS[3 if day == 3 else 1], dtype=float)
    if day == 3:
        for i, name in enumerate(names):
            if name in _FURNITURE_DAY3:
                pos[i] = _FURNITURE_DAY3[name]
        moved = rng.random(n_small) < 0.5
        small[moved, :2] = np.column_stack([
            rng.uniform(ROOM_X[0], ROOM_X[1], moved.sum()), rng.uniform(ROOM_Y[0], ROOM_Y[1], moved.sum())
        ])  # fmt: skip
    elif day == 2:
        day_rng = np.random.default_rng([room_seed, 2])
        pos += day_rng.normal(0.0, 0.003, pos.shape)
        small += day_rng.normal(0.0, 0.005, small.shape)
        chairs = chairs + day_rng.normal(0.0, 0.05, chairs.shape)
    chair_pts = np.column_stack([chairs, np.full(2, CHAIR_SEAT_Z)])
    scatterers = np.vstack([pos, small, chair_pts])
    all_rcs = np.concatenate([rcs, small_rcs, np.full(2, 0.3)])
    return Room(day=day, scatterers=scatterers, rcs=all_rcs, chairs=chairs)


def with_receiver(room: Room, link: int) -> Room:
    """The same room seen by receiver `link` (an index into RX_POSITIONS)."""
    if not 0 <= link < len(RX_POSITIONS):
        raise ValueError(f"link must be 0..{len(RX_POSITIONS) - 1} (got {link})")
    return room if link == 0 else replace(room, rx=RX_POSITIONS[link].copy())


# ---------------------------------------------------------------------------------------------
# Path geometry shared by the static and the moving scatterers.


def antenna_gain(direction: np.ndarray, boresight: np.ndarray) -> np.ndarray:
    """Amplitude gain of a directional patch antenna (~70 degree beam, -20 dB back lobe).

    `direction` (..., 3) unit vectors, `boresight` (3,) unit vector; returns (...,).
    """
    cos = np.clip(np.sum(direction * boresight, axis=-1), -1.0, 1.0)
    return np.maximum(cos, 0.0) ** 1.5 * 0.9 + 0.1


def wall_amplitude(direction: np.ndarray) -> np.ndarray:
    """Amplitude factor of one plasterboard wall crossed along `direction` (..., 3).

    The walls are planes y = const; the loss in dB grows with the slant path through the board
    (1 / cos of the incidence angle, capped at 3x).
    """
    cos = np.abs(direction[..., 1])
    loss_db = WALL_LOSS_DB / np.maximum(cos, 1.0 / 3.0)
    return 10.0 ** (-loss_db / 20.0)


def _unit(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    d = np.linalg.norm(v, axis=-1)
    return v / np.maximum(d, 1e-9)[..., None], d


def scatter_paths(room: Room, points: np.ndarray, rcs: np.ndarray, wavelength: float, boresight_room: Room | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Bistatic single-bounce paths TX -> point -> RX.

    `points` (..., 3) metres, `rcs` broadcastable to (...) m^2. Returns the complex-free
    amplitude (bistatic radar equation in amplitude: lambda/(4 pi) * sqrt(rcs / 4 pi) / (d1 d2),
    times both antenna gains and both walls) and the path length d1 + d2 in metres.
    `boresight_room` gives the real antenna orientation when `room` holds a mirrored TX/RX.
    """
    ref = boresight_room if boresight_room is not None else room
    boresight, _ = _unit(ref.rx - ref.tx)
    out_dir, d1 = _unit(points - room.tx)
    in_dir, d2 = _unit(points - room.rx)
    amp = (
        wavelength / (4 * np.pi) * np.sqrt(np.asarray(rcs) / (4 * np.pi)) / np.maximum(d1 * d2, 0.05)
        * antenna_gain(out_dir, boresight) * antenna_gain(in_dir, -boresight)
        * wall_amplitude(out_dir) * wall_amplitude(in_dir)
    )  # fmt: skip
    return amp, d1 + d2


def _mirror(point: np.ndarray, axis: str, plane: float) -> np.ndarray:
    k = "xyz".index(axis)
    image = np.array(point, dtype=float, copy=True)
    image[..., k] = 2 * plane - image[..., k]
    return image


def body_paths(room: Room, points: np.ndarray, rcs: np.ndarray, wavelength: float) -> tuple[np.ndarray, np.ndarray]:
    """Body-part paths (N, P * 9): the direct scatter TX -> part -> RX, and for each of the four
    room reflectors the echoes TX -> reflector -> part -> RX and TX -> part -> reflector -> RX
    (image method: the TX or the RX mirrored in the reflector's plane, times its reflection
    coefficient). The echoes give the body's contribution its delay spread (10-20 ns), so a
    moving person changes the shape of H(f), not only its power.
    """
    amps, lengths = [], []
    a, length = scatter_paths(room, points, rcs, wavelength)
    amps.append(a)
    lengths.append(length)
    for axis, plane, gamma in REFLECTORS:
        for side in ("tx", "rx"):
            mirrored = replace(room, **{side: _mirror(getattr(room, side), axis, plane)})
            a, length = scatter_paths(mirrored, points, rcs, wavelength, boresight_room=room)
            amps.append(gamma * a)
            lengths.append(length)
    return np.concatenate(amps, axis=-1), np.concatenate(lengths, axis=-1)


def diffuse_paths(room: Room, wavelength: float, room_seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The room's diffuse multi-bounce field as a tapped delay line (amplitudes, lengths).

    Multi-bounce reverberation between the walls, floor, ceiling and the rooms behind the
    plasterboard walls is not traced; it is modelled statistically like the IEEE 802.11n
    residential/office channel models: 40 paths with excess delays exponentially distributed
    (mean 30 ns), Rayleigh magnitudes under an exponential power-delay profile (decay 30 ns;
    the phases follow from the random delays), total power 2 dB below the direct path (a
    through-wall link: Rician K ~ 2 dB). Half of the taps change when the furniture moves
    (day 3); day 2 shifts their lengths by ~2 mm (items nudged).
    """
    rng = np.random.default_rng([room_seed, 104729])
    n = 40
    excess = rng.exponential(30e-9, n) * SPEED_OF_LIGHT
    amp = rng.rayleigh(1.0, n) * np.exp(-excess / SPEED_OF_LIGHT / 30e-9 / 2)
    if room.day == 3:
        moved = rng.random(n) < 0.5
        excess[moved] = rng.exponential(30e-9, moved.sum()) * SPEED_OF_LIGHT
        amp[moved] = rng.rayleigh(1.0, moved.sum()) * np.exp(-excess[moved] / SPEED_OF_LIGHT / 30e-9 / 2)
    elif room.day == 2:
        excess = excess + np.random.default_rng([room_seed, 2, 1]).normal(0, 0.002, n)
    direct_len = float(np.linalg.norm(room.rx - room.tx))
    direct_amp = float(static_paths(room, wavelength)[0][0])
    amp = amp / np.sqrt(np.sum(amp**2)) * direct_amp * 10 ** (-2 / 20)
    return amp, direct_len + excess


def body_reverberation(freqs: np.ndarray, room: Room, room_seed: int, n_parts: int) -> np.ndarray:
    """R_p(f) (n_parts, K): the room's reverberant response to the wave scattered by each part.

    A wave scattered by the body does not only reach the RX directly (and via the single
    reflections of `body_paths`): it keeps bouncing around the room. Each part's scattered
    wave is therefore followed by 6 echoes with excess delays exponentially distributed (mean
    30 ns) and complex Gaussian gains of total power 1 (as much power as the single-bounce
    wave: a small room with reflective walls). Because the echoes travel with the part, the body's
    contribution is a_p exp(-j 2 pi f L_p / c) R_p(f) with R_p(f) = 1 + sum_j g_j
    exp(-j 2 pi f e_j / c), applied to each geometric path of the part. The echoes depend
    on the room layout, so day 3 redraws them.
    """
    rng = np.random.default_rng([room_seed, 15485863, 3 if room.day == 3 else 1])
    excess = rng.exponential(30e-9, (n_parts, 6))
    gains = (rng.normal(size=(n_parts, 6)) + 1j * rng.normal(size=(n_parts, 6))) * np.exp(-excess / 60e-9)
    gains *= np.sqrt(1.0 / np.sum(np.abs(gains) ** 2, axis=1, keepdims=True))
    return 1.0 + np.einsum("pj,pjk->pk", gains, np.exp(-2j * np.pi * excess[..., None] * freqs))


def static_paths(room: Room, wavelength: float) -> tuple[np.ndarray, np.ndarray, int]:
    """All static paths of the room: (amplitudes (P,), lengths (P,), index of the direct path).

    Direct path (index 0), specular reflections from floor, ceiling and side walls (image
    method: mirror the RX in the plane), and the furniture scatterers.
    """
    boresight, _ = _unit(room.rx - room.tx)
    amps, lengths = [], []
    direct, d = _unit(room.rx - room.tx)
    amps.append(wavelength / (4 * np.pi * d) * antenna_gain(direct, boresight) ** 2 * wall_amplitude(direct) ** 2)
    lengths.append(d)
    for axis, plane, gamma in REFLECTORS:
        k = "xyz".index(axis)
        image = room.rx.copy()
        image[k] = 2 * plane - image[k]
        out_dir, d = _unit(image - room.tx)
        in_dir = out_dir.copy()
        in_dir[k] = -in_dir[k]  # arrival direction seen from the RX, reversed
        gain = antenna_gain(out_dir, boresight) * antenna_gain(-in_dir, -boresight)
        amps.append(gamma * wavelength / (4 * np.pi * d) * gain * wall_amplitude(out_dir) ** 2)
        lengths.append(d)
    s_amp, s_len = scatter_paths(room, room.scatterers, room.rcs, wavelength)
    return np.concatenate([np.array(amps, dtype=float), s_amp]), np.concatenate([np.array(lengths, dtype=float), s_len]), 0
