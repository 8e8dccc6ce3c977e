"""Charts drawn on the server as SVG: no script, no library, nothing for the CSP to allow.

``throughput_chart`` turns a series of per-minute buckets into plain geometry; the template
``_chart.html`` draws it, and the stylesheet colours it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..stats import Bucket
from ..units import format_timestamp


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    kind: str  # "ok" or "failed": the CSS class
    title: str


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str
    anchor: str = "middle"


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    labels: list[Label]
    baseline: float
    description: str


def throughput_chart(series: Sequence[Bucket], *, width: int = 1000, height: int = 200,
                     step: float = 60.0) -> Chart:
    """Stacked bars, one per bucket: completed runs below, failed runs above them."""
    left, right, top, bottom = 36.0, 8.0, 10.0, 22.0
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max((b.completed + b.failed for b in series), default=0)
    scale_max = _nice_ceiling(peak)
    slot = plot_w / max(1, len(series))
    bars: list[Bar] = []
    for i, bucket in enumerate(series):
        x = left + i * slot + slot * 0.1
        base = top + plot_h
        when = (format_timestamp(bucket.start) or "")[11:16]
        for kind, count in (("ok", bucket.completed), ("failed", bucket.failed)):
            if count == 0:
                continue
            h = plot_h * count / scale_max
            base -= h
            noun = "completed" if kind == "ok" else "failed"
            bars.append(Bar(x, base, slot * 0.8, h, kind, f"{when}Z: {count} {noun}"))
    labels = [
        Label(left - 6, top + 4, str(scale_max), "end"),
        Label(left - 6, top + plot_h, "0", "end"),
    ]
    if series:
        every = max(1, len(series) // 6)
        for i in range(0, len(series), every):
            text = (format_timestamp(series[i].start) or "")[11:16]
            labels.append(Label(left + i * slot + slot / 2, height - 6, text))
    total_ok = sum(b.completed for b in series)
    total_failed = sum(b.failed for b in series)
    minutes = len(series) * step / 60
    description = (f"Runs finished per minute over the last {minutes:g} minutes: "
                   f"{total_ok} completed, {total_failed} failed")
    return Chart(width, height, bars, labels, top + plot_h, description)


def _nice_ceiling(value: int) -> int:
    """The axis maximum: a round number at least ``value`` (and 1): 7 -> 8, 28 -> 30."""
    magnitude = 1
    while True:
        for factor in (1, 2, 3, 4, 5, 6, 8):
            if factor * magnitude >= value:
                return max(1, factor * magnitude)
        magnitude *= 10
