"""``RunHistory``, the part of ``Queue`` that looks back over finished runs: the runs of a
window, its stats (``queuectl stats``), the dashboard's charts and the totals of
``/metrics``. The arithmetic is in ``stats.py``, ``stats_window.py`` and ``rollups.py``."""

from __future__ import annotations

import math

from ..errors import InvalidInput
from ..jobspec.fields import timestamp
from ..jobspec.limits import MAX_DELAY_SECONDS
from ..jobspec.text import queue_name, shown
from ..units import is_number, parse_duration, whole_number
from . import QueueCore

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

    from ..rollups import SeriesPoint
    from ..stats import FinishedRun, QueueTotals, Stats


_MOST_BARS = 10_000  # of a chart or a stats series
_RUNS_PAGE = 5000  # finished runs read per query: memory stays flat over any window


class RunHistory(QueueCore):
    def finished_runs(self, since: float, until: float | None = None) -> Iterator[FinishedRun]:
        """Every run that finished in ``[since, until)`` (times in seconds since 1970), oldest
        first, read page by page. The times are checked at the call, not at the first run."""
        # NaN or infinity read no run without a word, and 2**70 failed with OverflowError.
        timestamp(since, "since")
        until = self.clock.now() if until is None else timestamp(until, "until")
        return self._finished_runs(since, until)

    def _finished_runs(self, since: float, until: float) -> Iterator[FinishedRun]:
        after: tuple[float, str, int] | None = None
        while True:
            page = self.storage.finished_runs(since, until, _RUNS_PAGE, after)
            yield from page
            if len(page) < _RUNS_PAGE:
                return
            last = page[-1]
            after = (last.finished_at, last.job_id, last.number)

    def stats(
        self, since: float | str = 3600.0, *, queue: str | None = None, step: float | None = None
    ) -> Stats:
        """Counts, success rate, throughput and run/wait time percentiles over the last
        ``since`` (seconds or a duration such as ``1h``), per queue; see ``queuectl.stats``."""
        from ..stats_window import window_stats

        now, window = self.clock.now(), _window(since)
        queue = _queue(queue)
        # NaN, 0 or less gave no bars; a tiny step, billions of them, never finishing.
        if step is not None and not (is_number(step) and step > 0
                                     and window / step <= _MOST_BARS):
            raise InvalidInput(f"step: must be more than zero and make at most {_MOST_BARS}"
                               f" bars of the window, got {shown(step)}")
        return window_stats(self.storage, self.finished_runs, now - window, now, queue=queue,
                            step=step)

    def stats_series(self, since: float | str = 3600.0, *, queue: str | None = None,
                     bars: int = 60) -> list[SeriesPoint]:
        """Completed and failed runs and the mean wait of first runs over the last ``since``
        (``1h``, ``1d``, ``7d``...), in about ``bars`` bars of whole minutes, oldest first;
        one queue's with ``queue``. From the database's per-minute rollups: cheap over a week
        of a million runs (charts of the dashboard)."""
        from ..stats_window import window_series

        whole_number(bars, "bars", 1, _MOST_BARS, expected=None)  # 1.5 made 40 bars of 60
        now, window, queue = self.clock.now(), _window(since), _queue(queue)
        step = max(1, math.ceil(window / bars / 60)) * 60
        return window_series(self.storage, window, now, queue=queue, step=step)

    def run_totals(self) -> dict[str, QueueTotals]:
        """Counters and histograms of every run so far, per queue (``/metrics``): kept by the
        database as runs finish, so reading them costs the same at any number of runs."""
        from ..stats_window import run_totals

        return run_totals(self.storage)


def _window(since: float | str) -> float:
    window = parse_duration(since, field="since")
    # NaN and infinity fail this too; past 100 years the window's start leaves the range of
    # the database's integers and of the minutes its runs are counted in.
    if not 0 < window <= MAX_DELAY_SECONDS:
        raise InvalidInput("since: must be more than zero and at most 100 years, got"
                           f" {shown(since)}")
    return window



def _queue(name: str | None) -> str | None:
    """A queue's name checked (5 or "no such name!" matched no run, without a word)."""
    return None if name is None else queue_name(name)
