"""Opt-in autostart: with ``config set autostart N`` an enqueue starts one detached worker of N
slots when none runs on this host for the queue; enqueuers at the same moment start one."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.helpers import Cli, WorkerPool, as_json, wait_until


def test_without_the_setting_no_worker_starts(cli: Cli, workers: WorkerPool) -> None:
    result = cli("enqueue", "-c", "true")
    assert result.stderr == ""
    assert cli("worker", "list", "--json").stdout.strip() == "[]"


def test_concurrent_enqueues_start_exactly_one_worker(
    cli: Cli, workers: WorkerPool, db_path: Path
) -> None:
    cli("config", "set", "autostart", "3")
    forms = [["enqueue", "-c", "echo plain"], ["add", "echo", "words"],
             ["enqueue", '{"command":"echo json"}'], ["add", "--queue", "q", "echo queued"]]
    procs = [subprocess.Popen(cli.argv(*form), env=cli.env, cwd=cli.cwd, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for form in forms * 2]
    results = [(proc.wait(timeout=60), *proc.communicate()) for proc in procs]
    assert all(code == 0 and out.startswith("Enqueued job ") for code, out, _ in results)
    started = [err for _, _, err in results if err]
    assert len(started) == 1, started
    assert started[0].startswith("Started worker w-") and "(autostart: 3 slots, pid " in \
        started[0]
    [worker] = as_json(cli("worker", "list", "--json"))
    assert (worker["slots"], worker["state"]) == (3, "running")
    wait_until(lambda: as_json(cli("status", "--json"))["jobs"]["completed"] == 8,
               message="every job run by the started worker")
    assert cli("add", "true").stderr == ""  # one runs: nothing more is started
    cli("worker", "stop")


def test_a_bad_value_is_refused(cli: Cli) -> None:
    cli("enqueue", "-c", "true")
    for value in ("0.5", "-1", "1025", "many"):
        result = cli("config", "set", "autostart", value, check=2)
        assert result.stderr.startswith("error: autostart: expected a number of slots")
    assert cli("config", "get", "autostart").stdout == "off\n"
