"""Bulk actions from the jobs page: retry, cancel or delete the jobs ticked, or every job that
matches the page's filter, after a confirm step that states how many jobs it acts on.

Each action applies to the jobs in the states it can change (retry: dead and canceled;
cancel: pending, failed and processing; delete: completed, dead and canceled); the confirm
page says how many of those picked are left out. The jobs are counted again when the action
runs, so a job that changed state in between is left out rather than failing the batch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ..errors import InvalidInput, JobNotFound
from ..models import Job, JobState
from ..queue import Queue
from .app import dashboard_of
from .confirm import confirmation
from .params import MAX_IDS, Fields

FILTERS = ("state", "q", "queue", "tag", "error")
_SEARCH_PAGE = 1000


@dataclass(frozen=True)
class Action:
    verb: str  # as the button says it
    past: str  # as the notice says it
    states: tuple[JobState, ...]
    run: Callable[[Queue, list[str]], object]


ACTIONS = {
    "retry": Action("Retry", "retried", (JobState.DEAD, JobState.CANCELED),
                    lambda queue, ids: queue.retry(ids, include_canceled=True)),
    "cancel": Action("Cancel", "canceled", (JobState.PENDING, JobState.FAILED, JobState.PROCESSING),
                     lambda queue, ids: queue.cancel(ids, wait=0)),
    "delete": Action("Delete", "deleted", (JobState.COMPLETED, JobState.DEAD, JobState.CANCELED),
                     lambda queue, ids: queue.delete(ids)),
}


def filter_of(fields: Fields) -> dict[str, str]:
    """The jobs page's filter, as given (blank fields left out)."""
    return {name: value for name in FILTERS if (value := fields.text(name)) is not None}


def matching(queue: Queue, found: dict[str, str], most: int = MAX_IDS) -> tuple[list[Job], bool]:
    """Up to ``most`` jobs matching the filter, newest first; and whether more match."""
    jobs: list[Job] = []
    before = None
    while True:
        page = queue.search_jobs(found.get("state"), found.get("q"), queue=found.get("queue"),
                                 tag=found.get("tag"), error=found.get("error"),
                                 before=before, limit=_SEARCH_PAGE)
        jobs += page.jobs
        if page.older is None or len(jobs) >= most:
            return jobs[:most], page.older is not None or len(jobs) > most
        before = page.older


def _picked(queue: Queue, ids: list[str]) -> list[Job]:
    jobs = []
    for job_id in dict.fromkeys(ids):
        try:
            jobs.append(queue.get(job_id))
        except JobNotFound:
            pass  # deleted meanwhile: nothing to act on
    return jobs


async def bulk(request: Request) -> Response:
    fields = await Fields.form(request)
    name = fields.choice("action", list(ACTIONS))
    if name is None:
        raise InvalidInput("pick an action: retry, cancel or delete")
    action = ACTIONS[name]
    everything = fields.choice("scope", ["filter"]) == "filter"
    found = filter_of(fields)
    ids = [] if everything else fields.ids()

    def choose(queue: Queue) -> tuple[list[str], int, bool]:
        jobs, more = matching(queue, found) if everything else (_picked(queue, ids), False)
        chosen = [job.id for job in jobs if job.state in action.states]
        return chosen, len(jobs), more

    dashboard = dashboard_of(request)
    chosen, picked, more = await dashboard.read(choose)
    back = "/jobs" + (f"?{urlencode(found)}" if found else "")
    if not chosen:
        raise InvalidInput(f"none of the {picked} jobs picked can be {action.past} (only "
                           f"{', '.join(s.value for s in action.states)} jobs can be)")
    noun = "job" if len(chosen) == 1 else "jobs"
    left_out = picked - len(chosen)
    detail = " ".join(filter(None, [
        f"{left_out} of the {picked} picked {'is' if left_out == 1 else 'are'} left out: "
        f"only {', '.join(s.value for s in action.states)} jobs can be."
        if left_out else "",
        f"Only the newest {MAX_IDS:,} matching jobs are taken at once." if more else "",
    ]))
    ask = confirmation(request, fields, f"{action.verb} {len(chosen):,} {noun}?",
                       f"{action.verb} {len(chosen):,} {noun}", back=back, detail=detail)
    if ask is not None:
        return ask
    await dashboard.read(lambda queue: action.run(queue, chosen))
    done: dict[str, Any] = {**found, "done": name, "count": len(chosen)}
    return RedirectResponse(f"/jobs?{urlencode(done)}", status_code=303)


routes = [Route("/jobs/bulk", bulk, methods=["POST"])]
