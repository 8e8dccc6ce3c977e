"""Storage errors reach the caller as one line: a full disk, a lock held past the busy
timeout, a database from a newer queuectl, a rule this queuectl does not know. The CLI says
so on one line of stderr and exits 1; nothing is half written."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from queuectl import Queue
from queuectl.errors import DuplicateJob, StorageError
from queuectl.storage import Storage, open_storage
from queuectl.storage.sqlite.migrate import MIGRATIONS
from tests import helpers
from tests.helpers import Cli, fill

from .conftest import execute_raw


def _one_line_error(stderr: str, *parts: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr  # no traceback, no second error from a rollback
    assert lines[0].startswith("error: "), stderr
    for part in parts:
        assert part in lines[0], stderr


def test_a_lock_held_past_the_busy_timeout_is_one_line_and_changes_nothing(
    cli: Cli, db_path: Path
) -> None:
    cli("enqueue", "-c", "true", "--id", "before")
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process writing, and never finishing
    try:
        cli.env["QUEUECTL_BUSY_TIMEOUT"] = "200ms"
        result = cli("enqueue", "-c", "true", "--id", "blocked", check=1)
        _one_line_error(result.stderr, "database is locked", "busy timeout (0.2 s)")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    listed = cli("list", "--json").stdout
    assert "before" in listed and "blocked" not in listed


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    yield from helpers.small_disk(tmp_path, "2m")


def test_a_full_disk_is_one_line_and_the_jobs_stored_before_stay(
    cli: Cli, small_disk: Path
) -> None:
    db = small_disk / "queue.db"
    cli.env["QUEUECTL_DB"] = str(db)
    cli("enqueue", "-c", "true", "--id", "before")
    opened = open_storage(db)  # a worker, say, keeps the database (and its WAL) open
    fill(small_disk / "filler")  # the disk fills up meanwhile
    jobs = small_disk.parent / "jobs.jsonl"
    jobs.write_text("".join(f'{{"command": "echo {"x" * 200} {n}"}}\n' for n in range(20_000)))
    result = cli("enqueue", "--file", str(jobs), check=1)
    _one_line_error(result.stderr, str(db), "disk is full")
    opened.close()
    (small_disk / "filler").unlink()
    counts = cli("status", "--json").stdout
    assert '"pending": 1' in counts  # the batch was all or nothing


def test_a_database_from_a_newer_queuectl_is_refused_with_both_versions(
    cli: Cli, db_path: Path
) -> None:
    cli("enqueue", "-c", "true")
    newer = len(MIGRATIONS) + 4
    with sqlite3.connect(db_path) as db:
        db.execute(f"PRAGMA user_version = {newer}")
    for command in (["status"], ["enqueue", "-c", "true"], ["db", "status"], ["db", "upgrade"]):
        result = cli(*command, check=1)
        _one_line_error(result.stderr, f"schema version {newer}", f"({len(MIGRATIONS)})",
                        "upgrade queuectl")


def test_a_newer_postgres_schema_is_refused_with_both_versions(storage: Storage) -> None:
    if "://" not in storage.url:
        pytest.skip("the SQLite case is tested through the CLI above")
    from queuectl.storage.postgres.migrate import NAMES

    execute_raw(storage, "INSERT INTO schema_version (version, name, applied_at)"
                         f" VALUES ({len(NAMES) + 1}, 'from_the_future', 0)")
    with pytest.raises(StorageError, match=rf"schema version {len(NAMES) + 1}, newer .*"
                                           rf"\({len(NAMES)}\)"):
        open_storage(storage.url)


def test_a_rule_this_queuectl_does_not_know_is_not_taken_for_a_duplicate(
    storage: Storage,
) -> None:
    """A constraint from elsewhere (a newer schema, a hand-made rule) refuses a write: the
    caller hears what it said, not that the job's id exists."""
    if "://" in storage.url:
        execute_raw(storage, "ALTER TABLE jobs ADD CONSTRAINT no_boom CHECK (command <> 'boom')")
    else:
        execute_raw(storage, "CREATE TRIGGER no_boom BEFORE INSERT ON jobs"
                             " WHEN NEW.command = 'boom' BEGIN SELECT RAISE(ABORT, 'no_boom'); END")
    with Queue(storage.url) as queue:
        with pytest.raises(StorageError, match="no_boom") as caught:
            queue.enqueue("boom", id="j1")
        assert not isinstance(caught.value, DuplicateJob)
        queue.enqueue("true", id="j1")  # the id was free all along
        with pytest.raises(DuplicateJob, match="j1"):
            queue.enqueue("true", id="j1")
