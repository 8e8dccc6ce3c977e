"""Job rows edited by hand into values queuectl never writes (an env or a list that is not
JSON, a state it does not know, bytes in a text column, an infinite time), through the real
CLI, a real worker and a real dashboard.

A worker buries such a job dead in its claim, naming the field, and runs the others: the
claim used to raise while decoding the row, roll back and try again forever. ``list``,
``show`` and the dashboard show what can be read, marked; ``export`` refuses in one line.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from markupsafe import escape
from tests.helpers import Cli, as_json
from tests.postgres.support import private_schema
from tests.storage.conftest import execute_raw
from tests.web.conftest import dashboard_pages

from queuectl import Queue

POSTGRES = pytest.mark.postgres


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=POSTGRES)])
def store(request: pytest.FixtureRequest, cli: Cli, db_path: Path) -> Iterator[str]:
    """Where the CLI's store is: the test's SQLite file, or a PostgreSQL schema of its own."""
    with ExitStack() as stack:
        if request.param == "postgres":
            cli.env["QUEUECTL_DB"] = stack.enter_context(private_schema())
        yield cli.env["QUEUECTL_DB"] if request.param == "postgres" else str(db_path)


def _edit(where: str, statement: str) -> None:
    with Queue(where, environ={}) as queue:
        execute_raw(queue.storage, statement)


def _job(cli: Cli, job_id: str) -> dict[str, Any]:
    shown = json.loads(cli("show", "--json", job_id).stdout)
    assert isinstance(shown, dict)
    return shown


# What each database can hold: PostgreSQL keeps env as text, its lists as typed arrays.
EVERYWHERE = [
    pytest.param("env = '{bad'", "env is not JSON: '{bad'", id="env-not-json"),
    pytest.param("env = '[1, 2]'", "env is not a JSON object: '[1, 2]'", id="env-a-list"),
]
SQLITE_ONLY = [
    pytest.param("tags = 'notjson'", "tags is not a JSON list: 'notjson'", id="tags"),
    pytest.param("depends_on = '[x'", "depends_on is not a JSON list: '[x'", id="depends_on"),
    pytest.param("fatal_exit_codes = '7'", "fatal_exit_codes is not a JSON list: '7'",
                 id="fatal_exit_codes"),
    # Nested past the JSON parser's recursion limit (PostgreSQL's jsonb refuses it: 6400).
    pytest.param("env = printf('%.*c', 100000, '[')", "env is not JSON: '" + "[" * 56 + "...",
                 id="env-too-deep"),
]


@pytest.mark.parametrize(("change", "problem"), EVERYWHERE)
def test_a_job_whose_row_cannot_be_read_dies_alone(cli: Cli, store: str, change: str,
                                                   problem: str) -> None:
    _claim_past_an_unreadable_row(cli, store, change, problem)


@pytest.mark.parametrize(("change", "problem"), SQLITE_ONLY)
def test_a_list_that_is_not_json_dies_alone(cli: Cli, db_path: Path, change: str,
                                            problem: str) -> None:
    _claim_past_an_unreadable_row(cli, str(db_path), change, problem)


def _claim_past_an_unreadable_row(cli: Cli, where: str, change: str, problem: str) -> None:
    """The unreadable job is the first a one-slot worker claims: it ends dead with one line
    naming the field, and the worker runs the others and stops (``--burst``) on its own."""
    cli("enqueue", "-c", "echo bad", "--id", "bad", "--priority", "5")
    cli("enqueue", "-c", "echo one", "--id", "one")
    cli("enqueue", "-c", "echo two", "--id", "two")
    _edit(where, f"UPDATE jobs SET {change} WHERE id = 'bad'")
    worker = cli("worker", "start", "--burst", "--count", "1", timeout=60)
    assert "retrying in" not in worker.stderr  # no step failed, for any reason
    assert f"job bad dead (unreadable row: {problem})" in worker.stderr

    bad = _job(cli, "bad")
    assert (bad["state"], bad["last_error"]) == ("dead", f"unreadable row: {problem}")
    assert bad["unreadable"] == problem
    [attempt] = bad["attempts_history"]
    assert attempt["error"] == f"unreadable row: {problem}" and attempt["finished_at"]
    for good in ("one", "two"):
        assert _job(cli, good)["state"] == "completed"
    dead = cli("dlq", "list").stdout
    assert "bad" in dead


def test_a_queue_with_a_limit_claims_past_an_unreadable_row(cli: Cli, store: str) -> None:
    """A limited queue's jobs are claimed one per statement, its queue locked: the same."""
    cli("queue", "limit", "video", "1")
    cli("enqueue", "-c", "echo bad", "--id", "bad", "--priority", "5", "--queue", "video")
    cli("enqueue", "-c", "echo one", "--id", "one", "--queue", "video")
    cli("enqueue", "-c", "echo two", "--id", "two")
    _edit(store, "UPDATE jobs SET env = '{bad' WHERE id = 'bad'")
    worker = cli("worker", "start", "--burst", "--count", "2", timeout=60)
    assert "retrying in" not in worker.stderr  # no step failed, for any reason
    assert _job(cli, "bad")["last_error"] == "unreadable row: env is not JSON: '{bad'"
    assert [_job(cli, name)["state"] for name in ("bad", "one", "two")] == [
        "dead", "completed", "completed"]


def test_a_text_column_holding_bytes_fails_its_own_attempts(cli: Cli, db_path: Path) -> None:
    """Bytes in the command (SQLite, by hand) do not stop the claim: the job fails each run
    it is given ("cannot start") and the others run."""
    cli("enqueue", "-c", "echo bad", "--id", "bad", "--priority", "5", "--max-retries", "0")
    cli("enqueue", "-c", "echo good", "--id", "good")
    _edit(str(db_path), "UPDATE jobs SET command = CAST('echo hi' AS BLOB) WHERE id = 'bad'")
    worker = cli("worker", "start", "--burst", "--count", "1", timeout=60)
    assert "retrying in" not in worker.stderr  # no step failed, for any reason
    bad = _job(cli, "bad")
    assert bad["state"] == "dead" and str(bad["last_error"]).startswith("cannot start:")
    assert bad["command"] == "(unreadable) b'echo hi'"
    assert _job(cli, "good")["state"] == "completed"


def test_a_lost_run_whose_worker_id_holds_bytes_is_rescued(cli: Cli, db_path: Path) -> None:
    """Looking for the processes of a run whose holder is bytes (SQLite, by hand) raised: a
    worker starting up ended on it with a traceback, and ran nothing."""
    cli("enqueue", "-c", "exit 3", "--id", "lost", "--max-retries", "0")
    cli("enqueue", "-c", "echo good", "--id", "good")
    _edit(str(db_path), "UPDATE jobs SET state = 'processing', runs = 1, attempts = 1,"
          " worker_id = CAST('w-gone' AS BLOB), lease_until = 1 WHERE id = 'lost'")
    worker = cli("worker", "start", "--burst", "--count", "1", timeout=60)
    assert "Traceback" not in worker.stderr and "retrying in" not in worker.stderr
    assert "rescued job lost (run 1) of a lost worker: now dead" in worker.stderr
    assert (_job(cli, "lost")["last_error"], _job(cli, "good")["state"]) == (
        "worker lost", "completed")


def test_a_run_at_that_is_text_is_never_due_and_fails_no_step(cli: Cli, db_path: Path) -> None:
    """Text sorts after every number in SQLite: the earliest run_at a worker reads to know
    when to wake was 'x', and float() of it failed each of its steps as a database error."""
    cli("enqueue", "-c", "echo bad", "--id", "bad")
    cli("enqueue", "-c", "echo good", "--id", "good")
    _edit(str(db_path), "UPDATE jobs SET run_at = 'x' WHERE id = 'bad'")
    worker = cli("worker", "start", "--burst", "--count", "1", timeout=60)
    assert "retrying in" not in worker.stderr  # no step failed, for any reason
    assert [_job(cli, name)["state"] for name in ("bad", "good")] == ["pending", "completed"]
    assert _job(cli, "bad")["unreadable"] == "run_at is not a number: 'x'"


@pytest.mark.parametrize(("where", "change", "problem"), [
    pytest.param("sqlite", "max_retries = 'x'", "max_retries is not a whole number: 'x'",
                 id="sqlite-max_retries"),
    pytest.param("sqlite", "jitter = 'x'", "jitter is not a number: 'x'", id="sqlite-jitter"),
    pytest.param("postgres", "backoff_base = 'NaN'",
                 "no retry time (backoff_base: expected a number, got nan)",
                 id="postgres-backoff-nan", marks=POSTGRES),
    # A retry time of +-inf (or NaN, inf * 0) could not be compared with another.
    pytest.param("sqlite", "jitter = 9e999", "no retry time (jitter: expected a number, got"
                 " inf)", id="sqlite-jitter-inf"),
    pytest.param("postgres", "jitter = '-Infinity'", "no retry time (jitter: expected a"
                 " number, got -inf)", id="postgres-jitter-inf", marks=POSTGRES),
    # Numbers past enqueue's bounds: a retry before now (jitter 5), or none (log of 0).
    pytest.param("sqlite", "jitter = 5", "no retry time (jitter: must be between 0 and 1, got"
                 " 5)", id="sqlite-jitter-5"),
    pytest.param("sqlite", "backoff_max = 0", "no retry time (backoff_max: must be more than"
                 " zero, got 0)", id="sqlite-cap-0"),
    # Retried for ever: at once (base ** -2**63 is 0 s), or each hour past enqueue's bound.
    pytest.param("sqlite", "attempts = -9223372036854775808", "no retry time (attempts: must"
                 " be a whole number, at least 1 after a run, got -9223372036854775807)",
                 id="sqlite-attempts-min"),
    pytest.param("postgres", "attempts = -2147483648", "no retry time (attempts: must be a"
                 " whole number, at least 1 after a run, got -2147483647)",
                 id="postgres-attempts-min", marks=POSTGRES),
    pytest.param("sqlite", "max_retries = 9e999", "no retry time (max_retries: expected a"
                 " whole number, got inf)", id="sqlite-max_retries-inf"),
])
def test_a_retry_setting_enqueue_would_refuse_ends_its_job_dead(
        cli: Cli, db_path: Path, where: str, change: str, problem: str) -> None:
    """The retry of a failed run cannot be worked out: the job ends dead, saying why, rather
    than its result being lost (the job left processing) or retried at no time ever."""
    with ExitStack() as stack:
        url = str(db_path)
        if where == "postgres":
            url = cli.env["QUEUECTL_DB"] = stack.enter_context(private_schema())
        cli("enqueue", "-c", "exit 3", "--id", "bad", "--priority", "5")
        cli("enqueue", "-c", "echo good", "--id", "good")
        _edit(url, f"UPDATE jobs SET {change} WHERE id = 'bad'")
        worker = cli("worker", "start", "--burst", "--count", "1", timeout=60)
        assert "retrying in" not in worker.stderr  # no step failed, for any reason
        bad = _job(cli, "bad")
        assert (bad["state"], bad["last_error"]) == (
            "dead", f"exit code 3; unreadable row: {problem}")
        assert _job(cli, "good")["state"] == "completed"


@pytest.mark.parametrize(("change", "problem"), [
    # The output kept was cut with it: "slice indices must be integers" (failed in the worker).
    pytest.param("output_limit = 'x'", "output_limit is not a whole number: 'x'",
                 id="output_limit-text"),
    pytest.param("output_limit = 1.5", "output_limit is not a whole number: 1.5",
                 id="output_limit-float"),
    pytest.param("timeout = 'x'", "timeout is not a number: 'x'", id="timeout-text"),
    # QUEUECTL_ATTEMPT=%d of it: OverflowError. (A worker_id: the attempt the trigger adds.)
    pytest.param("runs = 9e999, worker_id = 'w'", "runs is not a whole number: inf",
                 id="runs-inf"),
    pytest.param("runs = -9e999", "runs is not a whole number: -inf", id="runs-minus-inf"),
])
def test_a_value_a_start_uses_fails_the_run_naming_the_field(
        cli: Cli, db_path: Path, change: str, problem: str) -> None:
    """Text or a float where a start needs a number (SQLite, by hand) fails the run in one
    line naming the field, not with a Python error (TypeError, OverflowError)."""
    cli("enqueue", "-c", "echo bad", "--id", "bad", "--priority", "5", "--max-retries", "0")
    cli("enqueue", "-c", "echo good", "--id", "good")
    _edit(str(db_path), f"UPDATE jobs SET {change} WHERE id = 'bad'")
    worker = cli("worker", "start", "--burst", "--count", "1", timeout=60)
    assert "Error" not in worker.stderr, worker.stderr
    error = f"cannot start: unreadable row: {problem}"
    assert f"job bad dead ({error})" in worker.stderr
    assert (_job(cli, "bad")["last_error"], _job(cli, "good")["state"]) == (error, "completed")


# Rows a person might leave behind, for the readers; each the job's only change.
READERS = {
    "state": ("state = 'bogus'", "state 'bogus' is no state of a job"),
    "env": ("env = '{bad'", "env is not JSON: '{bad'"),
    "tags": ("tags = 'notjson'", "tags is not a JSON list: 'notjson'"),
    "blob": ("command = CAST('echo hi' AS BLOB)", "command is not text: b'echo hi'"),
    "maxr": ("max_retries = 'x'", "max_retries is not a whole number: 'x'"),
    "hook": ("hook_result = '{bad'", "hook_result is not a JSON object: '{bad'"),
    "hookblob": ("hook_result = x'41'", "hook_result is not text: b'A'"),
    "runat": ("run_at = 9e999", None),
    "timeout": ("timeout = -9e999", None),
    "negative": ("timeout = -5", None),
}


@pytest.fixture
def edited(cli: Cli, db_path: Path) -> Cli:
    """A job per row of ``READERS``, edited so, and a job left as queuectl wrote it."""
    cli("enqueue", "--file", "-", input="".join(
        f'{{"id": "{name}", "command": "echo {name}"}}\n' for name in [*READERS, "plain"]))
    for name, (change, _) in READERS.items():
        _edit(str(db_path), f"UPDATE jobs SET {change} WHERE id = '{name}'")
    return cli


def test_list_shows_what_it_can_read_and_why_not_the_rest(edited: Cli) -> None:
    listed = edited("list")
    assert listed.stderr == ""
    rows = {line.split()[0]: line for line in listed.stdout.splitlines()[1:]}
    assert set(rows) == {*READERS, "plain"}
    assert re.match(r"state\s+bogus\s+0/3\s+echo state\s.*unreadable row: state 'bogus'",
                    rows["state"])
    assert "unreadable row: env is not JSON" in rows["env"]
    assert "unreadable row: tags is not a J" in rows["tags"]
    assert "(unreadable) b'echo hi'" in rows["blob"]
    assert "invalid time (inf)" in rows["runat"]
    assert "unreadable" not in rows["plain"]

    jobs = {job["id"]: job for job in json.loads(edited("list", "--json").stdout)}
    for name, (_, problem) in READERS.items():
        assert jobs[name].get("unreadable") == problem, name
    assert jobs["state"]["state"] == "bogus" and jobs["env"]["env"] is None
    assert jobs["blob"]["command"] == "(unreadable) b'echo hi'"
    assert jobs["timeout"]["timeout"] == "(unreadable) -inf"  # strict JSON: no -Infinity
    assert "unreadable" not in jobs["plain"]


@pytest.mark.parametrize("name", READERS)
def test_show_shows_what_it_can_read_and_why_not_the_rest(edited: Cli, name: str) -> None:
    shown = edited("show", name)
    assert shown.stderr == ""
    problem = READERS[name][1]
    if problem is not None:
        assert f"\nunreadable:  {problem}\n" in shown.stdout
    assert _job(edited, name)["id"] == name


@pytest.mark.parametrize("name", ["timeout", "negative"])
def test_a_timeout_no_run_can_have_shows_as_none(edited: Cli, name: str) -> None:
    """Not '-infs' or '-5s', which read as a setting."""
    assert "\ntimeout:     -\n" in edited("show", name).stdout


def test_status_counts_a_state_it_does_not_know_in_none(edited: Cli) -> None:
    """The counts read the states as stored: one that is none used to fail them (and with
    them every page of the dashboard)."""
    counts = json.loads(edited("status", "--json").stdout)["jobs"]
    assert counts["pending"] == len(READERS) and "bogus" not in counts


def test_wait_refuses_a_state_it_does_not_know_at_once(edited: Cli) -> None:
    """No worker moves a job out of a state it does not know: waiting for it used to last
    until the timeout (or for ever without one)."""
    started = time.monotonic()
    result = edited("wait", "plain", "state", "--timeout", "20s", check=1)
    assert time.monotonic() - started < 10
    assert (result.stdout, result.stderr) == ("", (
        "error: cannot wait for job 'state': its state 'bogus' is no state of a job, so it"
        " never finishes (fix its row or remove it with queuectl remove state)\n"))


def test_export_refuses_an_unreadable_row_in_one_line(edited: Cli) -> None:
    """Exported as read (an env dropped, a list emptied), the job would come back changed."""
    result = edited("export", check=1)
    assert result.stderr == (
        "error: cannot export job 'state': unreadable row: state 'bogus' is no state of a job"
        " (fix its row or remove it with queuectl remove state)\n")


def test_the_dashboard_shows_unreadable_rows(edited: Cli) -> None:
    read = dashboard_pages(edited, "jobs", "api/jobs", "", *(f"jobs/{name}" for name in READERS))
    listing, api, overview = read["jobs"], read["api/jobs"], read[""]
    pages = {name: read[f"jobs/{name}"] for name in READERS}
    assert listing.status_code == 200 and overview.status_code == 200
    rows = {row.split('"')[0]: row.split("</tr>")[0]
            for row in listing.text.split('<tr data-job="')[1:]}
    assert set(rows) == {*READERS, "plain"}
    for name, (_, problem) in READERS.items():
        # Its Last error cell was empty: only show said why the row misread, or list did.
        if problem is not None:
            cell = escape(f"unreadable row: {problem}")
            assert f'<td class="error wide" title="{cell}">{cell}</td>' in rows[name], name
    assert '<td class="error wide" title=""></td>' in rows["plain"]
    for name, page in pages.items():
        assert page.status_code == 200, name
        problem = READERS[name][1]
        if problem is not None:
            assert f"<dd class=\"error\">{escape(problem)}</dd>" in page.text, name
    for name in ("timeout", "negative"):  # no span a run can have, not '0ms'
        assert "<dt>Timeout</dt><dd>-</dd>" in pages[name].text, name
        # The edit form offers none either ('-inf' or '-5' would be refused on saving).
        assert '<input type="text" name="timeout" value=""' in pages[name].text, name
    assert api.status_code == 200
    jobs = {job["id"]: job for job in api.json()}
    assert jobs["env"]["unreadable"] == "env is not JSON: '{bad'"
    assert jobs["blob"]["command"] == "(unreadable) b'echo hi'"


def test_a_worker_whose_heartbeat_is_text_reads_as_lost(cli: Cli, db_path: Path) -> None:
    """Judging a registration by a heartbeat edited into text (SQLite) raised TypeError:
    status, worker list and worker stop failed with a traceback."""
    cli("enqueue", "-c", "true")  # creates the database
    _edit(str(db_path), "INSERT INTO workers (id, host, pid, slots, started_at, heartbeat_at)"
          " VALUES ('w-edited', 'elsewhere', 1, 2, 1.0e9, 'x')")
    for args in (["status"], ["worker", "list"]):
        assert "w-edited" in cli(*args).stdout
    [worker] = json.loads(cli("worker", "list", "--json").stdout)
    assert (worker["state"], worker["heartbeat_at"]) == ("lost", "invalid time (nan)")
    assert cli("worker", "stop", timeout=30).stderr == ""


def test_a_worker_whose_heartbeat_is_infinite_reads_as_lost(cli: Cli, db_path: Path) -> None:
    """A heartbeat edited to 9e999 (inf) read as running, '0s ago', and worker stop waited a
    lease for it each time, since no housekeeping forgot it."""
    cli("enqueue", "-c", "true")  # creates the database
    _edit(str(db_path), "INSERT INTO workers (id, host, pid, slots, started_at, heartbeat_at)"
          " VALUES ('w-edited', 'elsewhere', 1, 2, 1.0e9, 9e999)")
    listed = cli("worker", "list").stdout
    assert "lost" in listed and "invalid time (inf)" in listed and "ago" not in listed
    [worker] = json.loads(cli("worker", "list", "--json").stdout)
    assert (worker["state"], worker["heartbeat_at"]) == ("lost", "invalid time (inf)")
    assert cli("worker", "stop", timeout=30).stderr == ""
    assert json.loads(cli("worker", "list", "--json").stdout) == []  # forgotten


@pytest.mark.parametrize("limit", [0, -1])
def test_a_burst_worker_ends_past_a_queue_limited_to_nothing(cli: Cli, store: str,
                                                           limit: int) -> None:
    """A limit of 0 or less (by hand) lets no job of its queue run, as a pause does: a
    burst worker waited for them for ever."""
    cli("queue", "limit", "video", "2")
    cli("enqueue", "-c", "echo held", "--id", "held", "--queue", "video")
    cli("enqueue", "-c", "echo good", "--id", "good")
    _edit(store, f"UPDATE queues SET max_running = {limit} WHERE name = 'video'")
    cli("worker", "start", "--burst", "--count", "1", timeout=60)
    assert [_job(cli, name)["state"] for name in ("held", "good")] == ["pending", "completed"]


def test_queue_list_shows_a_queue_name_that_is_no_text(cli: Cli, db_path: Path) -> None:
    """Bytes in a job's queue (SQLite, by hand) sorted among text names failed queue list (a
    traceback) and the dashboard's Queues page: the name is shown as such values are."""
    cli("add", "--id", "plain", "true")
    cli("add", "--id", "bytes", "--queue", "video", "true")
    _edit(str(db_path), "UPDATE jobs SET queue = CAST('video' AS BLOB) WHERE id = 'bytes'")
    listed = cli("queue", "list")
    assert listed.stderr == ""
    assert [line.split("  ")[0] for line in listed.stdout.splitlines()[1:]] == [
        "(unreadable) b'video'", "default"]
    assert [q["name"] for q in as_json(cli("queue", "list", "--json"))] == [
        "(unreadable) b'video'", "default"]


def test_a_setting_stored_by_hand_that_config_set_refuses(cli: Cli, db_path: Path) -> None:
    """config get and config list show it as stored, marked, and say why on stderr; worker
    stop stops a worker (it takes that setting at its default); only a new worker refuses.
    All refused to run, with that one line, until the row was fixed."""
    cli("config", "set", "max_retries", "5")
    cli("worker", "start", "--detach")
    _edit(str(db_path), "INSERT OR REPLACE INTO config VALUES ('lease_duration', 'soon')")
    why = ("lease_duration: expected a duration such as 30, 30s, 5m, 2h or 1d, got 'soon'")
    warning = f"warning: {why} (fix it with queuectl config set or unset)\n"
    got = cli("config", "get", "lease_duration")
    assert (got.stdout, got.stderr) == ("(unreadable) 'soon'\n", warning)
    assert cli("config", "get", "max_retries").stdout == "5\n"
    listed = cli("config", "list")
    assert listed.stderr == warning
    assert re.search(r"^lease_duration\s+\(unreadable\) 'soon'", listed.stdout, re.M)
    assert re.search(r"^max_retries\s+5\s", listed.stdout, re.M)
    assert as_json(cli("config", "list", "--json"))["lease_duration"] == "(unreadable) 'soon'"
    stopped = cli("worker", "stop", timeout=60)
    assert stopped.stdout == "Stopped 1 worker.\n"
    refused = cli("worker", "start", "--burst", check=2)
    assert refused.stderr == f"error: {why}\n"


def test_reads_that_use_a_setting_stored_by_hand_work_and_mark_it(
        cli: Cli, db_path: Path) -> None:
    """status, worker list and the dashboard read the lease (is a worker lost?): a lease
    that config set would refuse made each fail ('error: lease_duration: expected ...'), and
    the dashboard's pages answer 400. Now they judge by the default lease and say why on
    stderr, as config list does (on the dashboard's pages, in a notice); an enqueue of a job
    that takes max_retries still refuses (one that takes none of them, or gives its own:
    test_cli_refused_settings)."""
    cli("worker", "start", "--detach")
    bad = "('lease_duration', 'soon'), ('max_retries', 'many')"
    _edit(str(db_path), f"INSERT OR REPLACE INTO config VALUES {bad}")
    whys = ["max_retries: expected a whole number, got 'many'",
            "lease_duration: expected a duration such as 30, 30s, 5m, 2h or 1d, got 'soon'"]
    warnings = (f"warning: {whys[0]} (fix it with queuectl config set or unset)\n"
                f"warning: {whys[1]} (fix it with queuectl config set or unset);"
                " workers judged by the default lease, 30s\n")
    try:
        status = cli("status")
        assert status.stderr == warnings
        assert "Workers: 1" in status.stdout and " running " in status.stdout
        assert cli("status", "--json").stderr == warnings
        listed = cli("worker", "list", "--json")
        assert listed.stderr == warnings
        assert [worker["state"] for worker in json.loads(listed.stdout)] == ["running"]
        pages = dashboard_pages(cli, "", "workers", "api/status", "api/workers")
        for path, page in pages.items():
            assert page.status_code == 200, (path, page.text)
        for path in ("", "workers"):
            for why in whys:
                assert f"Warning: {escape(why)} (fix it" in pages[path].text, path
        assert [w["state"] for w in pages["api/workers"].json()] == ["running"]
        refused = cli("enqueue", "-c", "true", check=2)
        # The lease, which it does not read, is warned of first, as before any refusal
        # the job's parse makes (a max_retries refused only for a job that takes it).
        assert refused.stderr == (f"warning: {whys[1]} (fix it with queuectl config set or"
                                  f" unset)\nerror: {whys[0]}\n")
    finally:
        assert cli("worker", "stop", timeout=60).stdout == "Stopped 1 worker.\n"


def test_status_watch_shows_a_setting_stored_by_hand_under_its_title(db_path: Path) -> None:
    """Its frame read the workers with every setting strict: a refused one ended the view."""
    from queuectl.cli.watch import frame

    _edit(str(db_path), "INSERT OR REPLACE INTO config VALUES ('lease_duration', 'soon')")
    with Queue(db_path, environ={}) as queue:
        lines = frame(queue, 2.0, colour=False)
    assert lines[1] == ("warning: lease_duration: expected a duration such as 30, 30s, 5m, 2h"
                        " or 1d, got 'soon' (fix it with queuectl config set or unset);"
                        " workers judged by the default lease, 30s")
    assert lines[2] == "" and lines[3].startswith("Jobs  pending 0")


def test_a_run_no_live_worker_holds_is_rescued_whatever_its_lease(cli: Cli, store: str) -> None:
    """A job in processing edited by hand into no holder, or a lease NULL or in the year 9999
    held by a worker gone, waited for ever: the rescue looked only for expired leases, and
    the fence of its outcome never matched a NULL holder. A worker now rescues each (the
    retry policy applies, as to any lost run) and runs it again."""
    for name in ("no-holder", "no-lease", "far-lease"):
        cli("enqueue", "-c", f"echo {name}", "--id", name, "--max-retries", "1")
    _edit(store, "UPDATE jobs SET state = 'processing', runs = 1, attempts = 1,"
                 " worker_id = 'w-gone', lease_until = NULL")
    _edit(store, "UPDATE jobs SET worker_id = NULL, lease_until = 1 WHERE id = 'no-holder'")
    _edit(store, "UPDATE jobs SET lease_until = 253402300799 WHERE id = 'far-lease'")
    worker = cli("worker", "start", "--burst", "--count", "3", timeout=60)
    assert "Traceback" not in worker.stderr and "retrying in" not in worker.stderr
    for name in ("no-holder", "no-lease", "far-lease"):
        assert f"rescued job {name} (run 1) of a lost worker: now failed" in worker.stderr
        shown = _job(cli, name)
        assert (shown["state"], shown["attempts"]) == ("completed", 2), shown


def test_a_job_waiting_in_vain_on_dependencies_ends_dead_and_runs_once_retried(
        cli: Cli, store: str) -> None:
    """A pending job whose waiting_on counts dependencies it does not have (edited by hand,
    or a dependency's rows deleted) waited for ever, and a --burst worker ended at once
    without a word. A worker starting ends it dead in one line; dlq retry runs it."""
    cli("enqueue", "-c", "echo waited", "--id", "waiting")
    _edit(store, "UPDATE jobs SET waiting_on = 2 WHERE id = 'waiting'")
    worker = cli("worker", "start", "--burst", "--count", "1", timeout=60)
    error = ("waiting_on 2, but dependencies not completed: 0 (a dependency was removed"
             " before it completed, or a hand edit)")
    assert f"job waiting dead ({error})" in worker.stderr
    assert (_job(cli, "waiting")["state"], _job(cli, "waiting")["last_error"]) == (
        "dead", error)
    cli("dlq", "retry", "waiting")
    cli("worker", "start", "--burst", "--count", "1", timeout=60)
    assert _job(cli, "waiting")["state"] == "completed"
