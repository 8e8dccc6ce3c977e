"""Fencing of frozen workers, wake-up latency, detached workers and the systemd unit."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from tests.helpers import Cli, StartWorker, job, job_processes, state_of, wait_until

ROOT = Path(__file__).resolve().parents[2]


def test_a_frozen_worker_cannot_record_a_result_after_its_job_was_rescued(
    cli: Cli, start_worker: StartWorker, tmp_path
) -> None:
    runs = tmp_path / "runs.txt"
    cli("config", "set", "lease_duration", "2s")
    cli("config", "set", "backoff_base", "1")
    cli("config", "set", "backoff_max", "50ms")  # retries in ms, not seconds
    cli("enqueue", "--command",
        f"echo start $QUEUECTL_ATTEMPT >> {runs}; [ $QUEUECTL_ATTEMPT = 1 ] && sleep 60;"
        f" echo end $QUEUECTL_ATTEMPT >> {runs}", "--id", "fenced")
    frozen = start_worker()
    wait_until(lambda: runs.exists(), message="first run started")
    os.kill(frozen.pid, signal.SIGSTOP)
    try:
        rescuer = start_worker()
        wait_until(lambda: state_of(cli, "fenced") == "completed", timeout=30,
                   message="the job rescued and completed by the other worker")
    finally:
        os.kill(frozen.pid, signal.SIGCONT)
    history = job(cli, "fenced")["attempts_history"]
    assert [a["error"] for a in history] == ["worker lost", None]
    # The frozen worker's run was killed before the job was run again: never two at once.
    assert runs.read_text().splitlines() == ["start 1", "start 2", "end 2"]
    assert job_processes("fenced") == []
    assert history[1]["worker_id"] != history[0]["worker_id"]
    # Once resumed, the frozen worker finds its late result refused (or, if its lease's end
    # came first, the run it gives back taken already), and says so.
    frozen.send_signal(signal.SIGTERM)
    _, log = frozen.communicate(timeout=30)
    assert ("discarded the result of job fenced run 1" in log
            or "1 interrupted run not given back: rescued meanwhile" in log), log
    assert job(cli, "fenced")["attempts_history"][1]["error"] is None
    rescuer.send_signal(signal.SIGTERM)


def test_an_idle_worker_starts_a_new_job_within_half_a_second(
    cli: Cli, start_worker: StartWorker
) -> None:
    cli("config", "set", "poll_interval", "1h")
    start_worker()
    wait_until(lambda: json.loads(cli("worker", "list", "--json").stdout), message="worker up")
    cli("enqueue", "--command", "true", "--id", "quick")
    wait_until(lambda: state_of(cli, "quick") == "completed", message="job done")
    shown = job(cli, "quick")
    latency = (_seconds(shown["attempts_history"][0]["started_at"])
               - _seconds(shown["created_at"]))
    assert latency < 0.5


def _seconds(iso: str) -> float:
    from queuectl.units import parse_timestamp

    return parse_timestamp(iso)


def test_detached_worker_starts_logs_and_stops(cli: Cli, db_path: Path) -> None:
    started = cli("worker", "start", "--count", "2", "--detach")
    assert started.stdout.startswith("Started worker w-")
    worker_id = started.stdout.split()[2]
    pid = int(started.stdout.split("pid ")[1].split(")")[0])
    try:
        listed = json.loads(cli("worker", "list", "--json").stdout)
        assert [(w["id"], w["pid"], w["slots"], w["state"]) for w in listed] == [
            (worker_id, pid, 2, "running")]
        cli("enqueue", "--command", "echo detached", "--id", "d")
        cli("wait", "d", "--timeout", "30s")
        assert cli("worker", "stop", "--id", worker_id).stdout == "Stopped 1 worker.\n"
        wait_until(lambda: not Path(f"/proc/{pid}").exists()
                   or "Z" in Path(f"/proc/{pid}/stat").read_text().split(")")[1][:3],
                   message="the detached process to exit")
    finally:
        if Path(f"/proc/{pid}").exists():
            os.kill(pid, signal.SIGKILL)
    log = (db_path.parent / f"{db_path.name}-logs" / f"{worker_id}.log")
    assert oct(log.stat().st_mode & 0o777) == "0o600"
    assert f"worker {worker_id} stopped" in log.read_text()
    assert cli("worker", "stop", "--id", "w-nosuch", check=1)


def test_worker_list_shows_a_killed_worker_as_lost(cli: Cli, start_worker: StartWorker) -> None:
    victim = start_worker()  # on a new database, which `worker list` refuses until it is created
    wait_until(lambda: json.loads(cli("worker", "list", "--json", check=False).stdout or "[]"),
               message="worker up")
    victim.kill()
    victim.wait()
    [listed] = json.loads(cli("worker", "list", "--json").stdout)
    assert listed["state"] == "lost"
    assert "lost" in cli("status").stdout


def test_the_systemd_unit_is_valid(tmp_path: Path) -> None:
    unit = (ROOT / "contrib" / "systemd" / "queuectl-worker@.service").read_text()
    assert "ExecStart=/usr/local/bin/queuectl worker start" in unit
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed; the unit was checked only by reading it")
    queuectl = Path(sys.executable).with_name("queuectl")
    instance = tmp_path / "queuectl-worker@root.service"
    instance.write_text(unit.replace("/usr/local/bin/queuectl", str(queuectl)))
    result = subprocess.run([analyze, "verify", str(instance)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr


def _children(pid: int) -> list[tuple[int, str]]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append((int(entry.name), fields[0]))
    return found


def _rss_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    return int(next(line for line in status if line.startswith("VmRSS")).split()[1])


def test_workers_reap_every_child_and_keep_their_memory(
    cli: Cli, start_worker: StartWorker, tmp_path: Path
) -> None:
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text('{"command": "echo some output"}\n' * 1000)
    worker = start_worker("--count", "4", "-q")
    cli("enqueue", "--file", str(jobs))
    done = lambda: json.loads(cli("status", "--json").stdout)["jobs"]["completed"]  # noqa: E731
    wait_until(lambda: done() == 1000, timeout=120, message="first 1000 jobs")
    after_first = _rss_kib(worker.pid)
    cli("enqueue", "--file", str(jobs))
    cli("enqueue", "--file", str(jobs))
    wait_until(lambda: done() == 3000, timeout=120, message="3000 jobs")
    assert [state for _, state in _children(worker.pid)] == [], "no child is left, not a zombie"
    growth = _rss_kib(worker.pid) - after_first
    assert growth < 4096, f"worker memory grew by {growth} KiB over 2000 jobs"


def test_a_detached_worker_whose_log_folder_cannot_be_made_is_one_line(
        cli: Cli, db_path: Path) -> None:
    """A file where the log folder goes made ``worker start --detach`` a traceback
    (FileExistsError from mkdir); now one line naming it, exit 1, and no worker."""
    cli("enqueue", "-c", "true")
    folder = db_path.parent / f"{db_path.name}-logs"
    folder.write_text("")
    refused = cli("worker", "start", "--detach", check=1)
    assert refused.stderr == f"error: the worker could not start: {folder}: File exists\n"
    assert cli("worker", "list").stdout == "No workers.\n"


def test_a_worker_on_a_path_that_cannot_be_a_database_is_one_line_at_once(
        cli: Cli, tmp_path: Path) -> None:
    """A worker waits at start for a PostgreSQL server that does not answer yet, not for a
    SQLite path that no wait mends: it exits 1 at once, in one line."""
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    refused = cli("--db", str(not_a_folder / "q.db"), "worker", "start", check=1, timeout=20)
    assert refused.stderr.startswith(f"error: cannot open database {not_a_folder}/q.db: ")
    assert len(refused.stderr.splitlines()) == 1
