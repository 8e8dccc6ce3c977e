from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import Cli, wait_until

from queuectl.process.cgroups import kill_cgroup


def job_processes(job_id: str) -> list[int]:
    """Pids of live processes started for ``job_id`` (they carry it in their environment)."""
    needle = f"QUEUECTL_JOB_ID={job_id}".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                environ = (entry / "environ").read_bytes().split(b"\0")
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if needle in environ and state != "Z":
                pids.append(int(entry.name))
    return pids


def job(cli: Cli, job_id: str) -> dict[str, Any]:
    shown: dict[str, Any] = json.loads(cli("show", job_id, "--json").stdout)
    return shown


def state_of(cli: Cli, job_id: str) -> str:
    return str(job(cli, job_id)["state"])


# Starts one `queuectl worker start` process with the arguments given.
StartWorker = Callable[..., subprocess.Popen[str]]


@pytest.fixture
def start_worker(cli: Cli) -> Iterator[StartWorker]:
    """Start `queuectl worker start` processes; all are killed at the end of the test."""
    started: list[subprocess.Popen[str]] = []

    def start(*args: str) -> subprocess.Popen[str]:
        process = cli.spawn("worker", "start", *args)
        started.append(process)
        return process

    yield start
    for process in started:
        # The worker's cgroup, if it has one: what its jobs still run is killed with it.
        cgroup = _queuectl_cgroup(process.pid)
        if process.poll() is None:
            os.kill(process.pid, signal.SIGCONT)
            process.kill()
        process.communicate(timeout=30)
        if cgroup is not None:
            kill_cgroup(cgroup)


def _queuectl_cgroup(pid: int) -> str | None:
    try:
        lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
    except OSError:
        return None
    path = next((line[3:] for line in lines if line.startswith("0::")), "")
    if "/queuectl-" not in path:
        return None
    mounts = [line.split() for line in Path("/proc/self/mountinfo").read_text().splitlines()]
    mount = next((m[4] for m in mounts if m[m.index("-") + 1] == "cgroup2"), None)
    return None if mount is None else mount + path


__all__ = ["job", "job_processes", "state_of", "wait_until"]
