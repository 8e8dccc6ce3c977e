"""Every value of a job is bounded before it is stored (jobspec.limits): each case below
was stored before (or raised something other than InvalidInput) and jammed a worker, broke
``list`` for the whole queue, or gave a traceback."""

from __future__ import annotations

import io
import math
from datetime import datetime, timezone
from typing import Any

import pytest

from queuectl import config
from queuectl.errors import InvalidInput
from queuectl.jobspec import limits
from queuectl.jobspec.parse import load_json, parse_job_lines, parse_job_spec, read_lines
from queuectl.units import format_timestamp, parse_duration

SETTINGS = config.Settings()
SURROGATE = "\udcff"  # what Python makes of the byte 0xff in argv or a file name

REFUSED: list[tuple[dict[str, Any], str]] = [
    # durations: finite, more than zero, at most 24 days for a timeout
    ({"timeout": "30d"}, "timeout: at most 24 days"),
    ({"timeout": 1e300}, "timeout: at most 24 days"),
    ({"timeout": math.inf}, "timeout: at most 24 days"),
    ({"timeout": math.nan}, "timeout: expected a duration"),
    ({"timeout": "99999999999999d"}, "timeout: at most 24 days"),
    ({"timeout": 10**400}, "timeout: at most 24 days"),
    ({"timeout": 24 * 86400 + 0.001}, "timeout: at most 24 days"),
    ({"delay": "36501d"}, "delay: at most 100 years"),
    ({"backoff_max": math.inf}, "backoff_max: at most 100 years"),
    ({"backoff_base": math.nan}, "backoff_base: expected a number"),
    ({"jitter": math.inf}, "jitter: expected a number"),
    # integers that fit their columns
    ({"max_retries": 2**63}, "max_retries: must be between 0 and 1000000000"),
    ({"max_retries": limits.MAX_RETRIES + 1}, "max_retries: must be between"),
    ({"output_limit": 2**63}, "output_limit: at most 256MiB"),
    ({"output_limit": "1" * 30}, "output_limit: too large"),
    ({"priority": 2**31}, "priority: must be between"),
    ({"priority": -(2**31) - 1}, "priority: must be between"),
    # times within years 1-9999 in UTC, whatever the offset
    ({"run_at": "9999-12-31T23:59:59-05:00"}, "run_at: .* is outside years 1-9999"),
    ({"run_at": "0001-01-01T00:00:00+05:00"}, "run_at: .* is outside years 1-9999"),
    # strings that reach the OS: no NUL, valid UTF-8, no longer than exec takes
    ({"command": "echo " + SURROGATE}, "command: .* is not valid UTF-8"),
    ({"command": "x" * (128 * 1024)}, "command: too long"),
    ({"cwd": "/tmp/a\0b"}, "cwd: must not contain a NUL"),
    ({"cwd": "/tmp/" + SURROGATE}, "cwd: .* is not valid UTF-8"),
    ({"cwd": "/" + "d" * 5000}, "cwd: too long"),
    ({"env": {"A": "b\0c"}}, "env: value of A must not contain a NUL"),
    ({"env": {"A": SURROGATE}}, "env: value of A: .* is not valid UTF-8"),
    # env names: portable ones only, which every sh passes on to the command
    ({"env": {SURROGATE: "1"}}, "env: .* is not a variable name"),
    ({"env": {"A\0": "1"}}, "env: .* is not a variable name"),
    ({"env": {"BAD NAME": "1"}}, "env: 'BAD NAME' is not a variable name"),
    ({"env": {"A=B": "1"}}, "env: 'A=B' is not a variable name"),
    ({"env": {"": "1"}}, "env: '' is not a variable name"),
    ({"env": {"1A": "1"}}, "env: '1A' is not a variable name"),
    ({"env": {"a.b": "1"}}, "env: 'a.b' is not a variable name"),
    ({"env": {"a-b": "1"}}, "env: 'a-b' is not a variable name"),
    ({"env": {"É": "1"}}, "env: 'É' is not a variable name"),
    ({"env": {"A\n": "1"}}, "env: 'A\\\\n' is not a variable name"),
    ({"env": {"BASH_FUNC_f%%": "() { :; }"}}, "env: .* is not a variable name"),
    ({"env": {"A": "v" * (128 * 1024)}}, "env: A is too long"),
    ({"env": {f"V{i}": "v" * 100_000 for i in range(11)}}, "env: too large"),
    ({"env": {f"V{i}": "" for i in range(1001)}}, "env: at most 1000 variables"),
    ({"unique_key": "k" + SURROGATE}, "unique_key: .* is not valid UTF-8"),
    ({"unique_key": "k\0"}, "unique_key: must not contain a NUL"),
    ({"tags": ["t" + SURROGATE]}, "tags: .* is not valid UTF-8"),
    ({"tags": ["t\0"]}, "tags: .* is not a tag"),
    # names: a trailing newline is not part of a name
    ({"id": "job1\n"}, "id: 'job1\\\\n' must be"),
    ({"id": "job" + SURROGATE}, "id: .* must be"),
    ({"id": "jöb"}, "id: .* must be"),
    ({"queue": "q\n"}, "queue: 'q\\\\n' must be"),
    ({"depends_on": ["job1\n"]}, "depends_on: 'job1\\\\n' is not a job id"),
    ({"depends_on": ["job" + SURROGATE]}, "depends_on: .* is not a job id"),
]


@pytest.mark.parametrize(("fields", "message"), REFUSED,
                         ids=[repr(f)[:50] for f, _ in REFUSED])
def test_a_value_past_its_bound_is_refused_naming_the_field(
        fields: dict[str, Any], message: str) -> None:
    spec = {"command": "true", **fields}
    with pytest.raises(InvalidInput, match=message) as refusal:
        parse_job_spec(spec, SETTINGS, cwd="/tmp")
    assert "\n" not in str(refusal.value) and len(str(refusal.value)) < 200


ACCEPTED: list[tuple[dict[str, Any], str, Any]] = [
    ({"timeout": "24d"}, "timeout", 24 * 86400.0),
    ({"timeout": 0.001}, "timeout", 0.001),
    ({"delay": "36500d"}, "delay", 36500 * 86400.0),
    ({"delay": 0}, "delay", 0.0),
    ({"max_retries": limits.MAX_RETRIES}, "max_retries", limits.MAX_RETRIES),
    ({"output_limit": "256MiB"}, "output_limit", 256 * 1024 * 1024),
    ({"priority": -(2**31)}, "priority", -(2**31)),
    ({"run_at": "9999-12-31T23:59:59Z"}, "run_at", 253402300799.0),
    ({"run_at": "9999-12-31T18:59:59-05:00"}, "run_at", 253402300799.0),
    ({"command": "echo ünïcödé ✓"}, "command", "echo ünïcödé ✓"),
    ({"command": "x" * (128 * 1024 - 1)}, "command", "x" * (128 * 1024 - 1)),
    ({"env": {"_a9": "ü", "Z": ""}}, "env", {"_a9": "ü", "Z": ""}),
    ({"tags": ["naïve"]}, "tags", ("naïve",)),
    ({"id": "a" * 128}, "id", "a" * 128),
]


@pytest.mark.parametrize(("fields", "name", "value"), ACCEPTED,
                         ids=[repr(f)[:50] for f, _, _ in ACCEPTED])
def test_a_value_at_its_bound_is_kept(fields: dict[str, Any], name: str, value: Any) -> None:
    job = parse_job_spec({"command": "true", **fields}, SETTINGS, cwd="/tmp")
    assert getattr(job, name) == value


def test_json_nested_too_deeply_is_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="nested too deeply"):
        load_json("[" * 50_000 + "]" * 50_000)
    with pytest.raises(InvalidInput, match="line 2: invalid JSON: nested too deeply"):
        parse_job_lines(['{"command":"a"}', "[" * 50_000 + "]" * 50_000], SETTINGS)


def test_a_number_of_more_digits_than_python_reads_is_invalid_json() -> None:
    with pytest.raises(InvalidInput, match="invalid JSON"):
        load_json('{"command":"x","max_retries":' + "1" * 5000 + "}")
    with pytest.raises(InvalidInput, match="line 1: invalid JSON"):
        parse_job_lines(['{"command":"x","max_retries":' + "1" * 5000 + "}"], SETTINGS)


class _Endless(io.RawIOBase):
    """/dev/zero in a test: NUL bytes without end, and no line break."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        buffer[:] = bytes(len(buffer))
        return len(buffer)


def test_a_file_without_line_breaks_is_refused_after_one_line_s_bound() -> None:
    endless = io.TextIOWrapper(io.BufferedReader(_Endless()), encoding="utf-8")
    with pytest.raises(InvalidInput, match=f"line 1: longer than {limits.MAX_LINE_CHARACTERS}"):
        read_lines(endless)


def test_a_file_of_too_many_lines_is_refused() -> None:
    with pytest.raises(InvalidInput, match="too many lines: more than 3"):
        read_lines(io.StringIO("{}\n" * 10), most=3)
    with pytest.raises(InvalidInput, match="too many lines: more than 3"):
        read_lines(iter(["{}"] * 10), most=3)
    assert read_lines(io.StringIO("a\nb\nc"), most=3) == ["a", "b", "c"]


def test_a_file_the_os_cannot_read_is_invalid_input() -> None:
    class Unreadable(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, buffer: Any) -> int:
            raise OSError(5, "Input/output error")

    with pytest.raises(InvalidInput, match="cannot read the input: Input/output error"):
        read_lines(io.TextIOWrapper(io.BufferedReader(Unreadable()), encoding="utf-8"))


def test_lines_split_across_reads_are_whole() -> None:
    text = "".join(f'{{"command":"echo {i}"}}\n' for i in range(100_000))
    assert read_lines(io.StringIO(text)) == text.split("\n")[:-1]
    assert read_lines(io.BytesIO("é\nü".encode())) == ["é", "ü"]


@pytest.mark.parametrize(("key", "value", "message"), [
    ("max_retries", str(2**63), "at most 1000000000"),
    ("max_retries", "9" * 5000, "expected a whole number"),
    ("job_timeout", "30d", "at most 24d"),
    ("kill_grace", "99999999999999d", "at most 24d"),
    ("lease_duration", "25d", "at most 24d"),
    ("poll_interval", "1e300", "expected a duration"),
    ("backoff_max", "36501d", "at most 36500d"),
    ("retention", "99999999999999d", "at most 36500d"),
    ("backoff_base", "nan", "between 1 and 1000"),
    ("backoff_base", "inf", "between 1 and 1000"),
    ("output_limit", "257MiB", "at most 256MiB"),
])
def test_settings_are_bounded_as_job_fields_are(key: str, value: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=f"^{key}: .*{message}"):
        config.normalize_value(key, value)
    with pytest.raises(InvalidInput, match=f"^{key}: "):
        config.resolve({key: value}, {})


def test_durations_parse_ascii_digits_only() -> None:
    assert parse_duration(" 2.5 m ") == 150.0
    for text in ("٣s", "²", "1.", ".5", "1e3", "nan", "inf", "5 s s"):
        with pytest.raises(InvalidInput, match="duration"):
            parse_duration(text)


def _datetime_format(timestamp: float) -> str:
    moment = datetime.fromtimestamp(timestamp, tz=timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@pytest.mark.parametrize("timestamp", [
    0.0, 0.0005, 0.0015, 0.9995, 0.9999995, 1.0000005, -0.0005, -1.5, 1_767_225_600.123456,
    253402300799.999, -62135596800.0, 1e9 + 0.0004995, 1_700_000_000.9999996,
])
def test_timestamps_print_as_datetime_prints_them(timestamp: float) -> None:
    assert format_timestamp(timestamp) == _datetime_format(timestamp)


def test_a_stored_time_out_of_range_prints_instead_of_failing() -> None:
    # What a year-9999 run_at with a negative offset was stored as, before it was refused.
    assert format_timestamp(253402318799.0) == "+10000-01-01T04:59:59.000Z"
    assert format_timestamp(math.nan) == "invalid time (nan)"
    assert format_timestamp(math.inf) == "invalid time (inf)"
    assert format_timestamp(1e300) == "invalid time (1e+300)"
