"""Failed attempts, backoff, the dead letter queue and retrying from it, through the CLI."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest
from tests.helpers import Cli, WorkerPool, as_json, drain, wait_until

from queuectl import Queue
from queuectl.units import parse_timestamp

# isoformat(timespec="milliseconds") truncates, so two printed times may be 1 ms closer
# than the times stored.
PRINT_SLACK = 0.002


def burst(cli: Cli) -> None:
    """Run jobs, retries included, until nothing is left to run or to retry."""
    cli("worker", "start", "--burst", "--quiet", timeout=120)


def test_failing_job_retries_with_backoff_then_lands_in_the_dlq(cli: Cli, tmp_path: Path) -> None:
    cli("config", "set", "backoff_base", "1.2")  # waits of 1.2 s, then 1.44 s
    cli("enqueue", '{"id":"flaky","command":"echo try; test -e fixed || exit 3","max_retries":2}')
    burst(cli)

    job = as_json(cli("show", "flaky", "--json"))
    assert (job["state"], job["attempts"], job["exit_code"]) == ("dead", 3, 3)
    assert job["last_error"] == "exit code 3"
    history = job["attempts_history"]
    assert [a["attempt"] for a in history] == [1, 2, 3]  # max_retries 2: exactly 2 retries
    assert all(a["error"] == "exit code 3" and a["output"] == "try\n" for a in history)
    for k, (before, after) in enumerate(pairwise(history), start=1):
        waited = parse_timestamp(after["started_at"]) - parse_timestamp(before["finished_at"])
        assert waited >= 1.2**k - PRINT_SLACK, (k, waited)

    dead = as_json(cli("dlq", "list", "--json"))
    assert [j["id"] for j in dead] == ["flaky"]
    assert "flaky" in cli("dlq", "list").stdout

    # retry: back to pending, attempts reset, history kept; then it succeeds
    assert "flaky" in cli("dlq", "retry", "flaky").stdout
    job = as_json(cli("show", "flaky", "--json"))
    assert (job["state"], job["attempts"], len(job["attempts_history"])) == ("pending", 0, 3)
    assert cli("dlq", "list").stdout.strip() == "The dead letter queue is empty."

    (tmp_path / "fixed").touch()
    burst(cli)
    job = as_json(cli("show", "flaky", "--json"))
    assert (job["state"], job["attempts"], job["exit_code"]) == ("completed", 1, 0)
    assert [a["error"] for a in job["attempts_history"]] == ["exit code 3"] * 3 + [None]

    # a job that is not dead is refused, naming its state
    result = cli("dlq", "retry", "flaky", check=1)
    assert "completed" in result.stderr


def test_zero_retries_goes_straight_to_the_dlq(cli: Cli) -> None:
    cli("enqueue", "--command", "exit 9", "--id", "once", "--max-retries", "0")
    burst(cli)
    job = as_json(cli("show", "once", "--json"))
    assert (job["state"], job["attempts"], len(job["attempts_history"])) == ("dead", 1, 1)
    assert job["last_error"] == "exit code 9"


def test_retry_all_dead(cli: Cli) -> None:
    for name in ("d1", "d2"):
        cli("enqueue", "--command", "false", "--id", name, "--max-retries", "0")
    cli("enqueue", "--command", "true", "--id", "ok")
    burst(cli)
    assert cli("dlq", "retry", "--all").stdout.strip() == "Retried 2 dead jobs."
    jobs = {j["id"]: j for j in as_json(cli("list", "--json"))}
    assert {name: (jobs[name]["state"], jobs[name]["attempts"]) for name in jobs} == {
        "d1": ("pending", 0), "d2": ("pending", 0), "ok": ("completed", 1)}
    assert cli("dlq", "retry", "--all").stdout.strip() == "Retried 0 dead jobs."


@pytest.mark.parametrize("args", [["--all"], ["--tag", "t"]], ids=["all", "tag"])
def test_retry_all_says_which_dead_jobs_stay_for_their_unique_key(
    cli: Cli, args: list[str],
) -> None:
    # It said "Retried 1 dead job." and left the other in the DLQ without a word; then it
    # named it, and still exited 0, as if all asked for were retried.
    for name in ("first", "second"):
        cli("enqueue", "-c", "false", "--id", name, "--max-retries", "0", "--unique-key", "k",
            "--tag", "t")
        burst(cli)
    result = cli("dlq", "retry", *args, check=1)
    assert result.stdout == "Retried 1 dead job.\n"
    [stayed] = [job["id"] for job in as_json(cli("list", "--json")) if job["state"] == "dead"]
    assert result.stderr == f"Left dead: {stayed} (unique key 'k' held by a live job).\n"


def _dead_child_of_a_canceled_parent_and_a_plain_dead_job(cli: Cli) -> None:
    """Dead jobs 'child' (it dies again at once when retried: its parent is canceled) and
    'plain' (it can be retried)."""
    cli("enqueue", "-c", "true", "--id", "parent", "--delay", "1h")
    cli("enqueue", "-c", "true", "--id", "child", "--after", "parent")
    cli("enqueue", "-c", "false", "--id", "plain", "--max-retries", "0")
    cli("cancel", "parent")
    burst(cli)


def test_retry_all_exits_1_naming_a_job_that_died_again_and_retries_the_others(
    either_cli: Cli,
) -> None:
    # A job whose dependency was canceled dies again at once: it was counted as retried,
    # and the exit status was 0.
    cli = either_cli
    _dead_child_of_a_canceled_parent_and_a_plain_dead_job(cli)
    assert as_json(cli("show", "child", "--json"))["state"] == "dead"
    result = cli("dlq", "retry", "--all", check=1)
    assert (result.stdout, result.stderr) == (
        "Retried 1 dead job.\n", "Left dead: child (died again: dependency parent dead).\n")
    states = {job["id"]: job["state"] for job in as_json(cli("list", "--json"))}
    assert states == {"parent": "canceled", "child": "dead", "plain": "pending"}


def test_retrying_a_job_by_id_that_dies_again_at_once_says_why_and_exits_1(
    either_cli: Cli,
) -> None:
    # It printed 'Retried child: now dead' and exited 0: `dlq retry child && deploy` went on.
    cli = either_cli
    _dead_child_of_a_canceled_parent_and_a_plain_dead_job(cli)
    said = ("Retried child: dead again at once: dependency parent dead\n"
            "Retried plain: now pending\n", "")
    result = cli("dlq", "retry", "child", "plain", check=1)
    assert (result.stdout, result.stderr) == said
    cli("cancel", "plain")  # `retry` takes dead and canceled jobs
    result = cli("retry", "child", "plain", check=1)
    assert (result.stdout, result.stderr) == said
    states = {job["id"]: job["state"] for job in as_json(cli("list", "--json"))}
    assert states == {"parent": "canceled", "child": "dead", "plain": "pending"}


def test_retry_refused_for_a_unique_key_names_the_key_and_the_live_job(cli: Cli) -> None:
    # It said "job 'theirs': a live job has the same unique_key", naming neither.
    cli("enqueue", "-c", "false", "--id", "theirs", "--max-retries", "0", "--unique-key", "k")
    burst(cli)
    cli("enqueue", "-c", "true", "--id", "ours", "--unique-key", "k")
    for command in (["dlq", "retry"], ["retry"]):
        result = cli(*command, "theirs", check=1)
        assert (result.stdout, result.stderr) == ("", "error: job 'theirs' has unique key 'k', "
                                                  "which live job 'ours' holds already: "
                                                  "nothing retried\n")
    assert as_json(cli("show", "theirs", "--json"))["state"] == "dead"


def test_unknown_command_fails_gracefully_into_retries(cli: Cli, workers: WorkerPool) -> None:
    cli("config", "set", "backoff_base", "1000")  # it stays failed while we look
    cli("enqueue", '{"id":"typo","command":"nosuchcommand_xyz --flag","max_retries":2}')
    worker = workers.start(1)
    job = wait_until(lambda: (j := as_json(cli("show", "typo", "--json")))["state"] == "failed"
                     and j, timeout=30, interval=0.1, message="the first attempt to fail")
    assert (job["attempts"], job["exit_code"]) == (1, 127)
    assert job["last_error"] == "exit code 127: command not found"
    assert parse_timestamp(job["run_at"]) >= parse_timestamp(job["updated_at"]) + 999
    [attempt] = job["attempts_history"]
    assert "nosuchcommand_xyz" in attempt["output"]  # the shell's own message is kept

    [row] = [line for line in cli("list", "--state", "failed").stdout.splitlines()
             if line.startswith("typo ")]
    assert "exit code 127: command not found" in row
    assert "1/2" in row and job["run_at"][:19] + "Z" in row  # the next run time

    shown = cli("show", "typo").stdout
    assert "attempt 1" in shown and "exit code 127: command not found" in shown

    worker.signal(15)
    assert worker.wait() == 0
    assert "Traceback" not in worker.stderr()


def test_a_job_that_runs_too_long_is_killed_and_fails(cli: Cli) -> None:
    cli("config", "set", "kill_grace", "1s")
    cli("enqueue", "--command", "echo started; sleep 60", "--id", "slow", "--timeout", "1s",
        "--max-retries", "0")
    burst(cli)
    job = as_json(cli("show", "slow", "--json"))
    assert (job["state"], job["last_error"]) == ("dead", "timed out after 1s")
    assert job["attempts_history"][0]["output"] == "started\n"


def test_a_job_retried_by_hand_is_in_no_error_in_show_list_and_json(cli: Cli) -> None:
    # show and the JSON kept 'canceled' (the job's error before the retry), list said '-'.
    cli("enqueue", '{"id": "bad", "command": "exit 3", "max_retries": 0}')
    cli("add", "--id", "later", "--delay", "1h", "echo hi")
    cli("cancel", "later")
    burst(cli)
    cli("retry", "bad", "later")
    for job_id in ("bad", "later"):
        assert "\nlast error:  -\n" in cli("show", job_id).stdout
        assert as_json(cli("show", job_id, "--json"))["last_error"] is None
        lines = cli("list", "--state", "pending").stdout.splitlines()
        assert next(line for line in lines if line.startswith(job_id)).endswith("  -")
    assert [job["last_error"] for job in as_json(cli("list", "--json"))] == [None, None]
    # The error is history, kept by the attempt it ended.
    shown = cli("show", "bad").stdout.splitlines()
    assert "exit code 3" in next(line for line in shown if line.startswith("attempt 1 "))


def test_a_retried_or_canceled_job_shows_no_exit_code_of_an_earlier_run(cli: Cli) -> None:
    """show, its JSON and list's JSON kept the exit code of the run before a retry (or a
    cancel) on a job that had not run again: 'exit code: 3' on a pending job. That code is
    the history's, kept by its attempt."""
    cli("config", "set", "backoff_base", "600")  # the failed job stays failed for the test
    cli("enqueue", "--command", "echo once; exit 3", "--id", "again", "--max-retries", "0")
    cli("enqueue", "--command", "exit 4", "--id", "stopped", "--max-retries", "2")
    _run_ready(cli)
    assert "exit code:   3" in cli("show", "again").stdout.splitlines()
    assert as_json(cli("show", "stopped", "--json"))["exit_code"] == 4  # failed, to retry

    cli("dlq", "retry", "again")
    cli("cancel", "stopped")
    for job_id, state in (("again", "pending"), ("stopped", "canceled")):
        shown = cli("show", job_id).stdout.splitlines()
        assert f"state:       {state}" in shown
        assert "exit code:   -" in shown and "last error:  -" in shown
        job = as_json(cli("show", job_id, "--json"))
        assert (job["state"], job["exit_code"], job["last_error"]) == (state, None, None)
        assert job["attempts_history"][0]["exit_code"] == (3 if job_id == "again" else 4)
    listed = {job["id"]: job for job in as_json(cli("list", "--json"))}
    assert (listed["again"]["exit_code"], listed["stopped"]["exit_code"]) == (None, None)

    cli("enqueue", "--command", "true", "--id", "fine")
    _run_ready(cli)  # again runs again (exit 3: dead), and fine
    assert as_json(cli("show", "again", "--json"))["exit_code"] == 3
    assert as_json(cli("show", "fine", "--json"))["exit_code"] == 0


def _run_ready(cli: Cli) -> None:
    """Run the jobs ready now, not waiting for a failed one's retry (``burst`` waits)."""
    with Queue(cli.env["QUEUECTL_DB"], environ={}) as queue:
        drain(queue)
