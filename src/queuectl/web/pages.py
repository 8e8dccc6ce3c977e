"""The dashboard's pages. Each one gathers what it shows in one ``Dashboard.read`` call."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..errors import InvalidInput
from ..listing import PAGE_SCAN
from ..models import JobState
from ..queue import Queue
from .app import dashboard_of
from .bulk import ACTIONS
from .charts import WINDOWS, throughput_chart, wait_chart
from .params import Fields

if TYPE_CHECKING:
    from ..rollups import SeriesPoint
    from ..stats import Stats

PAGE_SIZE = 50
WINDOW_NAMES = {"1h": "Last hour", "1d": "Last day", "7d": "Last week"}
LONG_STATS_REUSE = 60.0  # seconds: a day's or a week's figures barely move in a minute
_COUNT = {"low": 0, "high": 10**9}  # the counts a redirect after an action shows
# Seconds figures are reused for: longer than the overview's 5 s refresh, so that one open tab
# reads them every other refresh, and many tabs once (also reused: jobs per queue).
STATS_REUSE = 6.0


async def overview(request: Request) -> Response:
    params = Fields.query(request)
    window = params.choice("window", list(WINDOWS)) or "1h"
    chart_queue = params.text("queue")
    seconds, step = WINDOWS[window]

    def gather(queue: Queue) -> dict[str, Any]:
        listed = queue.worker_list()  # a lease stored by hand: judged by the default's
        return {
            "counts": queue.counts(),
            "workers": listed.workers,
            "refused": listed.refused_settings,
            "running": queue.running_jobs(10),
        }

    dashboard = dashboard_of(request)
    data = await dashboard.read(gather)
    queues = await dashboard.cached("queues", STATS_REUSE, lambda queue: queue.queues.list())
    if chart_queue is not None and chart_queue not in {info.name for info in queues}:
        # Also keeps the figures' cache to the queues there are.
        raise InvalidInput(f"no queue named {chart_queue[:100]!r}")
    reuse = STATS_REUSE if window == "1h" else LONG_STATS_REUSE

    def figures(queue: Queue) -> tuple[Stats, list[SeriesPoint]]:
        # The totals from the hourly rollups; the bars, wait included, from the minute ones.
        return (queue.stats(seconds, queue=chart_queue),
                queue.stats_series(seconds, queue=chart_queue, bars=round(seconds / step)))

    stats, series = await dashboard.cached(f"overview:{window}:{chart_queue}", reuse, figures)
    charts = [throughput_chart(series, step=step), wait_chart(series, height=140, step=step)]
    return dashboard.render(request, "overview.html", charts=charts, stats=stats,
                            queues=queues, window=window, windows=WINDOW_NAMES,
                            chart_queue=chart_queue, **data)


async def jobs(request: Request) -> Response:
    params = Fields.query(request)
    state = params.text("state")
    text, name = params.text("q"), params.text("queue")
    tag, error = params.text("tag"), params.text("error")
    before, after = params.cursor("before"), params.cursor("after")
    done, count = params.choice("done", list(ACTIONS)), params.whole("count", **_COUNT)

    def gather(queue: Queue) -> dict[str, Any]:
        page = queue.search_jobs(state, text, queue=name, tag=tag, error=error, before=before,
                                 after=after, limit=PAGE_SIZE, scan=PAGE_SCAN)
        return {"page": page, "counts": queue.counts()}

    dashboard = dashboard_of(request)
    data = await dashboard.read(gather)
    # Counting jobs per queue reads every job (~0.1 s per 200k): reused across page views.
    queues = await dashboard.cached("queues", STATS_REUSE, lambda queue: queue.queues.list())
    data["queue_names"] = [info.name for info in queues]
    notice = None
    if done is not None and count is not None:
        notice = f"{ACTIONS[done].past.capitalize()} {count:,} job{'' if count == 1 else 's'}."
    return dashboard.render(request, "jobs.html", state=state, text=text or "",
                            queue_name=name, tag=tag or "", error=error or "", notice=notice,
                            filtered=any((state, text, name, tag, error)),
                            states=[s.value for s in JobState], **data)


async def dlq(request: Request) -> Response:
    params = Fields.query(request)
    before, after = params.cursor("before"), params.cursor("after")

    def gather(queue: Queue) -> dict[str, Any]:
        page = queue.search_jobs(JobState.DEAD, before=before, after=after, limit=PAGE_SIZE)
        return {"page": page, "dead": queue.counts()[JobState.DEAD]}

    dashboard = dashboard_of(request)
    data = await dashboard.read(gather)
    return dashboard.render(request, "dlq.html", retried=params.whole("retried", **_COUNT),
                            left=params.whole("left", **_COUNT),
                            deleted=params.whole("deleted", **_COUNT), **data)


async def workers(request: Request) -> Response:
    done = Fields.query(request).choice("done", ["stopping"])
    dashboard = dashboard_of(request)
    listed = await dashboard.read(lambda queue: queue.worker_list())
    notice = "Asked the worker to stop: it finishes its running jobs first." if done else None
    return dashboard.render(request, "workers.html", workers=listed.workers, notice=notice,
                            refused=listed.refused_settings)


async def queues(request: Request) -> Response:
    dashboard = dashboard_of(request)
    found = await dashboard.read(lambda queue: queue.queues.list())
    stats = await dashboard.cached("queues:1h", STATS_REUSE, lambda queue: queue.stats(3600.0))
    return dashboard.render(request, "queues.html", queues=found, states=list(JobState),
                            last_hour={summary.queue: summary for summary in stats.queues})


async def schedules(request: Request) -> Response:
    dashboard = dashboard_of(request)
    found = await dashboard.read(lambda queue: queue.schedules.list())
    return dashboard.render(request, "schedules.html", schedules=found)


routes = [
    Route("/", overview),
    Route("/jobs", jobs),
    Route("/dlq", dlq),
    Route("/workers", workers),
    Route("/queues", queues),
    Route("/schedules", schedules),
]
