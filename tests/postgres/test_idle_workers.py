"""Issue 12, idle cost on PostgreSQL: an idle worker that hears every wake-up polls once a
heartbeat, and one housekeeper wakes idle workers for jobs whose time came without any
wake-up (a delay or a retry's backoff ran out). A job due then still starts on time while
the housekeeper itself is busy."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from queuectl import Queue
from queuectl.clock import FakeClock
from tests.helpers import Cli, WorkerPool, wait_until

pytestmark = pytest.mark.postgres


def test_a_job_whose_time_comes_unannounced_starts_on_time_while_the_housekeeper_is_busy(
    pg_url: str, cli: Cli, tmp_path: Path
) -> None:
    cli.env["QUEUECTL_DB"] = pg_url
    pool = WorkerPool(cli, pg_url, tmp_path)
    try:
        with Queue(pg_url, environ={}) as queue:
            queue.enqueue({"id": "long", "command": "sleep 60"})
            pool.start(1)  # the first registered: the housekeeper, busy from now on
            wait_until(lambda: queue.get("long").state.value == "processing", timeout=30,
                       message="the housekeeper to start the long job")
            pool.start(1)  # idle, and told at once that it is not the housekeeper
            schema = pg_url.rsplit("schema=", 1)[1]
            with psycopg.connect(pg_url.split("?", 1)[0], autocommit=True) as conn:

                def listed_idle() -> int:
                    row = conn.execute(f"SELECT count(*) FROM {schema}.idle_workers").fetchone()
                    return int(row[0]) if row else 0

                wait_until(lambda: listed_idle() == 1, timeout=30, message="one idle worker")
                # Known to the idle worker, whom its enqueue woke (and took off the list
                # until it looked): due in an hour.
                queue.enqueue({"id": "moved", "command": "true", "delay": "1h"})
                wait_until(lambda: listed_idle() == 1, timeout=30,
                           message="the idle worker to look, and list itself again")
                # Moved behind the workers' backs, as nothing in queuectl does: no wake-up.
                # The idle worker would find it at its next heartbeat, up to 10 s late.
                due = queue.storage.clock().now() + 2
                conn.execute(f"UPDATE {schema}.jobs SET run_at = %s WHERE id = 'moved'",
                             (due,))
            wait_until(lambda: queue.get("moved").state.value == "completed", timeout=30,
                       interval=0.05, message="the moved job to run")
            [attempt] = queue.attempts("moved")
            assert attempt.started_at is not None
            assert attempt.started_at - due < 3.0  # the heartbeat's poll would be up to 10 s
    finally:
        pool.close()


def test_only_the_housekeeper_keeps_to_the_poll_interval(pg_url: str) -> None:
    """Stepped on a fake clock: the first worker is the housekeeper and wakes within a
    poll_interval (1 s); the second, idle and listening, sleeps until its heartbeat (10 s)."""
    clock = FakeClock(1_767_225_600.0)
    with Queue(pg_url, clock=clock, environ={}) as queue:
        with queue.worker() as first:
            first.run_once(wait=False)
            clock.advance(1)
            with queue.worker() as second:  # registered a second later
                second.run_once(wait=False)
                first.run_once(wait=False)  # its housekeeping, due again
                assert first._heartbeat.housekeeper and not second._heartbeat.housekeeper
                wait, why = first._sleeper.next_wake()
                assert wait is not None and wait <= 1.0, why
                wait, why = second._sleeper.next_wake()
                assert wait == pytest.approx(10.0, abs=0.1), why
                # A stop request still arrives at once, by NOTIFY, whatever the poll.
                queue.storage.request_stop(None, "graceful")
                heard = second._doorbell.wait(10.0)
                assert (heard.timed_out, heard.check_in) == (False, True)


def test_a_housekeeper_that_stops_hands_over_at_once(pg_url: str) -> None:
    """The others check in when it unregisters, instead of at their next heartbeat: schedule
    ticks go on through a rolling restart."""
    clock = FakeClock(1_767_225_600.0)
    with Queue(pg_url, clock=clock, environ={}) as queue:
        first = queue.worker()
        first.start()
        clock.advance(1)
        with queue.worker() as second:
            second.run_once(wait=False)
            assert not second._heartbeat.housekeeper
            first.close()
            assert not second._sleeper.wait(10.0, "the hand-over")  # rung: a check-in is due
            second.run_once(wait=False)  # on the fake clock its heartbeat is 10 s away
            assert second._heartbeat.housekeeper
