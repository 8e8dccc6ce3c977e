"""PostgreSQL beside SQLite in one run (issue 5): storage cycles and end to end.

    bench/.venv/bin/python bench/postgres.py [--url postgresql://root@127.0.0.1:5432/test]

Claim+complete cycles per second with no command run, from 1, 2 and 4 processes, on a SQLite
file and on a fresh PostgreSQL schema (dropped afterwards); then 2,000 `true` jobs end to end
through one worker of 4 slots on each. Medians of --runs rounds, the backends alternating.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import storage_cycles
from common import median
from queuectl import Queue


def _schema_url(url: str, name: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}schema={name}"


def _drop(url: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def _end_to_end(db: str, jobs: int, slots: int) -> float:
    with Queue(db) as queue:
        queue.enqueue_many([{"command": "true"}] * jobs, ids_only=True)
        started = time.perf_counter()
        queue.worker(slots=slots).run(burst=True)
        return jobs / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="postgresql://root@127.0.0.1:5432/test")
    parser.add_argument("--cycles", type=int, default=4000)
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    results: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for run in range(args.runs):
            for backend in ("sqlite", "postgresql"):
                for what in ("1", "2", "4", "e2e"):
                    schema = f"bench_{os.getpid()}_{run}_{what}"
                    db = (str(Path(folder) / f"{run}-{what}.db") if backend == "sqlite"
                          else _schema_url(args.url, schema))
                    try:
                        if what == "e2e":
                            rate = _end_to_end(db, args.jobs, 4)
                        else:
                            rate = storage_cycles.measure(db, args.cycles, int(what))[
                                "cycles_per_second"]
                    finally:
                        if backend == "postgresql":
                            _drop(args.url, schema)
                    results.setdefault((backend, what), []).append(rate)
    print("| measure | SQLite | PostgreSQL | PostgreSQL / SQLite |")
    print("|---|---|---|---|")
    for what, label in (("1", "claim+complete cycles/s, 1 process"),
                        ("2", "claim+complete cycles/s, 2 processes"),
                        ("4", "claim+complete cycles/s, 4 processes"),
                        ("e2e", f"{args.jobs:,} `true` jobs/s, 1 worker x 4 slots")):
        lite, pg = median(results[("sqlite", what)]), median(results[("postgresql", what)])
        print(f"| {label} | {lite:,.0f} | {pg:,.0f} | {pg / lite:.2f} |")


if __name__ == "__main__":
    main()
