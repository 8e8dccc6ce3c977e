"""Export and import: a store's jobs, history and settings, moved as they are."""

from __future__ import annotations

import json
import re

import pytest

from queuectl.errors import DuplicateJob, DuplicateSchedule, InvalidInput, UnknownDependency
from queuectl.models import JobState, NewJob, Outcome
from queuectl.recurring import Schedule
from queuectl.storage import Storage
from queuectl.transfer import export_lines, import_lines

T0 = 1_767_225_600.0


def _fill(storage: Storage) -> None:
    storage.set_config("max_retries", "5")
    storage.set_queue_paused("video", True)
    storage.set_queue_limit("video", 2)
    storage.add_schedule(Schedule("nightly", {"command": "backup"}, cron="0 2 * * *",
                                  tz="Europe/Berlin", next_run_at=T0 + 3600), T0)
    storage.enqueue([NewJob("done", "echo hi", 1, env={"A": "1"}, fatal_exit_codes=(7,)),
                     NewJob("dead", "exit 3", 0, cwd="/tmp", timeout=2.5),
                     NewJob("waiting", "true", 2)], T0)
    storage.record_and_claim("w", [], 2, T0, T0 + 30)
    storage.record_and_claim("w", [
        Outcome("done", 1, JobState.COMPLETED, T0 + 1, exit_code=0, output=b"hi\n\xff"),
        Outcome("dead", 1, JobState.DEAD, T0 + 2, exit_code=3, error="exit code 3"),
    ], 0, T0 + 2, T0 + 32)


def test_an_export_imported_elsewhere_exports_the_same(
    storage: Storage, second_storage: Storage
) -> None:
    _fill(storage)
    exported = list(export_lines(storage))
    assert json.loads(exported[0]) == {"kind": "queuectl-export", "version": 3}
    assert json.loads(exported[2]) == {"kind": "queue", "name": "video", "paused": True,
                                       "limit": 2}
    assert json.loads(exported[-1]) == {"kind": "end", "settings": 1, "queues": 1,
                                        "schedules": 1, "jobs": 3}
    result = import_lines(second_storage, exported)
    assert (result.jobs, result.attempts, result.settings, result.schedules,
            result.queues) == (3, 2, 1, 1, 1)
    assert second_storage.schedules() == storage.schedules()
    assert second_storage.queues() == storage.queues()
    assert list(export_lines(second_storage)) == exported
    assert second_storage.get("dead") == storage.get("dead")
    assert second_storage.attempts("done") == storage.attempts("done")
    # the imported queue goes on working: the waiting job is claimed, oldest first
    [job], _ = second_storage.record_and_claim("w2", [], 1, T0 + 5, T0 + 35)
    assert job.id == "waiting"


def test_scheduling_fields_survive_the_move(storage: Storage, second_storage: Storage) -> None:
    storage.enqueue([NewJob("parent", "x", 0, queue="etl", priority=3, tags=("eu", "etl"))], T0)
    storage.enqueue([NewJob("child", "x", 0, depends_on=("parent",), unique_key="daily",
                            backoff_base=1.5, jitter=0.1)], T0)
    import_lines(second_storage, export_lines(storage))
    assert second_storage.get("child") == storage.get("child")
    assert [j.id for j in second_storage.list_jobs(None, 10, tag="eu")] == ["parent"]
    [parent], _ = second_storage.record_and_claim("w", [], 5, T0, T0 + 30)  # child waits
    done = Outcome("parent", parent.runs, JobState.COMPLETED, T0 + 1, exit_code=0)
    [child], _ = second_storage.record_and_claim("w", [done], 5, T0 + 1, T0 + 31)
    assert child.id == "child"


def test_an_import_is_all_or_nothing(storage: Storage, second_storage: Storage) -> None:
    _fill(storage)
    exported = list(export_lines(storage))
    second_storage.enqueue([NewJob("waiting", "already here", 0)], T0)
    with pytest.raises(DuplicateJob, match="waiting"):
        import_lines(second_storage, exported)
    assert second_storage.config_items() == {} and second_storage.schedules() == []
    assert [j.id for j in second_storage.list_jobs(None, 10)] == ["waiting"]


@pytest.mark.parametrize(("line", "error"), [
    ('{"kind": "job", "job": {"id": "x", "state": "dead"}}', "line 2: incomplete job"),
    ('{"kind": "config", "key": "max_retries", "value": "-1"}', "line 2: max_retries"),
    ('{"kind": "schedule?"}', "line 2: unknown record kind"),
    ("not json", "line 2: invalid JSON"),
])
def test_a_bad_line_is_named_and_nothing_is_written(
    storage: Storage, second_storage: Storage, line: str, error: str
) -> None:
    _fill(storage)
    exported = list(export_lines(storage))
    with pytest.raises(InvalidInput, match=error):
        import_lines(second_storage, [exported[0], line, *exported[1:]])
    assert second_storage.list_jobs(None, 10) == [] and second_storage.config_items() == {}
    assert second_storage.schedules() == []


def test_a_schedule_name_taken_fails_the_import(storage: Storage, second_storage: Storage) -> None:
    _fill(storage)
    second_storage.add_schedule(Schedule("nightly", {"command": "x"}, every=60.0), T0)
    with pytest.raises(DuplicateSchedule, match="nightly"):
        import_lines(second_storage, export_lines(storage))
    assert second_storage.list_jobs(None, 10) == []


def test_a_file_that_is_not_an_export_is_refused(second_storage: Storage) -> None:
    with pytest.raises(InvalidInput, match="line 1: not a queuectl-export"):
        import_lines(second_storage, ['{"id": "j1", "command": "true"}'])


def _nothing_imported(storage: Storage) -> bool:
    return (storage.list_jobs(None, 10) == [] and storage.config_items() == {}
            and storage.schedules() == [] and storage.queues() == [])


def test_an_export_cut_short_is_refused(storage: Storage, second_storage: Storage) -> None:
    """An export that failed half way (a full disk, a database error) lacks its end record;
    cut at any line, it imports nothing."""
    _fill(storage)
    exported = list(export_lines(storage))
    for end in range(1, len(exported)):
        with pytest.raises(InvalidInput, match=f"the export ends early, after line {end}: it "
                                               "has no end record"):
            import_lines(second_storage, exported[:end])
        assert _nothing_imported(second_storage)


@pytest.mark.parametrize("lost", [1, 2, 3, 4], ids=["setting", "queue", "schedule", "job"])
def test_a_line_lost_from_the_middle_is_refused(
    storage: Storage, second_storage: Storage, lost: int
) -> None:
    _fill(storage)
    exported = list(export_lines(storage))
    with pytest.raises(InvalidInput, match=r"the end record does not match the records before "
                                           r"it \("):
        import_lines(second_storage, exported[:lost] + exported[lost + 1:])
    assert _nothing_imported(second_storage)


@pytest.mark.parametrize("end", [
    '{"kind": "end", "settings": 1, "queues": 1, "schedules": 1, "jobs": 4}',
    '{"kind": "end", "settings": 1, "queues": 1, "schedules": 1, "jobs": "3"}',
    '{"kind": "end", "settings": true, "queues": 1, "schedules": 1, "jobs": 3}',
    '{"kind": "end", "settings": 1, "queues": 1, "schedules": 1}',
    '{"kind": "end", "settings": 1, "queues": 1, "schedules": 1, "jobs": 3, "more": 0}',
    '{"kind": "end", "settings": 1, "schedules": 1, "jobs": 3}',
    '{"kind": "end", "settings": 1, "queues": 0, "schedules": 1, "jobs": 3}',
])
def test_an_end_record_that_does_not_count_right_is_refused(
    storage: Storage, second_storage: Storage, end: str
) -> None:
    _fill(storage)
    exported = list(export_lines(storage))
    with pytest.raises(InvalidInput, match=f"line {len(exported)}: the end record does not "
                                           "match"):
        import_lines(second_storage, [*exported[:-1], end])
    assert _nothing_imported(second_storage)


def test_a_record_after_the_end_is_refused(storage: Storage, second_storage: Storage) -> None:
    _fill(storage)
    exported = list(export_lines(storage))
    with pytest.raises(InvalidInput, match=f"line {len(exported) + 1}: a record after the end"):
        import_lines(second_storage, [*exported, exported[1]])
    assert _nothing_imported(second_storage)


def test_a_version_1_export_needs_no_end_record(storage: Storage, second_storage: Storage) -> None:
    """Exports written before the end record (version 1) are still read as they are."""
    _fill(storage)
    exported = list(export_lines(storage))
    older = [json.dumps({"kind": "queuectl-export", "version": 1}), exported[1], *exported[3:-1]]
    result = import_lines(second_storage, older)
    assert (result.jobs, result.attempts, result.settings, result.schedules) == (3, 2, 1, 1)


def test_a_version_2_export_has_no_queue_settings(
    storage: Storage, second_storage: Storage
) -> None:
    """Version 2 had no queue records: its queues import unpaused and unlimited, and a queue
    record in it is refused as a kind it does not know."""
    _fill(storage)
    exported = list(export_lines(storage))
    end = '{"kind": "end", "settings": 1, "schedules": 1, "jobs": 3}'
    older = [json.dumps({"kind": "queuectl-export", "version": 2}), exported[1],
             *exported[3:-1], end]
    with pytest.raises(InvalidInput, match="line 3: unknown record kind 'queue'"):
        import_lines(second_storage, [*older[:2], exported[2], *older[2:]])
    assert _nothing_imported(second_storage)
    result = import_lines(second_storage, older)
    assert (result.jobs, result.settings, result.schedules, result.queues) == (3, 1, 1, 0)
    assert [(q.name, q.paused, q.limit) for q in second_storage.queues()] == [
        ("default", False, None)]


@pytest.mark.parametrize(("record", "error"), [
    ('{"kind": "queue", "name": "video", "paused": 1, "limit": null}',
     "queue 'video': paused must be true or false, got 1"),
    ('{"kind": "queue", "name": "video", "paused": true, "limit": 0}',
     "queue 'video': limit must be null or a whole number from 1 to 1000000, got 0"),
    ('{"kind": "queue", "name": "video", "paused": true, "limit": 2.0}',
     "queue 'video': limit must be null or a whole number from 1 to 1000000, got 2.0"),
    ('{"kind": "queue", "name": "a b", "paused": true, "limit": null}',
     "queue: 'a b' must be 1-64 letters"),
    ('{"kind": "queue", "name": "video", "paused": true}',
     "a queue record needs exactly the fields kind, name, paused, limit"),
])
def test_a_queue_record_out_of_bounds_fails_the_import(
    second_storage: Storage, record: str, error: str
) -> None:
    lines = ['{"kind": "queuectl-export", "version": 3}', record,
             '{"kind": "end", "settings": 0, "queues": 1, "schedules": 0, "jobs": 0}']
    with pytest.raises(InvalidInput, match="line 2: " + re.escape(error)):
        import_lines(second_storage, lines)
    assert _nothing_imported(second_storage)


@pytest.mark.parametrize("version", ["4", "0", "true", '"2"', "null"])
def test_an_unknown_version_is_refused(second_storage: Storage, version: str) -> None:
    with pytest.raises(InvalidInput, match="line 1: not a queuectl-export file of version 1, "
                                           "2 or 3"):
        import_lines(second_storage, [f'{{"kind": "queuectl-export", "version": {version}}}'])


def _without_job(lines: list[str], job_id: str) -> list[str]:
    """``lines`` without the job ``job_id``'s record, the end record counting one job less."""
    kept = [line for line in lines
            if json.loads(line).get("job", {}).get("id") != job_id]
    end = json.loads(kept[-1])
    return [*kept[:-1], json.dumps({**end, "jobs": end["jobs"] - 1})]


def test_a_job_waiting_on_a_job_stored_nowhere_is_refused(
    storage: Storage, second_storage: Storage
) -> None:
    storage.enqueue([NewJob("parent", "x", 0)], T0)
    storage.enqueue([NewJob("child", "x", 0, depends_on=("parent",)),
                     NewJob("other", "x", 0)], T0)
    lines = _without_job(list(export_lines(storage)), "parent")
    with pytest.raises(UnknownDependency,
                       match="job 'child' waits on 'parent', a job stored neither in the "
                             "input nor here: nothing imported"):
        import_lines(second_storage, lines)
    assert second_storage.list_jobs(None, 10) == []
    # stored here, it is no stranger: the child waits for it as it did
    second_storage.enqueue([NewJob("parent", "x", 0)], T0)
    assert import_lines(second_storage, lines).jobs == 2
    assert second_storage.get("child").waiting_on == 1  # type: ignore[union-attr]


def test_a_job_that_waits_no_more_may_name_a_purged_dependency(
    storage: Storage, second_storage: Storage
) -> None:
    storage.enqueue([NewJob("parent", "x", 0)], T0)
    storage.enqueue([NewJob("child", "x", 0, depends_on=("parent",))], T0)
    storage.record_and_claim("w", [], 1, T0, T0 + 30)
    storage.record_and_claim("w", [Outcome("parent", 1, JobState.COMPLETED, T0 + 1,
                                           exit_code=0)], 0, T0 + 1, T0 + 31)
    lines = _without_job(list(export_lines(storage)), "parent")
    assert import_lines(second_storage, lines).jobs == 1
    [child], _ = second_storage.record_and_claim("w", [], 1, T0 + 2, T0 + 32)
    assert child.id == "child"
