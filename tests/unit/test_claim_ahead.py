"""How many jobs a worker holds ahead of its slots follows the measured run time of its jobs
(issue 15 item 3), not a fixed threshold."""

from __future__ import annotations

from typing import Any, cast

import pytest

from queuectl.worker.claim_plan import ClaimPlan


class _Pool:
    def __init__(self, slots: int, typical_run: float, stuck: int = 0) -> None:
        self.slots, self.typical_run, self.stuck = slots, typical_run, stuck

    def slots_on_long_jobs(self, longer_than: float) -> int:
        return self.stuck


def _plan(pool: _Pool, commit_seconds: float = 0.0) -> ClaimPlan:
    plan = ClaimPlan(cast(Any, pool), cast(Any, None), None)
    for _ in range(200):  # the moving average settles on it
        plan.transaction_took(commit_seconds)
    return plan


@pytest.mark.parametrize(("run", "commit", "ahead"), [
    (0.002, 0.003, 15),  # the cap: 16 per slot in all
    (0.01, 0.003, 10),  # 0.1 s of work per slot
    (0.02, 0.003, 5),   # 0.1 s of work per slot
    (0.05, 0.003, 2),
    (0.3, 0.008, 1),    # long next to 0.1 s, short next to 50 commits of 8 ms
    (0.3, 0.002, 0),    # 150 commits long: a commit between jobs costs under 1%
    (2.0, 0.02, 0),
])
def test_jobs_held_ahead_per_slot_follow_run_and_commit_times(
    run: float, commit: float, ahead: int
) -> None:
    assert _plan(_Pool(4, run), commit).ahead_per_slot() == ahead


@pytest.mark.parametrize(("slots", "ahead"), [(1, 47), (2, 23), (3, 15), (4, 15), (8, 15)])
def test_few_slots_hold_up_to_a_worker_wide_cap(slots: int, ahead: int) -> None:
    assert _plan(_Pool(slots, 0.0005), 0.003).ahead_per_slot() == ahead
    assert _plan(_Pool(slots, 0.01), 0.003).ahead_per_slot() == 10  # 0.1 s of work a slot


def test_no_job_is_held_for_a_slot_on_a_long_job() -> None:
    assert _plan(_Pool(4, 0.05, stuck=1), 0.003).capacity() == 4 + 2 * 3
    assert _plan(_Pool(4, 0.05), 0.003).stuck_after() == pytest.approx(0.2)
    assert _plan(_Pool(4, 0.001), 0.003).stuck_after() == 0.05
    assert _plan(_Pool(4, 1.0), 0.003).capacity() == 4  # never measured short: one per slot


@pytest.mark.parametrize(("slots", "run", "gathered"), [
    (1, 0.001, 36),  # 48 held: 12 still queued keep the slot busy through the commit
    (2, 0.001, 36),  # 24 held a slot
    (4, 0.001, 48),
    (4, 0.05, 9),    # 3 held per slot
    (4, 1.0, 4),     # none held ahead: never fewer than the slots
])
def test_results_gather_until_most_jobs_held_have_ended(
    slots: int, run: float, gathered: int
) -> None:
    assert _plan(_Pool(slots, run), 0.003).gather_results() == gathered
