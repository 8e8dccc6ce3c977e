"""When a worker claims, and how many jobs: its capacity, whether a job may be ready now, when
the next one is due, and how long to let finished runs gather before one commit records them.

Times are the worker's Clock's; only the gathering of results, a duration shorter than a step,
is measured on ``time.monotonic``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from queuectl.worker.slots import SlotPool

from ..storage import Storage

# A worker holds claimed jobs ahead of its slots, by the measured run time of its jobs: up to
# AHEAD_SECONDS of work per slot (at most HELD_PER_SLOT jobs in all per slot), and at least one
# job while a job is short next to the commit a slot would otherwise wait for between jobs
# (COMMITS_PER_RUN of them per run). See capacity. 16 a slot rather than 8: each commit then
# records twice the results, and a transaction's own CPU (BEGIN, the claim, COMMIT) is shared
# by twice the jobs (worker CPU per `true` job 0.50 -> 0.36 ms at 1 slot, 0.44 -> 0.32 at 4).
# A worker with few slots may hold up to HELD_PER_WORKER in all (48 at 1 slot, 24 a slot at
# 2), still within AHEAD_SECONDS of work a slot: at 1 slot a commit shared by 12 jobs cost
# ~35 us of each job's CPU, shared by 36 ~12 (worker CPU per `true` job 0.225 -> 0.19 ms).
AHEAD_SECONDS = 0.1
COMMITS_PER_RUN = 50
HELD_PER_SLOT = 16
HELD_PER_WORKER = 48
# A slot whose job has run this many times the typical run (and at least STUCK_SECONDS) is on
# a long job: no job is held for it.
STUCK_RUNS = 4
STUCK_SECONDS = 0.05
# Finished runs gather for one commit for at most GATHER_SECONDS, and until GATHER_SHARE of
# the jobs held have ended: the rest, still queued, keep the slots busy through the commit.
# (30 ms: at 1 slot and ~1,000 `true` jobs a second, 36 results take that long to come.)
GATHER_SECONDS = 0.03
GATHER_SHARE = 0.75


class ClaimPlan:
    """The coordinator's claim planning (used by the coordinator thread only)."""

    def __init__(self, pool: SlotPool, storage: Storage, queues: Sequence[str] | None) -> None:
        self._pool = pool
        self._storage = storage
        self._queues = queues
        self.maybe_ready = True  # a job may be claimable now (a wake-up came): look
        self.next_due: float | None = None  # the earliest run_at known of a job to claim
        self._next_poll = 0.0  # ask the database then, even if no wake-up came
        self._gathering_since: float | None = None  # monotonic
        self._commit_seconds = 0.0  # a moving average of the transaction that claims

    def capacity(self) -> int:
        """How many jobs to hold: one per slot, plus those held ahead while jobs are short.

        A slot that finishes a short job finds the next one waiting instead of idling through
        a commit, whose fsync can take longer than a job. How many follows the jobs' measured
        run time: with a typical run of 2 ms, 15 per slot ahead at 4 slots, 47 at 1 (the caps;
        they also make each commit record many results); of 50 ms, 2 (0.1 s of work); of
        0.3 s, 1 while a
        commit takes 6 ms or more (0.3 s is 50 such commits), else none. Long jobs are never
        claimed ahead: a queued job would wait for this worker's slots while another worker
        sat idle.
        """
        slots = self._pool.slots
        ahead = self.ahead_per_slot()
        if not ahead:
            return slots
        # A slot stuck on a long job will not take queued jobs soon: hold none for it.
        moving = slots - self._pool.slots_on_long_jobs(self.stuck_after())
        return slots + ahead * moving

    def ahead_per_slot(self) -> int:
        """Jobs to hold ahead for each slot: see ``capacity``."""
        run = self._pool.typical_run
        if run > max(AHEAD_SECONDS, COMMITS_PER_RUN * self._commit_seconds):
            return 0
        held = max(HELD_PER_SLOT, HELD_PER_WORKER // self._pool.slots)
        return max(1, min(held - 1, int(AHEAD_SECONDS / max(run, 1e-6))))

    def stuck_after(self) -> float:
        """How long a job runs before its slot counts as on a long one."""
        return max(STUCK_SECONDS, STUCK_RUNS * self._pool.typical_run)

    def transaction_took(self, seconds: float) -> None:
        """A claim's transaction took ``seconds`` (its commit wait included)."""
        self._commit_seconds = 0.9 * self._commit_seconds + 0.1 * seconds

    def held_too_many(self) -> int:
        """How many queued jobs to give back: jobs turned out long, and holding them ahead
        would starve other workers."""
        if not self._pool.queued():
            return 0
        return max(0, len(self._pool) - self.capacity())

    def idle(self) -> bool:
        """Whether a slot has nothing to run."""
        return len(self._pool) < self._pool.slots

    def gathering(self) -> float | None:
        """While finished runs wait: how much longer to let them gather (0: record now).

        They wait only while every slot still has a job queued (no slot can starve meanwhile),
        fewer results than ``gather_results`` wait, and the oldest has waited under
        ``GATHER_SECONDS``: at thousands of short jobs a second each commit's CPU is then
        shared by many jobs. None when no result waits.
        """
        waiting = self._pool.results_waiting()
        if not waiting:
            return None
        now = time.monotonic()
        if self._gathering_since is None:
            self._gathering_since = now
        if waiting < self.gather_results() and self._pool.queued() >= self._pool.slots:
            return max(0.0, GATHER_SECONDS - (now - self._gathering_since))
        return 0.0

    def gather_results(self) -> int:
        """How many results end a gathering: GATHER_SHARE of the jobs held while jobs are
        short (36 of 48 at 1 slot, 48 of 64 at 4), and never fewer than the slots."""
        slots = self._pool.slots
        return max(slots, int(GATHER_SHARE * slots * (1 + self.ahead_per_slot())))

    def collected(self) -> None:
        """The waiting results were taken: gathering starts over."""
        self._gathering_since = None

    def wanted(self, now: float, poll_interval: float, *, poll: bool = False) -> int:
        """How many jobs to claim now: the free capacity, if a job may be ready.

        While nothing says so, a plain read at every poll interval (or when ``poll``) tells
        whether a claim is worth the write lock, so that an idle worker costs next to nothing.
        """
        free = self.capacity() - len(self._pool)
        if free <= 0:
            return 0
        due = self.maybe_ready or (self.next_due is not None and self.next_due <= now)
        if not due and (poll or now >= self._next_poll) and self.idle():
            self._next_poll = now + poll_interval
            self.next_due = self._storage.next_run_at(self._queues)
            due = self.next_due is not None and self.next_due <= now
        return free if due else 0

    def claimed(self, now: float, wanted: int, got: int, poll_interval: float) -> None:
        """After a claim that asked for ``wanted`` jobs and got ``got``."""
        self._next_poll = now + poll_interval
        if got == wanted:
            return  # more may be ready: keep looking
        self.maybe_ready = False
        self.next_due = self._storage.next_run_at(self._queues)
        if self.next_due is not None and self.next_due <= now:
            # Ready but not claimable (another worker took it, or its queue is at its
            # limit): look again at the next poll.
            self.next_due = now + poll_interval

    def due_again(self, run_at: float) -> None:
        """A run this worker failed is due again at ``run_at`` (its retry)."""
        if self.next_due is None or run_at < self.next_due:
            self.next_due = run_at

    def wakes(self, now: float) -> list[tuple[float, str]]:
        """When an idle slot should look for work without a wake-up, and why."""
        if not self.idle():
            return []
        wakes = [(self._next_poll - now, "fallback poll")]
        if self.next_due is not None:
            wakes.append((self.next_due - now, "a job is due"))
        return wakes

    def nothing_left(self, now: float) -> bool:
        """Burst mode's end: nothing this worker could run now, or after a retry's backoff
        (delayed jobs, blocked ones and paused queues do not count)."""
        return self._storage.next_run_at(self._queues, pending_until=now) is None
