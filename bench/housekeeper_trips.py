"""What one idle housekeeper asks PostgreSQL: round trips per second, by statement.

    PYTHONPATH=src .venv/bin/python bench/housekeeper_trips.py [--seconds 20] [--rounds 3]

A worker of one slot runs in this process against an empty store (a private schema on the
test server, ``QUEUECTL_TEST_PG``); every ``execute`` on a psycopg connection is one round
trip, counted by the named statement it sends (``BEGIN``/``COMMIT`` and the like by their
first words). Counting in the process, not with ``pg_stat_database``, keeps the figure clean of
whatever else the shared server is doing. The worker is the only one, so it is the
housekeeper; the settings are the defaults (poll_interval 1 s, lease 30 s).
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.postgres

import psycopg
from tests.postgres.support import PG_URL, drop_schema, with_schema

from queuectl import Queue
from queuectl.storage.postgres.driver import QUERIES
from queuectl.worker.loop import NOW

_NAMES = {text: name for name, text in QUERIES.items()}
_counts: collections.Counter[str] = collections.Counter()
_counting = threading.Event()
_execute = psycopg.Connection.execute


def _label(query: Any) -> str:
    text = query if isinstance(query, bytes) else str(query).encode()
    name = _NAMES.get(text)
    if name is not None:
        return name
    first = text.strip().split(b";")[0].split()
    return " ".join(word.decode() for word in first[:3]) or "?"


def _counted_execute(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
    if _counting.is_set():
        _counts[_label(query)] += 1
    return _execute(self, query, *args, **kwargs)


def one_round(seconds: float) -> tuple[float, collections.Counter[str]]:
    schema = f"qtrips_{os.getpid()}"
    url = with_schema(PG_URL, schema)
    drop_schema(schema)
    try:
        with Queue(url, environ={}) as queue:
            worker = queue.worker(1)
            thread = threading.Thread(target=worker.run, daemon=True)
            thread.start()
            deadline = time.monotonic() + 30
            while not queue.workers():
                if time.monotonic() > deadline:
                    raise SystemExit("the worker did not register")
                time.sleep(0.05)
            time.sleep(2.0)  # start-up and the first check-in are not idleness
            _counts.clear()
            _counting.set()
            started = time.monotonic()
            time.sleep(seconds)
            _counting.clear()
            elapsed = time.monotonic() - started
            counts = collections.Counter(_counts)
            worker.request_stop(NOW)
            thread.join(30)
    finally:
        drop_schema(schema)
    return elapsed, counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    psycopg.Connection.execute = _counted_execute  # type: ignore[method-assign]
    for number in range(1, args.rounds + 1):
        load = os.getloadavg()
        elapsed, counts = one_round(args.seconds)
        total = sum(counts.values())
        commits = sum(n for name, n in counts.items() if name.startswith("COMMIT"))
        print(f"round {number}: {total / elapsed:.2f} round trips/s, "
              f"{commits / elapsed:.2f} commits/s over {elapsed:.1f} s; "
              f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
        for name, count in counts.most_common():
            print(f"    {count / elapsed:6.2f}/s  {name}")


if __name__ == "__main__":
    main()
