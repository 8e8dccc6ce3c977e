"""A schedule row no check let in (a template that is not an object, or not JSON at all; a
field of the wrong type; an interval of 0 or less) fails its own tick only: the housekeeper logs one
error line, skips the tick and tries again an hour later, and every other schedule ticks on.
What storing a tick raises is still the database's, for the worker's outage handling."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from tests.helpers import Cli, WorkerPool, wait_until
from tests.storage.conftest import execute_raw

from queuectl import Queue
from queuectl.clock import FakeClock
from queuectl.config import Settings
from queuectl.errors import StorageError
from queuectl.jobspec.parse import FIELDS
from queuectl.models import JobState
from queuectl.recurring import Schedule, tick_job_id
from queuectl.storage import Storage
from queuectl.units import format_timestamp
from queuectl.worker.maintenance import BAD_TICK_RETRY, Housekeeping, enqueue_due_ticks

SETTINGS = Settings()


def fake_clock(queue: Queue) -> FakeClock:
    assert isinstance(queue.clock, FakeClock)
    return queue.clock


def sql_text(text: str) -> str:
    """``text`` as an SQL string literal (both backends: standard quoting)."""
    return "'" + text.replace("'", "''") + "'"


def next_run_at(queue: Queue, name: str) -> float:
    [(at,)] = execute_raw(queue.storage,
                          f"SELECT next_run_at FROM schedules WHERE name = {sql_text(name)}")
    return float(at)


def errors_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.levelname == "ERROR"]


MALFORMED = [
    pytest.param("job = '[1, 2]'", "its job template is not a JSON object: [1, 2]",
                 id="array"),
    pytest.param("""job = '"true"'""", "its job template is not a JSON object: 'true'",
                 id="string"),
    pytest.param("job = '3'", "its job template is not a JSON object: 3", id="number"),
    pytest.param("job = 'null'", "its job template is not a JSON object: None", id="null"),
    pytest.param("""job = '{"command": "true"'""",
                 """its job template is not a JSON object: '{"command": "true"'""",
                 id="not-json"),
    pytest.param("""job = '{"command": "true", "max_retries": "x"}'""",
                 "max_retries: expected a whole number, got 'x'", id="max-retries-text"),
    pytest.param("""job = '{"command": "true", "env": [1]}'""", "env: ", id="env-array"),
    pytest.param("every = 0", "every: must be positive; got 0s", id="every-zero"),
    # Its next tick would land before now: a job at every look, were it not refused.
    pytest.param("every = -60", "every: must be positive; got -60s", id="every-negative"),
    # A job at every look too, or more intervals since the tick than a float counts
    # (OverflowError); no interval at all (AssertionError).
    pytest.param("every = 1e-300", "every: must be at least 1s; got 1e-300s", id="every-tiny"),
    pytest.param("every = NULL, cron = NULL",
                 "it has neither a cron nor an every: no tick follows", id="neither"),
]
SQLITE_MALFORMED = [  # PostgreSQL keeps a number in every
    pytest.param("every = 'x'", "its every is not a number: 'x'", id="every-text"),
    pytest.param("every = x'31'", "its every is not a number: b'1'", id="every-bytes"),
]


@pytest.mark.parametrize(("change", "cause"), MALFORMED)
def test_a_malformed_row_fails_only_its_own_tick(
        queue_on_each_backend: Queue, caplog: pytest.LogCaptureFixture, change: str,
        cause: str) -> None:
    _fails_only_its_own_tick(queue_on_each_backend, caplog, change, cause)


@pytest.mark.parametrize(("change", "cause"), SQLITE_MALFORMED)
def test_a_value_of_another_type_fails_only_its_own_tick(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, change: str, cause: str) -> None:
    with Queue(tmp_path / "queue.db", clock=FakeClock(), environ={}) as queue:
        _fails_only_its_own_tick(queue, caplog, change, cause)


def _fails_only_its_own_tick(queue: Queue, caplog: pytest.LogCaptureFixture, change: str,
                             cause: str) -> None:
    clock = fake_clock(queue)
    queue.schedules.add("bad", {"command": "true"}, every="1m")
    queue.schedules.add("good", {"command": "true"}, every="1m")
    execute_raw(queue.storage, f"UPDATE schedules SET {change} WHERE name = 'bad'")
    housekeeping = Housekeeping(queue.storage)
    clock.advance(61)
    tick = next_run_at(queue, "bad")
    with caplog.at_level("INFO", logger="queuectl"):
        housekeeping.run_due(SETTINGS, clock.now())  # raises nothing
    assert [job.id for job in queue.jobs()] == ["good@20260101T000100Z"]
    [error] = errors_of(caplog)
    assert error.startswith(f"schedule bad: tick {format_timestamp(tick)} skipped: {cause}")
    assert "\n" not in error
    assert "housekeeping failed" not in caplog.text
    assert next_run_at(queue, "bad") == clock.now() + BAD_TICK_RETRY
    # LAST RUN moves only with a job enqueued: the skipped tick set it, as if it had run.
    listed = {schedule.name: schedule for schedule in queue.schedules.list()}
    assert (listed["bad"].last_run_at, listed["bad"].last_job_id) == (None, None)
    assert (listed["good"].last_run_at, listed["good"].last_job_id) == (
        clock.now() - 1, "good@20260101T000100Z")

    # Due again an hour later: skipped again, one more line; the good schedule ticks on.
    retry = next_run_at(queue, "bad")
    caplog.clear()
    clock.advance(BAD_TICK_RETRY)
    with caplog.at_level("INFO", logger="queuectl"):
        housekeeping.run_due(SETTINGS, clock.now())
    assert sorted(job.id for job in queue.jobs()) == ["good@20260101T000100Z",
                                                      "good@20260101T000200Z"]
    [again] = errors_of(caplog)
    assert again.startswith(f"schedule bad: tick {format_timestamp(retry)} skipped: {cause}")
    assert next_run_at(queue, "bad") == clock.now() + BAD_TICK_RETRY


class _TicksFail:
    """A store whose ``enqueue_tick`` raises ``error``; everything else is the real store's."""

    def __init__(self, storage: Storage, error: Exception) -> None:
        self._storage = storage
        self._error = error

    def __getattr__(self, name: str) -> Any:
        return getattr(self._storage, name)

    def enqueue_tick(self, *args: object) -> None:
        raise self._error


@pytest.mark.parametrize("error", [StorageError("disk I/O error"), OSError("connection lost")])
def test_a_failure_to_store_the_tick_is_not_contained(queue: Queue, clock: FakeClock,
                                                      error: Exception) -> None:
    """It is the database's, not the schedule's: the worker's outage handling takes it."""
    queue.schedules.add("good", {"command": "true"}, every="1m")
    clock.advance(61)
    failing = cast(Storage, _TicksFail(queue.storage, error))
    with pytest.raises(type(error), match=str(error)):
        enqueue_due_ticks(failing, SETTINGS, clock.now())
    assert next_run_at(queue, "good") == clock.now() - 1  # not moved on: tried again soon


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=3),
    max_leaves=8,
)
# Objects shaped like templates, each field a value some field takes or any JSON value (no
# tick's job is run here).
_field_values = st.sampled_from([None, 0, 3, -1, 1.5, "1m", "x", True, [], [1], ["a"], {},
                                 {"A": "1"}, {"A": 1}]) | _json_values
_template_objects = st.fixed_dictionaries(
    {"command": st.just("true") | _field_values},
    optional=dict.fromkeys([field for field in FIELDS if field != "command"], _field_values))
# Text a driver stores as it is: PostgreSQL's text holds no NUL, UTF-8 no lone surrogate.
_raw_texts = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\0"),
                     max_size=20)
stored_templates = st.one_of(_template_objects.map(json.dumps), _json_values.map(json.dumps),
                             _raw_texts)


def test_any_stored_template_leaves_the_other_schedules_ticking(
        queue_on_each_backend: Queue, caplog: pytest.LogCaptureFixture) -> None:
    queue = queue_on_each_backend
    clock = fake_clock(queue)
    queue.schedules.add("bad", {"command": "true"}, every="1m")
    queue.schedules.add("good", {"command": "true"}, every="1m")

    @settings(max_examples=60, derandomize=True, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(stored=stored_templates)
    @example(stored='{"command": "true", "tags": ["a"], "max_retries": 0}')  # taken
    @example(stored="[" * 100_000 + "]" * 100_000)  # too deep for json.loads
    @example(stored='{"command": "true", "priority": 1e999}')  # Infinity
    def tick_with(stored: str) -> None:
        clock.advance(60)
        now = clock.now()
        execute_raw(queue.storage, f"UPDATE schedules SET next_run_at = {now},"
                                   f" job = CASE name WHEN 'bad' THEN {sql_text(stored)}"
                                   " ELSE job END")
        caplog.clear()
        with caplog.at_level("INFO", logger="queuectl"):
            Housekeeping(queue.storage).run_due(SETTINGS, now)  # raises nothing
        assert queue.get(tick_job_id("good", now)).state is JobState.PENDING
        assert "housekeeping failed" not in caplog.text
        if next_run_at(queue, "bad") == now + BAD_TICK_RETRY:  # skipped
            [error] = errors_of(caplog)
            assert error.startswith(f"schedule bad: tick {format_timestamp(now)} skipped: ")
            assert "\n" not in error
        else:  # a template enqueue takes
            assert queue.get(tick_job_id("bad", now)).state is JobState.PENDING
            assert errors_of(caplog) == []

    tick_with()


def test_a_worker_runs_the_good_schedule_beside_a_malformed_one(
        cli: Cli, workers: WorkerPool, db_path: Path) -> None:
    """Through the real CLI: the malformed row's tick is logged and skipped; the good one's
    job runs; the worker never takes the bad row for a database outage."""
    cli("schedule", "add", "good", "--every", "1s", "-c", "true")
    cli("schedule", "add", "bad", "--every", "1s", "-c", "true")
    with Queue(db_path, environ={}) as queue:
        execute_raw(queue.storage, "UPDATE schedules SET job = '[\"true\"]' WHERE name = 'bad'")
    worker = workers.start(1)

    def good_job_completed() -> bool:
        with Queue(db_path, environ={}) as queue:
            return any(job.id.startswith("good@") and job.state is JobState.COMPLETED
                       for job in queue.jobs())

    wait_until(good_job_completed, timeout=30, interval=0.1, message="a good tick to run")
    wait_until(lambda: "schedule bad: tick " in worker.stderr(), timeout=30, interval=0.1,
               message="the bad tick to be skipped")
    log = worker.stderr()
    [skipped] = [line for line in log.splitlines() if "schedule bad:" in line]
    assert skipped.endswith(" skipped: its job template is not a JSON object: ['true']")
    assert "retrying in" not in log and "housekeeping failed" not in log  # no step failed
    with Queue(db_path, environ={}) as queue:
        assert not [job for job in queue.jobs() if job.id.startswith("bad@")]
    listed = {item["name"]: item for item in json.loads(cli("schedule", "list", "--json").stdout)}
    assert (listed["bad"]["last_run_at"], listed["bad"]["last_job_id"]) == (None, None)
    assert listed["good"]["last_job_id"].startswith("good@")
    rows = {line.split()[0]: line.split() for line in cli("schedule", "list").stdout.splitlines()}
    assert rows["NAME"][4:7] == ["LAST", "RUN", "LAST"]
    assert rows["bad"][4:6] == ["-", "-"]  # LAST RUN, LAST JOB: "every 1s", NEXT RUN before
    assert rows["good"][5] == listed["good"]["last_job_id"]


@pytest.mark.parametrize("others", [["good"], []], ids=["beside-a-good-one", "alone"])
def test_a_tick_stored_as_text_fails_only_its_own_tick(
        queue: Queue, clock: FakeClock, caplog: pytest.LogCaptureFixture,
        others: list[str]) -> None:
    """SQLite keeps text written by hand in next_run_at (a REAL column; PostgreSQL's double
    precision refuses it). Such a row is due at once: its tick is skipped with one error line
    and the row moved on to a real tick an hour later, from which it ticks as before; reading
    the due schedules never raises (it did when that row was the only one not yet due)."""
    queue.schedules.add("bad", {"command": "true"}, every="1m")
    for name in others:
        queue.schedules.add(name, {"command": "true"}, every="1m")
    execute_raw(queue.storage, "UPDATE schedules SET next_run_at = 'soon' WHERE name = 'bad'")
    due, _ = queue.storage.due_schedules(clock.now())  # raised when "bad" was alone
    assert [schedule.name for schedule in due] == ["bad"]
    housekeeping = Housekeeping(queue.storage)
    with caplog.at_level("INFO", logger="queuectl"):
        housekeeping.run_due(SETTINGS, clock.now())
    [error] = errors_of(caplog)
    assert error == ("schedule bad: tick invalid time ('soon') skipped: its next_run_at is not a"
                     " number")
    assert "housekeeping failed" not in caplog.text
    retry = next_run_at(queue, "bad")
    assert retry == clock.now() + BAD_TICK_RETRY
    first_tick = clock.now() + 60 if others else retry
    assert queue.storage.due_schedules(clock.now()) == ([], first_tick)

    clock.advance(61)
    caplog.clear()
    with caplog.at_level("INFO", logger="queuectl"):
        housekeeping.run_due(SETTINGS, clock.now())
    assert [job.id for job in queue.jobs()] == [f"{name}@20260101T000100Z" for name in others]
    assert errors_of(caplog) == []

    clock.advance(BAD_TICK_RETRY)  # the bad row's retry: a real tick now, and a good row
    with caplog.at_level("INFO", logger="queuectl"):
        housekeeping.run_due(SETTINGS, clock.now())
    assert tick_job_id("bad", retry) in [job.id for job in queue.jobs()]
    assert errors_of(caplog) == []


def _corrupt(where: str, change: str) -> None:
    """Edit the schedule "bad" by hand, as an old version or a person might have."""
    with Queue(where, environ={}) as queue:
        execute_raw(queue.storage, f"UPDATE schedules SET {change} WHERE name = 'bad'")


UNREADABLE = [  # a stored template that is no JSON object, and how it is shown
    pytest.param("'[1, 2]'", "[1, 2]", id="array"),
    pytest.param("""'"true"'""", "'true'", id="string"),
    pytest.param("'3'", "3", id="number"),
    pytest.param("'null'", "None", id="null"),
    pytest.param("""'{"command": "true"'""", """'{"command": "true"'""", id="not-json"),
]


@pytest.mark.parametrize(("stored", "shown"), UNREADABLE)
def test_schedule_list_shows_an_unreadable_template_marked(
        cli_on_each_backend: tuple[Cli, str], stored: str, shown: str) -> None:
    """Every schedule is listed, exit 0, no traceback: the unreadable template as it is
    stored, marked (the table), or as ``job: null`` with a ``job_error`` (JSON)."""
    cli, where = cli_on_each_backend
    cli("schedule", "add", "bad", "--every", "1m", "-c", "true")
    cli("schedule", "add", "good", "--every", "1m", "-c", "true")
    _corrupt(where, f"job = {stored}")

    listed = cli("schedule", "list")
    assert listed.stderr == ""
    rows = {line.split()[0]: line for line in listed.stdout.splitlines()[1:]}
    assert sorted(rows) == ["bad", "good"]
    assert rows["bad"].endswith(f"  (unreadable) {shown}")
    assert rows["good"].endswith("  true")

    as_list = cli("schedule", "list", "--json")
    assert as_list.stderr == ""
    by_name = {schedule["name"]: schedule for schedule in json.loads(as_list.stdout)}
    assert by_name["bad"]["job"] is None
    assert by_name["bad"]["job_error"] == f"its job template is not a JSON object: {shown}"
    assert by_name["good"]["job"]["command"] == "true" and "job_error" not in by_name["good"]


REFUSED_BY_IMPORT = [  # a change by hand, and why export refuses the row
    pytest.param("job = '[1, 2]'", "its job template is not a JSON object: [1, 2]", id="array"),
    pytest.param("""job = '{"command": "true"'""",
                 """its job template is not a JSON object: '{"command": "true"'""",
                 id="not-json"),
    pytest.param("""job = '{"command": "true", "max_retries": "x"}'""",
                 "max_retries: expected a whole number, got 'x'", id="max-retries-text"),
    pytest.param("every = -60", "every: ", id="every-negative"),
]


@pytest.mark.parametrize(("change", "cause"), REFUSED_BY_IMPORT)
def test_export_refuses_a_schedule_that_import_would_refuse(
        cli_on_each_backend: tuple[Cli, str], tmp_path: Path, change: str,
        cause: str) -> None:
    """One line naming the schedule, exit 1 and nothing on stdout: an export that cannot be
    imported back (import refuses the whole file for that line) is worse than none."""
    cli, where = cli_on_each_backend
    cli("schedule", "add", "bad", "--every", "1m", "-c", "true")
    cli("schedule", "add", "good", "--every", "1m", "-c", "true")
    _corrupt(where, change)

    refused = cli("export", check=1)
    assert refused.stdout == ""
    [line] = refused.stderr.splitlines()
    assert line.startswith(f"error: cannot export schedule 'bad': {cause}")
    assert line.endswith(" (fix its row or remove it with queuectl schedule remove)")

    cli("schedule", "remove", "bad")
    exported = tmp_path / "queue.jsonl"
    exported.write_text(cli("export").stdout)
    cli.env["QUEUECTL_DB"] = str(tmp_path / "copy.db")
    assert "1 schedule(s)" in cli("import", str(exported)).stdout


@pytest.mark.parametrize(("change", "shown"), [
    pytest.param("every = 'x'", "every 'x' (unreadable)", id="every-text"),
    pytest.param("next_run_at = 'soon'", "invalid time ('soon')", id="next-run-at-text"),
])
def test_schedule_list_shows_a_field_stored_as_text(cli: Cli, db_path: Path, change: str,
                                                    shown: str) -> None:
    """SQLite keeps text written by hand in a REAL column: the list shows it as it is, exit
    0, and lists the other schedules."""
    cli("schedule", "add", "bad", "--every", "1m", "-c", "true")
    cli("schedule", "add", "good", "--every", "1m", "-c", "true")
    _corrupt(str(db_path), change)
    listed = cli("schedule", "list")
    assert listed.stderr == ""
    rows = {line.split()[0]: line for line in listed.stdout.splitlines()[1:]}
    assert sorted(rows) == ["bad", "good"] and f"  {shown}  " in rows["bad"]


def _stored(where: str, name: str) -> Schedule:
    """The schedule's row as stored, every field."""
    with Queue(where, environ={}) as queue:
        found = queue.storage.get_schedule(name)
    assert found is not None
    return found


@pytest.mark.parametrize(("every", "shown"), [
    pytest.param("0", "0s", id="zero"), pytest.param("-60", "-60s", id="negative"),
])
def test_resuming_a_schedule_whose_interval_is_not_positive_is_refused(
        cli_on_each_backend: tuple[Cli, str], every: str, shown: str) -> None:
    """The tick after a paused one cannot be computed: one line, exit 2, and the row as it
    was (still paused, its next_run_at untouched), so nothing ticks at every look."""
    cli, where = cli_on_each_backend
    cli("schedule", "add", "bad", "--every", "1m", "-c", "true")
    cli("schedule", "pause", "bad")
    _corrupt(where, f"every = {every}")
    before = _stored(where, "bad")
    assert before.paused and before.every == float(every)

    refused = cli("schedule", "resume", "bad", check=2)
    assert refused.stdout == ""
    assert refused.stderr == f"error: every: must be positive; got {shown}\n"
    assert _stored(where, "bad") == before
    [listed] = json.loads(cli("schedule", "list", "--json").stdout)
    assert listed["paused"] is True


def test_schedule_list_shows_a_time_past_year_9999_whole(
        cli_on_each_backend: tuple[Cli, str]) -> None:
    """A time written by hand past year 9999 keeps every digit of its year (it was cut to 19
    characters: '+33658-09-27T01:46:Z')."""
    cli, where = cli_on_each_backend
    cli("schedule", "add", "bad", "--every", "1m", "-c", "true")
    _corrupt(where, "next_run_at = 1e12, last_run_at = -1e12")

    listed = cli("schedule", "list")
    assert listed.stderr == ""
    [row] = listed.stdout.splitlines()[1:]
    assert "  +33658-09-27T01:46:40Z  -29719-04-05T22:13:20Z  " in row
    [as_json] = json.loads(cli("schedule", "list", "--json").stdout)
    assert as_json["next_run_at"] == "+33658-09-27T01:46:40.000Z"
    assert as_json["last_run_at"] == "-29719-04-05T22:13:20.000Z"
