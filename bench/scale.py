"""Item 7, scale: a database that already holds many finished jobs.

The rows are copies of one job that really ran (so they fit whatever the schema is today),
written with one ``INSERT ... SELECT`` over a counter per table: a million jobs and their
attempts take seconds, not the hours that running them would. Their ids are in the format of
real ones (the numbers enqueue hands out, the counter moved past them), and their runs are
spread over ``WINDOW_SECONDS`` before now, as a week of real work would be.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from common import Context, median, queuectl_argv, queuectl_env
from queuectl import Queue

_COUNTER = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
WINDOW_SECONDS = 7 * 86400.0


def _copy_rows(conn: sqlite3.Connection, table: str, key: str, template_id: str, rows: int,
               overrides: dict[str, str]) -> None:
    template = conn.execute(f"SELECT * FROM {table} WHERE {key} = ?", (template_id,)).fetchone()
    columns = [name for name in template.keys() if name != "seq"]
    exprs = [overrides.get(name, "?") for name in columns]
    params = [template[name] for name in columns if name not in overrides]
    conn.execute(
        f"INSERT INTO {table} ({', '.join(columns)}) {_COUNTER}"
        f"SELECT {', '.join(exprs)} FROM n", [rows, *params],
    )


def build(db: Path, rows: int) -> float:
    """Fill a new database with ``rows`` completed jobs (one attempt each); returns seconds."""
    started = time.perf_counter()
    with Queue(db) as queue:
        template = queue.enqueue("true")
        with queue.worker(1) as worker:
            worker.run_once()
        assert queue.get(template.id).state.value == "completed"
        now = time.time()
    conn = sqlite3.connect(db, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("BEGIN")
    # Spread over the last week, oldest first, as a real history would be; ids are numbers
    # after the template's, as enqueue hands them out.
    step = WINDOW_SECONDS / rows
    age = f"({now} - ({rows} - n.i) * {step!r})"
    first = int(template.id) + 1 if template.id.isdigit() else 1
    job_id = f"CAST(n.i + {first - 1} AS TEXT)"
    _copy_rows(conn, "jobs", "id", template.id, rows, {
        "id": job_id, "created_at": age, "updated_at": age, "run_at": age,
    })
    _copy_rows(conn, "attempts", "job_id", template.id, rows, {
        "job_id": job_id, "started_at": age, "finished_at": age,
    })
    conn.execute("UPDATE job_numbers SET next = ? WHERE next <= ?",
                 (first + rows, first + rows - 1))
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return time.perf_counter() - started


def cli_seconds(ctx: Context, db: Path, *args: str) -> float:
    """Median wall time of a read command (process start included) against ``db``, with a
    blocking wait (see ``enqueue._wall``: ``subprocess.run`` with a timeout polls)."""
    from enqueue import _wall

    env = queuectl_env(db)
    return median([_wall(queuectl_argv(*args), env) for _ in range(max(3, ctx.sizes.runs))])
