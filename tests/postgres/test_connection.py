"""The PostgreSQL store's connection: URLs, lost connections, commits in doubt, migrations."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest

from queuectl.errors import InvalidInput, StorageError
from queuectl.models import JobState, NewJob, Outcome
from queuectl.storage import open_storage
from queuectl.storage.postgres.connection import parse_url
from queuectl.storage.postgres.driver import PostgresDriver
from queuectl.storage.store import Store

from .support import PG_URL

T0 = 1_767_225_600.0
pytestmark = pytest.mark.postgres


def _store(url: str) -> Store:
    store = open_storage(url)
    assert isinstance(store.db, PostgresDriver)
    return store


def _driver(store: Store) -> PostgresDriver:
    assert isinstance(store.db, PostgresDriver)
    return store.db


def _backend_pid(store: Store) -> int:
    return int(_driver(store).connector.run(lambda conn, _: conn.info.backend_pid,
                                            transaction=False))


def _terminate(pid: int) -> None:
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


def test_the_url_names_the_schema_and_hides_the_password() -> None:
    location = parse_url("postgresql://u:s3cret@db:5433/jobs?schema=team_a&sslmode=prefer")
    assert location.schema == "team_a"
    assert location.conninfo == "postgresql://u:s3cret@db:5433/jobs?sslmode=prefer"
    assert "s3cret" not in location.display
    assert parse_url("postgres://db/jobs").schema == "queuectl"
    with pytest.raises(InvalidInput, match="schema"):
        parse_url("postgresql://db/jobs?schema=Robert');DROP")


def test_the_tables_live_in_the_named_schema(pg_url: str) -> None:
    import psycopg

    store = _store(pg_url)
    store.enqueue([NewJob("j", "true", 0)], T0)
    schema = parse_url(pg_url).schema
    with psycopg.connect(PG_URL) as conn:
        row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f"{schema}.jobs",)).fetchone()
        public = conn.execute("SELECT to_regclass('public.jobs') IS NULL").fetchone()
    store.close()
    assert row == (True,) and public == (True,)


def test_a_store_reconnects_when_the_server_ends_its_session(pg_url: str) -> None:
    store = _store(pg_url)
    store.enqueue([NewJob("a", "true", 0)], T0)
    old = _backend_pid(store)
    _terminate(old)
    store.enqueue([NewJob("b", "true", 0)], T0)  # retried once on a new connection
    assert _backend_pid(store) != old
    assert store.count_by_state()[JobState.PENDING] == 2
    store.close()


def test_an_unreachable_server_is_one_clear_error() -> None:
    with pytest.raises(StorageError) as caught:
        open_storage("postgresql://nobody:pw@127.0.0.1:1/test?connect_timeout=2")
    message = str(caught.value)
    assert message.startswith("cannot reach PostgreSQL at postgresql://nobody:***@127.0.0.1:1/")
    assert "Connection refused" in message and ":pw@" not in message and "\n" not in message


def test_a_commit_in_doubt_is_retried_without_doubling_anything(
        pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The connection died during COMMIT, and the commit had in fact been applied: the retry
    must hand back the jobs the first try claimed and accept its own recorded outcome."""
    store = _store(pg_url)
    store.enqueue([NewJob(f"j{i}", "true", 0) for i in range(3)], T0)
    [held], _ = store.record_and_claim("w", [], 1, T0, T0 + 30)
    done = Outcome(held.id, held.runs, JobState.COMPLETED, T0 + 1, exit_code=0)
    first_try = store.record_and_claim("w", [done], 1, T0 + 1, T0 + 31)  # it committed...

    driver = _driver(store)
    connector = driver.connector
    in_doubt_once = connector.run

    def run_in_doubt(operation: Callable[[Any, bool], Any], **options: Any) -> Any:
        # ...but we never heard back: the operation runs again, told that it may have.
        return in_doubt_once(lambda conn, _: operation(conn, True), **options)

    with monkeypatch.context() as patched:
        patched.setattr(connector, "run", run_in_doubt)
        jobs, stale = store.record_and_claim("w", [done], 2, T0 + 1, T0 + 31)
    assert stale == []  # the outcome the first try recorded is ours, not a stale worker's
    first_ids = [job.id for job in first_try[0]]
    assert [job.id for job in jobs][: len(first_ids)] == first_ids
    assert len(jobs) == 2  # the first try's job again, and one more to fill the limit
    assert store.count_by_state()[JobState.PROCESSING] == 2
    store.close()


def test_many_processes_migrating_at_once_apply_each_version_once(pg_url: str) -> None:
    code = "import sys; from queuectl.storage import open_storage; open_storage(sys.argv[1])"
    procs = [subprocess.Popen([sys.executable, "-c", code, pg_url]) for _ in range(6)]
    assert [proc.wait(timeout=60) for proc in procs] == [0] * 6
    store = _store(pg_url)
    rows = _driver(store).connector.run(
        lambda conn, _: conn.execute("SELECT version FROM schema_version").fetchall(),
        transaction=False,
    )
    from queuectl.storage.postgres.migrate import NAMES

    assert sorted(row[0] for row in rows) == list(range(1, len(NAMES) + 1))
    store.close()


def test_durability_normal_turns_synchronous_commit_off(pg_url: str) -> None:
    def setting(store: Store) -> str:
        [(value,)] = _driver(store).connector.run(
            lambda conn, _: conn.execute("SHOW synchronous_commit").fetchall(),
            transaction=False)
        return str(value)

    store = _store(pg_url)
    assert setting(store) == "on"
    store.set_config("durability", "normal")
    store.close()
    relaxed = _store(pg_url)
    assert setting(relaxed) == "off"
    _terminate(_backend_pid(relaxed))  # the connection that replaces it gets the setting too
    assert setting(relaxed) == "off"
    relaxed.close()
