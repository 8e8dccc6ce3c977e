"""A run's output for the job page: the tail the page opens with, the new bytes since an
offset (what static/app.js polls to follow a run like ``tail -f``), and the whole log as a
download.

Offsets count bytes of the stored output. A follower never receives a UTF-8 character cut in
two: a run still going is answered up to its last whole character, and the rest comes with
the next poll.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..errors import InvalidInput
from ..models import Job, JobState, RunOutput
from ..queue import Queue
from .app import dashboard_of
from .params import Fields, whole_number

TAIL_BYTES = 64 * 1024  # what the page opens with: the end of the log
CHUNK_BYTES = 256 * 1024  # the most one poll returns; a follower far behind skips ahead
_MAX_RUN = 10**9
_FINISHED = (JobState.COMPLETED, JobState.DEAD, JobState.CANCELED)


@dataclass(frozen=True)
class Tail:
    """The end of a run's output as the page first shows it."""

    text: str
    size: int  # bytes stored: where a follower starts
    cut: int  # older bytes not shown (the download has them)


def tail(output: bytes, limit: int = TAIL_BYTES) -> Tail:
    """The last ``limit`` bytes, from a line start when one is near (at most 1 KiB in)."""
    if len(output) <= limit:
        return Tail(output.decode("utf-8", "replace"), len(output), 0)
    start = len(output) - limit
    newline = output.find(b"\n", start, start + 1024)
    if newline >= 0:
        start = newline + 1
    return Tail(output[start:].decode("utf-8", "replace"), len(output), start)


def whole_characters(data: bytes) -> bytes:
    """``data`` without a UTF-8 sequence cut at its end (the next read completes it)."""
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte < 0x80:
            return data  # ASCII: nothing is cut
        if byte >= 0xC0:  # the lead byte of the last sequence
            need = 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            return data if back >= need else data[:-back]
    return data


async def new_output(request: Request) -> Response:
    """``GET /api/jobs/ID/runs/N/log?offset=K``: the output past byte K, at most CHUNK_BYTES
    (a follower further behind skips to the last CHUNK_BYTES and is told how many it
    skipped). A run not started yet answers ``"started": false``; ``runs`` is the job's
    number of runs so far."""
    job_id = request.path_params["job_id"]
    number = whole_number("run", request.path_params["number"], 1, _MAX_RUN)
    offset = Fields.query(request).whole("offset", low=0, high=2**62) or 0

    def read(queue: Queue) -> tuple[Job, RunOutput | None]:
        # Only the bytes past the follower's offset are read from the database.
        return queue.get(job_id), queue.run_output(job_id, number, offset, most=CHUNK_BYTES)

    job, output = await dashboard_of(request).read(read)
    job_live = job.state not in _FINISHED
    # "runs": how many runs the job has had, so that a follower of a finished run moves on to
    # the next one even when that one ran and ended between two polls (the job is over then).
    body: dict[str, Any] = {"run": number, "runs": job.runs, "job_live": job_live,
                            "started": output is not None}
    if output is None:
        # The run has not started: it will, unless the job is over (or that run is past).
        over = not job_live or number <= job.runs
        return _json({**body, "offset": offset, "text": "", "skipped": 0, "finished": over})
    skipped = output.start - min(offset, output.size)
    chunk = output.data if output.finished else whole_characters(output.data)
    return _json({**body, "offset": output.start + len(chunk), "skipped": skipped,
                  "text": chunk.decode("utf-8", "replace"), "finished": output.finished,
                  "dropped": output.dropped})


async def download(request: Request) -> Response:
    """``GET /jobs/ID/runs/N/output``: every byte kept of a run's output, as a file."""
    job_id = request.path_params["job_id"]
    number = whole_number("run", request.path_params["number"], 1, _MAX_RUN)

    def read(queue: Queue) -> RunOutput:
        found = queue.run_output(job_id, number)
        if found is None:
            raise InvalidInput(f"job {job_id!r} has no run {number}")
        return found

    output = await dashboard_of(request).read(read)
    name = re.sub(r"[^A-Za-z0-9._-]", "_", job_id)[:100] or "job"
    return Response(output.data, media_type="text/plain; charset=utf-8", headers={
        "content-disposition": f'attachment; filename="{name}-run-{number}.log"',
        "cache-control": "no-store",
    })


def _json(value: dict[str, Any]) -> Response:
    return JSONResponse(value, headers={"cache-control": "no-store"})


routes = [
    Route("/api/jobs/{job_id}/runs/{number}/log", new_output),
    Route("/jobs/{job_id}/runs/{number}/output", download),
]
