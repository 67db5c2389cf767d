"""Bar charts drawn on the server as SVG geometry: the templates place these rectangles; no script draws.

Every chart also has its numbers written out (a label on each bar, a table beside it), so no one needs
colour, or sight of the bars, to read it.
"""

from __future__ import annotations

from dataclasses import dataclass

WIDTH = 600  # the viewBox; the SVG scales to its box
HEIGHT = 160
GAP = 2


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: float
    label: str


@dataclass(frozen=True, slots=True)
class Chart:
    bars: list[Bar]
    baseline: float  # y of the zero line (below it: negative values)
    top: float  # the largest value, what the full height means
    width: int = WIDTH
    height: int = HEIGHT


def columns(values: list[float], labels: list[str], *, top: float | None = None) -> Chart:
    """One column per value, left to right; negative values hang below the zero line. ``top``: draw to the
    scale of another chart (a part over its whole, such as cancelled orders over orders)."""
    high, low = max([0.0, *values, top or 0.0]), min([0.0, *values])
    span = (high - low) or 1.0
    baseline = HEIGHT * high / span
    step = WIDTH / max(len(values), 1)
    bars = []
    for n, (value, label) in enumerate(zip(values, labels, strict=True)):
        size = HEIGHT * abs(value) / span
        y = baseline - size if value >= 0 else baseline
        bars.append(Bar(n * step + GAP / 2, y, max(step - GAP, 1), size, value, label))
    return Chart(bars, baseline, high)


def rows(values: list[float], labels: list[str]) -> list[Bar]:
    """Horizontal bars as a percentage of the largest (for HTML/CSS widths): ``width`` is 0 to 100."""
    top = max(values, default=0) or 1
    return [Bar(0, 0, 100 * value / top, 0, value, label) for value, label in zip(values, labels, strict=True)]
