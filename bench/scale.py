"""Item 7, scale: a database that already holds many finished jobs.

The rows are copies of one job that really ran (so they fit whatever the schema is today),
written with one ``INSERT ... SELECT`` over a counter per table: a million jobs and their
attempts take seconds, not the hours that running them would. Their ids are in the format of
real ones (the numbers enqueue hands out, the counter moved past them), and their runs are
spread over ``WINDOW_SECONDS`` before now, as a week of real work would be. They are counted
by the store's own statements, as an import counts the jobs and runs it writes (the jobs per
queue and state that ``status`` reads, the rollups that ``stats`` reads), and the build
checks the counts against the rows.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from common import Context, median, queuectl_argv, queuectl_env
from queuectl import Queue
from queuectl.storage.base import INTERRUPTED
from queuectl.storage.sqlite.driver import QUERIES

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


def _run_named(conn: sqlite3.Connection, name: str, params: dict[str, Any]) -> None:
    """One of the store's named statements (a script of several, or one)."""
    query = QUERIES[name]
    for statement in (query,) if isinstance(query, str) else query:
        conn.execute(statement, params)


def _check_counts(conn: sqlite3.Connection) -> None:
    """What ``status`` and ``stats`` read agrees with the rows, or the build stops."""
    counted = dict(conn.execute("SELECT state, SUM(n) FROM job_counts GROUP BY state"
                                " HAVING SUM(n) != 0").fetchall())
    stored = dict(conn.execute("SELECT state, COUNT(*) FROM jobs GROUP BY state").fetchall())
    (runs,) = conn.execute("SELECT COUNT(*) FROM attempts WHERE finished_at IS NOT NULL"
                           ).fetchone()
    (rolled,) = conn.execute("SELECT SUM(completed + failed) FROM run_minutes").fetchone()
    if counted != stored or rolled != runs:
        raise SystemExit(f"the counts hold {counted} and {rolled} runs; the rows {stored}"
                         f" and {runs} runs")


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
    # The copies are the newest rows: counted as the store counts the jobs it inserts.
    _run_named(conn, "count_new_jobs", {"count": rows})
    _copy_rows(conn, "attempts", "job_id", template.id, rows, {
        "job_id": job_id, "started_at": age, "finished_at": age,
    })
    # Their runs, into the rollups, as an import counts the runs it writes.
    ids = json.dumps([str(first + i) for i in range(rows)])
    _run_named(conn, "count_restored_runs", {"ids": ids, "interrupted": INTERRUPTED})
    conn.execute("UPDATE job_numbers SET next = ? WHERE next <= ?",
                 (first + rows, first + rows - 1))
    _check_counts(conn)
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return time.perf_counter() - started


def cli_seconds(ctx: Context, db: Path, *args: str) -> float:
    """Median wall time of a read command (process start included) against ``db``, with a
    blocking wait (see ``enqueue._wall``: ``subprocess.run`` with a timeout polls)."""
    from enqueue import _wall

    env = queuectl_env(db)
    calls = max(ctx.sizes.cli_calls, ctx.sizes.runs)
    return median([_wall(queuectl_argv(*args), env) for _ in range(calls)])
