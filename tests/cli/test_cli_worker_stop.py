"""Stopping workers: graceful on the first signal, forced on the second, and `worker stop`."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest
from tests.helpers import Cli, WorkerPool, as_json, processes_using, wait_until
from tests.storage.conftest import execute_raw

WAIT_FOR_GO = "while [ ! -e go ]; do sleep 0.05; done"
FOREVER = "while true; do sleep 0.05; done"
GIVEN_BACK = "(not counted as an attempt)"


def job(cli: Cli, job_id: str) -> Any:
    return as_json(cli("show", job_id, "--json"))


def wait_for_state(cli: Cli, job_id: str, state: str, runs: int = 1) -> None:
    wait_until(lambda: (j := job(cli, job_id))["state"] == state and j["runs"] == runs,
               timeout=30, interval=0.1, message=f"{job_id} to be {state} (run {runs})")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_first_signal_lets_the_running_job_finish_and_claims_nothing_more(
    cli: Cli, workers: WorkerPool, tmp_path: Path, signum: int
) -> None:
    cli("enqueue", "--command", f"{WAIT_FOR_GO}; echo finished", "--id", "running")
    cli("enqueue", "--command", "true", "--id", "waiting")
    worker = workers.start(1)
    wait_for_state(cli, "running", "processing")

    worker.signal(signum)
    (tmp_path / "go").touch()  # after the signal: the job ends while the worker is stopping
    assert worker.wait() == 0, worker.stderr()

    finished = job(cli, "running")
    assert (finished["state"], finished["attempts"]) == ("completed", 1)
    assert finished["attempts_history"][0]["output"] == "finished\n"
    assert job(cli, "waiting")["state"] == "pending"
    assert as_json(cli("status", "--json"))["workers"] == []


def test_second_signal_kills_the_job_and_gives_its_attempt_back(
    cli: Cli, workers: WorkerPool, db_path: Path
) -> None:
    command = f'if [ "$QUEUECTL_ATTEMPT" = 1 ]; then {FOREVER}; fi; echo second'
    cli("enqueue", "--command", command, "--id", "stuck", "--max-retries", "0")
    worker = workers.start(1)
    wait_for_state(cli, "stuck", "processing")
    assert processes_using(db_path, QUEUECTL_JOB_ID="stuck")

    assert worker.force_stop() == 0, worker.stderr()
    back = job(cli, "stuck")
    assert (back["state"], back["attempts"], back["runs"]) == ("pending", 0, 1)
    assert back["attempts_history"][0]["error"].endswith(GIVEN_BACK)
    wait_until(lambda: not processes_using(db_path, QUEUECTL_JOB_ID="stuck"), timeout=10,
               message="the killed job's processes to be gone")

    # max_retries 0: had the forced stop used up the only attempt, the job could not complete
    cli("worker", "start", "--burst", "--quiet")
    done = job(cli, "stuck")
    assert (done["state"], done["attempts"]) == ("completed", 1)
    assert done["attempts_history"][1]["output"] == "second\n"


def test_a_forced_stop_puts_a_retried_job_back_to_failed(
    cli: Cli, workers: WorkerPool
) -> None:
    cli("config", "set", "backoff_base", "1")
    command = f'case "$QUEUECTL_ATTEMPT" in 1) exit 3;; 2) {FOREVER};; esac'
    cli("enqueue", "--command", command, "--id", "retried", "--max-retries", "3")
    worker = workers.start(1)
    wait_for_state(cli, "retried", "processing", runs=2)

    assert worker.force_stop() == 0, worker.stderr()
    back = job(cli, "retried")
    assert (back["state"], back["attempts"], back["last_error"]) == ("failed", 1, "exit code 3")
    first, second = back["attempts_history"]
    assert first["error"] == "exit code 3" and second["error"].endswith(GIVEN_BACK)


def test_worker_stop_waits_for_running_jobs(
    cli: Cli, workers: WorkerPool, tmp_path: Path
) -> None:
    for n in (1, 2):
        cli("enqueue", "--command", WAIT_FOR_GO, "--id", f"job{n}")
    assert cli("worker", "stop").stdout.strip() == "No workers running."
    first, second = workers.start(1), workers.start(1)
    wait_until(lambda: as_json(cli("status", "--json"))["jobs"]["processing"] == 2,
               timeout=30, interval=0.1, message="both jobs running")

    stop = subprocess.Popen(cli.argv("worker", "stop"), env=cli.env, cwd=cli.cwd, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_until(lambda: {w["state"] for w in as_json(cli("status", "--json"))["workers"]}
                   == {"stopping"}, timeout=30, interval=0.1, message="workers stopping")
        assert stop.poll() is None  # still waiting: the jobs have not finished
        assert first.proc.poll() is None and second.proc.poll() is None
        (tmp_path / "go").touch()
        out, err = stop.communicate(timeout=60)
    finally:
        if stop.poll() is None:
            stop.kill()
            stop.communicate()
    assert (stop.returncode, out.strip(), err) == (0, "Stopped 2 workers.", "")
    assert first.wait() == 0 and second.wait() == 0
    assert as_json(cli("status", "--json"))["jobs"]["completed"] == 2


def test_worker_stop_timeout_then_now(cli: Cli, workers: WorkerPool, db_path: Path) -> None:
    cli("enqueue", "--command", FOREVER, "--id", "endless")
    worker = workers.start(1)
    worker_id = workers.worker_id(worker)
    wait_for_state(cli, "endless", "processing")

    result = cli("worker", "stop", "--timeout", "1s", check=1)
    assert result.stdout.strip() == "Stopped 0 workers."
    assert result.stderr.strip() == f"Still running after 1s: {worker_id}"
    assert worker.proc.poll() is None and job(cli, "endless")["state"] == "processing"

    assert cli("worker", "stop", "--now").stdout.strip() == "Stopped 1 worker."
    assert worker.wait() == 0
    back = job(cli, "endless")
    assert (back["state"], back["attempts"]) == ("pending", 0)
    wait_until(lambda: not processes_using(db_path, QUEUECTL_JOB_ID="endless"), timeout=10,
               message="the killed job's processes to be gone")


def test_a_graceful_stop_says_which_paused_jobs_it_waits_for(
    cli: Cli, workers: WorkerPool, tmp_path: Path
) -> None:
    # A paused job never ends on its own: the stop waited for it without a word, as if hung.
    cli("enqueue", "--command", f"{WAIT_FOR_GO}; echo finished", "--id", "held")
    worker = workers.start(1)
    wait_for_state(cli, "held", "processing")
    cli("pause", "held")

    result = cli("worker", "stop", "--timeout", "1s", check=1)
    # In the words of the burst worker's warning (below): one formatter for the three.
    told = ("paused job held: it ends only once resumed (queuectl resume held), or is put"
            " back by queuectl worker stop --now")
    assert result.stderr.splitlines()[0] == f"The stop waits for {told}"
    wait_until(lambda: f"waiting for 1 running job, among them {told}" in worker.stderr(),
               timeout=10, message="the worker to say that it waits for a paused job")

    (tmp_path / "go").touch()
    cli("resume", "held")
    assert worker.wait() == 0, worker.stderr()
    assert job(cli, "held")["state"] == "completed"


def test_a_burst_worker_says_once_that_it_waits_for_a_paused_job(
    cli: Cli, workers: WorkerPool, tmp_path: Path
) -> None:
    # A paused job never ends on its own: the burst worker waited for it without a word, as
    # if hung. It waits still (the job is its to finish), but says so once, even with -q.
    cli("enqueue", "--command", f"{WAIT_FOR_GO}; echo finished", "--id", "held")
    cli("enqueue", "--command", "true", "--id", "other")
    worker = workers.start(2, "--burst", "-q")
    wait_for_state(cli, "held", "processing")
    cli("pause", "held")
    told = ("(burst) waits for paused job held: it ends only once resumed (queuectl resume"
            " held), or is put back by queuectl worker stop --now")
    wait_until(lambda: told in worker.stderr(), timeout=10,
               message="the burst worker to say that it waits for a paused job")
    assert job(cli, "other")["state"] == "completed"  # the rest was done first
    assert worker.proc.poll() is None

    (tmp_path / "go").touch()
    cli("resume", "held")
    assert worker.wait() == 0, worker.stderr()
    assert worker.stderr().count(told) == 1
    assert job(cli, "held")["state"] == "completed"


def test_a_forced_stop_does_not_say_it_waits_for_a_paused_job(
    cli: Cli, workers: WorkerPool
) -> None:
    # It said 'a paused job ends only once resumed' of a job it was killing.
    cli("enqueue", "--command", FOREVER, "--id", "held")
    worker = workers.start(1)
    wait_for_state(cli, "held", "processing")
    cli("pause", "held")
    cli("worker", "stop", "--now")
    assert worker.wait() == 0, worker.stderr()
    asked = next(line for line in worker.stderr().splitlines() if "asked to stop" in line)
    assert asked.endswith("asked to stop (now): waiting for 1 running job"), asked
    assert job(cli, "held")["state"] == "pending"


@pytest.mark.parametrize("heartbeat", ["inf", "253402300799"], ids=["inf", "year-9999"])
def test_worker_stop_waits_not_for_a_worker_whose_heartbeat_is_no_time_and_forgets_it(
        either_cli: Cli, heartbeat: str) -> None:
    """A registration whose heartbeat is absurd (edited by hand: infinite, years ahead) never
    read as lost, and worker stop, asking its worker (on another host: gone) to stop, waited
    for ever; then a lease each time, since no housekeeping forgot it. It is lost, and the
    rescue that worker stop begins with forgets it: nothing is waited for."""
    from queuectl import Queue
    from queuectl.storage.base import WorkerRegistration

    cli = either_cli
    cli("config", "set", "lease_duration", "2s")
    with Queue(cli.env["QUEUECTL_DB"], environ={}) as queue:
        queue.storage.register_worker(
            WorkerRegistration("w-gone", "elsewhere", 1, None, 1), queue.clock.now())
        value = heartbeat if heartbeat != "inf" else (
            "'Infinity'::float8" if "://" in cli.env["QUEUECTL_DB"] else "9e999")
        execute_raw(queue.storage, f"UPDATE workers SET heartbeat_at = {value}")
    [listed] = json.loads(cli("worker", "list", "--json").stdout)
    assert listed["state"] == "lost"
    stopped = cli("worker", "stop", timeout=30)
    assert (stopped.returncode, stopped.stdout, stopped.stderr) == (
        0, "No workers running.\n", "")
    assert json.loads(cli("worker", "list", "--json").stdout) == []
