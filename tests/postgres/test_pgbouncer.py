"""Behind a real PgBouncer in transaction mode: workers share a few server sessions, every job
runs once, wake-ups arrive over the direct ``listen_url``, and the CLI works through it."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from queuectl import Queue
from queuectl.models import JobState
from tests.helpers import wait_until

from .pgbouncer import Bouncer
from .support import drop_schema

pytestmark = pytest.mark.postgres
WORKERS = 6
JOBS = 60


@pytest.fixture
def bouncer() -> Iterator[Bouncer]:
    instance = Bouncer(server_connections=3)
    try:
        yield instance
    finally:
        instance.close()


@pytest.fixture
def schema() -> Iterator[str]:
    name = "qtest_" + secrets.token_hex(6)
    try:
        yield name
    finally:
        drop_schema(name)


def _workers(url: str, tmp_path: Path, count: int) -> list[subprocess.Popen[bytes]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUEUECTL_")}
    env["QUEUECTL_DB"] = url
    started = []
    for number in range(count):
        with (tmp_path / f"worker-{number}.log").open("wb") as log:
            started.append(subprocess.Popen(
                [sys.executable, "-m", "queuectl", "worker", "start", "--count", "2"],
                env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT))
    return started


def _stop(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        worker.terminate()
    for worker in workers:
        worker.wait(timeout=60)


def _logs(tmp_path: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in sorted(tmp_path.glob("*.log")))


def test_workers_behind_pgbouncer_run_every_job_once(
    bouncer: Bouncer, schema: str, tmp_path: Path
) -> None:
    url = bouncer.store_url(schema)
    ran = tmp_path / "ran.txt"
    with Queue(url, environ={}) as queue:  # migrates through the pooler
        queue.enqueue_many([{"id": f"j{n:03}", "command": f"echo j{n:03} >> {ran}"}
                            for n in range(JOBS // 2)])
    workers = _workers(url, tmp_path, WORKERS)
    try:
        with Queue(url, environ={}) as queue:
            wait_until(lambda: len(queue.workers()) == WORKERS, timeout=60,
                       message=f"{WORKERS} workers to register through PgBouncer")
            # Idle workers now: these are found through wake-ups on the direct connection.
            wait_until(lambda: queue.counts()[JobState.COMPLETED] == JOBS // 2, timeout=60,
                       message="the first jobs to complete")
            started = time.monotonic()
            queue.enqueue_many([{"id": f"j{n:03}", "command": f"echo j{n:03} >> {ran}"}
                                for n in range(JOBS // 2, JOBS)])
            wait_until(lambda: queue.counts()[JobState.COMPLETED] == JOBS, timeout=60,
                       message="the jobs enqueued later to complete")
            woken_within = time.monotonic() - started
        assert all(w.poll() is None for w in workers), _logs(tmp_path)
        assert Counter(ran.read_text().split()) == Counter(f"j{n:03}" for n in range(JOBS))
        # The fallback poll is 1 s or more: only a wake-up finds the later jobs this soon.
        assert woken_within < 5, woken_within
    finally:
        _stop(workers)
    assert "Traceback" not in _logs(tmp_path), _logs(tmp_path)


def test_without_a_listen_url_workers_poll_behind_pgbouncer(
    bouncer: Bouncer, schema: str, tmp_path: Path
) -> None:
    url = bouncer.store_url(schema, listen=False)
    with Queue(url, environ={}) as queue:
        queue.config_set("poll_interval", "0.2")
        workers = _workers(url, tmp_path, 2)
        try:
            wait_until(lambda: len(queue.workers()) == 2, timeout=60,
                       message="the workers to register")
            queue.enqueue_many([{"id": f"j{n}", "command": "true"} for n in range(10)])
            wait_until(lambda: queue.counts()[JobState.COMPLETED] == 10, timeout=60,
                       message="polling workers to complete the jobs")
            assert all(w.poll() is None for w in workers), _logs(tmp_path)
        finally:
            _stop(workers)


def test_the_cli_works_through_pgbouncer(bouncer: Bouncer, schema: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUEUECTL_")}
    env["QUEUECTL_DB"] = bouncer.store_url(schema)

    def cli(*args: str) -> str:
        result = subprocess.run([sys.executable, "-m", "queuectl", *args], env=env,
                                capture_output=True, text=True, timeout=60, check=False)
        assert result.returncode == 0, result.stderr
        return result.stdout

    for n in range(12):  # more than psycopg's prepare threshold (5), on several sessions
        cli("enqueue", f'{{"id": "c{n}", "command": "true"}}')
    assert "c11" in cli("list")
    assert "pending" in cli("status")


def test_pooler_parameters_are_checked_and_kept_from_libpq() -> None:
    from queuectl.errors import InvalidInput
    from queuectl.storage.postgres.connection import parse_url

    direct = "postgresql%3A%2F%2Fu%3Asecret%40db%3A5432%2Fjobs"
    location = parse_url(f"postgresql://u@pool:6432/jobs?pool_mode=transaction"
                         f"&listen_url={direct}&sslmode=prefer")
    assert location.pooled
    assert location.listen_url == "postgresql://u:secret@db:5432/jobs"
    assert location.conninfo == "postgresql://u@pool:6432/jobs?sslmode=prefer"
    assert "secret" not in location.display
    assert not parse_url("postgresql://db/jobs?pool_mode=session").pooled
    with pytest.raises(InvalidInput, match="pool_mode"):
        parse_url("postgresql://db/jobs?pool_mode=statement")
    with pytest.raises(InvalidInput, match="listen_url"):
        parse_url("postgresql://db/jobs?listen_url=/tmp/x")
