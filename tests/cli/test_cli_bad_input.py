"""Every bad input: the right exit code, one clear line on stderr, and the database unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.helpers import Cli, as_json, dump

from queuectl import Queue


@pytest.fixture
def seeded(db_path: Path) -> list[str]:
    """A database with a job and a stored setting; returns its dump."""
    with Queue(db_path, environ={}) as queue:
        queue.enqueue("echo hello", id="job1", max_retries=2)
        queue.config_set("backoff_base", "3")
    return dump(db_path)


def refused(cli: Cli, *args: str, code: int, input: str | None = None) -> str:
    """Run a command that must fail with ``code``; returns its one-line error."""
    result = cli(*args, check=code, input=input)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


JOB_INPUT_ERRORS = [
    # (arguments, a word the error must contain)
    (["enqueue", '{"id":"x","command":"true"'], "invalid JSON"),
    (["enqueue", "not json"], "invalid JSON"),
    (["enqueue", '["echo hi"]'], "object"),
    (["enqueue", '{"command":"true","colour":"red"}'], "colour"),
    (["enqueue", '{"command":"true","state":"completed"}'], "state"),
    (["enqueue", '{"id":"x"}'], "command"),
    (["enqueue", '{"command":42}'], "command"),
    (["enqueue", '{"command":""}'], "command"),
    (["enqueue", '{"command":"   "}'], "command"),
    (["enqueue", '{"command":"true","max_retries":"3"}'], "max_retries"),
    (["enqueue", '{"command":"true","max_retries":1.5}'], "max_retries"),
    (["enqueue", '{"command":"true","max_retries":true}'], "max_retries"),
    (["enqueue", '{"command":"true","max_retries":-1}'], "max_retries"),
    (["enqueue", '{"id":7,"command":"true"}'], "id"),
    (["enqueue", '{"id":"has space","command":"true"}'], "id"),
    (["enqueue", '{"id":"","command":"true"}'], "id"),
    (["enqueue", '{"command":"true","timeout":"soon"}'], "timeout"),
    (["enqueue", '{"command":"true","env":{"A":1}}'], "env"),
    (["enqueue", "--command", ""], "command"),
    (["enqueue", "--command", "true", "--max-retries", "-1"], "max_retries"),
    (["enqueue", "--command", "true", "--id", "bad/id"], "id"),
    (["enqueue", "--command", "true", "--timeout", "5 minutes"], "timeout"),
    (["enqueue", "--command", "true", "--env", "NOEQUALS"], "KEY=VALUE"),
]


@pytest.mark.parametrize(("args", "word"), JOB_INPUT_ERRORS,
                         ids=[" ".join(a[1:])[:40] for a, _ in JOB_INPUT_ERRORS])
def test_invalid_job_is_refused_with_exit_2(
    cli: Cli, db_path: Path, seeded: list[str], args: list[str], word: str
) -> None:
    error = refused(cli, *args, code=2)
    assert error.startswith("error: ") and word in error
    assert dump(db_path) == seeded


CONFIG_AND_QUERY_ERRORS = [
    (["config", "set", "colour", "red"], "unknown config key"),
    (["config", "get", "colour"], "unknown config key"),
    (["config", "set", "lease_duration", "10x"], "lease_duration"),
    (["config", "set", "lease_duration", "0.5s"], "lease_duration"),
    (["config", "set", "backoff_max", "-5s"], "backoff_max"),
    (["config", "set", "max_retries", "-1"], "max_retries"),
    (["config", "set", "max-retries", "three"], "max_retries"),
    (["config", "set", "backoff_base", "abc"], "backoff_base"),
    (["config", "set", "backoff_base", "0.5"], "backoff_base"),
    (["config", "set", "poll_interval", "0"], "poll_interval"),
    (["config", "set", "output_limit", "lots"], "output_limit"),
    (["config", "set", "durability", "maybe"], "durability"),
    (["list", "--limit", "0"], "limit"),
    (["worker", "stop", "--timeout", "soon"], "--timeout"),
]


@pytest.mark.parametrize(("args", "word"), CONFIG_AND_QUERY_ERRORS,
                         ids=[" ".join(a)[:40] for a, _ in CONFIG_AND_QUERY_ERRORS])
def test_invalid_setting_or_option_is_refused_with_exit_2(
    cli: Cli, db_path: Path, seeded: list[str], args: list[str], word: str
) -> None:
    error = refused(cli, *args, code=2)
    assert error.startswith("error: ") and word in error
    assert dump(db_path) == seeded
    assert cli("config", "get", "backoff_base").stdout.strip() == "3"


def test_unknown_state_lists_the_valid_ones(cli: Cli, db_path: Path, seeded: list[str]) -> None:
    error = refused(cli, "list", "--state", "finished", code=2)
    assert "finished" in error
    for state in ("pending", "processing", "completed", "failed", "dead", "canceled"):
        assert state in error
    assert dump(db_path) == seeded


def test_duplicate_id_is_exit_1_and_keeps_the_existing_job(
    cli: Cli, db_path: Path, seeded: list[str]
) -> None:
    error = refused(cli, "enqueue", '{"id":"job1","command":"rm -rf /tmp/nothing"}', code=1)
    assert "job1" in error and "already exists" in error
    error = refused(cli, "enqueue", "--command", "other", "--id", "job1", code=1)
    assert "job1" in error
    assert dump(db_path) == seeded
    assert as_json(cli("show", "job1", "--json"))["command"] == "echo hello"


def test_a_bad_line_in_a_file_writes_none_of_its_jobs(
    cli: Cli, db_path: Path, seeded: list[str], tmp_path: Path
) -> None:
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text('{"id":"f1","command":"true"}\n\n{"id":"f2","command":"true"}\n'
                    '{"id":"f3","command":"true","max_retries":-2}\n{"id":"f4","command":"true"}\n')
    error = refused(cli, "enqueue", "--file", str(jobs), code=2)
    assert "line 4" in error and "max_retries" in error

    error = refused(cli, "enqueue", "--file", "-", code=2,
                    input='{"id":"f1","command":"true"}\n{"id":"f2",\n')
    assert "line 2" in error and "invalid JSON" in error

    refused(cli, "enqueue", "--file", "-", code=2, input="\n\n")  # no jobs at all
    assert dump(db_path) == seeded


def test_a_duplicate_id_in_a_file_writes_none_of_its_jobs(
    cli: Cli, db_path: Path, seeded: list[str]
) -> None:
    clash_with_stored = '{"id":"new1","command":"true"}\n{"id":"job1","command":"true"}\n'
    assert "job1" in refused(cli, "enqueue", "--file", "-", code=1, input=clash_with_stored)
    clash_within = '{"id":"twin","command":"true"}\n{"id":"twin","command":"false"}\n'
    assert "twin" in refused(cli, "enqueue", "--file", "-", code=1, input=clash_within)
    assert dump(db_path) == seeded


def test_missing_job_is_exit_1(cli: Cli, db_path: Path, seeded: list[str]) -> None:
    assert "nosuchjob" in refused(cli, "show", "nosuchjob", code=1)
    assert "nosuchjob" in refused(cli, "dlq", "retry", "nosuchjob", code=1)
    assert dump(db_path) == seeded


def test_retrying_a_job_that_is_not_dead_names_its_state(
    cli: Cli, db_path: Path, seeded: list[str]
) -> None:
    error = refused(cli, "dlq", "retry", "job1", code=1)
    assert "pending" in error
    assert dump(db_path) == seeded


USAGE_ERRORS = [
    ["enqueue"],
    ["enqueue", '{"command":"true"}', "--command", "true"],
    ["enqueue", '{"command":"true"}', "--id", "x"],
    ["enqueue", "--command", "true", "--max-retries", "many"],
    ["enqueue", "--file", "no-such-file.jsonl"],
    ["dlq", "retry"],
    ["dlq", "retry", "job1", "--all"],
    ["worker", "start", "--count", "0"],
    ["nosuchsubcommand"],
]


@pytest.mark.parametrize("args", USAGE_ERRORS, ids=[" ".join(a)[:40] for a in USAGE_ERRORS])
def test_usage_errors_are_exit_2(
    cli: Cli, db_path: Path, seeded: list[str], args: list[str]
) -> None:
    result = cli(*args, check=2)
    assert "Traceback" not in result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith("error: ")
    assert dump(db_path) == seeded


UNBOUNDED_VALUES = [
    # Each of these was committed, or gave a traceback, before values were bounded.
    ['{"command":"echo hi","timeout":"30d"}', "timeout"],
    ['{"command":"echo hi","timeout":1e300}', "timeout"],
    ['{"command":"echo hi","timeout":Infinity}', "timeout"],
    ['{"command":"echo hi","timeout":NaN}', "timeout"],
    ['{"command":"echo hi","timeout":"99999999999999d"}', "timeout"],
    ['{"command":"x","cwd":"/tmp/a\\u0000b"}', "cwd"],
    ['{"command":"x","env":{"A":"b\\u0000"}}', "env"],
    ['{"command":"x","env":{"A":"\\ud800"}}', "env"],
    ['{"command":"x","max_retries":9223372036854775808}', "max_retries"],
    ['{"command":"x","output_limit":9223372036854775808}', "output_limit"],
    ['{"command":"\\ud800"}', "command"],
    ['{"command":"x","unique_key":"\\ud800"}', "unique_key"],
    ['{"command":"x","cwd":"\\ud800"}', "cwd"],
    ['{"command":"x","tags":["\\udfff"]}', "tags"],
    ['{"command":"x","run_at":"9999-12-31T23:59:59-05:00"}', "run_at"],
    ['{"command":"x","id":"abc\\n"}', "id"],
    ['{"command":"x","max_retries":' + "1" * 5000 + "}", "invalid JSON"],
    ["[" * 50_000 + "]" * 50_000, "nested too deeply"],
]


@pytest.mark.parametrize(("job", "word"), UNBOUNDED_VALUES,
                         ids=[job[:40] for job, _ in UNBOUNDED_VALUES])
def test_a_value_past_its_bound_is_refused_with_one_line(
    cli: Cli, db_path: Path, seeded: list[str], job: str, word: str
) -> None:
    assert word in refused(cli, "enqueue", job, code=2)
    assert word in refused(cli, "enqueue", "--file", "-", input=f'{{"command":"a"}}\n{job}\n',
                           code=2)
    assert dump(db_path) == seeded
    assert "job1" in cli("list").stdout  # the queue still lists


INVALID_UTF8 = "\udcff"  # the byte 0xff on the command line (subprocess encodes it back)


@pytest.mark.parametrize("args", [
    ["enqueue", "--command", "echo " + INVALID_UTF8],
    ["enqueue", "--command=echo " + INVALID_UTF8],
    ["enqueue", "-c", "true", "--env", "A=" + INVALID_UTF8],
    ["enqueue", "-c", "true", "--cwd", "/tmp/" + INVALID_UTF8],
    ["enqueue", "-c", "true", "--tag", INVALID_UTF8],
    ["enqueue", '{"command":"echo ' + INVALID_UTF8 + '"}'],
], ids=lambda args: " ".join(args[1:3]))
def test_invalid_utf8_on_the_command_line_is_refused(
    cli: Cli, db_path: Path, seeded: list[str], args: list[str]
) -> None:
    assert "UTF-8" in refused(cli, *args, code=2)
    assert "id:" in refused(cli, "enqueue", "-c", "true", "--id", "job" + INVALID_UTF8, code=2)
    assert dump(db_path) == seeded


@pytest.mark.parametrize(("path", "word"), [
    ("/proc/self/mem", "cannot read"),
    ("/dev/zero", "longer than"),
    ("/dev/urandom", "UTF-8"),
])
def test_a_special_file_is_refused_with_one_line(
    cli: Cli, db_path: Path, seeded: list[str], path: str, word: str
) -> None:
    assert word in refused(cli, "enqueue", "--file", path, code=2)
    assert word in refused(cli, "enqueue", "--file", path, "--json", code=2)  # through Click
    assert dump(db_path) == seeded


def test_a_setting_past_its_bound_is_refused(
    cli: Cli, db_path: Path, seeded: list[str]
) -> None:
    for key, value in [("job_timeout", "30d"), ("max_retries", str(2**63)),
                       ("output_limit", "1TiB"), ("kill_grace", "1e300")]:
        assert key in refused(cli, "config", "set", key, value, code=2)
    assert dump(db_path) == seeded


IMPORTED_OUT_OF_BOUNDS = [
    # (job field, stored value, a word of the error): what enqueue refuses, import refuses
    ("timeout", 1e300, "timeout"),
    ("cwd", "/tmp/a\0b", "cwd"),
    ("env", {"A": "\udcff"}, "env"),
    ("max_retries", 2**63, "max_retries"),
    ("attempts", -1, "attempts"),
    ("run_at", 253402318799.0, "run_at"),
    ("created_at", float("nan"), "created_at"),
    ("id", "job1\n", "id"),
    ("command", 7, "command"),
    ("queue", "q\n", "queue"),
    ("output_limit", 2**40, "output_limit"),
]


@pytest.mark.parametrize(("field", "value", "word"), IMPORTED_OUT_OF_BOUNDS,
                         ids=[f"{f}={v!r}"[:30] for f, v, _ in IMPORTED_OUT_OF_BOUNDS])
def test_an_import_holds_jobs_to_the_bounds_of_enqueue(
    cli: Cli, db_path: Path, seeded: list[str], tmp_path: Path, field: str, value: object,
    word: str
) -> None:
    import json

    lines = cli("export").stdout.splitlines()
    record = json.loads(lines[-2])  # the last job's (the end record follows)
    record["job"][field] = value
    lines[-2] = json.dumps(record)  # NaN and lone surrogates as Python's json writes them
    other = tmp_path / "other.db"
    cli("--db", str(other), "enqueue", '{"id":"there","command":"true"}')
    before = dump(other)
    error = refused(cli, "--db", str(other), "import", input="\n".join(lines) + "\n", code=2)
    assert error.startswith(f"error: line {len(lines) - 1}: job ") and word in error
    assert dump(other) == before


def test_an_import_of_a_special_file_or_deep_json_is_refused(
    cli: Cli, db_path: Path, seeded: list[str], tmp_path: Path
) -> None:
    assert "cannot read" in refused(cli, "import", "/proc/self/mem", code=2)
    assert "longer than" in refused(cli, "import", "/dev/zero", code=2)
    header = '{"kind": "queuectl-export", "version": 1}\n'
    deep = "[" * 50_000 + "]" * 50_000
    assert "line 2: invalid JSON: nested too deeply" in refused(
        cli, "import", "-", input=header + deep + "\n", code=2)
    assert dump(db_path) == seeded


@pytest.mark.parametrize("args", [
    ["show", "job" + INVALID_UTF8], ["logs", "job" + INVALID_UTF8],
    ["dlq", "retry", "job" + INVALID_UTF8], ["cancel", "job" + INVALID_UTF8],
    ["wait", "job" + INVALID_UTF8, "--timeout", "1"],
], ids=lambda args: args[0] if args[0] != "dlq" else "dlq retry")
def test_an_id_that_is_not_utf8_is_refused_where_jobs_are_looked_up(
    cli: Cli, db_path: Path, seeded: list[str], args: list[str]
) -> None:
    assert "id: 'job\\udcff' is not valid UTF-8" in refused(cli, *args, code=2)
    assert dump(db_path) == seeded


def test_a_schedule_every_past_its_bound_is_refused(
    cli: Cli, db_path: Path, seeded: list[str]
) -> None:
    error = refused(cli, "schedule", "add", "s1", "--every", "99999999999999d", "-c", "true",
                    code=2)
    assert "every: at least 1s and at most 100 years" in error
    assert dump(db_path) == seeded


def test_a_listing_limit_past_its_bound_is_refused(
    cli: Cli, db_path: Path, seeded: list[str]
) -> None:
    for args in (["list", "--limit", str(2**64)], ["dlq", "list", "--limit", str(2**64)]):
        assert "limit: must be between 1 and" in refused(cli, *args, code=2)
