"""One simulated room seen by several receivers (`csi-edge sim --link N`), as the boards'
bytes: the same person (same seed) on every link. Importable from every test folder."""

from __future__ import annotations

from pathlib import Path


def write_room(directory: Path, seconds: float, links: int = 3, **simulate_args) -> tuple[list[Path], list]:
    """`directory`/link{N}.bin (protocol v1) for receivers 0..links-1; returns the paths and the
    SimRecordings (their truth)."""
    from csi_edge.tools.sim import simulate

    recordings = [simulate(seconds, link=link, **simulate_args) for link in range(links)]
    paths = [Path(directory) / f"link{link}.bin" for link in range(links)]
    for path, rec in zip(paths, recordings, strict=True):
        path.write_bytes(rec.to_v1())
    return paths, recordings
