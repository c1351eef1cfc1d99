"""On-the-fly augmentation of model inputs (B, 1, S, W), seeded by a numpy Generator.

Each augmentation is applied to a window with its own probability `p`:
- `scale`:  magnitude, x * s with s ~ U(1 - m, 1 + m) (one s per window);
- `rotate`: circular rotation along time by k ~ U{-m W, ..., m W} packets (default m = 0.125,
            the paper's +-12.5 %); it permutes the columns, so their multiset is unchanged;
- `flip`:   time inversion, ONLY for windows whose class is declared time-symmetric
            (`symmetric` class indices): sitting down flipped is standing up;
- `drop-sub`: each subcarrier (row) replaced by the window mean with probability m;
- `drop-pkt`: each packet (column) replaced by the per-subcarrier window mean with probability m;
- `shuffle-sub`: the subcarrier rows in a random order (m unused): which subcarriers a motion
            shows on depends on the room's multipath, which changes when furniture moves.
Augmentations combine in the order above. Spec string: `name[:p[:m]]` joined by `,`,
e.g. `rotate`, `rotate:0.5:0.125,scale:0.5:0.1`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from csi_edge.errors import UsageError

DEFAULTS = {"scale": (0.5, 0.1), "rotate": (0.5, 0.125), "flip": (0.5, 0.0), "drop-sub": (0.5, 0.05), "drop-pkt": (0.5, 0.05),
            "shuffle-sub": (0.5, 0.0)}
ORDER = tuple(DEFAULTS)


@dataclass(frozen=True)
class Aug:
    name: str
    p: float
    m: float


def parse_augment(text: str) -> tuple[Aug, ...]:
    """'rotate,scale:0.5:0.2' -> augmentations (defaults from DEFAULTS); '' or 'none' -> ()."""
    if not text or text == "none":
        return ()
    out = []
    for item in text.split(","):
        name, *nums = item.strip().split(":")
        if name not in DEFAULTS:
            raise UsageError(f"--augment: unknown augmentation {name!r} (known: {', '.join(DEFAULTS)})")
        try:
            p = float(nums[0]) if len(nums) > 0 else DEFAULTS[name][0]
            m = float(nums[1]) if len(nums) > 1 else DEFAULTS[name][1]
        except ValueError:
            raise UsageError(f"--augment: {item!r} must be name[:probability[:magnitude]]") from None
        if not 0 <= p <= 1 or m < 0:
            raise UsageError(f"--augment: {item!r}: probability must be 0..1 and magnitude >= 0")
        out.append(Aug(name, p, m))
    return tuple(sorted(out, key=lambda a: ORDER.index(a.name)))


def augment(x: np.ndarray, y: np.ndarray, augs: tuple[Aug, ...], rng: np.random.Generator, symmetric: frozenset[int] = frozenset()) -> np.ndarray:
    """Return an augmented copy of x (B, L, S, W), L links (1, or a joint model's); x itself is
    not modified. Time shifts and flips move every link together (their packets are the same);
    gains, dropped subcarriers and subcarrier orders are drawn per link (each has its own radio
    and multipath)."""
    if not augs:
        return x
    x = np.array(x, dtype=np.float32, copy=True)
    b, c, s, w = x.shape
    for aug in augs:
        hit = rng.random(b) < aug.p
        if aug.name == "scale":
            factor = rng.uniform(1 - aug.m, 1 + aug.m, size=(b, c)).astype(np.float32)
            x[hit] *= factor[hit, :, None, None]
        elif aug.name == "rotate":
            limit = int(round(aug.m * w))
            shifts = rng.integers(-limit, limit + 1, size=b)
            for i in np.nonzero(hit)[0]:
                x[i] = np.roll(x[i], int(shifts[i]), axis=-1)
        elif aug.name == "flip":
            allowed = np.isin(y, list(symmetric)) if symmetric else np.zeros(b, dtype=bool)
            sel = hit & allowed
            x[sel] = x[sel, ..., ::-1]
        elif aug.name == "drop-sub":
            mask = (rng.random((b, c, s)) < aug.m) & hit[:, None, None]
            fill = x.mean(axis=(2, 3))  # (B, L): each link's window mean
            rows, links, cols = np.nonzero(mask)
            x[rows, links, cols, :] = fill[rows, links][:, None]
        elif aug.name == "drop-pkt":
            mask = (rng.random((b, w)) < aug.m) & hit[:, None]
            fill = x.mean(axis=3)  # (B, L, S): per-subcarrier window mean
            rows, cols = np.nonzero(mask)
            x[rows, :, :, cols] = fill[rows]
        elif aug.name == "shuffle-sub":
            for i in np.nonzero(hit)[0]:
                for link in range(c):
                    x[i, link] = x[i, link, rng.permutation(s)]
    return x
