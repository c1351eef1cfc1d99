"""The classes and the scripted labelling protocol of `capture record`.

The timeline's event format is described (and read back) in `csi_edge.session.labels`.

The protocol spec is `label:duration,...` (e.g. `walking:300,pause:10,sitting:300`), the
duration in seconds or, with a `p` suffix, in packets. Durations run on the *stream clock*:
the RX timestamps of the packets, so a segment of D seconds that starts at packet P ends at the
first packet whose RX time is >= t(P) + D, and a replay labels exactly like the live run did.
"""

from __future__ import annotations

from dataclasses import dataclass

from csi_edge.errors import UsageError

DEFAULT_CLASSES = ("empty", "walking", "sitting", "lying")
PAUSE = "pause"


@dataclass(frozen=True)
class Segment:
    label: str  # a class, or PAUSE
    seconds: float | None = None
    packets: int | None = None

    def describe(self) -> str:
        return f"{self.label} {self.seconds:g} s" if self.seconds is not None else f"{self.label} {self.packets} packets"


def parse_protocol(spec: str, classes: tuple[str, ...] | list[str]) -> list[Segment]:
    """'walking:300,pause:10,sitting:3000p' -> segments; UsageError naming the bad item."""
    segments = []
    for i, item in enumerate(x.strip() for x in spec.split(",")):
        label, sep, amount = item.partition(":")
        label, amount = label.strip(), amount.strip().lower()
        where = f"--protocol item {i + 1} {item!r}"
        if not sep or not label or not amount:
            raise UsageError(f"{where}: expected LABEL:SECONDS or LABEL:PACKETSp, e.g. walking:300")
        if label != PAUSE and label not in classes:
            raise UsageError(f"{where}: {label!r} is not a class (classes: {', '.join(classes)}; set --classes)")
        try:
            value = float(amount[:-1]) if amount.endswith("p") else float(amount)
        except ValueError:
            raise UsageError(f"{where}: duration {amount!r} is not a number") from None
        if not value > 0 or (amount.endswith("p") and value != int(value)):
            raise UsageError(f"{where}: duration must be a positive number (packets: an integer)")
        segments.append(Segment(label, packets=int(value)) if amount.endswith("p") else Segment(label, seconds=value))
    return segments


def parse_classes(text: str) -> tuple[str, ...]:
    classes = tuple(c.strip() for c in text.split(",") if c.strip())
    if not classes or len(set(classes)) != len(classes) or PAUSE in classes:
        raise UsageError(f"--classes {text!r}: need distinct, non-empty names (and not {PAUSE!r})")
    return classes
