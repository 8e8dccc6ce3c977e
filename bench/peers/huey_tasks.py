"""Huey's task module (imported by ``huey_consumer huey_tasks.huey``): SQLite storage."""

from __future__ import annotations

import os

from huey import SqliteHuey
from tasks_common import run_capture, run_command


def make_huey(filename: str) -> tuple[SqliteHuey, object, object]:
    """Default SqliteHuey settings (WAL, SQLite's default synchronous=FULL), results kept:
    the returned exit code is stored, which is how the benchmark sees a job done."""
    huey = SqliteHuey("bench", filename=filename)
    return (huey, huey.task(name="bench.run")(run_command),
            huey.task(name="bench.capture")(run_capture))


if "BENCH_HUEY_DB" in os.environ:
    huey, run, capture = make_huey(os.environ["BENCH_HUEY_DB"])
