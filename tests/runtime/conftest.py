from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.helpers import Cli, StartWorker

from queuectl.process.cgroups import kill_cgroup


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


