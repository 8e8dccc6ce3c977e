"""`logs --follow` ends when the run it waits for can no longer come."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

from tests.helpers import Cli


def _follow(cli: Cli, *args: str, meanwhile: Callable[[], object] | None = None
            ) -> subprocess.CompletedProcess[str]:
    """``logs ARGS --follow`` in a subprocess, ``meanwhile`` done while it follows, and what
    it printed once it ended (killed if it had not within 20 s)."""
    follower = cli.spawn("logs", *args, "--follow")
    try:
        if meanwhile is not None:
            meanwhile()
        out, err = follower.communicate(timeout=20)
    finally:
        follower.kill()
    return subprocess.CompletedProcess(follower.args, follower.returncode, out, err)


def test_following_a_job_that_ends_without_running_stops_with_why(cli: Cli) -> None:
    # It waited for a first run that never comes: before, it polled for ever.
    cli("add", "--id", "later", "--delay", "1h", "echo hi")
    followed = _follow(cli, "later", meanwhile=lambda: cli("cancel", "later"))
    assert (followed.returncode, followed.stdout) == (1, "")
    assert followed.stderr == (
        "error: job 'later' is canceled and never ran: no output to follow\n")


def test_following_an_attempt_a_finished_job_never_had_stops_with_why(cli: Cli) -> None:
    cli("add", "--id", "once", "echo hi")
    cli("worker", "start", "--burst", "-q")
    followed = _follow(cli, "once", "--attempt", "2")
    assert (followed.returncode, followed.stdout) == (1, "")
    assert followed.stderr == "error: job 'once' is completed and has no attempt 2\n"
    assert _follow(cli, "once", "--attempt", "1").returncode == 0


def test_following_a_dependent_killed_by_its_dependency_stops_with_why(cli: Cli) -> None:
    cli("enqueue", '{"id": "parent", "command": "exit 4", "max_retries": 0}')
    cli("add", "--id", "child", "--after", "parent", "echo hi")
    followed = _follow(cli, "child", meanwhile=lambda: cli("worker", "start", "--burst", "-q"))
    assert (followed.returncode, followed.stdout) == (1, "")
    assert followed.stderr == "error: job 'child' is dead and never ran: no output to follow\n"


def test_following_a_run_that_ended_without_an_exit_code_says_why(cli: Cli) -> None:
    # Killed, timed out, canceled or interrupted by a forced stop: exit 1, before without a word.
    cli("enqueue", '{"id": "killed", "command": "echo hi; kill -9 $$", "max_retries": 0}')
    cli("enqueue", '{"id": "slow", "command": "sleep 30", "timeout": 1, "max_retries": 0}')
    cli("worker", "start", "--burst", "-q")
    killed = _follow(cli, "killed")
    assert (killed.returncode, killed.stdout) == (1, "hi\n")
    assert killed.stderr == (
        "error: job 'killed' attempt 1 ended without an exit code: killed by SIGKILL\n")
    slow = _follow(cli, "slow")
    assert (slow.returncode, slow.stdout) == (1, "")
    assert slow.stderr == (
        "error: job 'slow' attempt 1 ended without an exit code: timed out after 1s\n")
