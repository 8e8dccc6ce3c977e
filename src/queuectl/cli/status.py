"""The status command: counts per state, workers, and which database."""

from __future__ import annotations

import click

from .context import Session
from .render import echo_json, workers_table


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def status(session: Session, as_json: bool) -> None:
    """Jobs per state (zeros included), active workers, and the database in use.

    \b
    Example:
      queuectl status
    """
    queue = session.queue
    counts = queue.counts()
    workers = queue.workers()
    if as_json:
        echo_json({
            "database": queue.url,
            "jobs": {state.value: count for state, count in counts.items()},
            "workers": [worker.to_dict() for worker in workers],
        })
        return
    click.echo(f"Database: {queue.url}\n\nJobs")
    for state, count in counts.items():
        click.echo(f"  {state.value:<11} {count:>7}")
    click.echo(f"\nWorkers: {len(workers)}")
    if workers:
        workers_table(workers, queue.clock.now())
