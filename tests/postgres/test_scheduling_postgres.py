"""Scheduling through the real CLI on PostgreSQL, with several workers at once: a queue limit
holds across workers, dependencies run in order, and each recurring tick is enqueued once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import pytest

from tests.helpers import Cli, WorkerPool, as_json, wait_until

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_cli(cli: Cli, pg_url: str) -> Cli:
    cli.env["QUEUECTL_DB"] = pg_url
    return cli


@pytest.fixture
def pg_workers(pg_cli: Cli, pg_url: str, tmp_path: Path) -> Iterator[WorkerPool]:
    pool = WorkerPool(pg_cli, pg_url, tmp_path)
    try:
        yield pool
    finally:
        pool.close()


def _completed(cli: Cli) -> int:
    return int(as_json(cli("status", "--json"))["jobs"]["completed"])


def test_a_queue_limit_and_dependencies_hold_across_workers(
    pg_cli: Cli, pg_workers: WorkerPool, tmp_path: Path
) -> None:
    log = tmp_path / "runs.log"
    stamp = f'"$QUEUECTL_JOB_ID %s $(date +%%s.%%N)" >> {log}'
    slow = f"echo {stamp % 'start'}; sleep 0.3; echo {stamp % 'end'}"
    pg_cli("queue", "limit", "gpu", "1")
    lines = "".join(json.dumps({"id": f"g{n}", "command": slow, "queue": "gpu"}) + "\n"
                    for n in range(4))
    pg_cli("enqueue", "--file", "-", input=lines)
    pg_cli("enqueue", "--id", "after", "--after", "g3", "--after", "g2", "--command", slow)
    for _ in range(2):
        pg_workers.start(3, "--quiet")
    wait_until(lambda: _completed(pg_cli) == 5, timeout=60, message="5 jobs to complete")

    runs: dict[str, dict[str, float]] = {}
    for line in log.read_text().splitlines():
        job, event, at = line.split()
        runs.setdefault(job, {})[event] = float(at)
    gpu = sorted((runs[f"g{n}"]["start"], runs[f"g{n}"]["end"]) for n in range(4))
    for (_, end), (start, _) in pairwise(gpu):
        assert start >= end, f"two gpu jobs ran at once: {gpu}"  # the limit of 1 held
    assert runs["after"]["start"] >= max(runs["g2"]["end"], runs["g3"]["end"])


def test_each_tick_of_a_schedule_is_enqueued_once_by_racing_workers(
    pg_cli: Cli, pg_workers: WorkerPool
) -> None:
    for _ in range(3):
        pg_workers.start(1, "--quiet")
    pg_cli("schedule", "add", "ping", "--every", "1s", "-c", "true")
    wait_until(lambda: _completed(pg_cli) >= 3, timeout=30, message="three ticks to run")
    pg_cli("schedule", "pause", "ping")
    jobs = as_json(pg_cli("list", "--json", "--limit", "100"))
    ticks = [job["id"] for job in jobs]
    assert all(tick.startswith("ping@") for tick in ticks)
    assert len(ticks) == len(set(ticks))
    seconds = sorted(int(tick.rsplit("T", 1)[1][:6]) for tick in ticks)
    assert len(seconds) == len(set(seconds)), ticks  # one job per tick, not one per worker
    for worker in pg_workers.started:  # racing for ticks cost no worker an error
        assert worker.proc.poll() is None, worker.stderr()
        assert "Traceback" not in worker.stderr() and "error" not in worker.stderr().lower()
