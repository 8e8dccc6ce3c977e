"""The status command: counts per state, workers, and which database."""

from __future__ import annotations

import click

from ..models import JobState
from .context import Session
from .render import echo_json, warn_refused, workers_table


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("-w", "--watch", "live", is_flag=True,
              help="Keep refreshing: jobs, workers, what runs now, the last minute.")
@click.option("--interval", default=2.0, show_default=True, type=click.FloatRange(min=0.1),
              help="Seconds between refreshes with --watch.")
@click.pass_obj
def status(session: Session, as_json: bool, live: bool, interval: float) -> None:
    """Jobs per state (zeros included), active workers, and the database in use.

    \b
    Examples:
      queuectl status
      queuectl status --watch          # live view; Ctrl-C to quit
    """
    if live and as_json:
        raise click.UsageError("--watch and --json do not go together")
    queue = session.existing_queue
    if live:
        from .watch import watch

        watch(queue, interval)
        return
    status = queue.status()  # pending: ready now, scheduled later, blocked by dependencies
    warn_refused(status.refused_settings, workers=True)
    if as_json:
        echo_json(status.to_dict())
        return
    pending = status.pending
    click.echo(f"Database: {status.database}\n\nJobs")
    for state, count in status.counts.items():
        detail = ""
        if state is JobState.PENDING:
            notes = []
            if count != pending["ready"]:
                notes.append(f"{pending['ready']} ready, {pending['scheduled']} scheduled "
                             f"later, {pending['blocked']} waiting on dependencies")
            if status.in_paused_queues:  # why "ready" jobs do not start
                notes.append(f"{status.in_paused_queues} in paused queues: queuectl queue list")
            detail = f"  ({'; '.join(notes)})" if notes else ""
        elif state is JobState.PROCESSING and status.paused:
            detail = f"  ({status.paused} paused: queuectl resume ID)"
        click.echo(f"  {state.value:<11} {count:>7}{detail}")
    click.echo(f"\nWorkers: {len(status.workers)}")
    if status.workers:
        workers_table(status.workers, queue.clock.now())
