"""Changing jobs: restart (run a finished one again), remove, and edit a waiting one."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import click

from ..errors import InvalidInput
from .autostart import start_worker_if_configured
from .context import Session
from .render import echo_json

if TYPE_CHECKING:
    from ..models import Job


@click.command()
@click.argument("job_ids", metavar="ID...", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print the new jobs as JSON.")
@click.pass_obj
def restart(session: Session, job_ids: tuple[str, ...], as_json: bool) -> None:
    """Run finished jobs (completed, dead or canceled) again, as new jobs with the same
    command and settings; each new job records the one it restarts (restarted_from).

    \b
    Examples:
      queuectl restart 12
      queuectl restart 12 13 --json
    """
    jobs = session.existing_queue.restart(list(job_ids))
    if as_json:
        echo_json([job.to_dict() for job in jobs])
    else:
        # The queue restarts each id once, however often it was given (restart 12 12).
        for original, job in zip(dict.fromkeys(job_ids), jobs, strict=True):
            click.echo(f"Restarted {original} as job {job.id}: {job.command}")
    start_worker_if_configured(session.existing_queue)


@click.command()
@click.argument("job_ids", metavar="ID...", nargs=-1, required=True)
@click.pass_obj
def remove(session: Session, job_ids: tuple[str, ...]) -> None:
    """Delete jobs that are not running, with their history and output, all or nothing.

    A running job is refused (cancel it first), and so is a job that a waiting job still
    depends on, unless that one is removed too.

    \b
    Examples:
      queuectl remove 12
      queuectl remove 12 13 14
    """
    removed = session.existing_queue.remove(list(job_ids))
    click.echo(f"Removed {len(removed)} job{'s' if len(removed) != 1 else ''}: "
               f"{', '.join(removed)}.")


@click.command()
@click.argument("job_id", metavar="ID")
@click.option("-c", "--command", help="The shell command.")
@click.option("--priority", type=int, help="Higher runs first.")
@click.option("--queue", "queue_name", metavar="NAME", help="The queue.")
@click.option("--run-at", metavar="TIME", help="Run no sooner than this ISO 8601 time.")
@click.option("--delay", metavar="DURATION", help="Run no sooner than this from now, e.g. 5m.")
@click.option("--max-retries", type=int, help="Retries after the first run.")
@click.option("--timeout", metavar="DURATION", help="Kill a run after this long, e.g. 30s.")
@click.option("--retry-on-timeout/--no-retry-on-timeout", default=None,
              help="Whether a timeout is retried (or goes straight to the DLQ).")
@click.option("--fatal-exit-code", "fatal_exit_codes", multiple=True, type=int,
              metavar="CODE", help="Exit codes not retried (repeatable; replaces the list).")
@click.option("--backoff-base", type=float, help="Retry delay base, this job's own.")
@click.option("--backoff-max", metavar="DURATION", help="Cap on one retry delay.")
@click.option("--jitter", type=float, help="Spread of each retry delay, e.g. 0.1.")
@click.option("--json", "as_json", is_flag=True, help="Print the edited job as JSON.")
@click.pass_obj
def edit(session: Session, job_id: str, command: str | None, priority: int | None,
         queue_name: str | None, run_at: str | None, delay: str | None,
         max_retries: int | None, timeout: str | None, retry_on_timeout: bool | None,
         fatal_exit_codes: tuple[int, ...], backoff_base: float | None,
         backoff_max: str | None, jitter: float | None, as_json: bool) -> None:
    """Change a pending or failed job: by flags, or without any in $EDITOR as JSON (on a
    terminal only: elsewhere give the fields as flags).

    The change is checked as an enqueue checks a job; in the editor, null clears a field.

    \b
    Examples:
      queuectl edit 12 --priority 10 --queue fast
      queuectl edit 12 --command 'make -j4 test' --max-retries 1
      queuectl edit 12                  # opens $EDITOR on the job's fields as JSON
    """
    flags = {
        "command": command, "priority": priority, "queue": queue_name, "run_at": run_at,
        "delay": delay, "max_retries": max_retries, "timeout": timeout,
        "retry_on_timeout": retry_on_timeout, "backoff_base": backoff_base,
        "backoff_max": backoff_max, "jitter": jitter,
        "fatal_exit_codes": list(fatal_exit_codes) or None,
    }
    changes = {key: value for key, value in flags.items() if value is not None}
    queue = session.existing_queue
    before = queue.get(job_id)
    if not changes:
        # An editor such as vim needs a terminal to read keys from, and one to draw on: with
        # stdout redirected (`edit 3 > file`) it drew into the file, blind, and waited.
        if not sys.stdin.isatty():
            raise InvalidInput(f"no fields to change: pass them as flags (queuectl edit "
                               f"{job_id} --priority 10), or run on a terminal to edit the "
                               "job in $EDITOR; nothing changed")
        if not sys.stdout.isatty():
            raise InvalidInput(f"no fields to change: pass them as flags (queuectl edit "
                               f"{job_id} --priority 10), or run with stdout on a terminal "
                               "(not redirected) to edit the job in $EDITOR; nothing changed")
        changes = _edited_in_editor(before)
    if not changes or all(before.editable().get(key) == value for key, value in changes.items()):
        click.echo(f"No changes to job {job_id}.")
        return
    job = queue.edit(job_id, changes)
    if as_json:
        echo_json(job.to_dict())
    else:
        click.echo(f"Edited job {job.id}: {_what_changed(before, job)}")


def _edited_in_editor(job: Job) -> dict[str, Any]:
    """The fields the person changed in $EDITOR (or $VISUAL, else vi): an unsaved file, or
    one saved unchanged, changes nothing."""
    fields = job.editable()
    text = click.edit(json.dumps(fields, indent=2) + "\n", extension=".json")
    if text is None:
        return {}
    try:
        edited = json.loads(text)
    except ValueError as exc:
        raise InvalidInput(f"the edited job is not JSON: {exc}; nothing changed") from None
    if not isinstance(edited, dict):
        raise InvalidInput("the edited job must be a JSON object; nothing changed")
    return {key: value for key, value in edited.items()
            if key not in fields or fields[key] != value}


def _what_changed(before: Job, after: Job) -> str:
    old, new = before.editable(), after.editable()
    changed = [f"{key} {_shown(key, old[key])} -> {_shown(key, new[key])}"
               for key in new if old[key] != new[key]]
    return "; ".join(changed) or "nothing changed"


def _shown(key: str, value: object) -> str:
    from ..units import format_duration

    if value is None:
        return "none"
    if key in ("timeout", "backoff_max") and isinstance(value, (int, float)):
        return format_duration(value)
    return json.dumps(value) if isinstance(value, (str, list)) else str(value)
