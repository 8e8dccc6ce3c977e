"""The server-drawn chart's geometry: the top label fits, numbers are grouped, ticks suit the
window."""

from __future__ import annotations

from queuectl.stats import Bucket
from queuectl.web.charts import WINDOWS, throughput_chart

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
