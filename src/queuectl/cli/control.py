"""Steering what runs: kill (a signal), pause and resume a running job; parallel (how many
jobs running workers run at once)."""

from __future__ import annotations

import click

from ..errors import QueuectlError
from .context import Session


@click.command()
@click.argument("job_id", metavar="ID")
@click.option("-s", "--signal", "signal_name", default="TERM", show_default=True,
              metavar="NAME", help="The signal: TERM, INT, HUP, KILL, USR1... or a number.")
@click.pass_obj
def kill(session: Session, job_id: str, signal_name: str) -> None:
    """Send a signal to a running job's process group, through the worker that runs it.

    What the job does with it is the job's business: a run it ends counts as a failed
    attempt (`queuectl cancel` ends a job for good).

    \b
    Examples:
      queuectl kill 12                  # SIGTERM
      queuectl kill 12 --signal HUP
    """
    job = session.existing_queue.kill(job_id, signal_name)
    given = signal_name.strip().upper().removeprefix("SIG")
    shown = f"signal {given}" if given.isdigit() else f"SIG{given}"
    click.echo(f"Sent {shown} to job {job.id}.")


@click.command()
@click.argument("job_id", metavar="ID")
@click.pass_obj
def pause(session: Session, job_id: str) -> None:
    """Stop a running job (SIGSTOP to its process group) until `queuectl resume`; its worker
    keeps the job's lease alive meanwhile. A timeout keeps counting while it is paused.

    \b
    Example:
      queuectl pause 12
    """
    job = session.existing_queue.pause(job_id)
    click.echo(f"Paused job {job.id}; `queuectl resume {job.id}` continues it.")


@click.command()
@click.argument("job_id", metavar="ID")
@click.pass_obj
def resume(session: Session, job_id: str) -> None:
    """Continue a paused job (SIGCONT to its process group).

    \b
    Example:
      queuectl resume 12
    """
    job = session.existing_queue.resume(job_id)
    click.echo(f"Resumed job {job.id}.")


@click.command()
@click.argument("slots", metavar="N", type=click.IntRange(1, 1024))
@click.option("--worker", "worker_id", metavar="ID", help="Only this worker.")
@click.option("--host", metavar="NAME", help="The workers of this host (default: this one).")
@click.option("--all", "every_host", is_flag=True, help="Every worker, on every host.")
@click.pass_obj
def parallel(session: Session, slots: int, worker_id: str | None, host: str | None,
             every_host: bool) -> None:
    """Make running workers run N jobs at once from now on, without restarting them: the
    workers of this host, or --worker ID, --host NAME, --all. Running jobs go on; a worker
    with fewer slots starts new jobs only once it is below N.

    \b
    Examples:
      queuectl parallel 8
      queuectl parallel 2 --worker w-09e68f5d
    """
    if sum((worker_id is not None, host is not None, every_host)) > 1:
        raise click.UsageError("give --worker, --host or --all (one of them)")
    applied, asked = session.existing_queue.parallel(slots, worker_id=worker_id, host=host,
                                                     every_host=every_host)
    if not asked:
        raise QueuectlError(f"no worker with id {worker_id!r}" if worker_id else
                            f"no worker on host {host}" if host else
                            "no worker on any host" if every_host else
                            "no worker on this host (--all asks every host's)")
    for worker in asked:
        if worker in applied:
            click.echo(f"Worker {worker} runs up to {slots} job{'s' if slots != 1 else ''}"
                       " at once.")
        else:
            click.echo(f"Worker {worker} has not applied it yet (it will at its next "
                       "check-in).")
