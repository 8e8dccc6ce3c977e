"""Commands about workers: start, stop, list."""

from __future__ import annotations

import logging
import sys

import click

from ..units import format_duration, format_timestamp, parse_duration
from .context import Session
from .render import echo_json, warn_refused, workers_table


@click.group()
def worker() -> None:
    """Start, stop and list workers.

    \b
    Example:
      queuectl worker start --count 4
    """


@worker.command()
@click.option("-c", "--count", default=1, show_default=True, type=click.IntRange(1, 1024),
              help="Jobs to run in parallel.")
@click.option("--burst", is_flag=True,
              help="Exit once nothing is left that this worker could run now or after a "
                   "retry.")
@click.option("-v", "--verbose", is_flag=True, help="Log every job, not only failures.")
@click.option("-q", "--quiet", is_flag=True, help="Log only warnings.")
@click.option("-d", "--detach", is_flag=True,
              help="Run in the background, logging to a file beside the database.")
@click.option("--worker-id", hidden=True, help="The id to register under (used by --detach).")
@click.option("--queue", "queues", multiple=True, metavar="NAME",
              help="Serve only this queue (repeatable; default: every queue).")
@click.pass_obj
def start(session: Session, count: int, burst: bool, verbose: bool, quiet: bool, detach: bool,
          worker_id: str | None, queues: tuple[str, ...]) -> None:
    """Run jobs in the foreground until stopped (Ctrl-C, SIGTERM or `worker stop`).

    The first Ctrl-C stops claiming and lets running jobs finish; a second one kills them
    and puts them back in the queue without using up an attempt.

    \b
    Examples:
      queuectl worker start --count 4
      queuectl worker start --count 4 --detach
      queuectl worker start --burst        # drain the queue, then exit
      queuectl worker start --queue video --queue audio
    """
    if detach:
        _start_detached(session, count, burst, verbose, quiet, queues)
        return
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(message)s", datefmt="%H:%M:%S",
    )
    queue = session.queue_when_reachable()  # the server may not be up yet
    if queue is not None:
        queue.serve_worker(count, worker_id=worker_id, queues=queues, burst=burst,
                           exiting=True)


def _start_detached(session: Session, count: int, burst: bool, verbose: bool,
                    quiet: bool, queues: tuple[str, ...] = ()) -> None:
    started = session.queue.start_worker_detached(count, queues=queues, burst=burst,
                                                  verbose=verbose, quiet=quiet)
    click.echo(f"Started worker {started.worker_id} (pid {started.pid}), "
               f"logging to {started.log_path}")


@worker.command()
@click.option("--id", "worker_id", metavar="ID", help="Stop only this worker.")
@click.option("--now", is_flag=True,
              help="Kill running jobs and put them back, instead of letting them finish.")
@click.option("--timeout", metavar="DURATION", help="Wait at most this long, e.g. 30s.")
@click.pass_context
def stop(ctx: click.Context, worker_id: str | None, now: bool, timeout: str | None) -> None:
    """Ask workers to stop and wait until they have exited.

    \b
    Examples:
      queuectl worker stop
      queuectl worker stop --timeout 1m
    """
    session: Session = ctx.obj
    seconds = None if timeout is None else parse_duration(timeout, field="--timeout")
    def paused(job_ids: list[str]) -> None:
        from ..states import paused_jobs

        click.echo(f"The stop waits for {paused_jobs(job_ids)}", err=True)

    def silent(silent_id: str, heartbeat: float, seconds: float) -> None:
        click.echo(f"worker {silent_id} wrote no heartbeat for {format_duration(seconds)} of"
                   f" waiting (its last: {format_timestamp(heartbeat)}): taken as lost, not"
                   " waited for", err=True)

    stopped, waiting = session.existing_queue.stop_workers(
        worker_id=worker_id, now=now, timeout=seconds, on_paused=paused, on_silent=silent,
        on_outage=lambda line: click.echo(line, err=True))
    if not stopped and not waiting:
        click.echo("No workers running.")
        return
    click.echo(f"Stopped {len(stopped)} worker{'s' if len(stopped) != 1 else ''}.")
    if waiting:
        click.echo(f"Still running after {timeout}: {', '.join(waiting)}", err=True)
        ctx.exit(1)


@worker.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def list_workers(session: Session, as_json: bool) -> None:
    """Every registered worker: running, stopping or lost.

    \b
    Example:
      queuectl worker list
    """
    queue = session.existing_queue
    listed = queue.worker_list()
    warn_refused(listed.refused_settings, workers=True)  # "lost" by the default lease
    workers = listed.workers
    if as_json:
        echo_json([w.to_dict() for w in workers])
    elif workers:
        workers_table(workers, queue.clock.now())
    else:
        click.echo("No workers.")
