"""Two hosts share one PostgreSQL instance; one host dies with SIGKILL mid-run and the other
completes every job, none of them run twice at once.

The hosts are network namespaces with veth links (see hosts.py), the server is an instance of
the test's own listening on the veth addresses. Host a's workers are killed, jobs included,
while they hold jobs; host b must rescue those jobs once their leases expire.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import pytest

from queuectl import Queue
from queuectl.errors import StorageError
from queuectl.models import JobState
from tests.helpers import wait_until

from .hosts import TestHosts
from .server import PrivateServer

# Test hosts draw their subnets at random: the suite's users run one at a time (hosts.py).
pytestmark = [pytest.mark.postgres, pytest.mark.xdist_group("test-hosts")]
JOBS = 20  # host a dies after 6 are done, holding some; host b runs the rest and those


@pytest.fixture
def hosts(request: pytest.FixtureRequest) -> Iterator[TestHosts]:
    made = TestHosts()
    # A line in the summary at the end of the run (tests/conftest.py), from any process
    request.node.user_properties.append(("note", f"multi-host test: {made.mode}"))
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def server(hosts: TestHosts) -> Iterator[PrivateServer]:
    instance = PrivateServer()
    try:
        instance.start(sorted(set(hosts.addresses.values())))
        yield instance
    finally:
        instance.close()


def _queue(url: str) -> Queue:
    return Queue(url, environ={})


def _states(url: str) -> dict[JobState, int] | None:
    try:
        with _queue(url) as queue:
            return queue.counts()
    except StorageError:
        return None


def _start_worker(hosts: TestHosts, host: str, url: str, slots: int,
                  log: Path) -> subprocess.Popen[bytes]:
    argv = hosts.command(host, [sys.executable, "-m", "queuectl", "worker", "start",
                                "--count", str(slots)])
    env = {**_clean_environ(), **hosts.marker(host), "QUEUECTL_DB": url}
    with log.open("wb") as out:
        return subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT)


def _clean_environ() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("QUEUECTL_")}


def _runs(log: Path) -> dict[str, list[tuple[int, str, float, float | None]]]:
    """Per job: (attempt, host, start, end or None) of every run that got to start."""
    starts: dict[tuple[str, int], tuple[str, float]] = {}
    ends: dict[tuple[str, int], float] = {}
    for line in log.read_text().splitlines():
        job, attempt, host, event, at = line.split()
        key = (job, int(attempt))
        if event == "start":
            starts[key] = (host, float(at))
        else:
            ends[key] = float(at)
    runs: dict[str, list[tuple[int, str, float, float | None]]] = defaultdict(list)
    for (job_id, number), (host_name, start) in sorted(starts.items()):
        runs[job_id].append((number, host_name, start, ends.get((job_id, number))))
    return runs


def test_a_host_dies_and_the_other_completes_every_job_once(
    hosts: TestHosts, server: PrivateServer, tmp_path: Path
) -> None:
    url_a, url_b = server.url(hosts.addresses["a"]), server.url(hosts.addresses["b"])
    log = tmp_path / "runs.log"
    stamp = f'"$QUEUECTL_JOB_ID $QUEUECTL_ATTEMPT $(uname -n) %s $(date +%%s.%%N)" >> {log}'
    command = f"echo {stamp % 'start'}; sleep 0.4; echo {stamp % 'end'}"
    with _queue(url_a) as queue:
        queue.config_set("lease_duration", "2s")  # host a's jobs are rescued 2 s after death
        queue.config_set("backoff_base", "1")
        queue.enqueue_many([{"id": f"j{n:02}", "command": command} for n in range(JOBS)])

    worker_a = _start_worker(hosts, "a", url_a, 3, tmp_path / "host-a.log")
    worker_b = _start_worker(hosts, "b", url_b, 2, tmp_path / "host-b.log")
    try:
        def a_is_busy() -> bool:
            """Some jobs are done and host a holds some (any host, without host names)."""
            with _queue(url_a) as queue:
                ours = {w.id for w in queue.workers()
                        if w.host == hosts.hostname("a") or not hosts.uts}
                done = queue.counts()[JobState.COMPLETED]
                running = queue.jobs(JobState.PROCESSING, limit=10)
            return done >= 6 and any(job.worker_id in ours for job in running)

        wait_until(a_is_busy, timeout=30, interval=0.05, message="host a to be mid-run")
        hosts.crash("a")
        killed_at = time.time()
        worker_a.wait(timeout=10)

        wait_until(lambda: (_states(url_b) or {}).get(JobState.COMPLETED) == JOBS, timeout=60,
                   interval=0.2, message=f"host b to complete all {JOBS} jobs")
        assert worker_b.poll() is None, (tmp_path / "host-b.log").read_text()

        with _queue(url_b) as queue:
            histories = {f"j{n:02}": queue.attempts(f"j{n:02}") for n in range(JOBS)}
        lost = [a for attempts in histories.values() for a in attempts if a.error]
        assert lost, "host a held no job when it died: the test proved nothing"
        assert all(a.error == "worker lost" for a in lost), lost
        for job_id, attempts in histories.items():
            assert [a.exit_code for a in attempts if a.error is None] == [0], (job_id, attempts)

        runs = _runs(log)
        assert sorted(runs) == sorted(histories)
        for job_id, job_runs in runs.items():
            for (_, _, _, end), (_, host, start, _) in pairwise(job_runs):
                # A later run starts only after the earlier one ended, or its host died.
                assert start >= (end if end is not None else killed_at), (job_id, job_runs)
                if hosts.uts:
                    assert host == hosts.hostname("b")
    finally:
        worker_b.terminate()
        worker_b.wait(timeout=30)
