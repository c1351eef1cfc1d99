"""Shadowing: the person attenuates every static path whose ray passes close to the body.

Each static path of `room.static_paths` (direct path, the four specular reflections, every
furniture scatterer) is a polyline of two segments, TX -> turning point -> RX (`static_rays`;
the direct path "turns" at its midpoint), shadowed by its more obstructed segment. The body is a vertical cylinder of radius 0.2 m from
the floor up to its highest point, at the torso's (x, y). A segment passing the body at
horizontal distance d, at a height the body covers, keeps

    1 - DEPTH * cover * exp(-(d / (r_F + BODY_RADIUS))^2)

of its amplitude, where r_F = sqrt(lambda s1 s2 / (s1 + s2)) is the first Fresnel radius at
that point (s1, s2 the distances along the path to its ends; for a furniture path, to the
ends of the leg) and DEPTH = 0.7 (~10 dB when the body
fully blocks the ray: the order of magnitude of human-body shadowing at 2.4 GHz). `cover` ramps
from 0 to 1 over 0.3 m around the top of the body, so a lying person shadows only the rays
near the floor. Because the rays cross the room in many directions (furniture is all around),
the pattern of which paths are shadowed is a smooth function of where the person is: a
position cue at the Fresnel-zone scale (~0.3-0.5 m) that holds on day 2 (same room) and
changes on day 3 (furniture moved), as for real through-wall links.
"""

from __future__ import annotations

import numpy as np

from csi_edge.tools.sim.room import REFLECTORS, Room

DEPTH = 0.7
BODY_RADIUS = 0.2  # metres


def static_rays(room: Room) -> np.ndarray:
    """(P, 3, 3) polylines (TX, turning point, RX) in the order of `room.static_paths`."""
    rays = [np.stack([room.tx, (room.tx + room.rx) / 2, room.rx])]
    for axis, plane, _ in REFLECTORS:
        k = "xyz".index(axis)
        image = room.rx.copy()
        image[k] = 2 * plane - image[k]
        t = (plane - room.tx[k]) / (image[k] - room.tx[k])
        rays.append(np.stack([room.tx, room.tx + t * (image - room.tx), room.rx]))
    for point in room.scatterers:
        rays.append(np.stack([room.tx, point, room.rx]))
    return np.array(rays)


def shadowing(rays: np.ndarray, body_xy: np.ndarray, body_top: np.ndarray, wavelength: float) -> np.ndarray:
    """(N, P) amplitude factors of the static paths for a body at `body_xy` (N, 2), `body_top` (N,).

    A path is shadowed once, by its more obstructed segment. The Fresnel radius of the direct
    path and of the specular reflections is that of the whole (unfolded) path; a furniture
    path's is that of each leg (the scatterer re-radiates).
    """
    lengths = np.linalg.norm(np.diff(rays, axis=1), axis=2)  # (P, 2)
    whole = np.zeros(len(rays), bool)
    whole[: 1 + len(REFLECTORS)] = True
    factor = np.ones((len(body_xy), len(rays)))
    for seg in range(2):
        a, ab = rays[:, seg], rays[:, seg + 1] - rays[:, seg]  # (P, 3)
        flat2 = np.maximum(np.sum(ab[:, :2] ** 2, axis=1), 1e-9)
        rel = body_xy[:, None, :] - a[None, :, :2]  # (N, P, 2)
        t = np.clip(np.sum(rel * ab[None, :, :2], axis=2) / flat2, 0.0, 1.0)
        d = np.linalg.norm(a[None, :, :2] + t[..., None] * ab[None, :, :2] - body_xy[:, None, :], axis=2)
        cover = np.clip((body_top[:, None] - (a[None, :, 2] + t * ab[None, :, 2]) + 0.15) / 0.3, 0.0, 1.0)
        s1 = t * lengths[:, seg] + np.where(whole & (seg == 1), lengths[:, 0], 0.0)
        s2 = (1 - t) * lengths[:, seg] + np.where(whole & (seg == 0), lengths[:, 1], 0.0)
        fresnel = np.sqrt(wavelength * s1 * s2 / np.maximum(s1 + s2, 1e-9))
        seg_factor = 1.0 - DEPTH * cover * np.exp(-((d / (fresnel + BODY_RADIUS)) ** 2))
        factor = np.minimum(factor, seg_factor)
    return factor
