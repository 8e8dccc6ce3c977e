"""Named queues: their jobs per state, and the settings that pause or limit them.

A queue exists while it has jobs or a setting; only settings are stored, and a queue back to
its defaults loses its row, so that the claim (which probes the table for every job it
considers) finds nothing to check.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..states import STATE_VALUES, JobState

if TYPE_CHECKING:
    from ..models import QueueInfo
    from .driver import Driver, Transaction


def queues(db: Driver) -> list[QueueInfo]:
    """Every queue that has jobs or a setting, by name."""
    from ..models import QueueInfo

    counts_rows, settings_rows = db.read(
        lambda tx: (tx.all("jobs_per_queue"), tx.all("queue_settings")), snapshot=True)
    counts: dict[str, dict[JobState, int]] = {}
    for name, state, count in counts_rows:
        if state in STATE_VALUES:  # a state edited by hand into none is counted in none
            counts.setdefault(_shown(name), {})[JobState(state)] = count
    settings = {_shown(name): (bool(paused), limit) for name, paused, limit in settings_rows}
    return [QueueInfo(name, counts.get(name, {}), *settings.get(name, (False, None)))
            for name in sorted(counts.keys() | settings.keys())]


def _shown(name: object) -> str:
    """A queue's name; one edited by hand into bytes (SQLite) as tables show such a value,
    ``(unreadable) b'video'``: sorted among text names, it failed queue list and the Queues
    page."""
    if isinstance(name, str):
        return name
    from ..unreadable import marked

    return marked(name)


def set_paused(db: Driver, name: str, paused: bool) -> None:
    def write(tx: Transaction) -> None:
        tx.run("set_queue_paused", {"name": name, "paused": paused})
        tx.run("drop_plain_queues")
        if not paused:
            tx.wake()

    db.write(write)


def set_limit(db: Driver, name: str, limit: int | None) -> None:
    def write(tx: Transaction) -> None:
        tx.run("set_queue_limit", {"name": name, "max_running": limit})
        tx.run("drop_plain_queues")
        tx.wake()

    db.write(write)
