"""The run rollups are pruned with the jobs (rollups.MINUTES_KEPT, HOURS_KEPT), on both
backends and on an injected clock: what any window reads is the same before and after, and
/metrics' totals keep counting every run."""

from __future__ import annotations

from typing import Any

import pytest

import queuectl.stats_window
from queuectl import Queue
from queuectl.clock import FakeClock
from queuectl.rollups import DAY, HOURS_KEPT, MINUTES_KEPT
from queuectl.worker.maintenance import Housekeeping
from tests.helpers import drain
from tests.postgres.support import private_schema
from tests.stats.conftest import fake_clock
from tests.storage.conftest import execute_raw


@pytest.fixture
def queue(queue_on_each_backend: Queue) -> Queue:
    return queue_on_each_backend


def _runs_at(queue: Queue, days: list[float]) -> None:
    """Two runs (one completed, one failed and dead) on each of ``days`` after the start."""
    clock = fake_clock(queue)
    start = clock.now()
    for day in days:
        clock.advance(start + day * DAY - clock.now())
        queue.enqueue("true", id=f"ok-{day}", queue="a")
        queue.enqueue("exit 3", id=f"bad-{day}", max_retries=0, queue="b")
        clock.advance(90.0)  # a wait, and a run in a minute of its own
        drain(queue)


def _rows(queue: Queue) -> tuple[int, int, int]:
    """(minute rows older than kept, hourly rows older than kept bar hour 0, rows of hour 0)"""
    now = queue.clock.now()
    [(minutes,)] = execute_raw(queue.storage, f"SELECT COUNT(*) FROM run_minutes"
                                              f" WHERE minute < {int(now - MINUTES_KEPT)}")
    [(hours,)] = execute_raw(queue.storage, f"SELECT COUNT(*) FROM run_hours WHERE hour > 0"
                                            f" AND hour < {int(now - HOURS_KEPT)}")
    [(folded,)] = execute_raw(queue.storage, "SELECT COUNT(*) FROM run_hours WHERE hour = 0")
    return int(minutes), int(hours), int(folded)


def _seen(queue: Queue) -> dict[str, Any]:
    """What every reader of the rollups shows now."""
    totals = queue.run_totals()
    return {
        "totals": {name: (t.completed, t.failed, t.dead, t.run_time.count, t.wait_time.count,
                          t.wait_time.sum) for name, t in totals.items()},
        **{f"series {window}": [p.to_dict() for p in queue.stats_series(window, bars=bars)]
           for window, bars in (("1h", 60), ("7d", 56), ("30d", 30), ("100d", 100))},
        **{f"stats {window}": queue.stats(window).to_dict()
           for window in ("7d", "30d", "100d", "399d")},
        "stats 30d by day": [(b.completed, b.failed) for b in queue.stats("30d", step=DAY).series],
    }


def test_pruning_the_rollups_changes_no_window_and_no_total(
    queue: Queue, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queuectl.stats_window, "EXACT_RUNS", 0)  # read the rollups, always
    with monkeypatch.context() as unpruned:  # the drains' workers prune too: not yet
        unpruned.setattr(type(queue.storage), "prune_rollups", lambda *args: False)
        _runs_at(queue, [0, 50, 380, 410.5, 418, 419.9])
    fake_clock(queue).advance(3 * 3600.0)
    before = _seen(queue)
    assert before["totals"]["a"][:3] == (6, 0, 0) and before["totals"]["b"][:3] == (0, 6, 6)
    assert sum(p["completed"] for p in before["series 100d"]) == 4  # days 380 on
    old_minutes, old_hours, folded = _rows(queue)
    assert old_minutes > 0 and old_hours > 0 and folded == 0

    keeper = Housekeeping(queue.storage)
    passes = 1
    while keeper.prune({}, queue.clock.now()):  # one batch per pass, as a worker does
        passes += 1
        assert passes < 100, "pruning never ends"
    assert _rows(queue)[:2] == (0, 0) and _rows(queue)[2] > 0
    [(left,)] = execute_raw(queue.storage, "SELECT COUNT(*) FROM run_minutes")
    assert int(left) > 0  # the last week's minutes stay
    assert _seen(queue) == before


def test_a_worker_prunes_the_rollups_with_its_retention_pass(queue: Queue) -> None:
    _runs_at(queue, [0, 1])
    fake_clock(queue).advance(MINUTES_KEPT)
    assert _rows(queue)[0] > 0
    queue.enqueue("true", id="now")
    drain(queue)  # a worker's step: its housekeeping is due at once
    assert _rows(queue)[0] == 0
    [(left,)] = execute_raw(queue.storage, "SELECT COUNT(*) FROM run_minutes")
    assert int(left) == 1  # the run just now


@pytest.mark.postgres
def test_two_workers_folding_the_same_hours_at_once_add_them_once() -> None:
    """PostgreSQL: a fold waits for another one holding the same rows, then finds them gone
    (its DELETE and its INSERT are one statement), so the totals count each run once."""
    import threading

    import psycopg

    from queuectl.storage.postgres.driver import QUERIES
    from tests.helpers import wait_until
    from tests.postgres.support import PG_URL

    with private_schema() as url, Queue(url, clock=FakeClock(), environ={}) as queue, \
            pytest.MonkeyPatch.context() as unpruned:
        unpruned.setattr(type(queue.storage), "prune_rollups", lambda *args: False)
        _runs_at(queue, [0, 1])
        unpruned.undo()
        fake_clock(queue).advance(HOURS_KEPT + 2 * DAY)
        before = _seen(queue)["totals"]
        schema = url.rsplit("schema=", 1)[1]
        with psycopg.connect(PG_URL) as first:
            first.execute(f"SET search_path TO {schema}")
            first.execute(QUERIES["fold_run_hours"], {"until": int(queue.clock.now())})
            pid = first.info.backend_pid
            second = threading.Thread(target=lambda: queue.storage.prune_rollups(
                0, int(queue.clock.now()), 100))
            second.start()

            def waiting_for_the_first() -> bool:
                with psycopg.connect(PG_URL, autocommit=True) as look:
                    row = look.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                        " AND %s = ANY(pg_blocking_pids(pid))", (pid,)).fetchone()
                return bool(row and row[0])

            wait_until(waiting_for_the_first, message="the second fold waiting on the first")
            first.commit()
        second.join(30)
        assert not second.is_alive()
        _, old_hours, folded = _rows(queue)
        assert old_hours == 0 and folded > 0
        assert _seen(queue)["totals"] == before
