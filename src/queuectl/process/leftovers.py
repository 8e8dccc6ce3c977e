"""Killing what a dead or frozen worker's jobs left running on this host.

Found, in this order, by what a job cannot clear:

1. the worker's cgroup (every process its jobs started, however they detached);
2. each run's session, from the worker's run records: a job's processes keep its session id
   unless they call ``setsid`` themselves, and the session leader's start time (checked to the
   clock tick) tells a reused pid apart;
3. as a fallback, the ``QUEUECTL_*`` variables in ``/proc/PID/environ``, for what a job moved
   out of its session while keeping its environment (and for workers without records).

Each process is checked again through a pidfd before it is sent SIGKILL, so a pid reused in
between is never hit.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator

from queuectl.process.cgroups import cgroup_processes, kill_cgroup
from queuectl.process.ownership import (
    RunRecord,
    all_records,
    forget_worker,
    read_records,
    record_path,
    ticks,
)

RESCUE_SECONDS = 3600.0
_ROUNDS = 20  # kill passes over a session: each catches the children forked during the last


def kill_leftover_job_processes(worker_id: str, *, forget: bool = True) -> int:
    """SIGKILL whatever the jobs of ``worker_id`` (a dead worker) left; returns how many.
    ``forget=False`` keeps its records, for a rescue still to read which runs started."""
    killed: set[int] = set()
    path = record_path(worker_id)
    records = read_records(path) if path else None
    if records is not None:
        if records.cgroup:
            killed.update(kill_cgroup(records.cgroup))
        for run in records.runs:
            killed |= _kill_session(run, records.cgroup)
    killed |= _kill_with_environment({f"QUEUECTL_WORKER_ID={worker_id}".encode()})
    if forget:
        forget_worker(worker_id)
    return len(killed)


def kill_job_run(job_id: str, run: int, worker_id: str | None) -> int:
    """SIGKILL the processes of one run of a job, held by ``worker_id``, on this host; returns
    how many.

    Only that worker's records and processes are considered: job ids are unique within one
    database, and other databases' workers (other queues, other test runs) share this host.
    """
    killed: set[int] = set()
    path = record_path(worker_id) if worker_id else None
    records = read_records(path) if path else None
    if records is not None:
        for record in records.runs:
            if record.job_id == job_id and record.run == run:
                killed |= _kill_session(record, records.cgroup)
    variables = {f"QUEUECTL_JOB_ID={job_id}".encode(), f"QUEUECTL_ATTEMPT={run}".encode()}
    if worker_id:
        variables.add(f"QUEUECTL_WORKER_ID={worker_id}".encode())
    killed |= _kill_with_environment(variables)
    return len(killed)


def prune_stale_records(now: float) -> None:
    """Remove the records of workers that are gone and left nothing running: those of workers
    killed after their database was (a test's, say), which no rescuer will ever read. A file
    written in the last ``RESCUE_SECONDS`` stays: its worker's rescue may not have read yet
    which of its runs started."""
    from queuectl.hosts import DEAD, liveness

    stale = [records for records in all_records()
             if liveness(records.pid, records.marker) == DEAD
             and not (records.cgroup and os.path.isdir(records.cgroup))
             and _written(records.worker_id) < now - RESCUE_SECONDS]
    if not stale:
        return
    sessions = {int(fields[3]) for _, fields in _processes()}
    for records in stale:
        if not any(run.session in sessions for run in records.runs):
            forget_worker(records.worker_id)


def _written(worker_id: str) -> float:
    path = record_path(worker_id)
    try:
        return os.stat(path).st_mtime if path else 0.0
    except OSError:
        return 0.0


def _stat(pid: int | str) -> list[str] | None:
    """Fields 3 onwards of ``/proc/PID/stat``: state, ppid, pgrp, session, ... (index 19 is
    the start time)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as file:
            stat = file.read()
    except OSError:
        return None
    return stat.rsplit(b")", 1)[1].decode().split()


def _processes() -> Iterator[tuple[int, list[str]]]:
    for name in os.listdir("/proc"):
        if name.isdigit():
            fields = _stat(name)
            if fields is not None and fields[0] not in ("Z", "X"):
                yield int(name), fields


def _kill_session(record: RunRecord, cgroup: str | None) -> set[int]:
    """Kill the processes of a recorded run's session; an id reused since is left alone."""
    earliest = ticks(record.started_after)
    leader = _stat(record.session)
    if leader is not None:
        if not earliest <= int(leader[19]) <= ticks(record.started_before):
            return set()  # the pid is another process's now, so no process of ours has it
        confirm = None
    else:
        # The leader has exited. Its id stays taken while any process of the session lives,
        # so the only doubt is a session that ended and a new one that got the same id: where
        # a cgroup is known its processes must be in it.
        confirm = set(cgroup_processes(cgroup)) if cgroup and os.path.isdir(cgroup) else None
    killed: set[int] = set()
    for _ in range(_ROUNDS):
        members = [pid for pid, fields in _processes()
                   if int(fields[3]) == record.session and int(fields[19]) >= earliest
                   and (confirm is None or pid in confirm)]
        if not members:
            break
        for pid in members:
            if _kill_if(pid, lambda f: int(f[3]) == record.session):
                killed.add(pid)
    return killed


def _kill_with_environment(variables: set[bytes]) -> set[int]:
    """SIGKILL the groups of the processes whose environment holds all of ``variables``."""
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
    killed: set[int] = set()
    for group in groups:
        members = [pid for pid, fields in _processes() if int(fields[2]) == group]
        try:
            os.killpg(group, signal.SIGKILL)
        except OSError:
            continue
        killed.update(members)
    return killed


def _kill_if(pid: int, belongs: Callable[[list[str]], bool]) -> bool:
    """SIGKILL ``pid`` if it still ``belongs``; returns whether it was killed.

    Through a pidfd: the signal goes to the process the pidfd was opened for, or nowhere, never
    to a process that got its pid since the check.
    """
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):  # no pidfd (old kernel), or gone already
        fields = _stat(pid)
        if fields is None or not belongs(fields):
            return False
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            return False
        return True
    try:
        fields = _stat(pid)
        if fields is None or fields[0] in ("Z", "X") or not belongs(fields):
            return False
        signal.pidfd_send_signal(pidfd, signal.SIGKILL)
        return True
    except OSError:
        return False
    finally:
        os.close(pidfd)
