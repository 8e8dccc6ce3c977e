"""Charts drawn on the server as SVG: no script, no library, nothing for the CSP to allow.

``throughput_chart`` (runs completed and failed) and ``wait_chart`` (the mean wait of first
runs) turn a series of bars into plain geometry; the template ``_chart.html`` draws it, and
the stylesheet colours it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from ..rollups import SeriesPoint
from ..units import format_duration, format_timestamp_to_second


class Counted(Protocol):
    """A bar of runs: ``stats.Bucket`` and ``rollups.SeriesPoint`` both are."""

    @property
    def start(self) -> float: ...
    @property
    def completed(self) -> int: ...
    @property
    def failed(self) -> int: ...


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
    left: float = 36.0  # where the plot starts: after the widest axis label
    key: tuple[tuple[str, str], ...] = (("ok", "completed"), ("failed", "failed"))
    name: str = "throughput"  # tells the charts of one page apart


# (window, step): each chart has 48 to 60 bars.
WINDOWS = {"1h": (3600.0, 60.0), "1d": (86400.0, 1800.0), "7d": (7 * 86400.0, 3 * 3600.0)}
_CHAR_PX = 7.0  # a digit of the 11 px axis labels, a little generous


def throughput_chart(series: Sequence[Counted], *, width: int = 1000, height: int = 200,
                     step: float = 60.0) -> Chart:
    """Stacked bars, one per bucket: completed runs below, failed runs above them.

    The left margin fits the top label: "12,000" needs 6 characters, so with 7 px each the
    plot starts at 8 + 6 * 7 + 6 = 56 px (it was a fixed 36, which cut five digits)."""
    peak = max((b.completed + b.failed for b in series), default=0)
    scale_max = _nice_ceiling(peak)
    top_label = f"{scale_max:,}"
    left, right, top, bottom = 14.0 + len(top_label) * _CHAR_PX, 8.0, 10.0, 22.0
    plot_w, plot_h = width - left - right, height - top - bottom
    slot = plot_w / max(1, len(series))
    bars: list[Bar] = []
    for i, bucket in enumerate(series):
        x = left + i * slot + slot * 0.1
        base = top + plot_h
        when = _tick(bucket.start, step, zone="Z")
        for kind, count in (("ok", bucket.completed), ("failed", bucket.failed)):
            if count == 0:
                continue
            h = plot_h * count / scale_max
            base -= h
            noun = "completed" if kind == "ok" else "failed"
            bars.append(Bar(x, base, slot * 0.8, h, kind, f"{when}: {count:,} {noun}"))
    labels = [
        Label(left - 6, top + 4, top_label, "end"),
        Label(left - 6, top + plot_h, "0", "end"),
    ]
    if series:
        every = max(1, len(series) // 6)
        for i in range(0, len(series), every):
            text = _tick(series[i].start, step)
            labels.append(Label(left + i * slot + slot / 2, height - 6, text))
    total_ok = sum(b.completed for b in series)
    total_failed = sum(b.failed for b in series)
    description = (f"Runs finished per {_span(step)} over the last {_span(len(series) * step)}:"
                   f" {total_ok:,} completed, {total_failed:,} failed")
    return Chart(width, height, bars, labels, top + plot_h, description, left)


def wait_chart(series: Sequence[SeriesPoint], *, width: int = 1000, height: int = 200,
               step: float = 60.0) -> Chart:
    """One bar per bucket: the mean wait (enqueue to start) of the first runs that finished
    in it; no bar where none did.

    The axis is whole units of the peak's size: a peak of 55 s reads "60s", of 95 s "2m",
    of 1.98 s "2s", of 0.42 s "500ms"."""
    starts = [point.start for point in series]
    waits = [point.wait_mean for point in series]
    peak = max((w for w in waits if w is not None), default=0.0)
    unit, suffix = next(((size, name) for size, name in _WAIT_UNITS if peak >= size),
                        (0.001, "ms"))
    scale_max = _nice_ceiling(math.ceil(round(peak / unit, 6))) * unit
    top_label = f"{round(scale_max / unit):,}{suffix}"
    left, right, top, bottom = 14.0 + len(top_label) * _CHAR_PX, 8.0, 10.0, 22.0
    plot_w, plot_h = width - left - right, height - top - bottom
    slot = plot_w / max(1, len(starts))
    bars: list[Bar] = []
    for i, (start, wait) in enumerate(zip(starts, waits, strict=True)):
        if wait is None:
            continue
        h = plot_h * wait / scale_max
        bars.append(Bar(left + i * slot + slot * 0.1, top + plot_h - h, slot * 0.8, h, "wait",
                        f"{_tick(start, step, zone='Z')}: waited {format_duration(round(wait, 3))}"
                        " on average"))
    labels = [Label(left - 6, top + 4, top_label, "end"), Label(left - 6, top + plot_h, "0", "end")]
    if starts:
        every = max(1, len(starts) // 6)
        for i in range(0, len(starts), every):
            labels.append(Label(left + i * slot + slot / 2, height - 6, _tick(starts[i], step)))
    longest = f"longest {format_duration(round(peak, 3))}" if bars else "no runs"
    description = (f"Mean wait of first runs per {_span(step)} over the last "
                   f"{_span(len(starts) * step)}: {longest}")
    return Chart(width, height, bars, labels, top + plot_h, description, left,
                 key=(("wait", "mean wait"),), name="wait")


# Units of the wait chart's axis, largest first: the first the peak reaches is used.
_WAIT_UNITS = ((3600.0, "h"), (60.0, "m"), (1.0, "s"))


def _tick(start: float, step: float, zone: str = "") -> str:
    """'14:05' for bars under a day apart; '12-05 09h' for wider ones (a week's chart);
    ``zone="Z"`` for a hover that says the time is UTC, '14:05Z'.

    Split at the separators of ``format_timestamp_to_second`` rather than cut at fixed
    widths, which a year past 9999 ('+10000-12-05 09:00:00Z') would shift; a start that is
    no time shows whole, as ``schedule list`` shows one ('invalid time (inf)')."""
    text = format_timestamp_to_second(start, sep=" ") or ""
    day, _, clock = text.partition(" ")
    if not clock.endswith("Z"):
        return text
    hour, minute, _ = clock.split(":", 2)
    if step < 3 * 3600:
        return f"{hour}:{minute}{zone}"
    _, month, day_of_month = day.rsplit("-", 2)
    return f"{month}-{day_of_month} {hour}h{zone}"


def _span(seconds: float) -> str:
    """60 -> 'minute', 3600 -> 'hour', 1800 -> '30 minutes', 604800 -> '7 days'."""
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return unit if count == 1 else f"{count} {unit}s"
    return f"{seconds:g} seconds"


def _nice_ceiling(value: int) -> int:
    """The axis maximum: a round number at least ``value`` (and 1): 7 -> 8, 28 -> 30."""
    magnitude = 1
    while True:
        for factor in (1, 2, 3, 4, 5, 6, 8):
            if factor * magnitude >= value:
                return max(1, factor * magnitude)
        magnitude *= 10
