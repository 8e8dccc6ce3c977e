"""The scheduling flags of ``enqueue``: when, where and after what a job may run."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click

_OPTIONS = (
    click.option("--priority", type=int, help="Higher runs first (default 0)."),
    click.option("--delay", metavar="DURATION", help="Run no sooner than this from now, e.g. 5m."),
    click.option("--run-at", metavar="TIME", help="Run no sooner than this ISO 8601 time."),
    click.option("--queue", "queue_name", metavar="NAME", help="The queue (default: default)."),
    click.option("--after", "after", multiple=True, metavar="ID",
                 help="Run only after this job completed (repeatable)."),
    click.option("--unique-key", metavar="KEY",
                 help="Enqueue nothing while a live job has this key; report that job."),
    click.option("--tag", "tags", multiple=True, metavar="TAG", help="Tag the job (repeatable)."),
)


def scheduling_flags(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add the flags to ``command``, which receives them as one ``scheduling`` dict of the
    fields given (JSON names: priority, delay, run_at, queue, depends_on, unique_key, tags)."""

    @functools.wraps(command)
    def wrapper(*args: Any, priority: int | None, delay: str | None, run_at: str | None,
                queue_name: str | None, after: tuple[str, ...], unique_key: str | None,
                tags: tuple[str, ...], **kwargs: Any) -> Any:
        fields = {
            "priority": priority, "delay": delay, "run_at": run_at, "queue": queue_name,
            "depends_on": list(after) or None, "unique_key": unique_key,
            "tags": list(tags) or None,
        }
        scheduling = {key: value for key, value in fields.items() if value is not None}
        return command(*args, scheduling=scheduling, **kwargs)

    for option in reversed(_OPTIONS):
        wrapper = option(wrapper)
    return wrapper

