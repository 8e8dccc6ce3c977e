"""Runs a worker process: in the foreground with the signals people expect, or detached.

The first SIGINT or SIGTERM stops claiming and lets running jobs finish; a second one kills
the running jobs' process groups and gives their runs back without consuming an attempt.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from .errors import QueuectlError
from .runner import spawn_detached
from .storage import Storage
from .worker import GRACEFUL, NOW, Worker


def serve(worker: Worker, *, burst: bool = False) -> None:
    def on_signal(signum: int, frame: FrameType | None) -> None:
        worker.request_stop(NOW if worker.stopping else GRACEFUL)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        worker.run(burst=burst)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


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
    storage: Storage, argv: list[str], worker_id: str, *, timeout: float = 30.0
) -> Detached:
    """Start a worker process in the background and wait until it has registered.

    ``argv`` is the command line of a foreground ``worker start`` for ``worker_id``; the
    database reaches it through ``QUEUECTL_DB``.
    """
    folder = log_folder(storage.url)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    log_path = folder / f"{worker_id}.log"
    process = spawn_detached(argv, str(log_path), {**os.environ, "QUEUECTL_DB": storage.url})
    pause = threading.Event()
    deadline = time.monotonic() + timeout
    while not any(worker.id == worker_id for worker in storage.workers()):
        if process.poll() is not None:
            tail = log_path.read_text(errors="replace").strip().splitlines()[-1:]
            raise QueuectlError(
                f"the worker exited at start ({tail[0] if tail else 'no output'}); see {log_path}"
            )
        if time.monotonic() > deadline:
            raise QueuectlError(f"the worker did not start within {timeout:g}s; see {log_path}")
        pause.wait(0.05)
    return Detached(worker_id, process.pid, log_path)
