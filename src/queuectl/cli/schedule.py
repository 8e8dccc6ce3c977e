"""Recurring jobs: add, list, pause, resume and remove schedules."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from .context import Session
from .render import echo_json, shorten, table, when

if TYPE_CHECKING:
    from ..recurring import Schedule


@click.group()
def schedule() -> None:
    """Recurring jobs, enqueued by running workers on a cron expression or an interval.

    Each tick is enqueued once however many workers run. Ticks missed while no worker ran
    are not replayed one by one: the first worker back enqueues one catch-up run.

    \b
    Examples:
      queuectl schedule add backup --cron "0 2 * * *" --tz Europe/Berlin -c 'backup.sh'
      queuectl schedule add ping --every 30s '{"command":"curl -fsS https://example.org"}'
      queuectl schedule list
    """


@schedule.command()
@click.argument("name")
@click.argument("job_json", metavar="[JSON]", required=False)
@click.option("-c", "--command", help="The shell command, instead of JSON.")
@click.option("--cron", metavar="EXPR", help='A cron expression, e.g. "*/5 * * * *".')
@click.option("--tz", metavar="ZONE", help="The cron expression's time zone (default: UTC).")
@click.option("--every", metavar="DURATION", help="A fixed interval instead, e.g. 30s or 1h.")
@click.option("--json", "as_json", is_flag=True, help="Print the schedule as JSON.")
@click.pass_obj
def add(session: Session, name: str, job_json: str | None, command: str | None,
        cron: str | None, tz: str | None, every: str | None, as_json: bool) -> None:
    """Add a schedule NAME that enqueues a job (JSON, as for enqueue, without an id).

    \b
    Examples:
      queuectl schedule add backup --cron "0 2 * * *" --tz Europe/Berlin -c 'backup.sh'
      queuectl schedule add ping --every 30s '{"command":"curl -fsS example.org","queue":"net"}'
    """
    if (job_json is None) == (command is None):
        raise click.UsageError("give the job as JSON or --command (one of them)")
    job = job_json if job_json is not None else {"command": command}
    added = session.queue.schedules.add(name, job, cron=cron, every=every, tz=tz)
    if as_json:
        echo_json(added.to_dict())
    else:
        click.echo(f"Schedule {added.name} added ({added.describe()}): "
                   f"first run at {when(added.next_run_at)}.")


@schedule.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def list_schedules(session: Session, as_json: bool) -> None:
    """Every schedule: when it runs next, when it last ran, whether it is paused.

    \b
    Example:
      queuectl schedule list
    """
    schedules = session.existing_queue.schedules.list()
    if as_json:
        echo_json([item.to_dict() for item in schedules])
    elif not schedules:
        click.echo("No schedules.")
    else:
        table(("NAME", "SCHEDULE", "NEXT RUN", "LAST RUN", "LAST JOB", "PAUSED", "COMMAND"), [
            (item.name, item.describe(), "-" if item.paused else when(item.next_run_at),
             when(item.last_run_at), item.last_job_id or "-", "yes" if item.paused else "no",
             _command(item))
            for item in schedules
        ])


def _command(schedule: Schedule) -> str:
    """The COMMAND cell: the template's command, or a template no one can read (a row edited
    by hand) as it is stored, marked."""
    if schedule.template_problem():
        from ..jobspec.text import shown

        return shorten(f"(unreadable) {shown(schedule.job)}", 40)
    from .visible import visible

    return shorten(visible(str(schedule.job.get("command"))), 40)


@schedule.command()
@click.argument("name")
@click.pass_obj
def remove(session: Session, name: str) -> None:
    """Remove a schedule; the jobs it enqueued stay.

    \b
    Example:
      queuectl schedule remove backup
    """
    session.existing_queue.schedules.remove(name)
    click.echo(f"Schedule {name} removed.")


@schedule.command()
@click.argument("name")
@click.pass_obj
def pause(session: Session, name: str) -> None:
    """Stop enqueuing a schedule's ticks until it is resumed.

    \b
    Example:
      queuectl schedule pause backup
    """
    session.existing_queue.schedules.pause(name)
    click.echo(f"Schedule {name} paused.")


@schedule.command()
@click.argument("name")
@click.pass_obj
def resume(session: Session, name: str) -> None:
    """Resume a schedule from its next tick (ticks missed while paused do not run).

    \b
    Example:
      queuectl schedule resume backup
    """
    resumed = session.existing_queue.schedules.resume(name)
    click.echo(f"Schedule {name} resumed: next run at {when(resumed.next_run_at)}.")
