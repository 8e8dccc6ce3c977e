"""The end-to-end flows that matter, through the real CLI, on PostgreSQL: retries and the DLQ,
many workers with no job run twice, and recovery from a worker killed with SIGKILL."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
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


def _states(cli: Cli) -> Counter[str]:
    return Counter({state: n for state, n in as_json(cli("status", "--json"))["jobs"].items()
                    if n})


def test_retries_then_dlq_then_retry_from_the_dlq(pg_cli: Cli, tmp_path: Path) -> None:
    pg_cli("config", "set", "backoff_base", "1.1")
    pg_cli("enqueue", '{"id":"flaky","command":"test -e fixed || exit 3","max_retries":1}')
    pg_cli("worker", "start", "--burst", "--quiet", timeout=120)
    job = as_json(pg_cli("show", "flaky", "--json"))
    assert (job["state"], job["attempts"], job["last_error"]) == ("dead", 2, "exit code 3")
    assert [j["id"] for j in as_json(pg_cli("dlq", "list", "--json"))] == ["flaky"]

    pg_cli("dlq", "retry", "flaky")
    (tmp_path / "fixed").touch()
    pg_cli("worker", "start", "--burst", "--quiet", timeout=120)
    job = as_json(pg_cli("show", "flaky", "--json"))
    assert (job["state"], job["attempts"]) == ("completed", 1)
    assert [a["error"] for a in job["attempts_history"]] == ["exit code 3"] * 2 + [None]
    assert "completed" in pg_cli("dlq", "retry", "flaky", check=1).stderr


def test_many_workers_run_every_job_exactly_once(
    pg_cli: Cli, pg_workers: WorkerPool, tmp_path: Path
) -> None:
    jobs = 150
    ran = tmp_path / "ran.log"
    lines = "".join(
        f'{{"id":"j{n:03}","command":"echo $QUEUECTL_JOB_ID >> {ran}"}}\n' for n in range(jobs)
    )
    pg_cli("enqueue", "--file", "-", input=lines)
    for _ in range(3):
        pg_workers.start(3, "--quiet")
    wait_until(lambda: _states(pg_cli) == Counter(completed=jobs), timeout=90,
               message=f"{jobs} jobs to complete")
    assert Counter(ran.read_text().split()) == Counter(f"j{n:03}" for n in range(jobs))
    pg_cli("worker", "stop", "--timeout", "30s")


def test_the_job_of_a_killed_worker_is_recovered_by_another(
    pg_cli: Cli, pg_workers: WorkerPool, tmp_path: Path
) -> None:
    started = tmp_path / "started"
    command = f'touch {started}; test "$QUEUECTL_ATTEMPT" -gt 1 || sleep 60'
    pg_cli("config", "set", "backoff_base", "1")
    pg_cli("config", "set", "backoff_max", "50ms")  # retries in ms, not seconds
    pg_cli("enqueue", "--id", "slow", "--command", command)
    doomed = pg_workers.start(1, "--quiet")
    wait_until(started.exists, timeout=30, message="the job to start")
    doomed.kill()

    pg_workers.start(1, "--quiet")  # finds the dead worker on this host and rescues at once
    wait_until(lambda: as_json(pg_cli("show", "slow", "--json"))["state"] == "completed",
               timeout=60, message="the rescued job to complete")
    history = as_json(pg_cli("show", "slow", "--json"))["attempts_history"]
    assert [a["error"] for a in history] == ["worker lost", None]


def test_a_second_worker_under_a_live_workers_id_is_refused(
    pg_cli: Cli, pg_workers: WorkerPool
) -> None:
    """On PostgreSQL no wake channel holds a name: the registration refuses the id of a live
    worker, before the second worker's run records could replace the first one's."""
    first = pg_workers.start(1, "--worker-id", "w-shared")
    refused = pg_cli("worker", "start", "--worker-id", "w-shared", check=1, timeout=60)
    assert refused.stderr.startswith("error: worker id 'w-shared' is taken: a worker on ")
    assert f"(pid {first.pid}) runs under it" in refused.stderr
    [listed] = as_json(pg_cli("worker", "list", "--json"))
    assert (listed["id"], listed["pid"]) == ("w-shared", first.pid)
    pg_cli("enqueue", "-c", "true", "--id", "after")
    wait_until(lambda: as_json(pg_cli("show", "after", "--json"))["state"] == "completed",
               message="the first worker to run a job enqueued after the refusal")
