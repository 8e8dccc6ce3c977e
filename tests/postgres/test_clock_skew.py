"""Hosts whose clocks disagree share leases without taking each other's live jobs: a store
on PostgreSQL tells the time by the server's clock.

The skewed host is a worker process under libfaketime (Debian's ``faketime``), its wall clock
two minutes ahead. Were leases written and compared by each host's own clock, it would take
every job of the other worker for lost at once and run it a second time.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from queuectl import Queue
from queuectl.models import JobState
from queuectl.storage import open_storage
from queuectl.storage.postgres.driver import PostgresDriver
from tests.helpers import wait_until

pytestmark = pytest.mark.postgres
FAKETIME = shutil.which("faketime")


def _require_faketime() -> str:
    if FAKETIME:
        return FAKETIME
    message = "needs libfaketime: apt-get install faketime"
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def test_the_store_clock_is_the_servers(pg_url: str) -> None:
    store = open_storage(pg_url)
    try:
        driver = store.db
        assert isinstance(driver, PostgresDriver)
        [(server,)] = driver.connector.run(lambda conn, _: conn.execute(
            "SELECT extract(epoch FROM clock_timestamp())::float8").fetchall(), transaction=False)
        assert abs(store.clock().now() - server) < 0.5
    finally:
        store.close()


def test_a_host_whose_clock_runs_ahead_takes_no_live_job(pg_url: str, tmp_path: Path) -> None:
    faketime = _require_faketime()
    ran = tmp_path / "ran.txt"
    jobs = 6
    with Queue(pg_url, environ={}) as queue:
        queue.config_set("lease_duration", "3s")  # renewed every second
        queue.enqueue_many([{"id": f"j{n}", "command": f"echo j{n} >> {ran}; sleep 5"}
                            for n in range(jobs)])
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUEUECTL_")}
    env["QUEUECTL_DB"] = pg_url
    command = [sys.executable, "-m", "queuectl", "worker", "start", "--count", str(jobs)]
    with (tmp_path / "on-time.log").open("wb") as log:
        on_time = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT)
    ahead = None
    try:
        with Queue(pg_url, environ={}) as queue:
            wait_until(lambda: queue.counts()[JobState.PROCESSING] == jobs, timeout=30,
                       message="the on-time worker to hold every job")
            skewed = {**env, "FAKETIME": "+120s", "FAKETIME_DONT_FAKE_MONOTONIC": "1"}
            with (tmp_path / "ahead.log").open("wb") as log:
                # faketime forks the worker and waits for it: a group of their own, so that
                # the end of the test stops the worker too, not faketime alone.
                ahead = subprocess.Popen([faketime, "-f", "+120s", *command], env=skewed,
                                         stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
            wait_until(lambda: len(queue.workers()) == 2, timeout=30,
                       message="the worker whose clock runs ahead to start")
            wait_until(lambda: queue.counts()[JobState.COMPLETED] == jobs, timeout=60,
                       message="every job to complete")
            lost = [a for n in range(jobs) for a in queue.attempts(f"j{n}") if a.error]
        assert lost == []
        assert Counter(ran.read_text().split()) == Counter(f"j{n}" for n in range(jobs))
        # The skewed worker ran for real: it saw the jobs' leases, and took none of them.
        assert ahead.poll() is None, (tmp_path / "ahead.log").read_text()
    finally:
        on_time.terminate()
        on_time.wait(timeout=30)
        if ahead is not None:
            os.killpg(ahead.pid, signal.SIGTERM)
            ahead.wait(timeout=30)
