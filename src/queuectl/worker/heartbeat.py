"""A worker's heartbeat: when it checks in with the database, and what a check-in brings.

A check-in renews the leases of the runs the worker holds and brings back:

- which of those runs are still its own, and until when (the fence watches that deadline;
  a run missing from the list was rescued by another worker, see interrupts.py);
- whether this worker is the store's one housekeeper (the heartbeat names it);
- the settings, read again only when their digest changed;
- stop, cancel and signal requests, and ``queuectl parallel``'s slot count;
- whether its registration is gone (then it registers again).

It checks in every third of a lease (a full tick, which also rescues lost runs and has the
housekeeper look for completion hooks left to run), and at once when asked: at start, after a
wake-up that may carry a stop request, and after an outage, to renew its leases before anything
else. All of it runs on the coordinator's thread; slot threads only read ``settings``.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping

from queuectl.hosts import HOST, start_marker
from queuectl.worker.interrupts import Interrupts
from queuectl.worker.maintenance import rescue_lost_runs
from queuectl.worker.outage import Outage

from .. import config
from ..config import Settings
from ..errors import InvalidInput
from ..storage import Storage
from ..storage.base import WorkerRegistration

log = logging.getLogger("queuectl.worker.loop")


class Heartbeat:
    """The check-ins of worker ``worker_id`` with ``storage``, and what they keep current:
    ``settings``, ``slots`` and ``housekeeper``.

    What a check-in asks of the worker goes to its parts: leases and requests for runs to
    ``interrupts``, a new slot count to ``resize_pool``, a stop request (``"graceful"`` or
    ``"now"``) to ``asked_to_stop``; ``ring_hooks`` wakes the completion hooks' thread.
    ``outage`` says whether a full tick may rescue lost runs (not soon after an outage).
    """

    def __init__(
        self,
        storage: Storage,
        worker_id: str,
        environ: Mapping[str, str],
        *,
        slots: int,
        interrupts: Interrupts,
        outage: Outage,
        resize_pool: Callable[[int], None],
        ring_hooks: Callable[[], None],
        asked_to_stop: Callable[[str], None],
    ) -> None:
        self._storage = storage
        self._worker_id = worker_id
        self._environ = environ
        self._interrupts = interrupts
        self._outage = outage
        self._resize_pool = resize_pool
        self._ring_hooks = ring_hooks
        self._asked_to_stop = asked_to_stop
        self.settings: Settings = config.resolve(storage.config_items(), environ)
        self._config_version: str | None = None  # of the settings read last, once known
        self.slots = slots  # jobs run at once
        # Only one worker of a store does its housekeeping (its heartbeat says which); until
        # the first heartbeat says otherwise, every worker counts as the one.
        self.housekeeper = True
        self.next_tick = 0.0  # on the Clock: the next full tick
        self.check_in_due = False  # check in at the next step, the interval over or not

    @property
    def interval(self) -> float:
        """Between two full ticks: a third of a lease."""
        return self.settings.lease_duration / 3

    def poll_interval(self, *, wakeups_reliable: bool) -> float:
        """How often an idle worker asks the database whether a job is ready, wake-ups or
        not. While every wake-up reaches it (LISTEN on a live connection) only a job whose
        time comes without one (a delay, a retry's backoff, known from its last look) could
        be missed, so once a heartbeat is enough; the housekeeper keeps to ``poll_interval``,
        so that one worker at least finds such a job as soon as it is due."""
        if self.housekeeper or not wakeups_reliable:
            return self.settings.poll_interval
        return max(self.settings.poll_interval, self.interval)

    def outlasted(self, began: float) -> bool:
        """Whether more than an interval has passed since ``began`` (``time.monotonic()``)."""
        return time.monotonic() - began > self.interval

    def register(self, now: float) -> None:
        """Register this worker (again, if its registration was removed), as it is now."""
        pid = os.getpid()
        registration = WorkerRegistration(self._worker_id, HOST, pid, start_marker(pid),
                                          self.slots)
        # A registration under this id with a heartbeat within a lease, or ahead of now (a
        # clock stepped back), is a live worker's.
        self._storage.register_worker(registration, now,
                                      alive_since=now - self.settings.lease_duration)

    def started(self, now: float) -> None:
        """The worker started: a full tick an interval from now, a check-in at once (to learn
        whether it is the housekeeper)."""
        self.next_tick = now + self.interval
        self.check_in_due = True

    def check_in_next_step(self) -> None:
        self.check_in_due = True

    def due(self, now: float) -> bool:
        return now >= self.next_tick or self.check_in_due

    def tick(self, now: float, *, holding: bool, step_began: float) -> None:
        """Check in; when the interval is over, a full tick: also rescue lost runs, and the
        housekeeper looks for completion hooks left to run. ``holding``: the worker holds
        runs (running, queued, or ended with results not recorded yet); ``step_began``: when
        the coordinator's step began (``time.monotonic()``)."""
        full = now >= self.next_tick
        self._check_in(now, holding=holding)
        self.check_in_due = False
        if full and self.housekeeper and self._storage.hooks_due():
            self._ring_hooks()  # e.g. a waiting job with a hook was canceled
        if full:
            # Not in the first step after a database error or a long wait for the database,
            # nor for a lease after it (see outage.py).
            if self.outlasted(step_began):
                self._outage.hold_rescues(self.settings.lease_duration)
            if self._outage.may_rescue(now):
                # The dead workers of this host by every worker (at once, by their pids);
                # expired leases by the housekeeper.
                rescue_lost_runs(self._storage, self.settings, now,
                                 expired_leases=self.housekeeper)
            self.next_tick = now + self.interval

    def _check_in(self, now: float, *, holding: bool) -> None:
        lease = self.settings.lease_duration
        check_in = self._storage.heartbeat(self._worker_id, now, now + lease, holding=holding)
        self.housekeeper = check_in.housekeeper
        if check_in.config_version != self._config_version:
            self._read_settings(check_in.config_version)
        self._interrupts.renewed(check_in.held, check_in.lease_until or now + lease, lease)
        if not check_in.registered:
            self.register(now)
        if check_in.stop_requested:
            self._asked_to_stop(check_in.stop_requested)
        self._interrupts.cancel(check_in.cancel_requested)
        self._interrupts.send_signals(check_in.signals)  # queuectl kill, pause, resume
        if check_in.slots_wanted is not None:  # queuectl parallel
            self._resize(check_in.slots_wanted)

    def _read_settings(self, version: str | None) -> None:
        """The settings as stored now. One that ``config set`` would refuse (edited by hand:
        ``poll_interval = 'abc'``) leaves those in use as they are, said once in one line: it
        used to fail every check-in as a database error, and the worker claimed nothing and
        heard no stop request until the row was fixed."""
        stored = self._storage.config_items()
        self._config_version = version
        try:
            self.settings = config.resolve(stored, self._environ)
        except InvalidInput as exc:
            log.error("worker %s: a stored setting is refused, settings unchanged: %s (fix it"
                      " with queuectl config set or unset)", self._worker_id, exc)

    def _resize(self, slots: int) -> None:
        """Run ``slots`` jobs at once from now on; jobs running go on (see SlotPool.resize)."""
        if slots != self.slots:
            log.info("worker %s: %d slot(s) from now on (was %d)", self._worker_id, slots,
                     self.slots)
        self.slots = slots
        self._resize_pool(slots)
        self._storage.set_worker_slots(self._worker_id, slots)
