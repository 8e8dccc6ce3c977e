"""One connection per worker: it listens for wake-ups on the connection it works on, and
hears them again after that connection is lost."""

from __future__ import annotations

import os
import secrets
import select
import subprocess
import sys
from pathlib import Path

import pytest

from queuectl.hosts import HOST
from queuectl.models import JobState, NewJob
from queuectl.storage import open_storage
from queuectl.storage.base import WakeChannel, WorkerRegistration
from queuectl.storage.postgres.driver import PostgresDriver
from queuectl.storage.store import Store
from tests.helpers import wait_until

from .support import PG_URL

pytestmark = pytest.mark.postgres
T0 = 1_767_225_600.0


def _named(url: str) -> tuple[str, str]:
    """``url`` with an application_name of its own, to count its connections by."""
    name = "qtest_" + secrets.token_hex(4)
    return f"{url}&application_name={name}", name


def _connections(name: str) -> int:
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True) as admin:
        row = admin.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                            (name,)).fetchone()
    return int(row[0]) if row else 0


def _readable(channel: WakeChannel, timeout: float) -> bool:
    return bool(select.select([channel.fileno()], [], [], timeout)[0])


def _listening(store: Store, worker_id: str) -> WakeChannel:
    store.register_worker(WorkerRegistration(worker_id, HOST, os.getpid(), None, 1), T0)
    channel = store.wake_channel(worker_id)
    channel.drain()
    return channel


def test_a_listening_store_holds_one_connection(pg_url: str) -> None:
    url, name = _named(pg_url)
    store = open_storage(url)
    channel = _listening(store, "w1")
    try:
        assert _connections(name) == 1
        other = open_storage(pg_url)
        other.enqueue([NewJob("j", "true", 0)], T0)
        assert _readable(channel, 10)
        assert channel.drain() is False
        store.record_and_claim("w1", [], 1, T0, T0 + 30)  # works on the same connection
        assert _connections(name) == 1
        other.close()
    finally:
        channel.close()
        store.close()
    assert _connections(name) == 0


def test_a_wake_up_that_arrives_during_a_transaction_is_not_lost(pg_url: str) -> None:
    store = open_storage(pg_url)
    other = open_storage(pg_url)
    channel = _listening(store, "w1")
    try:
        other.enqueue([NewJob("j", "true", 0)], T0)
        # The notification reaches the socket; this read consumes it with its own results.
        wait_until(lambda: _readable(channel, 0.05), timeout=10, message="the wake-up")
        store.get("j")
        store.config_items()
        assert _readable(channel, 0)  # psycopg handed it over: the channel rang for it
        channel.drain()
        assert not _readable(channel, 0.05)
    finally:
        channel.close()
        other.close()
        store.close()


def test_the_worker_hears_wake_ups_again_after_its_connection_was_cut(pg_url: str) -> None:
    import psycopg

    store = open_storage(pg_url)
    other = open_storage(pg_url)
    channel = _listening(store, "w1")
    try:
        driver = store.db
        assert isinstance(driver, PostgresDriver)
        pid = driver.connector.run(lambda conn, _: conn.info.backend_pid, transaction=False)
        with psycopg.connect(PG_URL, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))

        def drained_the_lost_connection() -> bool:
            if _readable(channel, 0.05):  # the server's last word, then the socket's end
                channel.drain()
            return driver.connector.current() is None

        wait_until(drained_the_lost_connection, timeout=10, message="the loss to be noticed")
        assert not _readable(channel, 0.1)  # nothing rings until the connection is back
        store.next_run_at()  # the worker's next operation connects again...
        assert _readable(channel, 0)  # ...and looks once, for what it missed
        channel.drain()
        other.enqueue([NewJob("j", "true", 0)], T0)
        assert _readable(channel, 10)  # and it listens again
    finally:
        channel.close()
        other.close()
        store.close()


def test_a_closed_channel_leaves_the_store_listening_to_nothing(pg_url: str) -> None:
    store = open_storage(pg_url)
    channel = _listening(store, "w1")
    channel.close()
    driver = store.db
    assert isinstance(driver, PostgresDriver)
    listening = driver.connector.run(
        lambda conn, _: conn.execute("SELECT count(*) FROM pg_listening_channels()").fetchone(),
        transaction=False)
    assert listening == (0,)
    store.close()


def test_a_worker_process_holds_one_connection(pg_url: str, tmp_path: Path) -> None:
    url, name = _named(pg_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUEUECTL_")}
    env["QUEUECTL_DB"] = url
    with (tmp_path / "worker.log").open("wb") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "queuectl", "worker", "start", "--count", "3"], env=env,
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: _connections(name) > 0, timeout=30, message="the worker to connect")
        store = open_storage(pg_url)
        store.enqueue([NewJob(f"j{n}", "true", 0) for n in range(5)], T0)
        wait_until(lambda: store.count_by_state().get(JobState.COMPLETED) == 5, timeout=30,
                   message="the jobs to complete")
        store.close()
        # A connection closed a moment ago may still be listed while its backend exits.
        wait_until(lambda: _connections(name) == 1, timeout=10,
                   message="the worker process to hold one connection")
        assert _connections(name) == 1
    finally:
        worker.terminate()
        worker.wait(timeout=30)
