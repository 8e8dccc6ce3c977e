"""``queuectl stats`` and ``queuectl status --watch``, the real CLI in subprocesses."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.helpers import Cli, WorkerPool, as_json, dump, wait_until, what_the_terminal_holds

ENTER_ALT_SCREEN, LEAVE_ALT_SCREEN = "\x1b[?1049h", "\x1b[?1049l"


def test_stats_per_queue_after_real_runs(cli: Cli) -> None:
    cli("enqueue", "--command", "true", "--id", "ok1")
    cli("enqueue", "--command", "true", "--id", "ok2")
    cli("enqueue", "--command", "exit 5", "--id", "bad", "--max-retries", "0")
    cli("worker", "start", "--burst", "--quiet")

    lines = cli("stats").stdout.splitlines()
    assert lines[0].startswith("Runs finished since ") and lines[0].endswith("(the last 1h)")
    header, row = lines[2].split(), lines[3].split()
    assert header[:6] == ["QUEUE", "COMPLETED", "FAILED", "DEAD", "SUCCESS", "THROUGHPUT"]
    assert row[:5] == ["default", "2", "1", "1", "66.7%"]

    report = as_json(cli("stats", "--since", "30m", "--json"))
    total = report["total"]
    assert (total["completed"], total["failed"], total["dead"]) == (2, 1, 1)
    assert total["run_time"]["count"] == 3 and total["wait_time"]["count"] == 3
    assert total["run_time"]["p50"] <= total["run_time"]["p95"] <= total["run_time"]["max"]
    assert [q["queue"] for q in report["queues"]] == ["default"]


def test_stats_with_nothing_finished(cli: Cli) -> None:
    cli("enqueue", "-c", "true")
    assert cli("stats").stdout.splitlines()[-1] == "None."
    assert cli("stats", "--queue", "mail").stdout.splitlines()[-1] == "None in queue mail."


@pytest.mark.parametrize("since", ["soon", "0", "-1h"])
def test_stats_refuses_a_bad_window(cli: Cli, db_path: Path, since: str) -> None:
    cli("enqueue", "--command", "true")
    before = dump(db_path)
    result = cli("stats", "--since", since, check=2)
    assert result.stderr.startswith("error: since:") and len(result.stderr.splitlines()) == 1
    assert dump(db_path) == before


def test_watch_refuses_json(cli: Cli) -> None:
    assert "--watch and --json" in cli("status", "--watch", "--json", check=2).stderr


def _busy_worker(cli: Cli, workers: WorkerPool) -> None:
    workers.start(1)
    cli("enqueue", "--command", "while [ ! -e go ]; do sleep 0.05; done", "--id", "busy")
    wait_until(lambda: as_json(cli("status", "--json"))["jobs"]["processing"] == 1,
               timeout=30, interval=0.1, message="the job to run")


def _read_until(fd: int, wanted: str, seen: list[str], count: int = 1,
                timeout: float = 20.0) -> str:
    """Read from ``fd`` until ``wanted`` has appeared ``count`` times; return all text read."""
    deadline = time.monotonic() + timeout
    while "".join(seen).count(wanted) < count:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no {wanted!r} in the output: {''.join(seen)!r}")
        if select.select([fd], [], [], left)[0]:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the pty closed: the process exited
                chunk = b""
            if not chunk:
                raise AssertionError(f"output ended without {wanted!r}: {''.join(seen)!r}")
            seen.append(chunk.decode(errors="replace"))
    return "".join(seen)


def _watch_until(cli: Cli, env: dict[str, str], wanted: str) -> tuple[str, int]:
    """status --watch on a terminal (a pty) until ``wanted`` shows, then Ctrl-C."""
    main, terminal = pty.openpty()
    proc = subprocess.Popen(cli.argv("status", "--watch", "--interval", "0.2"), env=env,
                            cwd=cli.cwd, stdin=terminal, stdout=terminal, stderr=terminal)
    os.close(terminal)
    seen: list[str] = []
    try:
        _read_until(main, wanted, seen)
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=20)
        # The rest, up to the pty's close.
        seen.append(what_the_terminal_holds(main, 0.2).decode(errors="replace"))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(main)
    return "".join(seen), code


def test_watch_on_a_terminal_redraws_in_colour_and_leaves_it_clean(
    cli: Cli, workers: WorkerPool
) -> None:
    _busy_worker(cli, workers)
    env = {k: v for k, v in cli.env.items() if k != "NO_COLOR"}
    output, code = _watch_until(cli, env, "Running now (1)")
    assert code == 0
    assert output.startswith(ENTER_ALT_SCREEN)
    assert output.rstrip().endswith(LEAVE_ALT_SCREEN), "the terminal was not given back"
    assert "\x1b[34mprocessing\x1b[0m" in output  # coloured state names
    assert "busy" in output and "Workers (1)" in output


def test_watch_honours_no_color(cli: Cli, workers: WorkerPool) -> None:
    _busy_worker(cli, workers)
    output, code = _watch_until(cli, {**cli.env, "NO_COLOR": "1"}, "Running now (1)")
    assert code == 0
    assert ENTER_ALT_SCREEN in output and "processing" in output
    assert "\x1b[3" not in output, "colour codes despite NO_COLOR"


def _first_frame_from_a_pipe(cli: Cli) -> str:
    """The first whole frame ``status --watch`` prints into a pipe (the next one has begun),
    after a Ctrl-C that must end it with status 0."""
    proc = cli.spawn("status", "--watch", "--interval", "0.2")
    assert proc.stdout is not None
    seen: list[str] = []
    try:
        text = _read_until(proc.stdout.fileno(), "queuectl  ", seen, count=3)
        proc.send_signal(signal.SIGINT)
        _, errors = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, errors
    assert "\x1b" not in text
    return text.split("queuectl  ")[1]


def test_watch_into_a_pipe_prints_plain_frames(cli: Cli, workers: WorkerPool) -> None:
    _busy_worker(cli, workers)
    first_frame = _first_frame_from_a_pipe(cli)
    assert "Running now (1)" in first_frame and "busy" in first_frame


def test_watch_names_the_housekeeper(cli: Cli, workers: WorkerPool) -> None:
    first = workers.worker_id(workers.start(1))
    second = workers.worker_id(workers.start(1))
    assert first and second
    lines = _first_frame_from_a_pipe(cli).splitlines()
    table = lines[lines.index("Workers (2)") + 1:]
    rows = {cells[0]: cells for cells in map(str.split, table[:table.index("")])}
    assert rows["ID"] == ["ID", "STATE", "ROLE", "HOST", "PID", "BUSY", "HEARTBEAT"]
    # As `worker list` says: the longest-registered live worker is the housekeeper.
    assert rows[first][1:3] == ["running", "housekeeper"]
    assert rows[second][1:3] == ["running", "-"]


def test_watch_shows_a_commands_control_characters_instead_of_obeying_them(
    cli: Cli, workers: WorkerPool
) -> None:
    """A running job's command holding ESC [ 2 J cleared the screen each refresh, and one
    holding ESC [ with no 'm' after it ended the view with a ValueError."""
    workers.start(1)
    cli("enqueue", "--command", ": '\x1b[2J\x1b[H'; while [ ! -e go ]; do sleep 0.05; done",
        "--id", "busy")
    wait_until(lambda: as_json(cli("status", "--json"))["jobs"]["processing"] == 1,
               timeout=30, interval=0.1, message="the job to run")
    output, code = _watch_until(cli, cli.env, ": '\\x1b[2J\\x1b[H'; while")
    assert code == 0
    assert "\x1b[2J" not in output and "Traceback" not in output, output


def test_watch_on_a_dumb_terminal_prints_plain_frames(cli: Cli, workers: WorkerPool) -> None:
    """TERM=dumb (Emacs' shell) takes no escape codes: the view is printed as into a pipe."""
    _busy_worker(cli, workers)
    output, code = _watch_until(cli, {**cli.env, "TERM": "dumb"}, "Running now (1)")
    assert code == 0
    assert "\x1b" not in output, output
    assert "busy" in output and "Workers (1)" in output
