"""Runs a worker process: in the foreground with the signals people expect, or detached.

The first SIGINT (Ctrl-C) or SIGTERM stops claiming and lets running jobs finish, and says so
at once; a second one kills the running jobs' process groups and gives their runs back without
consuming an attempt.

The worker's loop runs in a thread of its own while the main thread only waits for it and
handles signals, so that a signal is acted on at once, even while the loop waits on a
database that does not answer (a lock held by someone else, say).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TypeVar

from queuectl.process.runner import spawn_detached
from queuectl.worker.loop import GRACEFUL, NOW, Worker
from queuectl.worker.thread_names import name_os_thread

from ..clock import Clock, SystemClock
from ..config import Settings
from ..errors import DatabaseUnreachable, QueuectlError
from ..storage import Storage
from .outage import Outage

log = logging.getLogger("queuectl.worker.loop")
T = TypeVar("T")

_SIGNAL_NAMES: dict[int, str] = {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM"}
# Signals people send jobs (queuectl kill --signal) that a worker may have been started
# ignoring: nohup ignores SIGHUP, a shell's `&` SIGINT and SIGQUIT. An ignored signal stays
# ignored across exec, and a shell then cannot even trap it, so every job would ignore it too.
# A handler that does nothing keeps the worker ignoring it, and is reset at exec.
_PASSED_ON = (signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2, signal.SIGALRM)


def _ignore(signum: int, frame: FrameType | None) -> None:
    """As SIG_IGN, but a job's process starts with the signal's default action."""


def serve(worker: Worker, *, burst: bool = False, exiting: bool = False) -> None:
    """Run ``worker`` until it stops; raises what made it fail to start or stop cleanly.

    Ctrl-C and SIGTERM stop it (see ``on_signal``) until it has stopped; then the handlers
    this process had before are back, or with ``exiting`` (the process ends when this
    returns) those signals are ignored: a person pressing Ctrl-C once more while the worker
    exits would otherwise get a traceback, and a third SIGTERM would kill a process that was
    ending cleanly.
    """

    def on_signal(signum: int, frame: FrameType | None) -> None:
        name = _SIGNAL_NAMES.get(signum, signal.Signals(signum).name)
        if worker.stopping:
            running = worker.running_jobs()
            log.warning("%s again: killing %d running job(s); they go back to the queue",
                        name, running)
            worker.request_stop(NOW)
            return
        worker.request_stop(GRACEFUL)
        more = f"; {name} again kills them" if worker.running_jobs() else ""
        log.warning("stopping: %s%s", worker.describe_stop(), more)

    failure: list[BaseException] = []

    def run() -> None:
        name_os_thread()  # "coordinator" in top -H
        try:
            worker.run(burst=burst)
        except BaseException as exc:  # handed to the main thread, which raises it
            failure.append(exc)

    loop = threading.Thread(target=run, name="coordinator")
    previous = {sig: signal.signal(sig, on_signal) for sig in _SIGNAL_NAMES}
    previous |= {sig: signal.signal(sig, _ignore) for sig in _PASSED_ON
                 if signal.getsignal(sig) is signal.SIG_IGN}
    try:
        loop.start()
        loop.join()  # a signal interrupts the join: its handler runs here, then the join goes on
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, signal.SIG_IGN if exiting else handler)
    if failure:
        raise failure[0]


def when_reachable(open_database: Callable[[], T], clock: Clock | None = None) -> T | None:
    """``open_database()`` (a queue, a worker: each opens its database), tried again while
    the PostgreSQL server does not answer (``DatabaseUnreachable``), as a worker's start is:
    a worker started before its server is up (a host booting, a server restarting) waits for
    it, one line per try, instead of exiting. Any other error is raised (a SQLite path that
    cannot be a database: waiting would not mend it). None if Ctrl-C or SIGTERM came first.

    The tries run in a thread of their own while this one waits for them or for a signal, so
    that a signal is acted on at once, even during a connection attempt that hangs.
    """
    clock = clock or SystemClock()
    outage = Outage(clock)
    longest_wait = Settings().lease_duration / 3  # a heartbeat's interval, as at start()
    done = threading.Event()  # set by the tries once over, or by a signal
    stop = threading.Event()
    result: list[T] = []
    failure: list[BaseException] = []

    def tries() -> None:
        try:
            while not stop.is_set():
                try:
                    result.append(open_database())
                except DatabaseUnreachable as exc:  # not a path that cannot be a database
                    outage.failed(exc, longest_wait=longest_wait, situation="not started yet")
                    assert outage.retry_at is not None
                    stop.wait(outage.retry_at - clock.now())
                    continue
                outage.succeeded(lease=0.0)
                return
        except BaseException as exc:  # handed to the waiting thread, which raises it
            failure.append(exc)
        finally:
            done.set()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()
        done.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in _SIGNAL_NAMES}
    try:
        threading.Thread(target=tries, name="opening", daemon=True).start()
        done.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if failure:
        raise failure[0]
    if stop.is_set() or not result:
        log.info("stopped before the database could be reached")
        return None
    return result[0]


@dataclass(frozen=True)
class Detached:
    worker_id: str
    pid: int
    log_path: Path


def log_folder(database_url: str) -> Path:
    """Where detached workers log: beside a database file, else in the XDG state folder."""
    if "://" not in database_url:
        path = Path(database_url)
        return path.with_name(path.name + "-logs")
    state_home = os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state")
    return Path(state_home) / "queuectl" / "logs"


def start_detached(
    storage: Storage, argv: list[str], worker_id: str, *, timeout: float = 30.0,
    clock: Clock | None = None,
) -> Detached:
    """Start a worker process in the background and wait until it has registered.

    ``argv`` is the command line of a foreground ``worker start`` for ``worker_id``; the
    database reaches it through ``QUEUECTL_DB``. The wait goes through ``clock``.
    """
    clock = clock or SystemClock()
    folder = log_folder(storage.url)
    log_path = folder / f"{worker_id}.log"
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        process = spawn_detached(argv, str(log_path), {**os.environ, "QUEUECTL_DB": storage.url})
    except OSError as exc:  # a file where the folder goes, no permission, a full disk
        where = exc.filename or log_path  # the folder, when a file stands in its place
        raise QueuectlError(f"the worker could not start: {where}: {exc.strerror or exc}"
                            ) from exc
    deadline = clock.now() + timeout
    while not any(worker.id == worker_id for worker in storage.workers()):
        if process.poll() is not None:
            tail = log_path.read_text(errors="replace").strip().splitlines()[-1:]
            raise QueuectlError(
                f"the worker exited at start ({tail[0] if tail else 'no output'}); see {log_path}"
            )
        if clock.now() > deadline:
            raise QueuectlError(f"the worker did not start within {timeout:g}s; see {log_path}")
        clock.sleep(0.05)
    return Detached(worker_id, process.pid, log_path)
