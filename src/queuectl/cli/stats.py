"""The stats command: what finished lately, per queue."""

from __future__ import annotations

import click

from ..stats import Summary
from ..units import human_duration, human_rate
from .context import Session
from .render import echo_json, table, when


@click.command()
@click.option("--since", default="1h", show_default=True, metavar="DURATION",
              help="How far back to look: 30m, 1h, 1d...")
@click.option("--queue", "queue_name", metavar="NAME", help="Only this queue.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def stats(session: Session, since: str, queue_name: str | None, as_json: bool) -> None:
    """Completed, failed and dead counts, success rate, throughput, and p50/p95/max of run
    time and of wait time (enqueue to first start), per queue.

    \b
    Examples:
      queuectl stats
      queuectl stats --since 1d --queue default --json
    """
    result = session.existing_queue.stats(since, queue=queue_name)
    if as_json:
        echo_json(result.to_dict())
        return
    click.echo(f"Runs finished since {when(result.since)} (the last {since.strip()})")
    if not result.queues:
        click.echo("\nNone." if queue_name is None else f"\nNone in queue {queue_name}.")
        return
    rows = [_row(summary) for summary in result.queues]
    if len(result.queues) > 1:
        rows.append(_row(result.total))
    click.echo()
    table(("QUEUE", "COMPLETED", "FAILED", "DEAD", "SUCCESS", "THROUGHPUT", "RUN p50", "p95",
           "max", "WAIT p50", "p95", "max"), rows)


def _row(summary: Summary) -> tuple[str, ...]:
    run, wait = summary.run_time, summary.wait_time
    rate = summary.success_rate
    return (
        summary.queue or "(all)",
        str(summary.completed),
        str(summary.failed),
        str(summary.dead),
        "-" if rate is None else f"{rate * 100:.1f}%",
        human_rate(summary.throughput),
        *(human_duration(v) for v in ((run.p50, run.p95, run.max) if run else (None,) * 3)),
        *(human_duration(v) for v in ((wait.p50, wait.p95, wait.max) if wait else (None,) * 3)),
    )
