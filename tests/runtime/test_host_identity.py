"""Host identity: containers with one host name are told apart by boot id and PID namespace.

Each worker runs as pid 1 of a PID namespace of its own, under the same host name, on one
SQLite file: what containers sharing a volume (or ``--network host``) look like. Judged by
host name and pid alone, each would take the other for dead and rescue its running job.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest
from tests.helpers import Cli, job, state_of, wait_until

from queuectl.hosts import ALIVE, DEAD, UNKNOWN, liveness, start_marker
from queuectl.units import parse_timestamp

UNSHARE = ["unshare", "--pid", "--fork", "--kill-child", "--mount-proc", "--uts"]


def _unshare_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run([*UNSHARE, "true"], capture_output=True, timeout=30)
    return probe.returncode == 0


@pytest.fixture
def contained(cli: Cli) -> Iterator[list[subprocess.Popen[str]]]:
    if not _unshare_works():
        pytest.skip("unshare --pid --uts is not allowed here (needs root or user namespaces)")
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        process.send_signal(signal.SIGKILL)  # --kill-child takes the namespace's pid 1 along
        process.communicate(timeout=30)


def _start_in_a_container(cli: Cli, started: list[subprocess.Popen[str]]) -> None:
    command = f"hostname same-box && exec {sys.executable} -m queuectl worker start"
    started.append(subprocess.Popen([*UNSHARE, "sh", "-c", command], env=cli.env, cwd=cli.cwd,
                                    text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE))


def test_workers_in_two_pid_namespaces_do_not_rescue_each_other(
    either_cli: Cli, contained: list[subprocess.Popen[str]]
) -> None:
    cli = either_cli
    cli("config", "set", "lease_duration", "3s")  # a rescue check every second
    cli("enqueue", "--command", "sleep 60", "--id", "first")
    _start_in_a_container(cli, contained)
    wait_until(lambda: state_of(cli, "first") == "processing", message="first job running")
    cli("enqueue", "--command", "sleep 60", "--id", "second")
    _start_in_a_container(cli, contained)
    wait_until(lambda: state_of(cli, "second") == "processing", message="second job running")
    workers = json.loads(cli("worker", "list", "--json").stdout)
    assert [(w["host"], w["pid"]) for w in workers] == [("same-box", 1), ("same-box", 1)]
    since = max(parse_timestamp(w["heartbeat_at"]) for w in workers)

    def both_checked_twice_more() -> bool:
        listed = json.loads(cli("worker", "list", "--json").stdout)
        return len(listed) == 2 and all(
            parse_timestamp(w["heartbeat_at"]) > since + 2.5 for w in listed)

    wait_until(both_checked_twice_more, timeout=30, message="two more rescue checks each")
    for job_id in ("first", "second"):
        shown = job(cli, job_id)
        assert (shown["state"], shown["attempts"]) == ("processing", 1), shown
        assert [a["error"] for a in shown["attempts_history"]] == [None]


def test_liveness_of_markers_from_here_and_elsewhere() -> None:
    here = start_marker(os.getpid())
    assert here is not None
    assert liveness(os.getpid(), here) == ALIVE
    ticks, boot, namespace = here.split(":")
    assert liveness(os.getpid(), f"{int(ticks) + 1}:{boot}:{namespace}") == DEAD  # reused pid
    assert liveness(os.getpid(), f"{ticks}:{boot}:1") == UNKNOWN  # another PID namespace
    assert liveness(os.getpid(), f"{ticks}:another-boot:{namespace}") == UNKNOWN
    assert liveness(os.getpid(), ticks) == ALIVE  # a marker from before: ticks alone
    assert liveness(os.getpid(), str(int(ticks) + 1)) == DEAD
