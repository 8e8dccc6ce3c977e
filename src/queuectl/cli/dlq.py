"""The dead letter queue: list dead jobs and retry them."""

from __future__ import annotations

import click

from ..models import JobState
from .context import Session
from .render import echo_json, echo_retried, jobs_table, more_notice
from .visible import visible


@click.group()
def dlq() -> None:
    """The dead letter queue: jobs whose retries ran out.

    \b
    Example:
      queuectl dlq list
      queuectl dlq retry job1
    """


@dlq.command("list")
@click.option("--limit", default=50, show_default=True, type=int, help="At most this many.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def list_dead(session: Session, limit: int, as_json: bool) -> None:
    """List dead jobs, newest first.

    \b
    Example:
      queuectl dlq list
    """
    queue = session.existing_queue
    listing = queue.listing(JobState.DEAD, limit=limit)
    if as_json:
        echo_json([job.to_dict() for job in listing.jobs])
    elif listing.jobs:
        jobs_table(listing.jobs, listing.runs, queue.clock.now())
    else:
        click.echo("The dead letter queue is empty.")
    if listing.more:
        click.echo(more_notice(limit), err=True)


@dlq.command()
@click.argument("job_ids", metavar="ID...", nargs=-1)
@click.option("--all", "retry_all", is_flag=True, help="Retry every dead job.")
@click.option("--tag", help="Retry every dead job with this tag.")
@click.pass_context
def retry(ctx: click.Context, job_ids: tuple[str, ...], retry_all: bool,
          tag: str | None) -> None:
    """Put dead jobs back to pending, attempts reset to 0 (their history is kept).

    A job that dies again at once (a dependency dead or removed) is named with why, and the
    exit status is 1. With --all or --tag, a job left dead (that, or a live job holds its
    unique key) is named on stderr and the exit status is 1; the others are retried.

    \b
    Examples:
      queuectl dlq retry job1 job2
      queuectl dlq retry --all
      queuectl dlq retry --tag nightly
    """
    if sum((retry_all, bool(job_ids), tag is not None)) != 1:
        raise click.UsageError("give job ids, --all or --tag (one of them)")
    session: Session = ctx.obj
    if job_ids:
        if echo_retried(session.existing_queue.retry(list(job_ids))):
            ctx.exit(1)
        return
    done = session.existing_queue.retry_dead_jobs(tag=tag)
    click.echo(f"Retried {len(done.retried)} dead job{'s' if len(done.retried) != 1 else ''}.")
    if done.left:  # asked for all of them: a script must not take this for done
        shown = ", ".join(f"{job_id} ({why})" for job_id, why in done.left[:10])
        more = f" and {len(done.left) - 10} more" if len(done.left) > 10 else ""
        click.echo(visible(f"Left dead: {shown}{more}."), err=True)
        ctx.exit(1)
