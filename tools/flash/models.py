"""Which models a pair flashed with these link settings can run.

Reads every model card in a models folder (csi_edge.model.card.load_card, ONNX sha256 checked)
and applies the checks the daemon makes on a stream (csi_edge.model.card.check_stream): the
subcarrier layout the card accepts (`feature.layouts`, named by the secondary channel) and the
L-LTF (128 CSI bytes). A packet rate other than the card's is not refused by the daemon, but
the model's window then spans another length of time, so it is reported as a warning.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from csi_edge.errors import CsiEdgeError
from csi_edge.model.card import load_card
from csi_edge.tools.flash.settings import LTF_BITS, LinkSettings

DEFAULT_MODELS_DIR = Path(__file__).resolve().parents[2] / "models"


@dataclass(frozen=True)
class ModelFit:
    name: str  # card name (file stem when the card cannot be read)
    refused: tuple[str, ...]  # why the daemon would refuse the stream (empty: it runs)
    warnings: tuple[str, ...]  # runs, but not as trained

    @property
    def runs(self) -> bool:
        return not self.refused

    def line(self) -> str:
        if self.refused:
            return f"{self.name}: cannot run: {'; '.join(self.refused)}"
        extra = f" (but {'; '.join(self.warnings)})" if self.warnings else ""
        return f"{self.name}: runs{extra}"


def fit(card_path: Path, link: LinkSettings) -> ModelFit:
    """How a model fits a stream from boards flashed with `link`."""
    try:
        card, _onnx = load_card(card_path)
    except (CsiEdgeError, OSError, ValueError) as exc:
        return ModelFit(card_path.stem, (f"unusable model: {exc}",), ())
    refused, warnings = [], []
    if link.secondary not in card.feature.layouts:
        refused.append(f"trained on subcarrier layouts {list(card.feature.layouts)}, these settings give "
                       f"'{link.secondary}' (--secondary)")  # fmt: skip
    if not link.ltf_mask & LTF_BITS["lltf"]:
        refused.append("needs the L-LTF (--ltf lltf)")
    if abs(card.rate_hz - link.rate_hz) > 1e-6:
        warnings.append(f"its window of {card.window} packets is {card.window / card.rate_hz:.2f} s at the "
                        f"{card.rate_hz:g} Hz it was trained on, {card.window / link.rate_hz:.2f} s at --rate-hz "
                        f"{link.rate_hz}")  # fmt: skip
    if card.links > 1:
        warnings.append(f"it reads {card.links} receivers of one room together: flash a transmitter and "
                        f"{card.links} receivers with these settings")  # fmt: skip
    return ModelFit(card.name, tuple(refused), tuple(warnings))


def fits(models_dir: Path, link: LinkSettings) -> list[ModelFit]:
    """Every card (NAME.json) in `models_dir`, in name order; [] when there is none."""
    if not models_dir.is_dir():
        return []
    return [fit(path, link) for path in sorted(models_dir.glob("*.json"))]
