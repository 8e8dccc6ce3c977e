"""A queue's workers seen and steered from outside: their states, stopping them, starting one
in the background. (The worker itself is ``loop.py``; its processes ``supervisor.py``.)"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ..errors import DatabaseUnreachable, QueuectlError
from ..jobspec.text import queue_name

if TYPE_CHECKING:
    from queuectl.worker.supervisor import Detached

    from ..clock import Clock
    from ..config import Settings
    from ..models import WorkerInfo
    from ..storage import Storage

def worker_states(storage: Storage, lease: float, now: float) -> list[WorkerInfo]:
    """Registered workers, each running, stopping, or lost (its heartbeat older than a lease,
    or more than a lease ahead, or no time at all: inf or NaN by a hand edit; or its process
    gone from this host), and which is the housekeeper."""
    from dataclasses import replace

    from queuectl.hosts import HOST, is_alive

    result = []
    for worker in storage.workers(alive_since=now - lease, alive_until=now + lease):
        # A registration's start marker tells a process of this host from one of another PID
        # namespace under the same host name (a container): its pid says nothing here.
        local_dead = (worker.host == HOST
                      and not is_alive(worker.pid, worker.pid_started))
        # NaN (see storage) and inf fail the comparison too.
        if local_dead or not now - lease <= worker.heartbeat_at <= now + lease:
            state = "lost"
        elif worker.stop_requested:
            state = "stopping"
        else:
            state = "running"
        result.append(replace(worker, state=state))
    return result


def stop_workers(storage: Storage, settings: Settings, clock: Clock, *, worker_id: str | None,
                 mode: str, timeout: float | None,
                 on_paused: Callable[[list[str]], None] | None = None,
                 on_silent: Callable[[str, float, float], None] | None = None,
                 on_outage: Callable[[str], None] | None = None,
                 ) -> tuple[list[str], list[str]]:
    """Ask workers to stop (``mode`` graceful or now) and wait until they have exited;
    ``(stopped, still running)``. Before a graceful wait, ``on_paused`` is given the ids of
    the paused jobs (queuectl pause) that those workers run, if any: they end only once
    resumed, so the wait lasts until then.

    A worker is waited for no longer than it stays lost or silent: a live worker writes a
    heartbeat every third of a lease, so one whose heartbeat has not moved for a lease of
    waiting is lost, whatever it reads (a registration edited by hand into a heartbeat that
    is infinite or years ahead never read as lost, and the wait lasted for ever). It counts
    as stopped, and ``on_silent`` is given its id, the heartbeat it reads and the lease it
    was silent for.

    A PostgreSQL server that goes away once the stop is asked for is waited for, as ``wait``
    does (``on_outage`` is told; ``timeout`` still bounds it), and no heartbeat counts as
    silent for the time it was away: the workers could not write one either."""
    from queuectl.waiting import ReadOutage
    from queuectl.worker.maintenance import rescue_lost_runs

    rescue_lost_runs(storage, settings, clock.now())
    if worker_id is not None and worker_id not in {w.id for w in storage.workers()}:
        raise QueuectlError(f"no worker with id {worker_id!r}")
    asked = storage.request_stop(worker_id, mode)
    if mode == "graceful" and on_paused is not None and asked:
        paused = storage.paused_jobs_of(asked)
        if paused:
            on_paused(paused)
    deadline = None if timeout is None else clock.now() + timeout
    heard: dict[str, tuple[float, float]] = {}  # worker: its heartbeat, when first read so
    silent: set[str] = set()
    outage = ReadOutage(clock, on_outage)
    while True:
        try:
            states = worker_states(storage, settings.lease_duration, clock.now())
        except DatabaseUnreachable as exc:
            clock.sleep(outage.failed(exc, deadline))
            continue
        if outage.succeeded():
            heard.clear()  # silence is counted afresh from now
        now = clock.now()
        remaining = {w.id for w in states} & set(asked)
        lost = {w.id for w in states if w.state == "lost"}
        for worker in states:
            if worker.id not in remaining or worker.id in lost | silent:
                continue
            heartbeat, since = heard.get(worker.id, (worker.heartbeat_at, now))
            if heartbeat != worker.heartbeat_at:
                heartbeat, since = worker.heartbeat_at, now
            heard[worker.id] = heartbeat, since
            if now - since >= settings.lease_duration:
                silent.add(worker.id)
                if on_silent is not None:
                    on_silent(worker.id, worker.heartbeat_at, settings.lease_duration)
        waiting = remaining - lost - silent
        if not waiting or (deadline is not None and clock.now() >= deadline):
            return [w for w in asked if w not in waiting], sorted(waiting)
        clock.sleep(0.05)


def start_detached_worker(storage: Storage, slots: int, *, queues: Sequence[str], burst: bool,
                          verbose: bool, quiet: bool) -> Detached:
    """``queuectl worker start`` in the background for ``storage``'s database, once it has
    registered."""
    from queuectl.worker.loop import new_worker_id
    from queuectl.worker.supervisor import start_detached

    names = [queue_name(name, "--queue") for name in queues]  # refused now, not later
    worker_id = new_worker_id()
    # The database goes through the environment: a password in argv would show in `ps`.
    argv = [sys.executable, "-m", "queuectl", "worker", "start",
            "--count", str(slots), "--worker-id", worker_id]
    argv += [flag for flag, on in (("--burst", burst), ("-v", verbose), ("-q", quiet)) if on]
    argv += [arg for name in names for arg in ("--queue", name)]
    return start_detached(storage, argv, worker_id)


def autostart_worker(storage: Storage, settings: Settings, clock: Clock) -> Detached | None:
    """With ``autostart`` set to N, start a detached worker of N slots on this host unless one
    is running there for this database already, as tsp starts its server on first use; None
    when it is off or a worker runs. Enqueuers that start at once take turns (a lock file in
    the workers' log folder): one starts the worker, the others find it."""
    if not settings.autostart:
        return None
    import fcntl
    import hashlib

    from queuectl.hosts import HOST
    from queuectl.worker.supervisor import log_folder

    folder = log_folder(storage.url)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    name = hashlib.sha256(storage.url.encode()).hexdigest()[:16]
    with open(folder / f"autostart-{name}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        workers = worker_states(storage, settings.lease_duration, clock.now())
        if any(w.host == HOST and w.state == "running" for w in workers):
            return None
        return start_detached_worker(storage, settings.autostart, queues=(), burst=False,
                                     verbose=False, quiet=False)
