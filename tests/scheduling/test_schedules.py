"""Recurring jobs on an injected clock: first tick, one job per tick, one catch-up at most,
the tick key under racing workers, pause and resume, and what a schedule refuses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.storage.conftest import execute_raw

from queuectl import Queue
from queuectl.clock import FakeClock
from queuectl.config import Settings
from queuectl.errors import InvalidInput, QueuectlError, ScheduleNotFound
from queuectl.models import JobState, NewJob
from queuectl.storage import open_storage
from queuectl.units import parse_timestamp
from queuectl.worker.maintenance import Housekeeping, enqueue_due_ticks

SETTINGS = Settings()


def tick(queue: Queue) -> list[str]:
    """What a worker's housekeeping does at the queue's "now"; returns the ids enqueued."""
    return [job.id for job in enqueue_due_ticks(queue.storage, SETTINGS, queue.clock.now())]


def at(clock: FakeClock, iso: str) -> None:
    clock.advance(parse_timestamp(iso) - clock.now())


def test_every_starts_one_interval_after_the_next_whole_second(
        queue: Queue, clock: FakeClock) -> None:
    clock.advance(0.25)
    schedule = queue.schedules.add("ping", {"command": "true"}, every="10s")
    assert schedule.next_run_at == clock.now() - 0.25 + 1 + 10
    assert tick(queue) == []
    clock.advance(10.75)
    assert tick(queue) == ["ping@20260101T000011Z"]
    assert tick(queue) == []  # the same tick, asked again: nothing more
    clock.advance(10)
    assert tick(queue) == ["ping@20260101T000021Z"]


def test_missed_ticks_give_one_catch_up_run_then_the_grid_resumes(
        queue: Queue, clock: FakeClock) -> None:
    queue.schedules.add("ping", {"command": "true"}, every="1m")  # first tick 00:01:00
    clock.advance(10 * 60 + 30)  # ten ticks missed: no worker ran
    assert tick(queue) == ["ping@20260101T000100Z"]  # one run, for the oldest missed tick
    assert tick(queue) == []
    [schedule] = queue.schedules.list()
    assert schedule.next_run_at == parse_timestamp("2026-01-01T00:11:00Z")
    assert schedule.last_run_at == parse_timestamp("2026-01-01T00:01:00Z")
    assert schedule.last_job_id == "ping@20260101T000100Z"


def test_cron_in_a_time_zone_across_the_spring_forward_night(
        queue: Queue, clock: FakeClock) -> None:
    at(clock, "2026-03-28T12:00:00Z")
    queue.schedules.add("nightly", {"command": "backup.sh"}, cron="30 2 * * *",
                       tz="Europe/Berlin")
    seen = []
    for _ in range(3 * 24):
        clock.advance(3600)
        seen += tick(queue)
    # 02:30 CET does not exist on the 29th: it runs at the jump (03:00 CEST, 01:00 UTC).
    assert seen == ["nightly@20260329T010000Z", "nightly@20260330T003000Z",
                    "nightly@20260331T003000Z"]


def test_the_enqueued_job_carries_the_template(queue: Queue, clock: FakeClock) -> None:
    queue.schedules.add("report", {"command": "report.sh", "queue": "reports", "priority": 3,
                                  "tags": ["daily"], "max_retries": 0}, every="1h")
    clock.advance(3601)
    [job_id] = tick(queue)
    job = queue.get(job_id)
    assert (job.command, job.queue, job.priority, job.tags, job.max_retries) == (
        "report.sh", "reports", 3, ("daily",), 0)
    assert job.cwd == str(Path.cwd())  # the directory `schedule add` ran in


def test_a_unique_key_skips_a_tick_while_the_last_run_is_live(
        queue: Queue, clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    queue.schedules.add("sync", {"command": "sync.sh", "unique_key": "sync"}, every="1m")
    clock.advance(61)
    [first] = tick(queue)
    clock.advance(60)
    with caplog.at_level("INFO", logger="queuectl"):
        assert tick(queue) == [first]  # the live job, not a second one
    assert caplog.messages == ["schedule sync: tick 2026-01-01T00:02:00.000Z skipped: job "
                               "sync@20260101T000100Z with its unique key is live"]
    assert len(queue.jobs()) == 1
    [schedule] = queue.schedules.list()
    assert schedule.next_run_at > clock.now()  # the tick was consumed anyway
    # ... but did not run: LAST RUN stays at the tick that enqueued the live job.
    assert (schedule.last_run_at, schedule.last_job_id) == (
        parse_timestamp("2026-01-01T00:01:00Z"), first)


def test_a_tick_whose_job_exists_already_is_no_last_run(queue: Queue, clock: FakeClock) -> None:
    """A schedule removed and added again meets a tick it enqueued before: nothing is enqueued
    twice, and LAST RUN does not claim a run (it did, with LAST JOB '-')."""
    queue.schedules.add("ping", {"command": "true"}, every="1m")
    clock.advance(61)
    [first] = tick(queue)
    queue.schedules.remove("ping")
    queue.schedules.add("ping", {"command": "true"}, every="1m")
    execute_raw(queue.storage, "UPDATE schedules SET next_run_at = "
                f"{parse_timestamp('2026-01-01T00:01:00Z')} WHERE name = 'ping'")
    assert tick(queue) == []
    assert [job.id for job in queue.jobs()] == [first]
    [schedule] = queue.schedules.list()
    assert schedule.next_run_at > clock.now()
    assert (schedule.last_run_at, schedule.last_job_id) == (None, None)


def test_racing_workers_enqueue_each_tick_once(db_path: Path, queue: Queue,
                                               clock: FakeClock) -> None:
    """The tick key: only the transaction that moves next_run_at on from the tick it read
    enqueues that tick, whatever the other store read before."""
    queue.schedules.add("ping", {"command": "true"}, every="1s")
    clock.advance(2)
    stores = [open_storage(db_path) for _ in range(3)]
    try:
        now = clock.now()
        due = [store.due_schedules(now)[0] for store in stores]  # all three see it due
        assert all(len(schedules) == 1 for schedules in due)
        results = []
        for store, [schedule] in zip(stores, due, strict=True):
            job = NewJob(f"ping@{schedule.next_run_at}", "true", 0)
            results.append(store.enqueue_tick("ping", schedule.next_run_at,
                                              schedule.following(schedule.next_run_at, now),
                                              job, now))
        assert [result is not None for result in results] == [True, False, False]
        assert len(queue.jobs()) == 1
    finally:
        for store in stores:
            store.close()


def test_pause_skips_ticks_and_resume_starts_from_the_next_one(
        queue: Queue, clock: FakeClock) -> None:
    queue.schedules.add("ping", {"command": "true"}, every="1m")
    queue.schedules.pause("ping")
    clock.advance(10 * 60)
    assert tick(queue) == []
    assert queue.schedules.list()[0].paused
    resumed = queue.schedules.resume("ping")
    assert not resumed.paused
    assert clock.now() < resumed.next_run_at <= clock.now() + 60  # no catch-up after a pause
    assert tick(queue) == []
    clock.advance(60)
    assert len(tick(queue)) == 1


def test_remove_stops_the_schedule_and_keeps_its_jobs(queue: Queue, clock: FakeClock) -> None:
    queue.schedules.add("ping", {"command": "true"}, every="1s")
    clock.advance(2)
    assert len(tick(queue)) == 1
    queue.schedules.remove("ping")
    clock.advance(5)
    assert tick(queue) == []
    assert queue.schedules.list() == []
    assert len(queue.jobs()) == 1
    with pytest.raises(ScheduleNotFound):
        queue.schedules.remove("ping")


def test_housekeeping_wakes_for_the_next_tick(queue: Queue, clock: FakeClock) -> None:
    housekeeping = Housekeeping(queue.storage)
    settings = Settings(poll_interval=5.0)
    # Nothing scheduled: look again after a poll interval (a schedule may be added meanwhile).
    assert housekeeping.run_due(settings, clock.now()) == clock.now() + 5.0
    clock.advance(5.0)
    fast = queue.schedules.add("fast", {"command": "true"}, every="2s")
    assert housekeeping.run_due(settings, clock.now()) == fast.next_run_at  # sooner
    assert housekeeping.run_due(settings, clock.now() + 1) == fast.next_run_at  # not yet due
    clock.advance(2.0)
    assert housekeeping.run_due(settings, clock.now()) == fast.next_run_at + 2.0
    assert [job.id for job in queue.jobs()] == ["fast@20260101T000007Z"]


def test_retention_prunes_old_finished_jobs_in_batches(
        queue: Queue, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    import queuectl.worker.maintenance as maintenance

    monkeypatch.setattr(maintenance, "PRUNE_BATCH", 2)
    for number in range(5):
        queue.enqueue("true", id=f"old{number}")
    queue.cancel([f"old{number}" for number in range(5)])
    clock.advance(3600)
    queue.enqueue("true", id="young")
    queue.cancel(["young"])
    housekeeping = Housekeeping(queue.storage)
    settings = Settings(poll_interval=1.0, retention=1800.0)
    assert housekeeping.run_due(settings, clock.now()) == clock.now() + 1.0  # more to do
    assert len(queue.jobs()) == 4
    clock.advance(1.0)
    housekeeping.run_due(settings, clock.now())
    clock.advance(1.0)
    next_pass = housekeeping.run_due(settings, clock.now())
    assert [job.id for job in queue.jobs()] == ["young"]
    assert next_pass == clock.now() + settings.poll_interval  # checks ticks; prunes later
    assert housekeeping.run_due(settings, next_pass) > next_pass  # nothing left, no hurry


@pytest.mark.parametrize("setting", [None, "off", "1d"])
def test_completed_jobs_are_pruned_after_seven_days_by_default(
        queue: Queue, clock: FakeClock, setting: str | None) -> None:
    if setting is not None:
        queue.config_set("keep_completed", setting)
    for job_id in ("done", "gone"):
        queue.enqueue("true", id=job_id)
    with queue.worker(slots=2) as worker:
        worker.run_once()
    queue.cancel([queue.enqueue("true", id="dropped").id])
    clock.advance(6 * 86400)
    queue.enqueue("true", id="recent")
    with queue.worker() as worker:
        worker.run_once()
    clock.advance(86400 + 1)  # the first two completed 7 days ago and a second
    Housekeeping(queue.storage).run_due(queue.settings, clock.now())
    kept = sorted(job.id for job in queue.jobs())
    if setting == "off":
        assert kept == ["done", "dropped", "gone", "recent"]
    elif setting == "1d":
        assert kept == ["dropped"]  # completed a day ago: gone too; canceled jobs stay
    else:
        assert kept == ["dropped", "recent"]


@pytest.mark.parametrize(("kwargs", "word"), [
    ({"cron": "61 * * * *"}, "out of range"),
    ({"cron": "* * * *"}, "5 fields"),
    ({"cron": "0 2 * * *", "tz": "Mars/Olympus"}, "time zone"),
    ({"cron": "0 2 * * *", "tz": "../../etc/passwd"}, "time zone"),
    ({"every": "0s"}, "at least 1s"),
    ({"every": "1.5s"}, "whole"),
    ({"every": "soon"}, "duration"),
    ({}, "--cron or --every"),
    ({"cron": "* * * * *", "every": "1m"}, "--cron or --every"),
    ({"every": "1m", "tz": "UTC"}, "--tz goes with --cron"),
])
def test_bad_timing_is_refused(queue: Queue, kwargs: dict[str, str], word: str) -> None:
    with pytest.raises(InvalidInput, match=word):
        queue.schedules.add("bad", {"command": "true"}, **kwargs)
    assert queue.schedules.list() == []


@pytest.mark.parametrize(("name", "job", "word"), [
    ("bad name", {"command": "true"}, "schedule name"),
    ("ok", {"command": "true", "id": "x"}, "id"),
    ("ok", {"command": "true", "run_at": "2026-01-01T00:00:00Z"}, "run_at"),
    ("ok", {"command": "true", "depends_on": ["a"]}, "depends_on"),
    ("ok", {"command": ""}, "command"),
    ("ok", {"command": "true", "priority": "high"}, "priority"),
    ("ok", {"command": "true", "env": {"BAD NAME": "1"}}, "env: 'BAD NAME'"),
    ("ok", '{"command": ', "invalid JSON"),
])
def test_bad_templates_are_refused(queue: Queue, name: str, job: object, word: str) -> None:
    with pytest.raises(InvalidInput, match=word):
        queue.schedules.add(name, job, every="1m")  # type: ignore[arg-type]
    assert queue.schedules.list() == []


def test_a_template_stored_before_a_check_skips_its_tick_with_an_error(
        queue: Queue, clock: FakeClock, db_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """An old database's schedule whose template enqueue refuses now: each tick is logged and
    skipped (the next try an hour on), and the housekeeping goes on."""
    import sqlite3

    queue.schedules.add("old", {"command": "true"}, every="1m")
    queue.schedules.add("fine", {"command": "true"}, every="1m")
    with sqlite3.connect(db_path) as conn:
        conn.execute("""UPDATE schedules SET job = '{"command": "true", "retries": 3}'
                        WHERE name = 'old'""")
    clock.advance(61)
    with caplog.at_level("ERROR", logger="queuectl"):
        assert tick(queue) == ["fine@20260101T000100Z"]
    assert "schedule old: tick" in caplog.text
    assert "unknown field 'retries'" in caplog.text
    assert queue.jobs() and all(job.id.startswith("fine@") for job in queue.jobs())
    old = next(schedule for schedule in queue.schedules.list() if schedule.name == "old")
    assert old.next_run_at == clock.now() + 3600


def test_a_template_stored_with_unportable_env_names_ticks_without_them(
        queue_on_each_backend: Queue, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    """A store upgraded in place may hold a template with env names enqueue refuses now (no
    job's shell passed them on): its ticks run without them, as ``import`` leaves them out,
    and the housekeeper says so once rather than at every tick."""
    queue = queue_on_each_backend
    clock = queue.clock
    assert isinstance(clock, FakeClock)
    queue.schedules.add("old", {"command": "env"}, every="1m")
    template = {"command": "env", "cwd": str(tmp_path), "env": {"BAD NAME": "1", "OK": "2"}}
    execute_raw(queue.storage, f"UPDATE schedules SET job = '{json.dumps(template)}'"
                               " WHERE name = 'old'")
    housekeeping = Housekeeping(queue.storage)
    with caplog.at_level("WARNING", logger="queuectl"):
        for _ in range(2):
            clock.advance(60)
            housekeeping.run_due(SETTINGS, clock.now())
    ticks = queue.jobs()
    assert sorted(job.id for job in ticks) == ["old@20260101T000100Z", "old@20260101T000200Z"]
    assert all(job.env == {"OK": "2"} for job in ticks)
    assert caplog.text.count("schedule old: its jobs leave out env variables") == 1
    assert "not portable (no job's shell passed them on): 'BAD NAME'" in caplog.text
    with queue.worker(slots=2) as worker:
        worker.run_once()
    for job in ticks:
        assert queue.get(job.id).state is JobState.COMPLETED
        output = queue.run_output(job.id, 1)
        assert output is not None
        names = [line.split("=", 1)[0] for line in output.data.decode().splitlines()]
        assert "OK" in names and "BAD NAME" not in names


def test_a_taken_name_is_refused(queue: Queue) -> None:
    queue.schedules.add("ping", {"command": "true"}, every="1m")
    with pytest.raises(QueuectlError, match="exists"):
        queue.schedules.add("ping", {"command": "false"}, every="1h")
    assert [s.job["command"] for s in queue.schedules.list()] == ["true"]
