"""Named queues: list them, pause and resume them, limit how many of their jobs run at once."""

from __future__ import annotations

import click

from ..models import JobState
from .context import Session
from .render import echo_json, table


@click.group("queue")
def queue_group() -> None:
    """Named queues: counts, pause and resume, concurrency limits.

    \b
    Examples:
      queuectl queue list
      queuectl queue pause video
      queuectl queue limit video 2
    """


@queue_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def list_queues(session: Session, as_json: bool) -> None:
    """Every queue with its jobs per state, whether it is paused, and its limit.

    \b
    Example:
      queuectl queue list
    """
    queues = session.existing_queue.queues.list()
    if as_json:
        echo_json([info.to_dict() for info in queues])
        return
    if not queues:
        click.echo("No queues yet: jobs go to the queue named default.")
        return
    rows = [
        (info.name, "yes" if info.paused else "no", "-" if info.limit is None else info.limit,
         *(info.counts.get(state, 0) for state in JobState))
        for info in queues
    ]
    table(("QUEUE", "PAUSED", "LIMIT", *(state.value.upper() for state in JobState)), rows)


@queue_group.command()
@click.argument("name")
@click.pass_obj
def pause(session: Session, name: str) -> None:
    """Stop workers from starting the queue's jobs; running jobs finish.

    \b
    Example:
      queuectl queue pause video
    """
    session.queue.queues.pause(name)
    click.echo(f"Queue {name} paused: its jobs wait until `queuectl queue resume {name}`.")


@queue_group.command()
@click.argument("name")
@click.pass_obj
def resume(session: Session, name: str) -> None:
    """Let workers start the queue's jobs again.

    \b
    Example:
      queuectl queue resume video
    """
    session.queue.queues.resume(name)
    click.echo(f"Queue {name} resumed.")


# -1 is a value to refuse with the range, not an unknown option.
@queue_group.command(context_settings={"ignore_unknown_options": True})
@click.argument("name")
@click.argument("limit", metavar="N")
@click.pass_obj
def limit(session: Session, name: str, limit: str) -> None:
    """Run at most N of the queue's jobs at once, across all workers (0 or none: no limit).

    \b
    Examples:
      queuectl queue limit video 2
      queuectl queue limit video none
    """
    value = session.queue.queues.limit(name, limit)
    if value is None:
        click.echo(f"Queue {name}: no limit.")
    else:
        click.echo(f"Queue {name}: at most {value} job{'s' if value != 1 else ''} at once.")
