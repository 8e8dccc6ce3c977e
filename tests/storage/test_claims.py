"""Storage contract: claims, the fence on outcomes, release, rescue, heartbeats, workers."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

import pytest

from queuectl.hosts import HOST, start_marker
from queuectl.models import Job, JobState, NewJob, Outcome
from queuectl.storage import Storage
from queuectl.storage.base import CheckIn, LocalWorker, WorkerRegistration
from queuectl.worker.control import worker_states

from .conftest import execute_raw, stored

T0 = 1_767_225_600.0


def _claim(storage: Storage, worker: str, limit: int, now: float = T0) -> list[Job]:
    claimed, stale = storage.record_and_claim(worker, [], limit, now, now + 30)
    assert stale == []
    return claimed


def _done(job: Job, now: float, state: JobState = JobState.COMPLETED) -> Outcome:
    return Outcome(job.id, job.runs, state, now, exit_code=0 if state == JobState.COMPLETED else 1,
                   run_at=now + 10 if state == JobState.FAILED else None)


def _register(storage: Storage, worker_id: str, now: float = T0, host: str = HOST) -> None:
    storage.register_worker(WorkerRegistration(worker_id, host, os.getpid(), None, 2), now)


def test_claim_order_is_priority_then_run_at_then_insertion(storage: Storage) -> None:
    storage.enqueue([NewJob("late", "true", 0)], T0 + 5)
    storage.enqueue([NewJob("first", "true", 0), NewJob("second", "true", 0)], T0)
    storage.enqueue([NewJob("urgent", "true", 0)], T0 + 9)
    execute_raw(storage, "UPDATE jobs SET priority = 10 WHERE id = 'urgent'")
    claimed = _claim(storage, "w", 10, T0 + 10)
    assert [j.id for j in claimed] == ["urgent", "first", "second", "late"]


def test_claim_takes_at_most_limit_and_only_ready_jobs(storage: Storage) -> None:
    storage.enqueue([NewJob(f"j{i}", "true", 0) for i in range(5)], T0)
    storage.enqueue([NewJob("future", "true", 0)], T0 + 100)
    assert _claim(storage, "w", 0) == []
    assert [j.id for j in _claim(storage, "w", 2)] == ["j0", "j1"]
    assert [j.id for j in _claim(storage, "w", 10)] == ["j2", "j3", "j4"]
    assert _claim(storage, "w", 10) == []
    assert [j.id for j in _claim(storage, "w", 10, T0 + 100)] == ["future"]


def test_a_claim_takes_the_job_under_a_lease_and_opens_an_attempt(storage: Storage) -> None:
    storage.enqueue([NewJob("j", "true", 3)], T0)
    [job] = _claim(storage, "w1", 1, T0 + 1)
    assert (job.state, job.attempts, job.runs, job.worker_id, job.lease_until) == (
        JobState.PROCESSING, 1, 1, "w1", T0 + 31)
    assert storage.get("j") == job
    [attempt] = storage.attempts("j")
    assert (attempt.number, attempt.worker_id, attempt.started_at, attempt.finished_at) == (
        1, "w1", T0 + 1, None)


def test_a_failed_job_is_claimable_only_once_its_retry_time_comes(storage: Storage) -> None:
    storage.enqueue([NewJob("j", "false", 3)], T0)
    [job] = _claim(storage, "w", 1)
    storage.record_and_claim("w", [_done(job, T0 + 1, JobState.FAILED)], 0, T0 + 1, T0 + 31)
    assert storage.next_run_at() == T0 + 11
    assert _claim(storage, "w", 1, T0 + 10) == []
    [again] = _claim(storage, "w", 1, T0 + 11)
    assert (again.attempts, again.runs) == (2, 2)


def test_next_run_at(storage: Storage) -> None:
    assert storage.next_run_at() is None
    storage.enqueue([NewJob("b", "true", 0)], T0 + 7)
    storage.enqueue([NewJob("a", "true", 0)], T0 + 3)
    assert storage.next_run_at() == T0 + 3
    _claim(storage, "w", 2, T0 + 10)
    assert storage.next_run_at() is None


def test_recording_and_claiming_share_one_call(storage: Storage) -> None:
    storage.enqueue([NewJob("a", "true", 0), NewJob("b", "true", 0)], T0)
    [a] = _claim(storage, "w", 1)
    claimed, stale = storage.record_and_claim("w", [_done(a, T0 + 1)], 1, T0 + 1, T0 + 31)
    assert ([j.id for j in claimed], stale) == (["b"], [])
    assert stored(storage, "a").state == JobState.COMPLETED


def test_the_fence_refuses_another_workers_or_an_old_runs_outcome(storage: Storage) -> None:
    storage.enqueue([NewJob("j", "true", 0)], T0)
    [job] = _claim(storage, "w1", 1)
    wrong_worker = _done(job, T0 + 1)
    _, stale = storage.record_and_claim("w2", [wrong_worker], 0, T0 + 1, T0 + 31)
    assert stale == [wrong_worker]
    old_run = Outcome("j", job.runs - 1, JobState.COMPLETED, T0 + 1)
    _, stale = storage.record_and_claim("w1", [old_run], 0, T0 + 1, T0 + 31)
    assert stale == [old_run]
    assert storage.get("j") == job
    assert [a.finished_at for a in storage.attempts("j")] == [None]


def test_a_batch_records_the_runs_the_fence_lets_through_and_returns_the_others(
    storage: Storage,
) -> None:
    storage.enqueue([NewJob(name, "true", 3) for name in ("a", "b", "c")], T0)
    a, b, c = _claim(storage, "w1", 3)
    execute_raw(storage, "UPDATE jobs SET worker_id = 'w2' WHERE id = 'b'")  # taken over
    outcomes = [_done(a, T0 + 1), _done(b, T0 + 1), _done(c, T0 + 1, JobState.FAILED)]
    _, stale = storage.record_and_claim("w1", outcomes, 0, T0 + 1, T0 + 31)
    assert stale == [outcomes[1]]
    states = {name: stored(storage, name).state for name in "abc"}
    assert states == {"a": JobState.COMPLETED, "b": JobState.PROCESSING, "c": JobState.FAILED}
    assert {name: [attempt.finished_at for attempt in storage.attempts(name)]
            for name in "abc"} == {"a": [T0 + 1], "b": [None], "c": [T0 + 1]}


def test_a_rescued_run_cannot_be_completed_by_its_lost_worker(storage: Storage) -> None:
    storage.enqueue([NewJob("j", "true", 3)], T0)
    [job] = _claim(storage, "frozen", 1)

    def lost(held: Job) -> Outcome:
        return Outcome(held.id, held.runs, JobState.FAILED, T0 + 40, run_at=T0 + 42,
                       error="worker lost")

    [rescued] = storage.rescue(T0 + 40, lost)
    assert rescued.job_id == "j"
    late = _done(job, T0 + 41)
    _, stale = storage.record_and_claim("frozen", [late], 0, T0 + 41, T0 + 71)
    assert stale == [late]
    current = storage.get("j")
    assert current is not None
    assert (current.state, current.worker_id, current.last_error) == (
        JobState.FAILED, None, "worker lost")


def test_rescue_takes_only_expired_leases(storage: Storage) -> None:
    storage.enqueue([NewJob("old", "true", 3)], T0)
    _claim(storage, "w1", 1)
    storage.enqueue([NewJob("new", "true", 3)], T0)
    _claim(storage, "w2", 1, T0 + 20)  # lease until T0 + 50
    seen: list[str] = []

    def decide(job: Job) -> Outcome:
        seen.append(job.id)
        return Outcome(job.id, job.runs, JobState.DEAD, T0 + 40, error="worker lost")

    assert [o.job_id for o in storage.rescue(T0 + 40, decide)] == ["old"]
    assert seen == ["old"]
    assert stored(storage, "new").state == JobState.PROCESSING
    assert stored(storage, "old").state == JobState.DEAD
    assert storage.rescue(T0 + 40, decide) == []


def test_rescue_of_named_workers_takes_their_runs_and_registrations(storage: Storage) -> None:
    _register(storage, "dead")
    _register(storage, "alive")
    storage.enqueue([NewJob(f"j{i}", "true", 3) for i in range(3)], T0)
    _claim(storage, "dead", 2)
    _claim(storage, "alive", 1)

    def decide(job: Job) -> Outcome:
        return Outcome(job.id, job.runs, JobState.FAILED, T0 + 1, run_at=T0 + 3, error="lost")

    rescued = storage.rescue(T0 + 1, decide, worker_ids=["dead"])
    assert sorted(o.job_id for o in rescued) == ["j0", "j1"]
    assert [w.id for w in storage.workers()] == ["alive"]
    assert stored(storage, "j2").state == JobState.PROCESSING


def test_rescue_forgets_workers_silent_for_long(storage: Storage) -> None:
    _register(storage, "silent", T0)
    _register(storage, "fresh", T0 + 100)
    def decide(job: Job) -> Outcome:
        raise AssertionError(f"no run is held, yet {job.id} was rescued")

    storage.rescue(T0 + 100, decide, forget_workers_before=T0 + 50)
    assert [w.id for w in storage.workers()] == ["fresh"]


def test_release_gives_the_run_back_without_counting_it(storage: Storage) -> None:
    storage.enqueue([NewJob("first", "true", 3), NewJob("retried", "true", 3)], T0)
    first, retried = _claim(storage, "w", 2)
    storage.record_and_claim("w", [_done(retried, T0, JobState.FAILED)], 0, T0, T0 + 30)
    [retried] = _claim(storage, "w", 1, T0 + 10)
    storage.release("w", [(first.id, first.runs), (retried.id, retried.runs)], T0 + 11,
                    started=True)
    after_first, after_retried = storage.get("first"), storage.get("retried")
    assert after_first is not None and after_retried is not None
    assert (after_first.state, after_first.attempts, after_first.runs) == (JobState.PENDING, 0, 1)
    assert (after_retried.state, after_retried.attempts, after_retried.runs) == (
        JobState.FAILED, 1, 2)
    assert after_first.worker_id is None and after_first.lease_until is None
    assert "not counted" in (storage.attempts("first")[0].error or "")


def test_releasing_runs_that_never_started_leaves_no_trace(storage: Storage) -> None:
    storage.enqueue([NewJob("first", "true", 3), NewJob("retried", "true", 3)], T0)
    before = storage.get("first")
    first, retried = _claim(storage, "w", 2)
    storage.record_and_claim("w", [_done(retried, T0, JobState.FAILED)], 0, T0, T0 + 30)
    [retried] = _claim(storage, "w", 1, T0 + 10)
    storage.release("w", [(first.id, first.runs), (retried.id, retried.runs)], T0 + 11,
                    started=False)
    after_first, after_retried = storage.get("first"), storage.get("retried")
    assert after_first is not None and after_retried is not None and before is not None
    assert (after_first.state, after_first.attempts, after_first.runs) == (JobState.PENDING, 0, 0)
    assert (after_retried.state, after_retried.attempts, after_retried.runs) == (
        JobState.FAILED, 1, 1)
    assert storage.attempts("first") == []
    assert [a.number for a in storage.attempts("retried")] == [1]
    # Claimed again, the run takes the number the given-back run had.
    [again] = _claim(storage, "w", 1, T0 + 12)
    assert (again.id, again.runs) == ("first", 1)


@pytest.mark.parametrize("started", [True, False])
def test_release_is_fenced(storage: Storage, started: bool) -> None:
    storage.enqueue([NewJob("j", "true", 3)], T0)
    [job] = _claim(storage, "w1", 1)
    storage.release("w2", [(job.id, job.runs)], T0 + 1, started=started)
    assert storage.get("j") == job


def test_heartbeat_renews_leases_and_carries_stop_requests(storage: Storage) -> None:
    _register(storage, "w")
    storage.enqueue([NewJob("j", "true", 3)], T0)
    _claim(storage, "w", 1)
    assert storage.heartbeat("w", T0 + 20, T0 + 50) == CheckIn(True, None, [])
    assert stored(storage, "j").lease_until == T0 + 50
    [info] = storage.workers()
    assert (info.heartbeat_at, info.running, info.slots) == (T0 + 20, 1, 2)
    assert storage.request_stop(None, "graceful") == ["w"]
    assert storage.heartbeat("w", T0 + 30, T0 + 60) == CheckIn(True, "graceful", [])
    assert storage.request_stop("other", "now") == []
    storage.unregister_worker("w")
    assert storage.heartbeat("w", T0 + 40, T0 + 70) == CheckIn(False, None, [])


def test_local_workers_are_those_of_one_host(storage: Storage) -> None:
    _register(storage, "here")
    _register(storage, "there", host="elsewhere.example")
    assert storage.local_workers(HOST) == [LocalWorker("here", os.getpid(), None)]
    assert [w.id for w in storage.local_workers("elsewhere.example")] == ["there"]


def test_worker_states_judge_local_workers_from_one_read_of_the_list(
    storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The list carries each registration's start marker, so that a worker of this host
    whose pid now names another process (a reused pid) is lost, with no second read."""
    marker = start_marker(os.getpid())
    assert marker is not None
    ticks, rest = marker.split(":", 1)
    registered = [("same", marker), ("reused", f"{int(ticks) + 1}:{rest}"), ("unmarked", None)]
    for order, (worker_id, pid_started) in enumerate(registered):
        storage.register_worker(
            WorkerRegistration(worker_id, HOST, os.getpid(), pid_started, 2), T0 + order)
    assert [(w.id, w.pid_started) for w in storage.workers()] == registered
    monkeypatch.setattr(storage, "local_workers", None)  # not called
    states = {w.id: w.state for w in worker_states(storage, 30.0, T0 + 3)}
    assert states == {"same": "running", "reused": "lost", "unmarked": "running"}


def test_concurrent_claimers_never_share_a_job(
    storage: Storage, open_store: Callable[[], Storage]
) -> None:
    jobs = 300
    storage.enqueue([NewJob(f"j{i:03}", "true", 0) for i in range(jobs)], T0)
    stores = [open_store() for _ in range(4)]
    taken: dict[str, list[str]] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(len(stores))

    def claimer(name: str, store: Storage) -> None:
        try:
            start.wait()
            mine: list[Outcome] = []
            while True:
                claimed, stale = store.record_and_claim(name, mine, 3, T0 + 1, T0 + 31)
                assert stale == []
                mine = [_done(job, T0 + 1) for job in claimed]
                taken[name] = taken.get(name, []) + [job.id for job in claimed]
                if not claimed:
                    return
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=claimer, args=(f"w{i}", s)) for i, s in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    every = [job_id for ids in taken.values() for job_id in ids]
    assert sorted(every) == [f"j{i:03}" for i in range(jobs)]  # each exactly once
    assert storage.count_by_state()[JobState.COMPLETED] == jobs


def test_a_claim_alone_commits_without_fsync_and_a_result_with_it(
    storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 15 item 4: losing a claim in a power cut only runs its jobs again; a result must
    reach the disk. On SQLite the claim's transaction runs at synchronous=NORMAL, and the
    connection is back at FULL after it."""
    from queuectl.storage.sqlite.driver import SqliteDriver

    driver = storage.db
    sqlite_driver = driver if isinstance(driver, SqliteDriver) else None
    sqlite = sqlite_driver is not None
    seen: list[tuple[bool, int | None]] = []
    write = driver.write

    def spy(operation: Callable[..., object], **kwargs: bool) -> object:
        def inner(tx: object) -> object:
            level = sqlite_driver.connection().execute("PRAGMA synchronous").fetchone()[0] \
                if sqlite_driver is not None else None
            seen.append((kwargs.get("durable", True), level))
            return operation(tx)
        return write(inner, **kwargs)

    monkeypatch.setattr(driver, "write", spy)
    storage.enqueue([NewJob("a", "true", 0), NewJob("b", "true", 0)], T0)
    [a] = _claim(storage, "w", 1)
    storage.record_and_claim("w", [_done(a, T0 + 1)], 1, T0 + 1, T0 + 31)
    full, normal = 2, 1
    assert seen[-2:] == ([(False, normal), (True, full)] if sqlite
                         else [(False, None), (True, None)])
    if sqlite:
        assert execute_raw(storage, "PRAGMA synchronous") == [(full,)]


def test_rescue_takes_runs_no_live_worker_holds_whatever_their_lease(
        storage: Storage, storage_url: str) -> None:
    """A run edited by hand into a lease no heartbeat writes (NULL, far ahead, not a number)
    or into no holder at all was never rescued: ``lease_until < now`` never held, and the
    fence never matched a NULL holder. Held by a live worker it stays its holder's; a lease
    far ahead stays its registered holder's even when its heartbeat is late (a lease cut by
    config set leaves live workers' leases ahead of the new one), until it is forgotten."""
    _register(storage, "alive", T0)
    _register(storage, "silent", T0 - 100)  # no heartbeat for longer than a lease
    names = ["null-lease", "far-lease", "odd-lease", "no-holder", "nothing", "silent-far",
             "silent-null", "live-far", "live-null", "gone-short"]
    storage.enqueue([NewJob(name, "true", 3) for name in names], T0)
    odd = "'soon'" if "://" not in storage_url else "'NaN'::float8"
    holders = {"alive": ["live-far", "live-null"], "silent": ["silent-far", "silent-null"]}
    for name in names:
        holder = next((w for w, held in holders.items() if name in held), "gone")
        execute_raw(storage, f"UPDATE jobs SET state = 'processing', worker_id = '{holder}',"
                             f" lease_until = {T0 + 30}, attempts = 1, runs = 1"
                             f" WHERE id = '{name}'")
    for names_, lease in ((["null-lease", "live-null", "silent-null", "nothing"], "NULL"),
                          (["far-lease", "silent-far", "live-far"], "253402300799"),
                          (["odd-lease"], odd)):
        for name in names_:
            execute_raw(storage, f"UPDATE jobs SET lease_until = {lease} WHERE id = '{name}'")
    execute_raw(storage, "UPDATE jobs SET worker_id = NULL WHERE id IN ('no-holder', 'nothing')")

    def decide(job: Job) -> Outcome:
        return Outcome(job.id, job.runs, JobState.FAILED, T0 + 10, run_at=T0 + 12,
                       error="worker lost")

    rescued = storage.rescue(T0 + 10, decide, lease=30)
    assert sorted(o.job_id for o in rescued) == sorted(
        ["null-lease", "far-lease", "odd-lease", "no-holder", "nothing", "silent-null"])
    for outcome in rescued:
        job = stored(storage, outcome.job_id)
        assert (job.state, job.worker_id, job.last_error) == (
            JobState.FAILED, None, "worker lost"), job.id
    # A live holder; a registered holder's lease far ahead; a lease to expire.
    for name in ("live-far", "live-null", "silent-far", "gone-short"):
        assert stored(storage, name).state == JobState.PROCESSING, name
    assert storage.rescue(T0 + 10, decide, lease=30) == []
    # Without a lease to judge by, only expired leases, as before.
    assert storage.rescue(T0 + 20, decide) == []


@pytest.mark.parametrize("heartbeat", ["inf", "far", "odd"])
def test_a_holder_whose_heartbeat_is_no_time_holds_no_run(
        storage: Storage, storage_url: str, heartbeat: str) -> None:
    """A holder whose heartbeat is no time (inf, NaN, text: a hand edit) kept its runs whose
    lease no heartbeat renews (NULL, far ahead) until its registration was forgotten: they
    are rescued at once. A run with a NULL lease goes as soon as its holder's heartbeat is
    more than a lease from now; one leased far ahead stays with a holder whose heartbeat is
    a time, however far ahead (a clock stepped back puts live workers' heartbeats and leases
    there until their next heartbeat: a rescue then would run the job twice at once)."""
    postgres = "://" in storage_url
    value = {"inf": "'Infinity'::float8" if postgres else "9e999",
             "far": str(T0 + 100), "odd": "'NaN'::float8" if postgres else "'soon'"}[heartbeat]
    _register(storage, "edited", T0)
    _register(storage, "ahead", T0)
    names = ["edited-null", "edited-far", "ahead-null", "ahead-far"]
    storage.enqueue([NewJob(name, "true", 3) for name in names], T0)
    for name in names:
        holder, lease = name.split("-")
        execute_raw(storage, f"UPDATE jobs SET state = 'processing', worker_id = '{holder}',"
                             f" lease_until = {'NULL' if lease == 'null' else 253402300799},"
                             f" attempts = 1, runs = 1 WHERE id = '{name}'")
    execute_raw(storage, f"UPDATE workers SET heartbeat_at = {value} WHERE id = 'edited'")
    execute_raw(storage, f"UPDATE workers SET heartbeat_at = {T0 + 39} WHERE id = 'ahead'")

    def decide(job: Job) -> Outcome:
        return Outcome(job.id, job.runs, JobState.FAILED, T0 + 10, run_at=T0 + 12,
                       error="worker lost")

    rescued = storage.rescue(T0 + 10, decide, lease=30)
    expected = ["edited-null"] if heartbeat == "far" else ["edited-far", "edited-null"]
    assert sorted(o.job_id for o in rescued) == expected
    assert [stored(storage, name).state for name in ("ahead-null", "ahead-far")] == [
        JobState.PROCESSING, JobState.PROCESSING]


def test_jobs_waiting_in_vain_on_dependencies_end_dead_and_can_be_retried(
        storage: Storage) -> None:
    """A waiting_on above the dependencies not completed (edited by hand, or the rows of
    job_dependencies deleted) left its job pending for ever, silently: nothing would count it
    down. It ends dead, saying why, its count made right so that a retry runs it."""
    storage.enqueue([NewJob("dep", "true", 0), NewJob("alone", "true", 0)], T0)
    storage.enqueue([NewJob("waits", "true", 0, depends_on=("dep",)),
                     NewJob("over", "true", 0, depends_on=("dep",))], T0)
    execute_raw(storage, "UPDATE jobs SET waiting_on = 2 WHERE id = 'alone'")
    execute_raw(storage, "UPDATE jobs SET waiting_on = 3 WHERE id = 'over'")
    assert sorted(storage.bury_jobs_waiting_in_vain(T0 + 1)) == [
        ("alone", "waiting_on 2, but dependencies not completed: 0 (a dependency was removed"
                  " before it completed, or a hand edit)"),
        ("over", "waiting_on 3, but dependencies not completed: 1 (a dependency was removed"
                 " before it completed, or a hand edit)")]
    assert [(stored(storage, name).state, stored(storage, name).last_error is None)
            for name in ("alone", "over", "waits", "dep")] == [
        (JobState.DEAD, False), (JobState.DEAD, False),
        (JobState.PENDING, True), (JobState.PENDING, True)]
    assert storage.bury_jobs_waiting_in_vain(T0 + 2) == []
    storage.retry(["alone", "over"], T0 + 3, include_canceled=False)
    claimed = _claim(storage, "w", 10, T0 + 3)
    assert [j.id for j in claimed] == ["dep", "alone"]
    dep = claimed[0]
    storage.record_and_claim("w", [_done(dep, T0 + 4)], 0, T0 + 4, T0 + 34)
    assert sorted(j.id for j in _claim(storage, "w", 10, T0 + 5)) == ["over", "waits"]


def test_a_negative_waiting_on_ends_dead_too_and_can_be_retried(storage: Storage) -> None:
    """A negative waiting_on (a hand edit) left its job pending for ever: no completion
    counts it up to 0. The same pass as for a count too high ends it dead, saying why,
    its count made right."""
    storage.enqueue([NewJob("dep", "true", 0), NewJob("alone", "true", 0)], T0)
    storage.enqueue([NewJob("below", "true", 0, depends_on=("dep",))], T0)
    execute_raw(storage, "UPDATE jobs SET waiting_on = -1 WHERE id = 'alone'")
    execute_raw(storage, "UPDATE jobs SET waiting_on = -2 WHERE id = 'below'")
    assert sorted(storage.bury_jobs_waiting_in_vain(T0 + 1)) == [
        ("alone", "waiting_on -1, but dependencies not completed: 0 (a hand edit: a count is"
                  " never negative)"),
        ("below", "waiting_on -2, but dependencies not completed: 1 (a hand edit: a count is"
                  " never negative)")]
    assert stored(storage, "below").waiting_on == 1
    assert storage.bury_jobs_waiting_in_vain(T0 + 2) == []
    storage.retry(["alone", "below"], T0 + 3, include_canceled=False)
    claimed = _claim(storage, "w", 10, T0 + 3)
    assert [j.id for j in claimed] == ["dep", "alone"]
    storage.record_and_claim("w", [_done(claimed[0], T0 + 4)], 0, T0 + 4, T0 + 34)
    assert [j.id for j in _claim(storage, "w", 10, T0 + 5)] == ["below"]
