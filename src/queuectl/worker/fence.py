"""A worker's watch over its own leases: it ends a run before anyone else may take it for lost.

A run is this worker's while its lease lasts. When the worker cannot renew it (its host's link
is down, the database is stopped for longer than the lease, the coordinator is stuck), another
worker rescues the run once the lease has run out and starts the job again, and the first run
would still be going: the job would run twice at once. So the holder gives up first: a margin
before the lease ends (a tenth of the lease, at most one second, by the database's clock) it
kills the run's process group, or takes back a claimed run no slot started. Such a run is
given back without charging an attempt once the database answers again (if nobody rescued it
meanwhile): the job did nothing wrong. A run whose command had ended on its own, its result
not yet recorded, is left alone: that result is recorded as usual.

Worked example, lease 30 s: renewed at 12:00:00 until 12:00:30, a heartbeat every 10 s. The
link goes down at 12:00:05; the heartbeats of 12:00:10 and 12:00:20 fail; at 12:00:29 the
worker kills its runs; from 12:00:30 on another worker may take them. An outage shorter than
20 s (the lease less a heartbeat's interval, less the margin) kills nothing.

The deadlines are written by the coordinator (``held``, ``renewed``) and watched by a thread
of this class's own, which calls ``expire`` with the runs whose time is up.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence

from ..clock import Clock
from .thread_names import name_os_thread

log = logging.getLogger("queuectl.worker")

RunKey = tuple[str, int]  # (job id, run number)
LONGEST_MARGIN = 1.0  # seconds before the lease's end; a tenth of shorter leases
SHORTEST_WAIT = 0.05  # a fake clock that does not move must not make the watch spin
# The clock may jump (a server clock's offset measured anew, a fake clock in tests): the watch
# looks again at least this often while it has deadlines.
LONGEST_WAIT = 1.0


def report_ended(unstarted: Sequence[RunKey], killed: Sequence[RunKey]) -> None:
    """Log what the fence did, and only that: runs that had ended on their own before their
    leases ran out were neither killed nor taken back (their results are recorded as usual
    once the database answers), so they are not named.

    ``leases of 2 runs ran out unrenewed (...): killed a run 1; took back 1 run not started``
    """
    if not unstarted and not killed:
        return
    done = []
    if killed:
        done.append("killed " + ", ".join(f"{job_id} run {run}" for job_id, run in killed))
    if unstarted:
        done.append(f"took back {_runs(len(unstarted))} not started")
    log.warning("leases of %s ran out unrenewed (the database is out of reach): %s, so that"
                " no job runs twice at once; given back when the database answers",
                _runs(len(unstarted) + len(killed)), "; ".join(done))


def _runs(number: int) -> str:
    return f"{number} run{'' if number == 1 else 's'}"


def margin(lease: float) -> float:
    """How long before its lease ends a run is ended: margin(30) is 1.0, margin(4) is 0.4."""
    return min(LONGEST_MARGIN, lease / 10)


class LeaseFence:
    """The lease deadlines of the runs a worker holds, and the thread that enforces them."""

    def __init__(self, clock: Clock, expire: Callable[[list[RunKey]], None]) -> None:
        self._clock = clock
        self._expire = expire
        self._deadlines: dict[RunKey, float] = {}  # on the clock: end the run then
        self._lock = threading.Lock()
        self._changed = threading.Event()
        self._closing = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._closing = False
            self._thread = threading.Thread(target=self._watch, name="lease-fence", daemon=True)
            self._thread.start()

    def close(self) -> None:
        self._closing = True
        self._changed.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def held(self, runs: Iterable[tuple[RunKey, float]], lease: float) -> None:
        """Runs were claimed, each with a lease until the time given with it."""
        early = margin(lease)
        with self._lock:
            was_empty = not self._deadlines
            for run, lease_until in runs:
                self._deadlines[run] = lease_until - early
        if was_empty:  # the watch sleeps without a deadline: wake it
            self._changed.set()

    def renewed(self, runs: Iterable[RunKey], lease_until: float, lease: float) -> None:
        """A heartbeat renewed the leases of ``runs``, every run still this worker's, until
        ``lease_until``; runs not among them are forgotten (ended, or rescued)."""
        deadline = lease_until - margin(lease)
        with self._lock:
            was_empty = not self._deadlines
            self._deadlines = dict.fromkeys(runs, deadline)
        if was_empty and self._deadlines:
            self._changed.set()

    def forget(self, runs: Iterable[RunKey]) -> None:
        """``runs`` ended and their ends were recorded, or they were given back."""
        with self._lock:
            for run in runs:
                self._deadlines.pop(run, None)

    def _watch(self) -> None:
        name_os_thread()
        while not self._closing:
            self._changed.clear()  # before reading: a change from now on ends the wait
            now = self._clock.now()
            with self._lock:
                due = [run for run, at in self._deadlines.items() if at <= now]
                for run in due:
                    del self._deadlines[run]
                upcoming = min(self._deadlines.values(), default=None)
            if due:
                try:
                    self._expire(due)
                except Exception:  # the watch must go on; the worker's log says what broke
                    log.exception("ending runs whose leases ran out failed")
            timeout = (None if upcoming is None
                       else min(LONGEST_WAIT, max(SHORTEST_WAIT, upcoming - now)))
            self._changed.wait(timeout)
