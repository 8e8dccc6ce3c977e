"""Output kept with each attempt: streamed while running, capped, read back with `logs`."""

from __future__ import annotations

from tests.helpers import Cli, StartWorker, job, state_of, wait_until


def test_logs_follow_sees_output_while_the_job_still_runs(
    cli: Cli, start_worker: StartWorker, tmp_path
) -> None:
    gate = tmp_path / "gate"
    cli("enqueue", "--command",
        f"echo first; while [ ! -e {gate} ]; do sleep 0.05; done; echo second; exit 3",
        "--id", "chatty", "--max-retries", "0")
    start_worker()
    follower = cli.spawn("logs", "chatty", "--follow")
    try:
        assert follower.stdout is not None
        assert follower.stdout.readline() == "first\n"
        assert state_of(cli, "chatty") == "processing", "the line arrived before the job ended"
        gate.touch()
        rest, _ = follower.communicate(timeout=30)
    finally:
        follower.kill()
    assert rest == "second\n"
    assert follower.returncode == 3, "follow exits with the job's exit code"


def test_output_past_the_limit_is_counted_not_kept(cli: Cli, start_worker: StartWorker) -> None:
    size = 50 * 1024 * 1024
    cli("enqueue", "--command", f"head -c {size} /dev/zero | tr '\\0' x; echo; echo tail",
        "--id", "loud", "--output-limit", "64k")
    start_worker()
    wait_until(lambda: state_of(cli, "loud") == "completed", timeout=60, message="job done")
    [attempt] = job(cli, "loud")["attempts_history"]
    assert len(attempt["output"]) == 64 * 1024
    assert attempt["output_dropped"] == size + len("\ntail\n") - 64 * 1024
    shown = cli("show", "loud")
    assert "more bytes not kept: output limit" in shown.stdout


def test_logs_of_each_attempt_and_tail(cli: Cli, start_worker: StartWorker) -> None:
    cli("config", "set", "backoff_base", "1")
    cli("config", "set", "backoff_max", "50ms")  # retries in ms, not seconds
    cli("enqueue", "--command", 'seq 1 5; echo "run $QUEUECTL_ATTEMPT"; exit 1', "--id", "twice",
        "--max-retries", "1")
    start_worker()
    wait_until(lambda: state_of(cli, "twice") == "dead", timeout=30, message="job dead")
    assert cli("logs", "twice", "--attempt", "1").stdout.endswith("run 1\n")
    assert cli("logs", "twice").stdout.endswith("run 2\n")
    assert cli("logs", "twice", "--tail", "2").stdout == "5\nrun 2\n"
    assert "no attempt 7" in cli("logs", "twice", "--attempt", "7", check=1).stderr


def test_wait_exit_codes(cli: Cli, start_worker: StartWorker) -> None:
    cli("enqueue", "--command", "true", "--id", "good")
    cli("enqueue", "--command", "false", "--id", "bad", "--max-retries", "0")
    cli("enqueue", "--command", "sleep 100", "--id", "slow")
    blocked = cli("wait", "good", "slow", "--timeout", "300ms", check=1)
    assert "slow: pending" in blocked.stdout
    start_worker("--count", "3")
    assert cli("wait", "good").stdout == "good: completed\n"
    assert "bad: dead" in cli("wait", "good", "bad", check=1).stdout
    cli("wait", "nosuch", check=1)
