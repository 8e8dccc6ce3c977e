"""Rows become jobs by column position, whatever the statement's columns."""

from __future__ import annotations

import json
from pathlib import Path

from queuectl.models import NewJob
from queuectl.storage.rows import JobRows
from queuectl.storage.sqlite.driver import SqliteDriver
from queuectl.storage.store import Store

T0 = 1_767_225_600.0


def test_rows_of_any_column_order_and_extra_columns_give_the_same_job(tmp_path: Path) -> None:
    driver = SqliteDriver(tmp_path / "queue.db")
    store = Store(driver)
    store.enqueue([NewJob("dep", "true", 0)], T0)
    job = NewJob("j", "echo hi", 2, cwd="/tmp", env={"A": "1"}, timeout=1.5,
                 fatal_exit_codes=(3, 4), retry_on_timeout=False, output_limit=100, priority=5,
                 queue="q", depends_on=("dep",), unique_key="k", tags=("a", "b"),
                 backoff_base=3.0, backoff_max=60.0, jitter=0.5)
    [stored] = store.enqueue([job], T0)
    assert store.get("j") == stored
    db = driver.connection()
    names = [row[1] for row in db.execute("PRAGMA table_info(jobs)")]
    cursor = db.execute(f"SELECT 'extra' AS first, {', '.join(reversed(names))}, 42 AS last"
                        " FROM jobs ORDER BY seq")
    columns = tuple(column[0] for column in cursor.description)
    rows = JobRows(lambda text: tuple(json.loads(text)))
    assert rows.decode(columns, cursor.fetchall())[1] == stored
    assert rows.decode(columns, []) == []
    store.close()
