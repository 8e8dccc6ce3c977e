"""Reading jobs: list and show (adding them is in ``enqueue.py``)."""

from __future__ import annotations

import click

from ..models import Job, JobState
from .context import Session
from .render import echo_json, jobs_table, more_notice, span, text, when
from .visible import visible

_STATES = [state.value for state in JobState]


@click.command("list")
@click.option("--state", help=f"Only jobs in this state ({', '.join(_STATES)}).")
@click.option("--queue", "queue_name", metavar="NAME", help="Only jobs in this queue.")
@click.option("--tag", help="Only jobs with this tag.")
@click.option("--limit", default=50, show_default=True, type=int, help="At most this many.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def list_jobs(session: Session, state: str | None, queue_name: str | None, tag: str | None,
              limit: int, as_json: bool) -> None:
    """List jobs, newest first, with when their latest run started and ended.

    When more jobs match than --limit, a line on stderr says so.

    \b
    Examples:
      queuectl list --state pending
      queuectl list --queue deploy --state failed --json
      queuectl list --tag nightly --limit 500
    """
    queue = session.existing_queue
    listing = queue.listing(state, queue=queue_name, tag=tag, limit=limit)
    if as_json:
        echo_json([job.to_dict() for job in listing.jobs])
    elif listing.jobs:
        jobs_table(listing.jobs, listing.runs, queue.clock.now())
    else:
        click.echo("No jobs" + (f" in state {state}" if state else "")
                   + (f" in queue {queue_name}" if queue_name else "")
                   + (f" with tag {tag}" if tag else "") + ".")
    if listing.more:
        click.echo(more_notice(limit), err=True)


@click.command()
@click.argument("job_id", metavar="[ID]", required=False)
@click.option("--tail", default=20, show_default=True, type=int,
              help="Lines of output to show per attempt.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON, with every attempt.")
@click.pass_obj
def show(session: Session, job_id: str | None, tail: int, as_json: bool) -> None:
    """Everything about one job (without ID: the job enqueued last), with each attempt and
    the tail of its output.

    \b
    Examples:
      queuectl show job1
      queuectl show --json
    """
    queue = session.existing_queue
    [job_id] = session.job_ids(job_id)
    job = queue.get(job_id)
    attempts = queue.attempts(job_id)
    if as_json:
        echo_json({**job.to_dict(), "attempts_history": [a.to_dict() for a in attempts]})
        return
    fields = [
        ("id", job.id), ("command", text(job.command)),
        # As list and status say it: a job stopped by `queuectl pause` is not running.
        ("state", f"paused (queuectl resume {job.id})" if job.paused else job.state.value),
        ("attempts", f"{job.attempts} of {job.max_retries + 1} allowed"),
        ("created", when(job.created_at)), ("updated", when(job.updated_at)),
        ("next run", when(job.run_at) if job.state in (JobState.PENDING, JobState.FAILED) else "-"),
        ("cwd", job.cwd or "-"), ("timeout", span(job.timeout)),
        ("exit code", "-" if job.current_exit_code is None else job.current_exit_code),
        ("last error", job.current_error or "-"),
        *_scheduling_fields(job),
    ]
    if job.unreadable:  # a row edited by hand: the fields it names show what could be read
        fields.insert(3, ("unreadable", job.unreadable))
    if job.worker_id:
        fields.append(("worker", job.worker_id))
    if job.restarted_from:
        fields.append(("restarts", job.restarted_from))
    fields += _hook_fields(job)
    # Shown, not obeyed: a command, error or output holding \x1b[2J must not clear the
    # reader's screen (see visible.py).
    for name, value in fields:
        click.echo(f"{name + ':':<12} {visible(str(value))}")
    for attempt in attempts:
        if attempt.finished_at is None:
            outcome, took = ("paused" if job.paused else "running"), "-"
        else:
            outcome = attempt.error or "ok"
            took = _took(attempt.finished_at - attempt.started_at)
        click.echo(visible(f"\nattempt {attempt.number}  started {when(attempt.started_at)}  "
                           f"took {took}  {outcome}  (worker {attempt.worker_id})"))
        # Lines end at \n (or \r\n) only: a lone \r, a form feed, are shown, not obeyed.
        lines = attempt.text.replace("\r\n", "\n").split("\n")
        if lines[-1] == "":
            lines.pop()
        for line in lines[-tail:] if tail > 0 else []:
            click.echo(f"  | {visible(line)}")
        if attempt.output_dropped:
            click.echo(f"  [{attempt.output_dropped} more bytes not kept: output limit]")


def _scheduling_fields(job: Job) -> list[tuple[str, object]]:
    """What decides when and where the job runs, where it is not the default."""
    fields: list[tuple[str, object]] = [("queue", job.queue), ("priority", job.priority)]
    if job.depends_on:
        waiting = f" (waiting on {job.waiting_on})" if job.waiting_on else ""
        fields.append(("after", ", ".join(job.depends_on) + waiting))
    if job.unique_key:
        fields.append(("unique key", job.unique_key))
    if job.tags:
        fields.append(("tags", ", ".join(job.tags)))
    return fields


def _took(seconds: float) -> str:
    """How long an attempt ran, to the hundredth: '0.01s'; '-' for a span no run can take
    (times edited by hand: infinite, NaN or negative), which would read 'infs' or '-3.00s'."""
    return f"{seconds:.2f}s" if 0 <= seconds < float("inf") else "-"


def _hook_fields(job: Job) -> list[tuple[str, object]]:
    """The job's completion hooks, and what came of them once it ended."""
    import json

    fields: list[tuple[str, object]] = []
    done = json.loads(job.hook_result) if job.hook_result else {}
    for name, target in (("on_finish", job.on_finish), ("webhook", job.webhook)):
        if target:
            fields.append((name.replace("_", " "), f"{target}  ({_hook_outcome(done.get(name))})"))
    return fields


def _hook_outcome(result: dict[str, object] | None) -> str:
    if result is None:
        return "not run yet"
    if result.get("error"):
        return f"failed: {result['error']}"
    if "status" in result:
        return f"HTTP {result['status']}"
    return "ok"
