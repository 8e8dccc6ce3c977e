"""Facts about processes on this host: is a worker alive, and which job processes did it leave.

A worker killed with SIGKILL cannot end its jobs' process groups (they run in sessions of
their own), and a frozen one cannot end them in time, so every job process carries
``QUEUECTL_WORKER_ID``, ``QUEUECTL_JOB_ID`` and ``QUEUECTL_ATTEMPT`` in its environment, and
whoever rescues a run finds and kills what is left of it on this host through ``/proc``.
"""

from __future__ import annotations

import os

HOST = os.uname().nodename


def _stat(pid: int) -> list[str] | None:
    """Fields 3 onwards of ``/proc/PID/stat`` (state first), or None if unreadable."""
    try:
        with open(f"/proc/{pid}/stat") as file:
            stat = file.read()
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
    return _kill_groups_with({f"QUEUECTL_WORKER_ID={worker_id}".encode()})


def kill_job_run(job_id: str, run: int) -> int:
    """SIGKILL the process groups of one run of a job on this host; returns how many."""
    return _kill_groups_with(
        {f"QUEUECTL_JOB_ID={job_id}".encode(), f"QUEUECTL_ATTEMPT={run}".encode()}
    )


def _kill_groups_with(variables: set[bytes]) -> int:
    """SIGKILL the groups of the processes whose environment holds all of ``variables``."""
    import signal  # here: every enqueue imports this module, for HOST

    groups: set[int] = set()
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as file:
                environ = file.read()
            if variables <= set(environ.split(b"\0")):
                groups.add(os.getpgid(int(name)))
        except OSError:
            continue
    for group in groups:
        try:
            os.killpg(group, signal.SIGKILL)
        except OSError:
            pass
    return len(groups)
