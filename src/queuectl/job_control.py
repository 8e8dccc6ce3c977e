"""Steering running jobs and workers from outside: the signal names ``queuectl kill`` takes,
the parallelism ``queuectl parallel`` sets, and waiting until the worker took a request.

>>> signal_name("sigusr1"), signal_name(15)
('USR1', 'TERM')
"""

from __future__ import annotations

import signal
import threading
from typing import TYPE_CHECKING

from .errors import InvalidInput, QueuectlError
from .units import whole_number

if TYPE_CHECKING:
    from .models import Job
    from .queue import QueueCore

MAX_SLOTS = 1024  # as worker start --count


def signal_name(value: str | int) -> str:
    """The name of a signal given by name (with or without SIG, any case) or number."""
    try:
        if isinstance(value, int) or str(value).strip().isdigit():
            found = signal.Signals(int(value))
        else:
            text = str(value).strip().upper()
            found = signal.Signals[text if text.startswith("SIG") else "SIG" + text]
    except (KeyError, ValueError):
        raise InvalidInput(f"--signal: no signal {value!r}; e.g. TERM, INT, HUP, KILL, USR1"
                           ) from None
    return found.name.removeprefix("SIG")


def checked_slots(slots: int) -> int:
    return whole_number(slots, "slots", 1, MAX_SLOTS)


def taken(queue: QueueCore, request: Job, wait: float | None) -> Job:
    """The job once its worker took the signal request (at its check-in, which the request
    woke it for), or after ``wait`` seconds with the request still waiting: then the worker
    is busy or gone, and it is sent when the worker next checks in (exit 1 from the CLI)."""
    pause = threading.Event()
    deadline = None if wait is None else queue.clock.now() + wait
    job = request
    # Until taken, or replaced by another request, or the run ended (nothing to signal).
    while (job.signal_request == request.signal_request and job.runs == request.runs
           and job.state is request.state):
        if deadline is not None and queue.clock.now() >= deadline:
            raise QueuectlError(
                f"job {job.id!r}: its worker {job.worker_id} has not taken the request within"
                f" {wait:g}s; it is sent when the worker checks in")
        pause.wait(0.02)
        job = queue.get(job.id)
    return job


def resized(queue: QueueCore, worker_ids: list[str], slots: int,
            wait: float | None) -> list[str]:
    """The workers of ``worker_ids`` that run ``slots`` jobs at once, waiting up to ``wait``
    seconds for each to apply the request (a worker that is gone never does)."""
    pause = threading.Event()
    deadline = None if wait is None else queue.clock.now() + wait
    while True:
        done = [w.id for w in queue.workers()
                if w.id in worker_ids and w.slots == slots and w.slots_wanted is None]
        if len(done) == len(worker_ids) or (deadline is not None
                                            and queue.clock.now() >= deadline):
            return done
        pause.wait(0.02)
