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


def _stat(pid: int) -> list[str] | None:
    """Fields 3 onwards of ``/proc/PID/stat`` (state first), or None if unreadable."""
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may contain spaces and parentheses: count from its last ')'.
    return stat.rsplit(")", 1)[1].split()


def start_marker(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (clock ticks since boot), or None if unknown.

    A pid can be reused after its process exits; the pair (pid, start time) cannot.
    """
    fields = _stat(pid)
    return fields[19] if fields else None  # field 22


def is_alive(pid: int, marker: str | None) -> bool:
    fields = _stat(pid)
    if fields is not None:
        # A zombie (Z) has exited and only waits for its parent to reap it: a worker killed
        # with SIGKILL stays one until then, and will never renew its leases.
        return fields[0] not in ("Z", "X") and marker in (None, fields[19])
    try:  # no /proc entry to read: ask the kernel whether the pid exists at all
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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
