"""Facts about processes on this host: is a worker alive, and which job processes did it leave.

A worker killed with SIGKILL cannot end its jobs' process groups (they run in sessions of
their own), so every job process carries ``QUEUECTL_WORKER_ID`` in its environment and the
worker that rescues the jobs finds and kills the leftovers through ``/proc``.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

HOST = os.uname().nodename
_PROC = Path("/proc")


def start_marker(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (clock ticks since boot), or None if unknown.

    A pid can be reused after its process exits; the pair (pid, start time) cannot.
    """
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # Field 22; the command name (field 2) may contain spaces, so count from its ')'.
    return stat.rsplit(")", 1)[1].split()[19]


def is_alive(pid: int, marker: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return marker is None or start_marker(pid) in (None, marker)


def kill_leftover_job_processes(worker_id: str) -> int:
    """SIGKILL the process groups of jobs started by ``worker_id``; returns how many."""
    needle = f"QUEUECTL_WORKER_ID={worker_id}".encode()
    groups: set[int] = set()
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                groups.add(os.getpgid(int(entry.name)))
        except OSError:
            continue
    for group in groups:
        try:
            os.killpg(group, signal.SIGKILL)
        except OSError:
            pass
    return len(groups)
