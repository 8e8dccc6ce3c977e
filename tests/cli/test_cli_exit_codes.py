"""The exit-code rule, command by command: 0 success, 1 the operation failed, 2 invalid input or
usage; every failure is one line on stderr that starts with ``error:``, prints nothing on
stdout, and leaves the database exactly as it was."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from tests.helpers import Cli, dump

from queuectl import JobState, Queue

# (command line, exit code, words the error line must contain)
FAILURES: list[tuple[list[str], int, str]] = [
    # adding jobs
    (["enqueue"], 2, "give exactly one of JSON, --command or --file"),
    (["enqueue", "echo hello"], 2,
     "invalid JSON: Expecting value at column 1; to enqueue a shell command, give it with -c: "
     "queuectl enqueue -c 'echo hello'"),
    (["enqueue", "-c", "echo", "hello"], 2, "quote it, as in queuectl enqueue -c 'echo hello'"),
    (["enqueue", "echo", "hello"], 2, "queuectl add echo hello"),
    (["enqueue", '{"id":"job1","command":"true"}'], 1, "'job1' already exists"),
    (["enqueue", "--bogus"], 2, "--bogus"),
    (["add"], 2, "Missing argument 'CMD [ARGS]...'"),
    (["add", "--id", "job1", "true"], 1, "'job1' already exists"),
    (["add", "--priority", "high", "true"], 2, "--priority"),
    (["add", "--after", "nosuch", "true"], 2, "nosuch"),
    (["add", "--env", "NOEQUALS", "true"], 2, "KEY=VALUE"),
    # reading jobs
    (["list", "--state", "done"], 2, "unknown state 'done'"),
    (["list", "--limit", "0"], 2, "limit"),
    (["list", "--queue", "no such"], 2, "--queue"),
    (["list", "--tag", "no such"], 2, "--tag"),
    (["show", "nosuch"], 1, "no job with id 'nosuch'"),
    (["status", "--interval", "0"], 2, "--interval"),
    (["status", "--watch", "--json"], 2, "--watch and --json"),
    (["stats", "--since", "soon"], 2, "since"),
    (["logs", "nosuch"], 1, "no job with id 'nosuch'"),
    (["logs", "job1"], 1, "job 'job1' has not run yet"),
    (["logs", "done1", "--attempt", "9"], 1, "job 'done1' has no attempt 9"),
    (["logs", "done1", "--tail", "x"], 2, "--tail"),
    (["wait", "nosuch"], 1, "no job with id 'nosuch'"),
    (["wait", "job1", "--timeout", "soon"], 2, "--timeout"),
    # acting on jobs
    (["cancel", "nosuch"], 1, "no job with id 'nosuch'"),
    (["cancel", "done1"], 1, "completed"),
    (["retry", "job1"], 1, "pending"),
    (["retry"], 2, "Missing argument"),
    (["dlq", "retry"], 2, "give job ids, --all or --tag"),
    (["dlq", "retry", "job1"], 1, "pending"),
    (["dlq", "retry", "nosuch"], 1, "no job with id 'nosuch'"),
    (["dlq", "retry", "dead1", "--all"], 2, "give job ids, --all or --tag"),
    (["dlq", "list", "--limit", "x"], 2, "--limit"),
    (["dlq", "lst"], 2, "Did you mean 'list'?"),
    (["restart", "nosuch"], 1, "no job with id 'nosuch'"),
    (["restart", "done1", "job1"], 1, "'job1' is pending"),
    (["restart"], 2, "Missing argument"),
    (["remove", "done1", "nosuch"], 1, "no job with id 'nosuch'"),
    (["remove"], 2, "Missing argument"),
    (["edit", "nosuch", "--priority", "1"], 1, "no job with id 'nosuch'"),
    (["edit", "done1", "--priority", "1"], 1, "'done1' is completed"),
    (["edit", "job1", "--priority", "x"], 2, "--priority"),
    (["edit", "job1", "--queue", "no such"], 2, "queue"),
    (["edit", "job1", "--run-at", "2026-01-01T00:00:00Z", "--delay", "1h"], 2, "not both"),
    (["kill", "job1"], 1, "'job1' is pending: only a running job can be signalled"),
    (["kill", "job1", "--signal", "NOPE"], 2, "no signal 'NOPE'"),
    (["pause", "nosuch"], 1, "no job with id 'nosuch'"),
    (["resume", "done1"], 1, "'done1' is completed"),
    (["parallel", "0"], 2, "Invalid value for 'N'"),
    (["parallel", "2", "--worker", "nosuch"], 1, "no worker with id 'nosuch'"),
    (["parallel", "2", "--all", "--host", "x"], 2, "give --worker, --host or --all"),
    (["purge"], 2, "give --state or --all-terminal"),
    (["purge", "--state", "pending"], 2, "pending"),
    # settings
    (["config", "set", "colour", "red"], 2, "unknown config key 'colour'"),
    (["config", "get", "colour"], 2, "unknown config key 'colour'"),
    (["config", "unset", "colour"], 2, "unknown config key 'colour'"),
    (["config", "set", "max_retries"], 2, "Missing argument 'VALUE'"),
    (["config", "set", "max_retries", "-1"], 2, "max_retries"),
    (["config", "set", "autostart", "2000"], 2, "autostart: expected a number of slots"),
    # workers
    (["worker", "start", "--count", "0"], 2, "--count"),
    (["worker", "start", "--queue", "no such", "--burst"], 2, "--queue"),
    (["worker", "stop", "--id", "nosuch"], 1, "no worker with id 'nosuch'"),
    (["worker", "stop", "--timeout", "soon"], 2, "--timeout"),
    (["worker", "strat"], 2, "Did you mean 'start'?"),
    (["worker", "list", "--bogus"], 2, "--bogus"),
    # queues and schedules
    (["queue", "pause", "no such"], 2, "queue"),
    (["queue", "limit", "video", "lots"], 2, "lots"),
    (["queue", "shuffle", "video"], 2, "No such command 'shuffle'"),
    (["schedule", "add", "nightly", "-c", "true"], 2, "--cron"),
    (["schedule", "remove", "nosuch"], 1, "no schedule named 'nosuch'"),
    (["schedule", "pause", "nosuch"], 1, "no schedule named 'nosuch'"),
    # the rest
    (["export", "extra"], 2, "unexpected extra argument (extra)"),
    (["import", "no-such-file.jsonl"], 2, "no-such-file.jsonl"),
    (["dashboard", "--port", "99999"], 2, "--port"),
    (["db", "upgrade", "extra"], 2, "unexpected extra argument (extra)"),
    (["completion", "tcsh"], 2, "'tcsh' is not one of 'bash', 'zsh', 'fish'"),
    (["enque", "-c", "true"], 2, "No such command 'enque'. Did you mean 'enqueue'"),
    (["stauts"], 2, "Did you mean 'stats' or 'status'?"),
    (["--bogus"], 2, "--bogus"),
]


@pytest.fixture(scope="module")
def seeded_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A queue with a completed job (done1), a dead one (dead1) and a pending one (job1)."""
    path = tmp_path_factory.mktemp("seeded") / "queue.db"
    with Queue(path, environ={}) as queue:
        queue.enqueue("echo done", id="done1")
        queue.enqueue("exit 3", id="dead1", max_retries=0)
        with queue.worker(slots=2) as worker:
            while worker.run_once():
                pass
        queue.enqueue("echo hello", id="job1")
        assert queue.get("dead1").state is JobState.DEAD
        assert queue.get("done1").state is JobState.COMPLETED
    return path


@pytest.fixture
def seeded(seeded_file: Path, db_path: Path) -> list[str]:
    """This test's own copy of the seeded queue; returns its dump."""
    source, copy = sqlite3.connect(seeded_file), sqlite3.connect(db_path)
    try:
        source.backup(copy)
    finally:
        source.close()
        copy.close()
    return dump(db_path)


@pytest.mark.parametrize(("args", "code", "words"), FAILURES,
                         ids=[" ".join(args)[:40] for args, _, _ in FAILURES])
def test_every_failure_is_one_line_with_its_exit_code_and_changes_nothing(
    cli: Cli, db_path: Path, seeded: list[str], args: list[str], code: int, words: str
) -> None:
    result = cli(*args, check=code)
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("error: ") and words in line, line
    assert dump(db_path) == seeded


def test_an_import_of_an_id_that_exists_is_exit_1(
    cli: Cli, db_path: Path, seeded: list[str], tmp_path: Path
) -> None:
    (tmp_path / "export.jsonl").write_text(cli("export").stdout)
    result = cli("import", "export.jsonl", check=1)
    [line] = result.stderr.splitlines()
    assert line.startswith("error: ") and "already exists" in line, line
    assert dump(db_path) == seeded


def test_a_group_without_a_command_shows_its_help(cli: Cli) -> None:
    for args in ([], ["worker"], ["dlq"]):
        result = cli(*args, check=2)
        assert result.stderr.startswith("Usage: queuectl") and "Commands:" in result.stderr
