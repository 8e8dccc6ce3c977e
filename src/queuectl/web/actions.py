"""What the pages' buttons do: plain HTML forms posting here, then a redirect back.

The guard (security.py) has already checked the token, the Origin and the CSRF token and
refused every POST in read-only mode by the time a handler runs.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ..errors import InvalidInput
from ..models import JobState
from ..queue import Queue
from .app import dashboard_of
from .confirm import confirmation
from .params import Fields


async def _selected(request: Request) -> list[str]:
    return (await Fields.form(request)).ids()


async def _field(request: Request, name: str) -> str:
    return (await Fields.form(request)).text(name, most=40) or ""


async def retry_selected(request: Request) -> Response:
    ids = await _selected(request)
    retried = await dashboard_of(request).read(lambda queue: queue.retry(ids))
    return RedirectResponse(f"/dlq?retried={len(retried)}", status_code=303)


async def retry_all(request: Request) -> Response:
    """With no dead job (a page left open while they were retried elsewhere, a form made by
    hand) there is nothing to confirm: back to the page, which says nothing was retried."""
    dashboard = dashboard_of(request)
    dead = await dashboard.read(lambda queue: queue.counts()[JobState.DEAD])
    if dead == 0:
        return RedirectResponse("/dlq?retried=0", status_code=303)
    question = "Retry the 1 dead job?" if dead == 1 else f"Retry all {dead:,} dead jobs?"
    ask = confirmation(request, await Fields.form(request), question,
                       f"Retry all {dead:,}", back="/dlq",
                       detail="Each goes back to pending with its attempts reset.")
    if ask is not None:
        return ask
    done = await dashboard.read(lambda queue: queue.retry_dead_jobs())
    # The jobs left dead stay listed on the page: the notice counts them and says why.
    left = f"&left={len(done.left)}" if done.left else ""
    return RedirectResponse(f"/dlq?retried={len(done.retried)}{left}", status_code=303)


async def delete_selected(request: Request) -> Response:
    ids = await _selected(request)
    noun = "job" if len(ids) == 1 else "jobs"
    ask = confirmation(request, await Fields.form(request),
                       f"Delete {len(ids):,} dead {noun} and "
                       f"{'its' if len(ids) == 1 else 'their'} history?",
                       f"Delete {len(ids):,} {noun}", back="/dlq",
                       detail="This cannot be undone.")
    if ask is not None:
        return ask
    deleted = await dashboard_of(request).read(lambda queue: queue.delete(ids))
    return RedirectResponse(f"/dlq?deleted={len(deleted)}", status_code=303)


async def pause_queue(request: Request) -> Response:
    name = request.path_params["name"]
    await dashboard_of(request).read(lambda queue: queue.queues.pause(name))
    return RedirectResponse("/queues", status_code=303)


async def resume_queue(request: Request) -> Response:
    name = request.path_params["name"]
    await dashboard_of(request).read(lambda queue: queue.queues.resume(name))
    return RedirectResponse("/queues", status_code=303)


async def limit_queue(request: Request) -> Response:
    """An empty limit field, like 0 or "none", removes the limit."""
    name, limit = request.path_params["name"], await _field(request, "limit")
    await dashboard_of(request).read(lambda queue: queue.queues.limit(name, limit or None))
    return RedirectResponse("/queues", status_code=303)


async def pause_schedule(request: Request) -> Response:
    name = request.path_params["name"]
    await dashboard_of(request).read(lambda queue: queue.schedules.pause(name))
    return RedirectResponse("/schedules", status_code=303)


async def resume_schedule(request: Request) -> Response:
    name = request.path_params["name"]
    await dashboard_of(request).read(lambda queue: queue.schedules.resume(name))
    return RedirectResponse("/schedules", status_code=303)


async def remove_schedule(request: Request) -> Response:
    name = request.path_params["name"]
    ask = confirmation(request, await Fields.form(request), f"Remove the schedule {name}?",
                       "Remove", back="/schedules",
                       detail="Jobs it already enqueued stay; no new ones are made.")
    if ask is not None:
        return ask
    await dashboard_of(request).read(lambda queue: queue.schedules.remove(name))
    return RedirectResponse("/schedules", status_code=303)


async def stop_worker(request: Request) -> Response:
    """Asks a worker to stop gracefully and returns at once: the page shows it stopping,
    then gone."""
    worker_id = request.path_params["worker_id"]

    def stop(queue: Queue) -> None:
        if worker_id not in {worker.id for worker in queue.workers()}:
            raise InvalidInput(f"no worker with id {worker_id!r}")
        queue.stop_workers(worker_id=worker_id, timeout=0)

    await dashboard_of(request).read(stop)
    return RedirectResponse("/workers?done=stopping", status_code=303)


routes = [
    Route("/workers/{worker_id}/stop", stop_worker, methods=["POST"]),
    Route("/dlq/retry", retry_selected, methods=["POST"]),
    Route("/dlq/retry-all", retry_all, methods=["POST"]),
    Route("/dlq/delete", delete_selected, methods=["POST"]),
    Route("/queues/{name}/pause", pause_queue, methods=["POST"]),
    Route("/queues/{name}/resume", resume_queue, methods=["POST"]),
    Route("/queues/{name}/limit", limit_queue, methods=["POST"]),
    Route("/schedules/{name}/pause", pause_schedule, methods=["POST"]),
    Route("/schedules/{name}/resume", resume_schedule, methods=["POST"]),
    Route("/schedules/{name}/remove", remove_schedule, methods=["POST"]),
]
