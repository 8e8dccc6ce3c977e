"""Process control: timeouts, cancel, background children, descriptors, environment."""

from __future__ import annotations

import json
import subprocess

from tests.helpers import Cli, StartWorker, job, job_processes, state_of, wait_until


def test_timeout_kills_the_whole_process_tree(cli: Cli, start_worker: StartWorker) -> None:
    cli("enqueue", "--command", "sleep 100 & sleep 100", "--id", "tree", "--timeout", "1s",
        "--max-retries", "0")
    start_worker()
    wait_until(lambda: state_of(cli, "tree") == "dead", timeout=30, message="timeout to strike")
    assert job(cli, "tree")["last_error"] == "timed out after 1s"
    assert wait_until(lambda: not job_processes("tree"), timeout=10,
                      message="every process of the job to be gone") is True


def test_term_ignoring_job_is_killed_after_the_grace(cli: Cli, start_worker: StartWorker) -> None:
    cli("config", "set", "kill_grace", "500ms")
    cli("enqueue", "--command", "trap '' TERM; sleep 100", "--id", "stubborn", "--timeout", "1s",
        "--max-retries", "0")
    start_worker()
    wait_until(lambda: state_of(cli, "stubborn") == "dead", timeout=30, message="job killed")
    wait_until(lambda: not job_processes("stubborn"), timeout=10, message="processes gone")


def test_a_timeout_is_retried_unless_the_job_says_not_to(
    cli: Cli, start_worker: StartWorker
) -> None:
    cli("config", "set", "backoff_base", "1")
    cli("config", "set", "backoff_max", "50ms")  # retries in ms, not seconds
    cli("enqueue", '{"id":"again","command":"sleep 100","timeout":"300ms","max_retries":1}')
    cli("enqueue", '{"id":"once","command":"sleep 100","timeout":"300ms","max_retries":5,'
        '"retry_on_timeout":false}')
    start_worker("--count", "2")
    wait_until(lambda: {state_of(cli, "again"), state_of(cli, "once")} == {"dead"}, timeout=30,
               message="both jobs dead")
    assert (job(cli, "again")["attempts"], job(cli, "once")["attempts"]) == (2, 1)
    assert "not retried" in job(cli, "once")["last_error"]


def test_fatal_exit_codes_go_straight_to_the_dlq(cli: Cli, start_worker: StartWorker) -> None:
    cli("enqueue", '{"id":"usage","command":"exit 64","max_retries":5,"fatal_exit_codes":[2,64]}')
    cli("enqueue", "--command", "exit 3", "--id", "other", "--max-retries", "1",
        "--fatal-exit-code", "64")
    cli("config", "set", "backoff_base", "1")
    cli("config", "set", "backoff_max", "50ms")  # retries in ms, not seconds
    start_worker()
    wait_until(lambda: {state_of(cli, "usage"), state_of(cli, "other")} == {"dead"}, timeout=30,
               message="both dead")
    assert job(cli, "usage")["attempts"] == 1
    assert job(cli, "usage")["last_error"] == "exit code 64 (fatal exit code: not retried)"
    assert job(cli, "other")["attempts"] == 2


def test_cancel_kills_a_running_job_and_its_group(cli: Cli, start_worker: StartWorker) -> None:
    cli("enqueue", "--command", "sleep 100 & sleep 100", "--id", "victim")
    cli("enqueue", "--command", "true", "--id", "waiting", "--fatal-exit-code", "1")
    cli("config", "set", "poll_interval", "1h")
    start_worker()
    wait_until(lambda: state_of(cli, "victim") == "processing" and job_processes("victim"),
               message="job running")
    result = cli("cancel", "victim")
    assert "Canceled victim" in result.stdout
    assert state_of(cli, "victim") == "canceled"
    wait_until(lambda: not job_processes("victim"), timeout=10, message="processes gone")


def test_cancel_of_waiting_and_finished_jobs(cli: Cli) -> None:
    cli("enqueue", "--command", "true", "--id", "later")
    assert "Canceled later" in cli("cancel", "later").stdout
    refused = cli("cancel", "later", check=1)
    assert "is canceled" in refused.stderr and refused.stderr.count("\n") == 1
    cli("cancel", "nosuch", check=1)
    assert "Retried later: now pending" in cli("retry", "later").stdout
    cli("retry", "later", check=1)


def test_a_background_child_holding_stdout_does_not_hang_the_slot(
    cli: Cli, start_worker: StartWorker
) -> None:
    cli("enqueue", "--command", "sleep 60 & echo hi", "--id", "bg")
    start_worker()
    wait_until(lambda: state_of(cli, "bg") == "completed", timeout=15, message="job completed")
    assert cli("logs", "bg").stdout == "hi\n"
    wait_until(lambda: not job_processes("bg"), timeout=10, message="the leftover sleep gone")


def test_jobs_get_no_worker_descriptors_and_a_merged_environment(
    cli: Cli, start_worker: StartWorker
) -> None:
    cli("enqueue", '{"id":"fds","command":"ls /proc/self/fd; echo A=$A; read x || echo eof",'
        '"env":{"A":"from-job"}}')
    start_worker()
    wait_until(lambda: state_of(cli, "fds") == "completed", message="job completed")
    lines = cli("logs", "fds").stdout.split()
    # 0, 1, 2 and the descriptor ls opens to read the folder: nothing of the worker's.
    assert [line for line in lines if line.isdigit()] == ["0", "1", "2", "3"]
    assert "A=from-job" in lines and "eof" in lines
    stored = json.loads(cli("show", "fds", "--json").stdout)["env"]
    assert stored == {"A": "from-job"}, "the worker's environment is never stored"


def test_jobs_run_where_they_were_enqueued_unless_told(
    cli: Cli, start_worker: StartWorker, tmp_path
) -> None:
    here = tmp_path / "here"
    here.mkdir()
    subprocess.run(cli.argv("enqueue", "--command", "pwd", "--id", "where"), cwd=here,
                   env=cli.env, check=True, capture_output=True)
    cli("enqueue", "--command", "pwd", "--id", "there", "--cwd", "/")
    start_worker()
    wait_until(lambda: {state_of(cli, "where"), state_of(cli, "there")} == {"completed"},
               message="both completed")
    assert cli("logs", "where").stdout.strip() == str(here)
    assert cli("logs", "there").stdout.strip() == "/"
