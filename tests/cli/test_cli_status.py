"""status, where the database lives, and the help of every command."""

from __future__ import annotations

import os
import select
import socket
import sqlite3
import stat
import subprocess
from pathlib import Path

import pytest
from tests.helpers import Cli, WorkerPool, as_json, wait_until

from queuectl import Queue

STATES = ["pending", "processing", "completed", "failed", "dead", "canceled"]


def test_status_on_a_new_queue_shows_every_state_with_zeros(cli: Cli, db_path: Path) -> None:
    Queue(db_path).close()  # an empty queue
    lines = cli("status").stdout.splitlines()
    assert lines[0] == f"Database: {db_path}"
    for state in STATES:
        assert [state, "0"] in [line.split() for line in lines]
    assert "Workers: 0" in lines

    report = as_json(cli("status", "--json"))
    assert report == {"database": str(db_path), "jobs": dict.fromkeys(STATES, 0), "workers": [],
                      "pending": {"ready": 0, "scheduled": 0, "blocked": 0}, "paused": 0,
                      "refused_settings": {}, "in_paused_queues": 0}


def test_status_says_how_many_pending_jobs_wait_in_paused_queues(cli: Cli) -> None:
    # It said "2 ready" of jobs that no worker takes while their queue is paused.
    cli("queue", "pause", "video")
    cli("enqueue", "-c", "true", "--queue", "video")
    cli("enqueue", "-c", "true", "--queue", "video")
    lines = cli("status").stdout.splitlines()
    assert "  pending           2  (2 in paused queues: queuectl queue list)" in lines
    cli("enqueue", "-c", "true", "--delay", "1h")
    lines = cli("status").stdout.splitlines()
    assert ("  pending           3  (2 ready, 1 scheduled later, 0 waiting on dependencies; "
            "2 in paused queues: queuectl queue list)") in lines
    assert as_json(cli("status", "--json"))["in_paused_queues"] == 2
    cli("queue", "resume", "video")
    assert "  pending           3  (2 ready, 1 scheduled later, 0 waiting on dependencies)" \
        in cli("status").stdout.splitlines()


def test_status_shows_a_running_worker(cli: Cli, workers: WorkerPool, tmp_path: Path) -> None:
    worker = workers.start(2)
    cli("enqueue", "--command", "while [ ! -e go ]; do sleep 0.05; done", "--id", "busy")
    cli("enqueue", "--command", "true", "--id", "quick")
    wait_until(lambda: as_json(cli("status", "--json"))["jobs"]["processing"] == 1,
               timeout=30, interval=0.1, message="one job running")

    report = as_json(cli("status", "--json"))
    [info] = report["workers"]
    assert (info["id"], info["host"], info["pid"]) == (
        workers.worker_id(worker), socket.gethostname(), worker.pid)
    assert (info["state"], info["slots"], info["running"]) == ("running", 2, 1)
    assert report["jobs"]["completed"] == 1

    text = cli("status").stdout
    assert "Workers: 1" in text
    [row] = [line for line in text.splitlines() if line.startswith(info["id"])]
    assert str(worker.pid) in row.split() and socket.gethostname() in row.split()
    assert str(worker.pid) in cli("worker", "list").stdout

    (tmp_path / "go").touch()
    worker.signal(15)
    assert worker.wait() == 0
    final = as_json(cli("status", "--json"))
    assert final["workers"] == [] and final["jobs"]["completed"] == 2


def _database_used(cli: Cli, *args: str, env: dict[str, str]) -> str:
    """The database a command line would use, as `status` names it: with no queue there, in
    its error (which also shows that nothing was created)."""
    result = subprocess.run(cli.argv(*args, "status", "--json"), env=env, cwd=cli.cwd,
                            capture_output=True, text=True)
    if result.returncode == 0:
        return str(as_json(result)["database"])
    assert result.returncode == 1, result.stderr
    return result.stderr.removeprefix("error: no queue at ").split(" (")[0]


def test_database_location_precedence(cli: Cli, tmp_path: Path) -> None:
    flag, variable = tmp_path / "flag.db", tmp_path / "variable.db"
    xdg = tmp_path / "xdg"
    env = {**cli.env, "QUEUECTL_DB": str(variable), "XDG_DATA_HOME": str(xdg)}
    assert _database_used(cli, "--db", str(flag), env=env) == str(flag)
    assert _database_used(cli, env=env) == str(variable)
    del env["QUEUECTL_DB"]
    default = xdg / "queuectl" / "queue.db"
    assert _database_used(cli, env=env) == str(default)
    assert not flag.exists() and not variable.exists() and not xdg.exists()
    for database in (flag, variable, default):
        Queue(database).close()
    assert _database_used(cli, "--db", str(flag), env={**env, "QUEUECTL_DB": str(variable)}) \
        == str(flag)
    assert _database_used(cli, env={**env, "QUEUECTL_DB": str(variable)}) == str(variable)
    assert _database_used(cli, env=env) == str(default)

    # without XDG_DATA_HOME: ~/.local/share
    home = tmp_path / "home"
    env = {k: v for k, v in env.items() if k != "XDG_DATA_HOME"} | {"HOME": str(home)}
    assert _database_used(cli, env=env) == str(home / ".local/share/queuectl/queue.db")


def test_default_database_is_private_and_in_wal_mode(cli: Cli, tmp_path: Path) -> None:
    xdg = tmp_path / "private"
    env = {k: v for k, v in cli.env.items() if k != "QUEUECTL_DB"} | {"XDG_DATA_HOME": str(xdg)}
    old_umask = os.umask(0)  # the modes must not depend on a permissive umask
    try:
        subprocess.run(cli.argv("enqueue", "--command", "true"), env=env, cwd=cli.cwd,
                       check=True, capture_output=True)
    finally:
        os.umask(old_umask)
    folder, database = xdg / "queuectl", xdg / "queuectl" / "queue.db"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    db = sqlite3.connect(database)
    try:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        db.close()


def test_enqueue_and_worker_in_different_directories_meet_the_same_queue(
    cli: Cli, tmp_path: Path
) -> None:
    env = {k: v for k, v in cli.env.items() if k != "QUEUECTL_DB"}
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    subprocess.run(cli.argv("enqueue", "--command", "echo ran > out.txt"), env=env, cwd=one,
                   check=True, capture_output=True)
    subprocess.run(cli.argv("worker", "start", "--burst", "--quiet"), env=env, cwd=two,
                   check=True, capture_output=True, timeout=60)
    assert (one / "out.txt").read_text() == "ran\n"


def test_python_dash_m_and_version(cli: Cli) -> None:
    # cli runs `python -m queuectl`; without a command it shows the usage
    bare = cli(check=False)
    assert "Usage: queuectl" in bare.stdout + bare.stderr and "Traceback" not in bare.stderr
    assert "queuectl, version" in cli("--version").stdout


COMMANDS = [
    [], ["enqueue"], ["list"], ["show"], ["status"],
    ["worker"], ["worker", "start"], ["worker", "stop"], ["worker", "list"],
    ["dlq"], ["dlq", "list"], ["dlq", "retry"],
    ["config"], ["config", "set"], ["config", "get"], ["config", "list"], ["config", "unset"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=[" ".join(c) or "queuectl" for c in COMMANDS])
def test_every_help_has_an_example(cli: Cli, command: list[str]) -> None:
    out = cli(*command, "--help").stdout
    assert out.startswith("Usage: queuectl")
    assert "Example" in out
    example_lines = [line.strip() for line in out.split("Example", 1)[1].splitlines()[1:]]
    assert any(line.startswith("queuectl ") for line in example_lines)


def test_wait_says_which_jobs_wait_in_a_paused_queue(cli: Cli) -> None:
    # It waited without a word, as if hung, for a job no worker would start.
    cli("queue", "pause", "video")
    cli("enqueue", "-c", "true", "--queue", "video", "--id", "clip")
    cli("enqueue", "-c", "true", "--id", "other")
    result = cli("wait", "clip", "other", "--timeout", "0.2", check=1)
    assert result.stderr.splitlines()[0] == (
        "Job clip waits in paused queue video (queuectl queue resume video).")
    assert "other" not in result.stderr


def test_logs_follow_says_the_job_waits_in_a_paused_queue(cli: Cli) -> None:
    cli("queue", "pause", "video")
    cli("enqueue", "-c", "echo hi", "--queue", "video", "--id", "clip")
    proc = cli.spawn("logs", "clip", "--follow")
    try:
        assert proc.stderr is not None
        # Said before it waits: without the line, nothing comes within the deadline.
        assert select.select([proc.stderr], [], [], 30)[0], "no word while it waits"
        assert proc.stderr.readline() == (
            "Job clip waits in paused queue video (queuectl queue resume video).\n")
        cli("queue", "resume", "video")
        cli("worker", "start", "--burst", "--quiet", timeout=60)
        out, _ = proc.communicate(timeout=60)
        assert out == "hi\n" and proc.returncode == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
