"""Rows to values, the same for every backend (rows are read by column name: sqlite3.Row
and psycopg's dict rows alike).

Each backend runs its own SQL; what the rows mean does not depend on the backend, so it is
written once here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..states import JobState

if TYPE_CHECKING:
    from ..models import QueueInfo, WorkerInfo



def queue_infos(count_rows: Iterable[Any], setting_rows: Iterable[Any]) -> list[QueueInfo]:
    """Every queue that has jobs (``queue, state, n`` rows) or a setting (``name, paused,
    max_running`` rows), by name."""
    from ..models import QueueInfo

    counts: dict[str, dict[JobState, int]] = {}
    for row in count_rows:
        counts.setdefault(row["queue"], {})[JobState(row["state"])] = row["n"]
    settings = {row["name"]: row for row in setting_rows}
    return [
        QueueInfo(
            name=name, counts=counts.get(name, {}),
            paused=bool(settings[name]["paused"]) if name in settings else False,
            limit=settings[name]["max_running"] if name in settings else None,
        )
        for name in sorted(counts.keys() | settings.keys())
    ]


def worker_infos(rows: Iterable[Any]) -> list[WorkerInfo]:
    from ..models import WorkerInfo

    return [
        WorkerInfo(
            id=row["id"], host=row["host"], pid=row["pid"], slots=row["slots"],
            started_at=row["started_at"], heartbeat_at=row["heartbeat_at"],
            running=row["running"], stop_requested=row["stop_requested"],
        )
        for row in rows
    ]
