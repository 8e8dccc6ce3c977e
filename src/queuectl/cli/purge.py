"""The purge command: delete finished jobs, with their history and output."""

from __future__ import annotations

import click

from .context import Session


@click.command()
@click.option("--state", "states", multiple=True, metavar="STATE",
              help="completed, dead or canceled (repeatable).")
@click.option("--all-terminal", is_flag=True, help="Completed, dead and canceled jobs.")
@click.option("--older-than", metavar="DURATION",
              help="Only jobs finished longer ago than this, e.g. 7d (default: all).")
@click.pass_obj
def purge(session: Session, states: tuple[str, ...], all_terminal: bool,
          older_than: str | None) -> None:
    """Delete finished jobs with their attempts and output, and print how many.

    Workers can do this on their own: `queuectl config set retention 14d`.

    \b
    Examples:
      queuectl purge --state completed --older-than 7d
      queuectl purge --all-terminal --older-than 30d
    """
    if bool(states) == all_terminal:
        raise click.UsageError("give --state or --all-terminal (one of them)")
    chosen = ["completed", "dead", "canceled"] if all_terminal else list(states)
    deleted = session.existing_queue.purge(chosen, older_than or 0.0)
    click.echo(f"Purged {deleted} job{'s' if deleted != 1 else ''}.")
