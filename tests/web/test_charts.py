"""The server-drawn chart's geometry: the top label fits, numbers are grouped, ticks suit the
window."""

from __future__ import annotations

from queuectl.rollups import SeriesPoint
from queuectl.stats import Bucket
from queuectl.web.charts import WINDOWS, throughput_chart, wait_chart

T0 = 1_767_225_600.0  # 2026-01-01 00:00:00Z


def test_a_five_digit_peak_fits_left_of_the_plot() -> None:
    series = [Bucket(T0 + i * 60, 11_000 + i, 5) for i in range(60)]
    chart = throughput_chart(series, step=60)
    top = chart.labels[0]
    assert top.text == "20,000" and top.anchor == "end"
    # The label ends 6 px left of the plot and starts inside the picture.
    assert top.x - len(top.text) * 7 >= 0
    assert min(bar.x for bar in chart.bars) >= chart.left
    assert "over the last hour: 661,770 completed, 300 failed" in chart.description


def test_ticks_and_wording_follow_the_window() -> None:
    seconds, step = WINDOWS["7d"]
    series = [Bucket(T0 + i * step, 1, 0) for i in range(int(seconds // step))]
    chart = throughput_chart(series, step=step)
    assert len(series) == 56
    assert chart.labels[2].text == "01-01 00h"
    assert chart.description.startswith("Runs finished per 3 hours over the last 7 days")
    day = throughput_chart([Bucket(T0, 0, 0)] * 48, step=WINDOWS["1d"][1])
    assert day.labels[2].text == "00:00" and "per 30 minutes" in day.description
    assert throughput_chart([], step=60).labels[0].text == "1"


def test_the_wait_chart_draws_a_bar_per_bucket_with_first_runs() -> None:
    series = [SeriesPoint(T0 + i * 60, 1, 0, None if i % 2 else 1.5 + i) for i in range(60)]
    chart = wait_chart(series, step=60)
    assert chart.name == "wait" and chart.key == (("wait", "mean wait"),)
    assert len(chart.bars) == 30  # none where no first run finished
    assert chart.labels[0].text == "60s"  # the peak, 59.5 s, under a round axis
    tallest = max(chart.bars, key=lambda bar: bar.height)
    assert tallest.title == "00:58Z: waited 59.5s on average"
    assert tallest.y >= 10 and all(bar.x >= chart.left for bar in chart.bars)
    assert chart.description == ("Mean wait of first runs per minute over the last hour: "
                                 "longest 59.5s")


def test_the_wait_axis_takes_the_unit_of_the_peak() -> None:
    def top(*waits: float | None) -> str:
        points = [SeriesPoint(T0 + i * 60, 1, 0, w) for i, w in enumerate(waits)]
        return wait_chart(points, step=60).labels[0].text

    assert top(0.042, None) == "50ms"
    assert top(3.0) == "3s"
    assert top(1.978) == "2s"
    assert top(95.0) == "2m"
    assert top(95 * 60.0) == "2h"
    assert top(2.5 * 3600) == "3h"
    assert top(None, None) == "1ms"
    assert "no runs" in wait_chart([], step=60).description


def test_ticks_of_a_year_past_9999_are_read_from_the_time_not_cut_at_a_width() -> None:
    """1e12 is +33658-09-27 01:46:40Z: its five-digit year once shifted every cut by one, so
    the minute chart said "7T01:" and the week's "8-09- 7Th"."""
    far = 1e12
    minutes = throughput_chart([Bucket(far, 1, 0)], step=60)
    assert minutes.labels[2].text == "01:46"
    assert minutes.bars[0].title == "01:46Z: 1 completed"
    week = throughput_chart([Bucket(far, 0, 2)], step=WINDOWS["7d"][1])
    assert week.labels[2].text == "09-27 01h"
    assert week.bars[0].title == "09-27 01hZ: 2 failed"
    waits = wait_chart([SeriesPoint(far, 1, 0, 2.0)], step=60)
    assert (waits.labels[2].text, waits.bars[0].title) == ("01:46", "01:46Z: waited 2s on average")


def test_a_start_that_is_no_time_labels_its_bar_whole() -> None:
    """As schedule list shows such a value: the whole text, never a slice of it."""
    chart = throughput_chart([Bucket(float("inf"), 1, 0)], step=60)
    assert chart.labels[2].text == "invalid time (inf)"
    assert chart.bars[0].title == "invalid time (inf): 1 completed"
