"""Issue 12 item 6: does one queue with a concurrency limit slow every claim on PostgreSQL?

    .venv/bin/python bench/pg_limited.py [--url postgresql://postgres@127.0.0.1:5432/test]
        [--cycles 2000] [--processes 4] [--rounds 2]

Claim+complete cycles per second (storage_cycles: no command run) from --processes processes
on a fresh schema, the jobs all in the default queue, with no limited queue (A) and with one
queue limited to 1 that holds no job (B), in A B A B rounds. Before the fix every claim
locked every limited queue's row, and B ran at 0.59 of A (the issue's 2,005 -> 1,180).
"""

from __future__ import annotations

import argparse
import os
import secrets

import storage_cycles
from common import median
from queuectl import Queue


def _round(url: str, limited: bool, cycles: int, processes: int) -> float:
    schema = "qbench_" + secrets.token_hex(4)
    db = f"{url}{'&' if '?' in url else '?'}schema={schema}"
    try:
        with Queue(db) as queue:
            if limited:
                queue.queues.limit("elsewhere", 1)
        return storage_cycles.measure(db, cycles, processes)["cycles_per_second"]
    finally:
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=os.environ.get(
        "QUEUECTL_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--cycles", type=int, default=2000)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    without: list[float] = []
    with_limit: list[float] = []
    for _ in range(args.rounds):
        without.append(_round(args.url, False, args.cycles, args.processes))
        with_limit.append(_round(args.url, True, args.cycles, args.processes))
    a, b = median(without), median(with_limit)
    print(f"claim+complete cycles/s, {args.processes} processes, {args.cycles} jobs, "
          f"{args.rounds} A B rounds, load average {os.getloadavg()[0]:.1f}")
    print(f"  A no limited queue      {a:8.0f}   rounds: {', '.join(f'{v:.0f}' for v in without)}")
    print(f"  B one limited queue     {b:8.0f}   rounds: "
          f"{', '.join(f'{v:.0f}' for v in with_limit)}")
    print(f"  B / A                   {b / a:8.2f}")


if __name__ == "__main__":
    main()
