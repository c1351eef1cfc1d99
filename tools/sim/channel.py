"""Frequency response H(f) of the simulated link at the 52 L-LTF subcarriers.

    H_n(f_k) = sum_p a_p,n * exp(-j 2 pi f_k L_p,n / c)

over the static paths p of the room (direct path, floor/ceiling/side-wall reflections,
furniture) and the moving body-part paths of packet n. f_k = f_c + k * 312.5 kHz for
k = -26..-1, +1..+26 (`csi_edge.layout.SUBCARRIER_INDEX`), f_c the centre of the primary
20 MHz channel (2412 + 5 (ch - 1) MHz). Amplitudes are in "isotropic link" units (the received
power in dBm is the TX power + antenna gains + 20 log10 rms|H|). The body shadows the static
paths whose rays pass near it (`shadowing.py`), the direct path included.
"""

from __future__ import annotations

import numpy as np

from csi_edge.layout import SUBCARRIER_INDEX, SUBCARRIER_SPACING_HZ
from csi_edge.tools.sim.person import Motion
from csi_edge.tools.sim.room import SPEED_OF_LIGHT, Room, body_paths, body_reverberation, diffuse_paths, static_paths
from csi_edge.tools.sim.shadowing import shadowing, static_rays

_CHUNK = 8192  # packets per block when summing body paths (bounds memory to ~40 MB)


def centre_frequency_hz(channel: int) -> float:
    """Centre of the primary 20 MHz channel (2.4 GHz band, channels 1..14)."""
    if not 1 <= channel <= 14:
        raise ValueError(f"channel must be 1..14 (got {channel})")
    return 2484e6 if channel == 14 else 2412e6 + 5e6 * (channel - 1)


def subcarrier_frequencies(channel: int) -> np.ndarray:
    """(52,) frequencies in Hz of the L-LTF subcarriers -26..-1, +1..+26."""
    return centre_frequency_hz(channel) + SUBCARRIER_INDEX * SUBCARRIER_SPACING_HZ


def _response(amps: np.ndarray, lengths: np.ndarray, freqs: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """sum_p amps[n, p] exp(-j 2 pi f_k L[n, p] / c) -> (N, K) complex128.

    The frequencies are evenly spaced (but for the skipped DC), so the phasor of subcarrier k+1
    is that of k times exp(-j 2 pi df L / c): one complex multiply per path and subcarrier
    instead of one complex exponential (~8x faster), in complex64 (relative error < 1e-5).
    `weights` (Q, K), when given, multiplies path p at subcarrier k by weights[p % Q, k]: the
    paths come in groups of Q (one per body part) sharing the part's reverberation R_q(f).
    """
    df = SUBCARRIER_SPACING_HZ
    k_index = np.rint((freqs - freqs[0]) / df).astype(int)
    n = amps.shape[0]
    w = (amps * np.exp((-2j * np.pi / SPEED_OF_LIGHT * freqs[0]) * lengths)).astype(np.complex64)
    step = np.exp((-2j * np.pi / SPEED_OF_LIGHT * df) * lengths).astype(np.complex64)
    if weights is not None:  # (N, Q, groups), contiguous per part: sums run over the last axis
        q = weights.shape[0]
        w = np.ascontiguousarray(w.reshape(n, -1, q).transpose(0, 2, 1))
        step = np.ascontiguousarray(step.reshape(n, -1, q).transpose(0, 2, 1))
        weights = weights.astype(np.complex64)
    out = np.empty((n, len(freqs)), dtype=np.complex128)
    column = 0
    for k in range(k_index[-1] + 1):
        if column < len(k_index) and k_index[column] == k:
            if weights is None:
                out[:, column] = w.sum(axis=1)
            else:
                out[:, column] = (w.sum(axis=2) * weights[:, column]).sum(axis=1)
            column += 1
        w *= step
    return out


def static_response(room: Room, freqs: np.ndarray, room_seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The static room: per-path amplitudes (P,), their phasors (P, 52) and the diffuse field (52,).

    The P geometric paths (`room.static_paths`) can be shadowed by the person; the diffuse
    field (`room.diffuse_paths`) is not.
    """
    wavelength = SPEED_OF_LIGHT / float(np.mean(freqs))
    amps, lengths, _ = static_paths(room, wavelength)
    phasors = np.exp((-2j * np.pi / SPEED_OF_LIGHT) * lengths[:, None] * freqs)
    d_amps, d_lengths = diffuse_paths(room, wavelength, room_seed)
    h_diffuse = _response(d_amps[None, :], d_lengths[None, :], freqs)[0]
    return amps, phasors, h_diffuse


def link_response(room: Room, motion: Motion, freqs: np.ndarray, room_seed: int = 0) -> np.ndarray:
    """H (N, 52) complex128 of every packet: static room (shadowed by the body) plus the body."""
    amps, phasors, h_diffuse = static_response(room, freqs, room_seed)
    n = len(motion.truth)
    if motion.parts is None:
        return np.broadcast_to(amps @ phasors + h_diffuse, (n, len(freqs))).copy()
    wavelength = SPEED_OF_LIGHT / float(np.mean(freqs))
    rays = static_rays(room)
    reverb = body_reverberation(freqs, room, room_seed, motion.parts.shape[1])  # (parts, K)
    out = np.empty((n, len(freqs)), dtype=np.complex128)
    for start in range(0, n, _CHUNK):
        sl = slice(start, min(n, start + _CHUNK))
        parts = motion.parts[sl]
        b_amps, b_lengths = body_paths(room, parts, motion.rcs, wavelength)
        b_amps, b_lengths = b_amps.reshape(len(parts), -1), b_lengths.reshape(len(parts), -1)
        shadow = shadowing(rays, motion.truth[sl, :2], motion.top[sl], wavelength)
        out[sl] = (shadow * amps) @ phasors + h_diffuse + _response(b_amps, b_lengths, freqs, reverb)
    return out
