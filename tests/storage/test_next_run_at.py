"""Storage contract: ``next_run_at``, when a worker could next claim a job (both backends).

It decides how long an idle worker sleeps and when a burst worker is done: only jobs this
worker could claim count, now or later; with ``pending_until``, only retries wait.
"""

from __future__ import annotations

from queuectl.models import JobState, NewJob, Outcome
from queuectl.storage import Storage

T0 = 1_767_225_600.0


def test_only_jobs_the_worker_could_claim_count(storage: Storage) -> None:
    storage.enqueue([NewJob("later", "true", 0, queue="mine", delay=3600),
                     NewJob("elsewhere", "true", 0, queue="other"),
                     NewJob("held", "true", 0, queue="held")], T0)
    storage.enqueue([NewJob("after-later", "true", 0, queue="mine",
                            depends_on=("later",))], T0)
    storage.set_queue_paused("held", True)
    assert storage.next_run_at(["mine", "held"]) == T0 + 3600  # neither blocked nor paused
    assert storage.next_run_at(["mine", "held"], pending_until=T0) is None  # burst: done
    assert storage.next_run_at(["other"]) == T0
    assert storage.next_run_at() == T0  # every queue
    storage.set_queue_paused("held", False)
    assert storage.next_run_at(["held"], pending_until=T0) == T0


def test_a_retry_keeps_a_burst_worker_waiting(storage: Storage) -> None:
    storage.enqueue([NewJob("flaky", "false", 3)], T0)
    [job], _ = storage.record_and_claim("w", [], 1, T0, T0 + 30)
    failed = Outcome(job.id, job.runs, JobState.FAILED, T0 + 1, run_at=T0 + 9, exit_code=1)
    storage.record_and_claim("w", [failed], 0, T0 + 1, T0 + 31)
    assert storage.next_run_at(pending_until=T0 + 1) == T0 + 9
    assert storage.next_run_at(["elsewhere"], pending_until=T0 + 1) is None
