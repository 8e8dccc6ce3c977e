"""Completion hooks in the store, on every backend: a finished job's hooks are due once per
run, taken by one caller, and what they did is recorded."""

from __future__ import annotations

from queuectl.models import JobState, NewJob, Outcome
from queuectl.storage import Storage

T0 = 1_767_225_600.0


def test_hooks_are_due_once_a_job_is_final_and_taken_once(storage: Storage) -> None:
    storage.enqueue([NewJob("h", "true", 0, on_finish="echo done"),
                     NewJob("w", "true", 0, webhook="http://127.0.0.1:1/x"),
                     NewJob("plain", "true", 0)], T0)
    assert not storage.hooks_due() and storage.take_due_hooks(10) == []  # none final yet
    claimed, _ = storage.record_and_claim("w1", [], 3, T0, T0 + 30)
    outcomes = [Outcome(job.id, job.runs, JobState.COMPLETED, T0 + 1, exit_code=0)
                for job in claimed]
    storage.record_and_claim("w1", outcomes, 0, T0 + 1, T0 + 31)
    assert storage.hooks_due()
    taken = storage.take_due_hooks(10)
    assert sorted(job.id for job in taken) == ["h", "w"]
    assert [(j.on_finish, j.webhook) for j in sorted(taken, key=lambda j: j.id)] == [
        ("echo done", None), (None, "http://127.0.0.1:1/x")]
    assert not storage.hooks_due() and storage.take_due_hooks(10) == []
    storage.record_hook("h", '{"on_finish": {"exit_code": 0}}')
    stored = storage.get("h")
    assert stored is not None and stored.hook_result == '{"on_finish": {"exit_code": 0}}'


def test_a_canceled_waiting_job_and_a_rerun_are_due_again(storage: Storage) -> None:
    storage.enqueue([NewJob("c", "true", 0, on_finish="x")], T0)
    storage.cancel(["c"], T0)
    assert [job.id for job in storage.take_due_hooks(10)] == ["c"]
    storage.retry(["c"], T0, include_canceled=True)  # runs again: its end is due again
    [job], _ = storage.record_and_claim("w1", [], 1, T0 + 1, T0 + 31)
    assert not storage.hooks_due()
    storage.record_and_claim("w1", [Outcome("c", job.runs, JobState.DEAD, T0 + 2,
                                            exit_code=1, error="exit code 1")],
                             0, T0 + 2, T0 + 32)
    assert [job.id for job in storage.take_due_hooks(10)] == ["c"]
