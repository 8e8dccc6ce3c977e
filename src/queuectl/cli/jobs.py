"""Commands about jobs: enqueue, list, show."""

from __future__ import annotations

from typing import IO, Any

import click

from ..errors import InvalidInput
from ..models import Job, JobState
from .context import Session
from .plain_enqueue import batch_message, enqueued_message
from .render import echo_json, jobs_table, when
from .scheduling_flags import scheduling_flags

_STATES = [state.value for state in JobState]


@click.command()
@click.argument("job_json", metavar="JSON", required=False)
@click.option("-c", "--command", help="The shell command, instead of JSON.")
@click.option("--id", "job_id", help="The job's id (default: a generated one).")
@click.option("--max-retries", type=int, help="Retries after the first run (default: config).")
@click.option("--timeout", help="Kill the job after this long, e.g. 30s or 5m.")
@click.option("--cwd", help="Directory to run in (default: the current one).")
@click.option("--env", "env_pairs", multiple=True, metavar="KEY=VALUE", help="Set a variable.")
@click.option("--fatal-exit-code", "fatal_exit_codes", multiple=True, type=int, metavar="CODE",
              help="An exit code that goes straight to the DLQ, not retried (repeatable).")
@click.option("--no-retry-on-timeout", is_flag=True, help="A timeout goes straight to the DLQ.")
@click.option("--output-limit", metavar="SIZE", help="Output kept per attempt, e.g. 64k.")
@click.option("-f", "--file", "jobs_file", type=click.File("r"),
              help="A JSON object per line ('-' for stdin), enqueued all or nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the job(s) as JSON.")
@click.pass_obj
@scheduling_flags
def enqueue(
    session: Session, job_json: str | None, command: str | None, job_id: str | None,
    max_retries: int | None, timeout: str | None, cwd: str | None, env_pairs: tuple[str, ...],
    fatal_exit_codes: tuple[int, ...], no_retry_on_timeout: bool, output_limit: str | None,
    jobs_file: IO[str] | None, as_json: bool, scheduling: dict[str, Any],
) -> None:
    """Add a job (JSON), a command (--command) or many jobs (--file).

    \b
    Examples:
      queuectl enqueue '{"id":"job1","command":"echo hello","max_retries":3}'
      queuectl enqueue --command 'make test' --id build-42 --max-retries 1
      queuectl enqueue --file jobs.jsonl
      queuectl enqueue -c 'make deploy' --after build-42 --queue deploy --priority 5
      queuectl enqueue -c 'report.sh' --delay 1h --unique-key daily-report --tag reports
    """
    options: dict[str, Any] = {
        "id": job_id, "max_retries": max_retries, "timeout": timeout, "cwd": cwd,
        "env": _parse_env(env_pairs), "output_limit": output_limit,
        "fatal_exit_codes": list(fatal_exit_codes) or None,
        "retry_on_timeout": False if no_retry_on_timeout else None,
    }
    options = {key: value for key, value in options.items() if value is not None}
    given = [job_json is not None, command is not None, jobs_file is not None]
    if sum(given) != 1:
        raise click.UsageError("give exactly one of JSON, --command or --file")
    if options and command is None:
        raise click.UsageError("job options such as --id or --timeout go with --command")
    if scheduling and jobs_file is not None:
        raise click.UsageError("--priority, --delay, --after and such go with --command or JSON")
    queue = session.queue
    if jobs_file is not None:
        if as_json:
            jobs = queue.enqueue_jsonl(jobs_file)
            echo_json([{**job.to_dict(), "created": not job.unique_conflict} for job in jobs])
        else:
            added = queue.enqueue_jsonl_ids(jobs_file)
            click.echo(batch_message(added.created, added.existing))
        return
    if command is not None:
        job = queue.enqueue(command, **options, **scheduling)
    else:
        assert job_json is not None
        job = queue.enqueue_json(job_json, scheduling)
    if as_json:
        echo_json({**job.to_dict(), "created": not job.unique_conflict})
    else:
        click.echo(enqueued_message(job))


def _parse_env(pairs: tuple[str, ...]) -> dict[str, str] | None:
    env = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise InvalidInput(f"--env: expected KEY=VALUE, got {pair!r}")
        env[key] = value
    return env or None


@click.command("list")
@click.option("--state", help=f"Only jobs in this state ({', '.join(_STATES)}).")
@click.option("--tag", help="Only jobs with this tag.")
@click.option("--limit", default=50, show_default=True, type=int, help="At most this many.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def list_jobs(session: Session, state: str | None, tag: str | None, limit: int,
              as_json: bool) -> None:
    """List jobs, newest first.

    \b
    Examples:
      queuectl list --state pending
      queuectl list --state failed --json
      queuectl list --tag nightly
    """
    jobs = session.queue.jobs(state, limit=limit, tag=tag)
    if as_json:
        echo_json([job.to_dict() for job in jobs])
    elif jobs:
        jobs_table(jobs)
    else:
        click.echo("No jobs" + (f" in state {state}" if state else "")
                   + (f" with tag {tag}" if tag else "") + ".")


@click.command()
@click.argument("job_id", metavar="ID")
@click.option("--tail", default=20, show_default=True, type=int,
              help="Lines of output to show per attempt.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON, with every attempt.")
@click.pass_obj
def show(session: Session, job_id: str, tail: int, as_json: bool) -> None:
    """Everything about one job, with each attempt and the tail of its output.

    \b
    Example:
      queuectl show job1
    """
    queue = session.queue
    job = queue.get(job_id)
    attempts = queue.attempts(job_id)
    if as_json:
        echo_json({**job.to_dict(), "attempts_history": [a.to_dict() for a in attempts]})
        return
    fields = [
        ("id", job.id), ("command", job.command), ("state", job.state.value),
        ("attempts", f"{job.attempts} of {job.max_retries + 1} allowed"),
        ("created", when(job.created_at)), ("updated", when(job.updated_at)),
        ("next run", when(job.run_at) if job.state in (JobState.PENDING, JobState.FAILED) else "-"),
        ("cwd", job.cwd or "-"), ("timeout", f"{job.timeout:g}s" if job.timeout else "-"),
        ("exit code", "-" if job.exit_code is None else job.exit_code),
        ("last error", job.last_error or "-"),
        *_scheduling_fields(job),
    ]
    if job.worker_id:
        fields.append(("worker", job.worker_id))
    for name, value in fields:
        click.echo(f"{name + ':':<12} {value}")
    for attempt in attempts:
        if attempt.finished_at is None:
            outcome, took = "running", "-"
        else:
            outcome = attempt.error or "ok"
            took = f"{attempt.finished_at - attempt.started_at:.2f}s"
        click.echo(f"\nattempt {attempt.number}  started {when(attempt.started_at)}  took {took}"
                   f"  {outcome}  (worker {attempt.worker_id})")
        lines = attempt.output.decode("utf-8", "replace").splitlines()
        for line in lines[-tail:] if tail > 0 else []:
            click.echo(f"  | {line}")
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
