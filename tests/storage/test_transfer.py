"""Export and import: a store's jobs, history and settings, moved as they are."""

from __future__ import annotations

import json

import pytest

from queuectl.errors import DuplicateJob, DuplicateSchedule, InvalidInput
from queuectl.models import JobState, NewJob, Outcome
from queuectl.recurring import Schedule
from queuectl.storage import Storage
from queuectl.transfer import export_lines, import_lines

T0 = 1_767_225_600.0


def _fill(storage: Storage) -> None:
    storage.set_config("max_retries", "5")
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
    assert json.loads(exported[0]) == {"kind": "queuectl-export", "version": 1}
    result = import_lines(second_storage, exported)
    assert (result.jobs, result.attempts, result.settings, result.schedules) == (3, 2, 1, 1)
    assert second_storage.schedules() == storage.schedules()
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
