"""The JSON API under /api/, in the shapes of the CLI's ``--json``, and /metrics.

Job listings page by keyset: the body is the list of jobs, as ``queuectl list --json``
prints it, and the ``Link`` header carries the next (older) and previous (newer) pages.
A POST needs the CSRF token (``GET /api/csrf``) in an ``X-CSRF-Token`` header.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..errors import InvalidInput, ScheduleNotFound
from ..listing import PAGE_SCAN
from ..models import JobState, QueueInfo
from ..queue import Queue
from ..unreadable import jsonable
from . import metrics as prometheus
from .app import dashboard_of
from .params import Fields, json_ids, json_limit, json_object


def _json(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    # jsonable: a row edited by hand (bytes, an infinite time) is shown marked, not a 500.
    return JSONResponse(jsonable(value), status_code=status,
                        headers={"cache-control": "no-store", **(headers or {})})


PAGE_SIZE = 50
MAX_STATS_WINDOW = 366 * 86400.0


async def status(request: Request) -> Response:
    # The document of `queuectl status --json`.
    return _json(await dashboard_of(request).read(lambda queue: queue.status().to_dict()))


async def _job_list(request: Request, state: str | JobState | None) -> Response:
    params = Fields.query(request)
    before, after = params.cursor("before"), params.cursor("after")
    text, name = params.text("q"), params.text("queue")
    tag, error = params.text("tag"), params.text("error")
    limit = params.whole("limit", low=1, high=1000) or PAGE_SIZE
    page = await dashboard_of(request).read(
        lambda queue: queue.search_jobs(state, text, queue=name, before=before, after=after,
                                        limit=limit, tag=tag, error=error, scan=PAGE_SCAN))
    links = []
    for rel, key, cursor in (("next", "before", page.older), ("prev", "after", page.newer)):
        if cursor is not None:
            url = request.url.remove_query_params(["before", "after"])
            links.append(f'<{url.include_query_params(**{key: cursor})}>; rel="{rel}"')
    headers = {"link": ", ".join(links)} if links else None
    return _json([job.to_dict() for job in page.jobs], headers=headers)


async def jobs(request: Request) -> Response:
    return await _job_list(request, Fields.query(request).text("state"))


async def dead_jobs(request: Request) -> Response:
    return await _job_list(request, JobState.DEAD)


async def job(request: Request) -> Response:
    job_id = request.path_params["job_id"]

    def gather(queue: Queue) -> dict[str, Any]:
        found = queue.get(job_id)
        history = [attempt.to_dict() for attempt in queue.attempts(job_id)]
        return {**found.to_dict(), "attempts_history": history}

    return _json(await dashboard_of(request).read(gather))


async def workers(request: Request) -> Response:
    found = await dashboard_of(request).read(lambda queue: queue.workers())
    return _json([worker.to_dict() for worker in found])


async def stats(request: Request) -> Response:
    params = Fields.query(request)
    since = params.duration("since", default="1h", most=MAX_STATS_WINDOW)
    name = params.text("queue")
    result = await dashboard_of(request).read(lambda queue: queue.stats(since, queue=name))
    return _json(result.to_dict())


async def queues(request: Request) -> Response:
    found = await dashboard_of(request).read(lambda queue: queue.queues.list())
    return _json([info.to_dict() for info in found])


async def schedules(request: Request) -> Response:
    found = await dashboard_of(request).read(lambda queue: queue.schedules.list())
    return _json([schedule.to_dict() for schedule in found])


def _queue_now(queue: Queue, name: str) -> dict[str, Any]:
    """The queue as ``queue list --json`` shows it; one without jobs or settings has none."""
    found = next((info for info in queue.queues.list() if info.name == name), None)
    return (found or QueueInfo(name, {})).to_dict()


async def pause_queue(request: Request) -> Response:
    name = request.path_params["name"]

    def act(queue: Queue) -> dict[str, Any]:
        queue.queues.pause(name)
        return _queue_now(queue, name)

    return _json(await dashboard_of(request).read(act))


async def resume_queue(request: Request) -> Response:
    name = request.path_params["name"]

    def act(queue: Queue) -> dict[str, Any]:
        queue.queues.resume(name)
        return _queue_now(queue, name)

    return _json(await dashboard_of(request).read(act))


async def limit_queue(request: Request) -> Response:
    """Body ``{"limit": N}``; ``null``, 0 or ``"none"`` removes the limit."""
    name, body = request.path_params["name"], await json_object(request)
    if "limit" not in body:
        raise InvalidInput('give "limit": a whole number, or null for no limit')
    limit = json_limit(body, "limit")

    def act(queue: Queue) -> dict[str, Any]:
        queue.queues.limit(name, limit)
        return _queue_now(queue, name)

    return _json(await dashboard_of(request).read(act))


def _schedule_now(queue: Queue, name: str) -> dict[str, Any]:
    for schedule in queue.schedules.list():
        if schedule.name == name:
            return schedule.to_dict()
    raise ScheduleNotFound(name)  # removed in between


async def pause_schedule(request: Request) -> Response:
    name = request.path_params["name"]

    def act(queue: Queue) -> dict[str, Any]:
        queue.schedules.pause(name)
        return _schedule_now(queue, name)

    return _json(await dashboard_of(request).read(act))


async def resume_schedule(request: Request) -> Response:
    name = request.path_params["name"]
    resumed = await dashboard_of(request).read(lambda queue: queue.schedules.resume(name))
    return _json(resumed.to_dict())


async def remove_schedule(request: Request) -> Response:
    name = request.path_params["name"]
    await dashboard_of(request).read(lambda queue: queue.schedules.remove(name))
    return _json({"removed": name})


async def csrf(request: Request) -> Response:
    return _json({"csrf_token": dashboard_of(request).csrf_token})


async def retry_job(request: Request) -> Response:
    job_id = request.path_params["job_id"]
    [retried] = await dashboard_of(request).read(
        lambda queue: queue.retry([job_id], include_canceled=True))
    return _json(retried.to_dict())


async def cancel_job(request: Request) -> Response:
    job_id = request.path_params["job_id"]
    [job] = await dashboard_of(request).read(lambda queue: queue.cancel([job_id], wait=0))
    return _json(job.to_dict())


async def retry_dead(request: Request) -> Response:
    body = await json_object(request)
    dashboard = dashboard_of(request)
    if body.get("all") is True:
        done = await dashboard.read(lambda queue: queue.retry_dead_jobs())
        return _json({"retried": list(done.retried),
                      "left": [{"id": job_id, "why": why} for job_id, why in done.left]})
    # Named jobs are retried all or none (a refusal is a 409): none is left.
    wanted = json_ids(body)
    ids = [j.id for j in await dashboard.read(lambda queue: queue.retry(wanted))]
    return _json({"retried": ids, "left": []})


async def delete_jobs(request: Request) -> Response:
    wanted = json_ids(await json_object(request))
    deleted = await dashboard_of(request).read(lambda queue: queue.delete(wanted))
    return _json({"deleted": deleted})


async def metrics(request: Request) -> Response:
    def gather(queue: Queue) -> str:
        return prometheus.render(prometheus.collect(queue.queues.list(), queue.run_totals(),
                                                    queue.workers()))

    text = await dashboard_of(request).read(gather)
    return Response(text, media_type=None, headers={"content-type": prometheus.CONTENT_TYPE,
                                                    "cache-control": "no-store"})


routes = [
    Route("/api/status", status),
    Route("/api/jobs", jobs),
    Route("/api/jobs/delete", delete_jobs, methods=["POST"]),
    Route("/api/jobs/{job_id}", job),
    Route("/api/jobs/{job_id}/retry", retry_job, methods=["POST"]),
    Route("/api/jobs/{job_id}/cancel", cancel_job, methods=["POST"]),
    Route("/api/dlq", dead_jobs),
    Route("/api/dlq/retry", retry_dead, methods=["POST"]),
    Route("/api/workers", workers),
    Route("/api/stats", stats),
    Route("/api/queues", queues),
    Route("/api/queues/{name}/pause", pause_queue, methods=["POST"]),
    Route("/api/queues/{name}/resume", resume_queue, methods=["POST"]),
    Route("/api/queues/{name}/limit", limit_queue, methods=["POST"]),
    Route("/api/schedules", schedules),
    Route("/api/schedules/{name}/pause", pause_schedule, methods=["POST"]),
    Route("/api/schedules/{name}/resume", resume_schedule, methods=["POST"]),
    Route("/api/schedules/{name}/remove", remove_schedule, methods=["POST"]),
    Route("/api/csrf", csrf),
]
