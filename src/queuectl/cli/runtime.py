"""Commands for jobs in flight: logs, wait, cancel, retry."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from ..errors import QueuectlError
from ..models import Attempt, JobState
from ..units import parse_duration
from .context import Session
from .render import echo_json, echo_retried
from .visible import visible

if TYPE_CHECKING:
    from ..queue import Queue


@click.command()
@click.argument("job_id", metavar="[ID]", required=False)
@click.option("--attempt", type=int, help="Which attempt (default: the latest).")
@click.option("-f", "--follow", is_flag=True,
              help="Stream output while the job runs; exit with its exit code.")
@click.option("--tail", type=int, help="Only the last N lines.")
@click.pass_context
def logs(ctx: click.Context, job_id: str | None, attempt: int | None, follow: bool,
         tail: int | None) -> None:
    """Print the output (stdout and stderr) of a job's attempt; without ID, of the job
    enqueued last.

    \b
    Examples:
      queuectl logs job1
      queuectl logs --follow               # the job enqueued last, as it runs
      queuectl logs job1 --attempt 2 --tail 20
    """
    session: Session = ctx.obj
    queue = session.existing_queue
    [job_id] = session.job_ids(job_id)
    # On a terminal, what the job printed is shown, not obeyed (see visible.py); elsewhere
    # (a file, a pipe) it is written byte for byte.
    shown = _VisibleWhere(sys.stdout)
    if follow:
        _say_which_wait_in_paused_queues(queue, [job_id])  # else it would seem to hang
        out = sys.stdout.buffer
        for item in queue.follow(job_id, attempt, on_outage=_say_outage):
            if isinstance(item, Attempt):
                out.write(shown.end())
                out.flush()
                if item.exit_code is None:  # no exit code to pass on: say why instead
                    raise QueuectlError(
                        f"job {job_id!r} attempt {item.number} ended without an exit code: "
                        f"{item.error or 'no reason recorded'}")
                ctx.exit(item.exit_code)
            out.write(shown.feed(item))
            out.flush()
        out.write(shown.end())
        out.flush()
        return
    attempts = queue.attempts(job_id)
    chosen = attempts[-1] if attempts and attempt is None else next(
        (a for a in attempts if a.number == attempt), None)
    if chosen is None:  # the job is there, the run is not: the operation failed (exit 1)
        raise QueuectlError(f"job {job_id!r} has no attempt {attempt}" if attempt is not None
                            else f"job {job_id!r} has not run yet")
    output = chosen.output
    if tail is not None:
        output = b"".join(output.splitlines(keepends=True)[-tail:]) if tail > 0 else b""
    sys.stdout.buffer.write(shown.feed(output) + shown.end())
    if chosen.output_dropped:
        click.echo(f"[{chosen.output_dropped} more bytes not kept: output limit]", err=True)


class _VisibleWhere:
    """``VisibleStream`` if ``out`` is a terminal; else the bytes as they are."""

    def __init__(self, out: object) -> None:
        self._stream = None
        isatty = getattr(out, "isatty", None)
        if isatty is not None and isatty():
            from .visible import VisibleStream

            self._stream = VisibleStream(colours=True)

    def feed(self, data: bytes) -> bytes:
        return data if self._stream is None else self._stream.feed(data)

    def end(self) -> bytes:
        return b"" if self._stream is None else self._stream.end()


@click.command()
@click.argument("job_ids", metavar="[ID]...", nargs=-1)
@click.option("--timeout", metavar="DURATION", help="Give up after this long, e.g. 10m.")
@click.option("--json", "as_json", is_flag=True, help="Print the finished jobs as JSON.")
@click.pass_context
def wait(ctx: click.Context, job_ids: tuple[str, ...], timeout: str | None,
         as_json: bool) -> None:
    """Wait until jobs finish (without ID: the job enqueued last); exit 0 only if every one
    completed.

    \b
    Examples:
      queuectl wait build test && queuectl enqueue --command 'make deploy'
      queuectl add make && queuectl wait
      queuectl wait build --json
    """
    session: Session = ctx.obj
    seconds = None if timeout is None else parse_duration(timeout, field="--timeout")
    ids = session.job_ids(job_ids)
    _say_which_wait_in_paused_queues(session.existing_queue, ids)
    jobs = session.existing_queue.wait(ids, timeout=seconds, on_outage=_say_outage)
    if as_json:
        echo_json([job.to_dict() for job in jobs])
    else:
        for job in jobs:
            click.echo(f"{job.id}: {job.state.value}")
    if any(job.state is not JobState.COMPLETED for job in jobs):
        ctx.exit(1)


def _say_outage(line: str) -> None:
    """A PostgreSQL server that went away while wait or logs --follow waits (and came back)."""
    click.echo(visible(line), err=True)


def _say_which_wait_in_paused_queues(queue: Queue, job_ids: list[str]) -> None:
    """A line on stderr per job that waits in a paused queue: no worker starts it until the
    queue is resumed, and a wait without a word would look like a hang."""
    paused = {info.name for info in queue.queues.list() if info.paused}
    if not paused:
        return
    for job_id in dict.fromkeys(job_ids):
        try:
            job = queue.get(job_id)
        except QueuectlError:
            continue  # wait says so
        if job.state in (JobState.PENDING, JobState.FAILED) and job.queue in paused:
            click.echo(visible(f"Job {job.id} waits in paused queue {job.queue} "
                               f"(queuectl queue resume {job.queue})."), err=True)


@click.command()
@click.argument("job_ids", metavar="[ID]...", nargs=-1)
@click.pass_obj
def cancel(session: Session, job_ids: tuple[str, ...]) -> None:
    """Cancel jobs (without ID: the job enqueued last): waiting ones at once, running ones
    are killed (their whole process group).

    A completed, dead or canceled job cannot be canceled (exit 1, nothing changed).

    \b
    Examples:
      queuectl cancel job1 job2
      queuectl cancel                      # the job enqueued last
    """
    for job in session.existing_queue.cancel(session.job_ids(job_ids)):
        if job.state is JobState.CANCELED:
            click.echo(f"Canceled {job.id}")
        else:
            click.echo(f"Cancel of {job.id} requested: it is {job.state.value}")


@click.command()
@click.argument("job_ids", metavar="ID...", nargs=-1, required=True)
@click.pass_context
def retry(ctx: click.Context, job_ids: tuple[str, ...]) -> None:
    """Queue dead or canceled jobs again, attempts reset to 0 (history kept).

    A job that dies again at once (a dependency dead or removed) is named with why, and the
    exit status is 1.

    \b
    Example:
      queuectl retry job1
    """
    session: Session = ctx.obj
    if echo_retried(session.existing_queue.retry(list(job_ids), include_canceled=True)):
        ctx.exit(1)
