"""The job page and what its buttons do: retry, retry now, cancel, restart, remove, kill,
pause, resume and edit, each one ``Queue`` method.

The page's live part (state, fields, runs) refreshes every second while the job is not
finished; the log below it is followed by static/app.js (see logs.py), so a refresh never
moves the reader's place in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ..errors import InvalidInput, JobNotFound, QueuectlError
from ..models import Attempt, Job, JobState, QueueInfo
from ..queue import Queue
from .app import dashboard_of
from .confirm import confirmation
from .filters import when
from .logs import tail
from .params import Fields

_SHOWN_DEPENDENCIES = 20
QUEUES_REUSE = 4.0  # seconds, as pages.STATS_REUSE: the "queues" reading is shared
_WAITING = (JobState.PENDING, JobState.FAILED)
_FINISHED = (JobState.COMPLETED, JobState.DEAD, JobState.CANCELED)
# What a redirect back to the page says, by code: never text from the address.
NOTICES = {
    "retried": "Retried: the job is back in the queue.",
    "now": "The job runs as soon as a worker is free.",
    "edited": "Saved.",
    "signal": "Signal sent.",
    "paused": "Paused: the job's processes are stopped; resume continues them.",
    "resumed": "Resumed.",
    "queued": "Its worker has not taken the request yet: it is sent at its next check-in.",
}
SIGNALS = ("TERM", "INT", "HUP", "KILL", "USR1", "USR2")
# The fields the edit form offers (all of models.EDITABLE can be edited from the CLI).
EDIT_FIELDS = ("command", "priority", "queue", "max_retries", "timeout")
_WHOLE_FIELDS = ("priority", "max_retries")


@dataclass(frozen=True)
class Dependency:
    id: str
    state: str  # a JobState value, or "missing"


def waiting_reasons(job: Job, queue_info: QueueInfo | None, dependencies: list[Dependency],
                    now: float) -> list[str]:
    """Why a pending or failed job is not running: "waiting on build", "queue video
    paused", "runs at 2026-12-05 09:00:00Z", ...; empty when it is not waiting."""
    if job.state not in _WAITING:
        return []
    reasons = []
    blockers = [d.id for d in dependencies if d.state != JobState.COMPLETED.value]
    if blockers or job.waiting_on:
        more = max(0, job.waiting_on - len(blockers))
        reasons.append("waiting on " + ", ".join(blockers) + (f" and {more} more" if more else ""))
    if queue_info is not None and queue_info.paused:
        reasons.append(f"queue {job.queue} paused")
    if job.run_at > now:
        verb = "retries" if job.state is JobState.FAILED else "runs"
        reasons.append(f"{verb} at {when(job.run_at)}")
    if queue_info is not None and queue_info.limit is not None:
        running = queue_info.counts.get(JobState.PROCESSING, 0)
        if running >= queue_info.limit and not reasons:
            reasons.append(f"queue {job.queue} runs its limit of {queue_info.limit} already")
    if not reasons:
        reasons.append("ready: the next free worker takes it")
    return reasons


async def job(request: Request) -> Response:
    job_id = request.path_params["job_id"]
    params = Fields.query(request)
    wanted_run = params.whole("run", low=1, high=10**9)
    notice = params.choice("done", list(NOTICES))

    def gather(queue: Queue) -> dict[str, Any]:
        found = queue.get(job_id)
        dependencies = [Dependency(dep, _state_of(queue, dep))
                        for dep in found.depends_on[:_SHOWN_DEPENDENCIES]]
        return {"job": found, "attempts": queue.attempts(job_id), "dependencies": dependencies}

    dashboard = dashboard_of(request)
    data = await dashboard.read(gather)
    found: Job = data["job"]
    queue_info = None
    if found.state in _WAITING:  # paused, or at its limit? The pages share one reading.
        queues = await dashboard.cached("queues", QUEUES_REUSE, lambda q: q.queues.list())
        queue_info = next((info for info in queues if info.name == found.queue), None)
    attempts: list[Attempt] = data["attempts"]
    now = dashboard.queue.clock.now()
    shown = _shown_run(found, attempts, wanted_run)
    return dashboard.render(
        request, "job.html", job=found, attempts=list(reversed(attempts)),
        dependencies=data["dependencies"],
        reasons=waiting_reasons(found, queue_info, data["dependencies"], now),
        shown=shown, shown_tail=tail(shown.output) if shown is not None else None,
        log_run=shown.number if shown is not None else found.runs + 1,
        # The latest run is followed while the job lives, then the one after it, if any.
        follow=found.state not in _FINISHED and (shown is None or shown.number == found.runs),
        notice=NOTICES.get(notice or ""), signals=SIGNALS, edit_fields=EDIT_FIELDS,
        retried=False)


def _shown_run(job: Job, attempts: list[Attempt], wanted: int | None) -> Attempt | None:
    if wanted is None:
        return attempts[-1] if attempts else None
    found = next((a for a in attempts if a.number == wanted), None)
    if found is None:
        raise InvalidInput(f"job {job.id!r} has no run {wanted}")
    return found


def _state_of(queue: Queue, job_id: str) -> str:
    try:
        return queue.get(job_id).state.value
    except (JobNotFound, InvalidInput):
        return "missing"


def _back(job_id: str, done: str | None = None) -> Response:
    query = f"?done={done}" if done else ""
    return RedirectResponse(f"/jobs/{quote(job_id, safe='')}{query}", status_code=303)


async def retry_job(request: Request) -> Response:
    job_id = request.path_params["job_id"]
    await dashboard_of(request).read(lambda queue: queue.retry([job_id], include_canceled=True))
    return _back(job_id, "retried")


async def retry_now(request: Request) -> Response:
    """A failed job waiting out its backoff (or a pending one waiting for its run_at) runs at
    once: its run_at moves to now."""
    job_id = request.path_params["job_id"]
    await dashboard_of(request).read(lambda queue: queue.edit(job_id, {"delay": 0}))
    return _back(job_id, "now")


async def cancel_job(request: Request) -> Response:
    """A waiting job is canceled at once; a running one once its worker has killed it (the
    page follows it live), so nothing here waits for that."""
    job_id = request.path_params["job_id"]
    await dashboard_of(request).read(lambda queue: queue.cancel([job_id], wait=0))
    return _back(job_id)


async def restart_job(request: Request) -> Response:
    """A finished job runs again as a new job: the page of the new one opens."""
    job_id = request.path_params["job_id"]
    [new] = await dashboard_of(request).read(lambda queue: queue.restart([job_id]))
    return _back(new.id)


async def remove_job(request: Request) -> Response:
    job_id = request.path_params["job_id"]
    fields = await Fields.form(request)
    ask = confirmation(request, fields, f"Remove job {job_id} and its history?",
                       "Remove", back=f"/jobs/{quote(job_id, safe='')}")
    if ask is not None:
        return ask
    await dashboard_of(request).read(lambda queue: queue.remove([job_id]))
    return RedirectResponse("/jobs", status_code=303)


async def signal_job(request: Request) -> Response:
    """kill (with the signal picked), pause or resume, by the last part of the address."""
    job_id, what = request.path_params["job_id"], request.path_params["what"]
    fields = await Fields.form(request)
    signal = fields.choice("signal", SIGNALS) or "TERM"
    methods = {"kill": lambda q: q.kill(job_id, signal, wait=_SIGNAL_WAIT),
               "pause": lambda q: q.pause(job_id, wait=_SIGNAL_WAIT),
               "resume": lambda q: q.resume(job_id, wait=_SIGNAL_WAIT)}
    if what not in methods:
        raise InvalidInput(f"unknown action {what!r}")
    try:
        await dashboard_of(request).read(methods[what])
    except QueuectlError as exc:
        if type(exc) is not QueuectlError:  # not "not taken yet": a real refusal
            raise
        return _back(job_id, "queued")
    return _back(job_id, {"kill": "signal", "pause": "paused", "resume": "resumed"}[what])


_SIGNAL_WAIT = 5.0


async def edit_job(request: Request) -> Response:
    """The edit form's fields that changed; a blank timeout removes it."""
    job_id = request.path_params["job_id"]
    fields = await Fields.form(request)
    given = {name: fields.text(name, most=100_000 if name == "command" else 1000)
             for name in EDIT_FIELDS}

    def act(queue: Queue) -> Job:
        current = queue.get(job_id).editable()
        changes: dict[str, Any] = {}
        for name, text in given.items():
            if text is None and name != "timeout":  # a blank field keeps the value
                continue
            value: Any = _integer(name, text) if text and name in _WHOLE_FIELDS else text
            if str(value) != str(current.get(name)):
                changes[name] = value
        return queue.edit(job_id, changes) if changes else queue.get(job_id)

    await dashboard_of(request).read(act)
    return _back(job_id, "edited")


def _integer(name: str, text: str) -> int:
    digits = text.removeprefix("-")
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 10:
        raise InvalidInput(f"{name}: expected a whole number, got {text[:40]!r}")
    return int(text)


routes = [
    Route("/jobs/{job_id}", job),
    Route("/jobs/{job_id}/retry", retry_job, methods=["POST"]),
    Route("/jobs/{job_id}/retry-now", retry_now, methods=["POST"]),
    Route("/jobs/{job_id}/cancel", cancel_job, methods=["POST"]),
    Route("/jobs/{job_id}/restart", restart_job, methods=["POST"]),
    Route("/jobs/{job_id}/remove", remove_job, methods=["POST"]),
    Route("/jobs/{job_id}/edit", edit_job, methods=["POST"]),
    Route("/jobs/{job_id}/{what}", signal_job, methods=["POST"]),
]
