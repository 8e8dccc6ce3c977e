"""People's commands racing each other on PostgreSQL, where two transactions run at once.

A session of the test's own holds a job's row lock, as a transaction in flight would; the
commands, the real CLI in subprocesses, queue behind it in a known order, and the lock is let go.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from queuectl import Queue
from tests.helpers import Cli, wait_until

from .support import PG_URL

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_cli(cli: Cli, pg_url: str) -> Cli:
    return Cli({**cli.env, "QUEUECTL_DB": pg_url}, cli.cwd)


@pytest.fixture
def holder(pg_url: str) -> Iterator[psycopg.Connection[Any]]:
    """A session in the queue's schema, in a transaction."""
    schema = pg_url.split("schema=")[1].split("&")[0]
    with psycopg.connect(PG_URL) as conn:
        conn.execute(f'SET search_path TO "{schema}"')
        yield conn


# As a worker records base's last failed run: its trigger kills the waiting dependents.
DIE = "UPDATE jobs SET state = 'dead', worker_id = NULL, lease_until = NULL WHERE id = 'base'"


def _claim(pg_url: str, job_id: str) -> None:
    """A worker's claim, which runs ``job_id``."""
    with Queue(pg_url, environ={}) as queue:
        now = queue.clock.now()
        claimed, _ = queue.storage.record_and_claim("w", [], 1, now, now + 60)
    assert [job.id for job in claimed] == [job_id]


def _waiting_behind(holder: psycopg.Connection[Any], count: int) -> bool:
    """Whether ``count`` sessions wait, directly or in a chain, for ``holder``'s locks."""
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        blocked = {pid: set(blockers) for pid, blockers in admin.execute(
            "SELECT pid, pg_blocking_pids(pid) FROM pg_stat_activity"
            " WHERE cardinality(pg_blocking_pids(pid)) > 0")}
    behind = {holder.info.backend_pid}
    while grown := {pid for pid, blockers in blocked.items()
                    if blockers & behind and pid not in behind}:
        behind |= grown
    return len(behind) - 1 >= count


def test_remove_racing_an_enqueue_after_the_job_refuses_one_of_them(
        pg_cli: Cli, pg_url: str, holder: psycopg.Connection[Any]) -> None:
    """An enqueue ``--after base`` in flight when ``remove base`` began: the remove read no
    dependent, then deleted ``base`` once the enqueue committed, and the new job waited on a
    job that was gone (until the housekeeping buried it dead), both commands exit 0."""
    pg_cli("add", "--id", "base", "true")
    holder.execute("SELECT id FROM jobs WHERE id = 'base' FOR UPDATE")
    enqueue = pg_cli.spawn("add", "--id", "after", "--after", "base", "true")
    wait_until(lambda: _waiting_behind(holder, 1), message="the enqueue to wait for the lock")
    remove = pg_cli.spawn("remove", "base")
    wait_until(lambda: _waiting_behind(holder, 2), message="the remove to wait for it too")
    holder.rollback()
    enqueued, removed = enqueue.communicate(timeout=30), remove.communicate(timeout=30)
    assert enqueue.returncode == 0, enqueued
    assert remove.returncode == 1, removed
    assert removed[1] == ("error: job 'base': job 'after' waits on it (remove or cancel that"
                          " one too); nothing removed\n")
    with Queue(pg_url, environ={}) as queue:
        assert [job.id for job in queue.jobs()] == ["after", "base"]


def test_retry_racing_the_death_of_a_dependency_ends_the_job_dead(
        pg_cli: Cli, pg_url: str, holder: psycopg.Connection[Any]) -> None:
    """``retry after`` while ``base``, which it waits on, ends dead in a transaction not yet
    committed: the death killed no dependent (``after`` was canceled in its snapshot), and the
    retry read ``base`` still running, so ``after`` waited for ever on a dead job (no
    housekeeping buries it: its count is right). The retry now waits for that transaction, and
    the job is dead again at once, as the retry says."""
    pg_cli("add", "--id", "base", "true")
    pg_cli("add", "--id", "after", "--after", "base", "true")
    pg_cli("cancel", "after")
    _claim(pg_url, "base")
    holder.execute(DIE)
    retry = pg_cli.spawn("retry", "after")
    wait_until(lambda: retry.poll() is not None or _waiting_behind(holder, 1),
               message="the retry to end or to wait for the lock")
    holder.commit()
    out, err = retry.communicate(timeout=30)
    assert (retry.returncode, out) == (
        1, "Retried after: dead again at once: dependency base dead\n"), err
    with Queue(pg_url, environ={}) as queue:
        after = queue.get("after")
    assert (after.state.value, after.last_error) == ("dead", "dependency base dead")


def test_dlq_retry_all_racing_the_death_of_a_dependency_retries_both(
        pg_cli: Cli, pg_url: str, holder: psycopg.Connection[Any]) -> None:
    """The same race for ``dlq retry --all``: ``after`` died with ``base``, ``base`` was
    retried and runs again, and ends dead once more in a transaction not yet committed. The
    retry read ``base`` running and retried ``after`` alone, which then waited for ever on a
    dead job; now it waits for that transaction, and retries both."""
    pg_cli("add", "--id", "base", "true")
    pg_cli("add", "--id", "after", "--after", "base", "true")
    _claim(pg_url, "base")
    holder.execute(DIE)
    holder.commit()
    pg_cli("dlq", "retry", "base")
    _claim(pg_url, "base")
    holder.execute(DIE)
    retry = pg_cli.spawn("dlq", "retry", "--all")
    wait_until(lambda: retry.poll() is not None or _waiting_behind(holder, 1),
               message="the retry to end or to wait for the lock")
    holder.commit()
    out, err = retry.communicate(timeout=30)
    assert (retry.returncode, out) == (0, "Retried 2 dead jobs.\n"), err
    with Queue(pg_url, environ={}) as queue:
        assert {job.id: job.state.value for job in queue.jobs()} == {
            "base": "pending", "after": "pending"}


def test_dlq_retry_all_racing_a_retry_that_takes_a_unique_key_leaves_that_job_dead(
        pg_cli: Cli, pg_url: str, holder: psycopg.Connection[Any]) -> None:
    """``old`` and ``new``, dead, share a unique key; ``dlq retry new`` is in flight when
    ``dlq retry --all`` begins: to the latter's snapshot no live job holds the key, so it
    retried ``old`` (the older), which broke the key once the first committed: a traceback,
    exit 1. Now it leaves ``old`` dead and says so, as had it begun a moment later."""
    for job_id in ("old", "new"):
        pg_cli("add", "--id", job_id, "--unique-key", "nightly", "true")
        _claim(pg_url, job_id)
        holder.execute(DIE.replace("'base'", f"'{job_id}'"))
        holder.commit()
    holder.execute("UPDATE jobs SET state = 'pending' WHERE id = 'new'")  # as dlq retry does
    retry = pg_cli.spawn("dlq", "retry", "--all")
    wait_until(lambda: retry.poll() is not None or _waiting_behind(holder, 1),
               message="the retry to end or to wait for the lock")
    holder.commit()
    out, err = retry.communicate(timeout=30)
    assert (retry.returncode, out, err) == (
        1, "Retried 0 dead jobs.\n", "Left dead: old (unique key 'nightly' held by a live job).\n")
    with Queue(pg_url, environ={}) as queue:
        assert {job.id: job.state.value for job in queue.jobs()} == {
            "old": "dead", "new": "pending"}
