"""Limited queues lock only themselves (issue 12 item 6): a claim on unlimited queues takes no
queue lock, a claim that reaches a limited queue locks that queue's row and no other.

Another session holds row locks on queues, as a claimer in the middle of its transaction
would; a claim that needs none of them goes through at once, and one that needs a locked
queue waits for it (seen in pg_stat_activity as a wait on a lock, never timed).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from queuectl import Queue
from queuectl.models import Job
from queuectl.storage.postgres.driver import PostgresDriver
from tests.helpers import wait_until

from .support import PG_URL

pytestmark = pytest.mark.postgres
T0 = 1_767_225_600.0


@pytest.fixture
def queue(pg_url: str) -> Iterator[Queue]:
    with Queue(pg_url, environ={}) as q:
        q.queues.limit("slow", 1)
        q.queues.limit("other", 1)
        yield q


@pytest.fixture
def holder(queue: Queue) -> Iterator[psycopg.Connection[Any]]:
    """A session of its own in the queue's schema, in a transaction."""
    driver = queue.storage.db
    assert isinstance(driver, PostgresDriver)
    schema = driver.schema
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'SET search_path TO "{schema}"')
        conn.execute("BEGIN")
        yield conn
        conn.execute("ROLLBACK")


class Claim(threading.Thread):
    def __init__(self, queue: Queue, limit: int) -> None:
        super().__init__(daemon=True)
        self.queue, self.limit = queue, limit
        self.claimed: list[Job] = []

    def run(self) -> None:
        now = self.queue.clock.now()
        self.claimed, _ = self.queue.storage.record_and_claim("w", [], self.limit, now, now + 30)


def _claim_now(queue: Queue, limit: int) -> list[str]:
    claim = Claim(queue, limit)
    claim.start()
    claim.join(20)
    assert not claim.is_alive(), "the claim waited for a queue lock it does not need"
    return [job.id for job in claim.claimed]


def test_a_claim_on_unlimited_queues_takes_no_queue_lock(
        queue: Queue, holder: psycopg.Connection[Any]) -> None:
    queue.enqueue("true", id="free")
    queue.enqueue("true", id="free2", queue="batch")
    holder.execute("SELECT name FROM queues FOR UPDATE")  # every queue, limited or not
    assert sorted(_claim_now(queue, 8)) == ["free", "free2"]


def test_a_claim_on_a_limited_queue_locks_only_that_queue(
        queue: Queue, holder: psycopg.Connection[Any]) -> None:
    queue.enqueue("true", id="mine", queue="slow", priority=5)
    queue.enqueue("true", id="free")
    holder.execute("SELECT name FROM queues WHERE name = 'other' FOR UPDATE")
    assert _claim_now(queue, 1) == ["mine"]
    assert _claim_now(queue, 8) == ["free"]  # "slow" is at its limit now

    # A claimer of "other" holds its row: a claim whose best job is in "other" waits.
    queue.enqueue("true", id="waits", queue="other", priority=9)
    claim = Claim(queue, 1)
    claim.start()
    wait_until(lambda: _waiting_on_a_lock(holder), message="the claim waiting for 'other'")
    holder.execute("ROLLBACK")
    claim.join(20)
    assert [job.id for job in claim.claimed] == ["waits"]
    holder.execute("BEGIN")


def _waiting_on_a_lock(holder: psycopg.Connection[Any]) -> bool:
    holder.execute("SELECT pg_stat_clear_snapshot()")  # else a transaction sees one snapshot
    row = holder.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
        " AND application_name = 'queuectl' AND query LIKE '%%FOR UPDATE%%'").fetchone()
    return bool(row and row[0])
