"""Writing a benchmark's plot: laid out, its folder made, 110 dpi PNG, the figure closed."""

from __future__ import annotations

from pathlib import Path


def save(fig, path) -> None:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
