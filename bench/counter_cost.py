"""What the counts and rollups of migrations 0009 and 0010 cost the hot path, A B A B.

A: the triggers as migrated; B: the same database with them turned off (SQLite: dropped, and
the enqueue's count_new_jobs made a no-op; PostgreSQL: ``ALTER TABLE ... DISABLE TRIGGER``).
Each round enqueues the same jobs and runs
them through ``record_and_claim`` as a one-slot worker does, with no command run, so the
figures are the storage's own. SQLite: CPU per job of the process (the database runs in
it) and a bulk enqueue's CPU; PostgreSQL: CPU per job of one connection's server backend
(from /proc: the server must be local) and of this process, and four processes at once,
jobs per second (the figure that would show a hot row; noisy on a shared server).

End to end (``--e2e N``): N ``true`` jobs through a real worker of 4 slots on SQLite, the
worker's CPU per job (every thread, from /proc), A B A B. B drops the triggers only: the
worker, another process, still sums its batches (storage/run_counts.py), so this row shows
what the triggers cost a worker, not what counting does.

    python bench/counter_cost.py [--jobs 3000] [--rounds 3] [--postgres URL] [--e2e 1000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent / "src"))
sys.path.insert(0, str(BENCH))

from queuectl import JobState, Queue  # noqa: E402
from queuectl.models import Outcome  # noqa: E402
from queuectl.storage import Storage, open_storage  # noqa: E402

SQLITE_TRIGGERS = ("jobs_counted_delete", "jobs_counted_update", "attempts_finished",
                   "jobs_died_running")
# What a SQLite store counts itself rather than by trigger: new jobs, and a worker's batch of
# results (storage/run_counts.py). Turned off, each is a statement that changes nothing.
SQLITE_SUMS = ("count_new_jobs", "count_jobs_moved", "count_runs_per_minute",
               "count_runs_per_hour")
PG_TRIGGERS = (("jobs", "jobs_counted_insert"), ("jobs", "jobs_counted_delete"),
               ("jobs", "jobs_counted_update"), ("attempts", "attempts_finished_update"))


def _sqlite_round(folder: Path, jobs: int, counted: bool) -> tuple[float, float]:
    """(CPU seconds per job through claim and finish, CPU seconds to enqueue ``jobs`` at
    once)."""
    db = folder / f"{time.monotonic_ns()}.db"
    Queue(db).close()
    if not counted:
        import sqlite3

        with sqlite3.connect(db) as conn:
            for name in SQLITE_TRIGGERS:
                conn.execute(f"DROP TRIGGER {name}")
    from queuectl.storage.sqlite import driver

    counting = {name: driver.QUERIES[name] for name in SQLITE_SUMS}
    if not counted:
        driver.QUERIES.update({name: "DELETE FROM config WHERE 0" for name in SQLITE_SUMS})
    try:
        with Queue(db) as queue:
            started = time.process_time()
            queue.enqueue_many([{"command": "true"}] * jobs)
            enqueue = time.process_time() - started
        storage = open_storage(db)
        cpu = time.process_time()
        done = _cycle(storage, "bench")
        cpu = time.process_time() - cpu
        storage.close()
    finally:
        driver.QUERIES.update(counting)
    assert done == jobs, (done, jobs)
    return cpu / jobs, enqueue


def _cycle(storage: Storage, worker_id: str) -> int:
    done = 0
    outcomes: list[Outcome] = []
    while True:
        now = time.time()
        claimed, _ = storage.record_and_claim(worker_id, outcomes, 1, now, now + 30)
        done += len(outcomes)
        if not claimed:
            return done
        outcomes = [Outcome(job.id, job.runs, JobState.COMPLETED, time.time(), exit_code=0,
                            job=job) for job in claimed]  # as a worker's: summed by batch


def _postgres_round(url: str, jobs: int, counted: bool) -> tuple[float, float]:
    """(CPU seconds per job of the server's backend and of this process, one connection,
    claim and finish; jobs per second with four processes at once)."""
    from queuectl.storage.postgres.driver import PostgresDriver
    from storage_cycles import measure

    schema = f"bench_counts_{os.getpid()}_{time.monotonic_ns() % 10**9}"
    scoped = f"{url}{'&' if '?' in url else '?'}schema={schema}"
    store = open_storage(scoped)
    driver = store.db
    assert isinstance(driver, PostgresDriver)
    action = "ENABLE" if counted else "DISABLE"
    for table, name in PG_TRIGGERS:
        driver.connector.run(partial(_execute, f"ALTER TABLE {table} {action} TRIGGER {name}"),
                             transaction=False)
    try:
        with Queue(scoped) as queue:
            queue.enqueue_many([{"command": "true"}] * jobs)
        [(backend,)] = driver.connector.run(
            lambda conn, _: conn.execute("SELECT pg_backend_pid()").fetchall(),
            transaction=False)
        server, client = _schedstat(backend), time.process_time()
        done = _cycle(store, "bench")
        server, client = _schedstat(backend) - server, time.process_time() - client
        assert done == jobs, (done, jobs)
        rate = measure(scoped, jobs, 4)["cycles_per_second"]
        return (server + client) / jobs, rate
    finally:
        driver.connector.run(lambda conn, _: conn.execute(
            f"DROP SCHEMA {schema} CASCADE"), transaction=False)
        store.close()


def _execute(statement: str, conn: psycopg.Connection[Any], in_doubt: bool) -> None:
    conn.execute(statement)


def _schedstat(pid: int) -> float:
    """CPU seconds a local process has run (the server's backend for our connection)."""
    with open(f"/proc/{pid}/schedstat") as file:
        return int(file.read().split()[0]) / 1e9


def _e2e_round(folder: Path, jobs: int, counted: bool) -> float:
    """The worker's CPU milliseconds per job (coordinator and slots) for ``jobs`` true jobs."""
    import sqlite3

    from common import Context, Sizes
    from queuectl_e2e import drain

    db = folder / f"e2e-{time.monotonic_ns()}.db"
    Queue(db).close()
    if not counted:
        with sqlite3.connect(db) as conn:
            for name in SQLITE_TRIGGERS:
                conn.execute(f"DROP TRIGGER {name}")
    ctx = Context(Sizes(), folder / f"ctx-{time.monotonic_ns()}", smoke=False, log=lambda _: None)
    result = drain(ctx, "true", jobs, 4, db=db, quiet=True)
    return result["coordinator_cpu_ms_per_job"] + result["slots_cpu_ms_per_job"]


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres", help="a PostgreSQL URL (a scratch schema is made)")
    parser.add_argument("--e2e", type=int, default=0, help="true jobs through a real worker")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="queuectl-counts-") as scratch:
        cpu: dict[bool, list[float]] = {True: [], False: []}
        enqueue: dict[bool, list[float]] = {True: [], False: []}
        for _ in range(args.rounds):
            for counted in (True, False):
                per_job, seconds = _sqlite_round(Path(scratch), args.jobs, counted)
                cpu[counted].append(per_job)
                enqueue[counted].append(seconds)
        a, b = statistics.median(cpu[True]), statistics.median(cpu[False])
        print(f"SQLite, {args.jobs} jobs x {args.rounds} rounds (load average {_load()})")
        print(f"  claim+finish CPU per job: counted {a * 1e6:.0f} us, not counted "
              f"{b * 1e6:.0f} us, ratio {a / b:.3f}")
        a, b = statistics.median(enqueue[True]), statistics.median(enqueue[False])
        print(f"  bulk enqueue of {args.jobs}, CPU: counted {a * 1000:.1f} ms, not counted "
              f"{b * 1000:.1f} ms, ratio {a / b:.3f}")
        if args.e2e:
            e2e: dict[bool, list[float]] = {True: [], False: []}
            for _ in range(args.rounds):
                for counted in (True, False):
                    e2e[counted].append(_e2e_round(Path(scratch), args.e2e, counted))
            a, b = statistics.median(e2e[True]), statistics.median(e2e[False])
            print(f"SQLite end to end, {args.e2e} true jobs, 4 slots, x {args.rounds} rounds "
                  f"(load average {_load()})")
            print(f"  worker CPU per job: counted {a * 1000:.0f} us, not counted "
                  f"{b * 1000:.0f} us, ratio {a / b:.3f}")
    if args.postgres:
        cpu_pg: dict[bool, list[float]] = {True: [], False: []}
        rates: dict[bool, list[float]] = {True: [], False: []}
        for _ in range(args.rounds):
            for counted in (True, False):
                per_job, rate = _postgres_round(args.postgres, args.jobs, counted)
                cpu_pg[counted].append(per_job)
                rates[counted].append(rate)
        a, b = statistics.median(cpu_pg[True]), statistics.median(cpu_pg[False])
        print(f"PostgreSQL, {args.jobs} jobs x {args.rounds} rounds (load average {_load()})")
        print(f"  claim+finish CPU per job, server backend and client, one connection: "
              f"counted {a * 1e6:.0f} us, not counted {b * 1e6:.0f} us, ratio {a / b:.3f}")
        a, b = statistics.median(rates[True]), statistics.median(rates[False])
        print(f"  4 processes, jobs per second: counted {a:.0f}, not counted {b:.0f}, "
              f"ratio {a / b:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
