"""Validation of job specifications given by users, as JSON objects (one, or one per line
of a file) or keyword arguments.

Every problem is an ``InvalidInput`` naming the field, so that the CLI can print one line.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence, Set
from typing import Any

from . import scheduling
from .config import Settings
from .errors import InvalidInput
from .newjob import NewJob
from .units import parse_duration, parse_size

FIELDS = (
    "id", "command", "max_retries", "cwd", "env", "timeout", "fatal_exit_codes",
    "retry_on_timeout", "output_limit", *scheduling.FIELDS,
)
# Fields of a stored job that a user may see but not set.
_READ_ONLY = ("state", "attempts", "runs", "created_at", "updated_at", "exit_code", "last_error")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@+-]{0,127}$")
_JSON = json.JSONDecoder()


def new_job_id() -> str:
    """A short random id: 12 hex digits (48 bits)."""
    return os.urandom(6).hex()


def new_job_ids(count: int, taken: Set[str] = frozenset()) -> list[str]:
    """``count`` distinct random ids, none of them in ``taken``, drawn in one system call.

    Two ids of a batch collide about once in 60,000 batches of 100,000 jobs (48 random
    bits): rare, but a batch must never hold one id twice, so those are drawn again.
    """
    digits = os.urandom(6 * count).hex()
    ids = [digits[start:start + 12] for start in range(0, 12 * count, 12)]
    unique = set(ids)
    if len(unique) < count or not unique.isdisjoint(taken):
        seen = set(taken)
        for index, job_id in enumerate(ids):
            while job_id in seen:
                job_id = new_job_id()
            ids[index] = job_id
            seen.add(job_id)
    return ids


def parse_job_specs(
    specs: Sequence[Any], settings: Settings, name: Callable[[int], str] | None = None
) -> list[NewJob]:
    """Validate a batch of job specifications, in order, all or nothing.

    The same as ``parse_job_spec`` for each, at less cost per job: the ids to generate are
    drawn in one go (no id repeats within the batch), and a spec that is only
    ``{"command": ...}`` skips the checks of the fields it does not have and reads the
    current directory once for the batch. An error is prefixed with ``name(index)`` (e.g.
    ``"line 7"``) when ``name`` is given.
    """
    fresh = new_job_ids(len(specs))
    jobs: list[NewJob] = []
    given: set[str] = set()
    cwd: str | None = None
    max_retries = settings.max_retries
    for index, spec in enumerate(specs):
        try:
            if type(spec) is dict and len(spec) == 1 and "command" in spec:
                command = spec["command"]
                # _command's checks, inline (a call per job costs); it words any problem.
                if type(command) is not str or not command or command.isspace() or "\0" in command:
                    command = _command(command)
                if cwd is None:
                    cwd = os.getcwd()
                jobs.append(NewJob(fresh[index], command, max_retries, cwd))
                continue
            jobs.append(parse_job_spec(spec, settings, new_id=fresh[index]))
        except InvalidInput as exc:
            if name is None:
                raise
            raise InvalidInput(f"{name(index)}: {exc}") from None
        if spec.get("id") is not None:
            given.add(spec["id"])
    clashes = given.intersection(fresh)
    if clashes:  # an id drawn for one job was given to another: draw that one again
        taken = given.union(fresh)
        for index, job in enumerate(jobs):
            if job.id in clashes and specs[index].get("id") is None:
                jobs[index] = job._replace(id=new_job_ids(1, taken)[0])
    return jobs


def parse_job_lines(lines: Iterable[str], settings: Settings) -> tuple[list[Any], list[NewJob]]:
    """The specs of the non-blank lines of JSON and their ``NewJob`` s, all or nothing; an
    error names its line (the first bad line, be it bad JSON or a bad field)."""
    try:
        lines = list(lines)
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"the input is not UTF-8 text (byte {exc.start} of a read)") from None
    numbers: list[int] | None = None  # the line of each spec, once a blank one is skipped

    def name(index: int) -> str:
        return f"line {index + 1 if numbers is None else numbers[index]}"

    try:
        # The usual input, a JSON value on every line, decoded without a Python loop.
        # (decode is loads without its check for a byte order mark, which fails anyway.)
        specs = list(map(_JSON.decode, lines))
    except (ValueError, TypeError):  # a blank line, bad JSON, bytes: go line by line
        specs, numbers = [], []
        for number, line in enumerate(lines, start=1):
            try:
                specs.append(json.loads(line))
            except json.JSONDecodeError as exc:
                if not line.strip():
                    continue
                parse_job_specs(specs, settings, name)  # an earlier line's error first
                raise InvalidInput(
                    f"line {number}: invalid JSON: {exc.msg} at column {exc.colno}"
                ) from None
            numbers.append(number)
    if not specs:
        raise InvalidInput("no jobs given: the input has no JSON lines")
    return specs, parse_job_specs(specs, settings, name)


def load_json(text: str) -> Any:
    """The value in ``text``; ``InvalidInput`` (with the column) if it is not JSON."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"invalid JSON: {exc.msg} at column {exc.colno}") from None


def parse_job_spec(
    spec: Any, settings: Settings, *, cwd: str | None = None, new_id: str | None = None
) -> NewJob:
    """A ``NewJob`` from a mapping such as ``{"id": "job1", "command": "echo hi"}``.

    A spec without an id gets ``new_id`` (default: a new random one); one without a ``cwd``
    gets ``cwd`` (default: the current directory).
    """
    if not isinstance(spec, Mapping):
        raise InvalidInput(f"a job must be a JSON object, got {type(spec).__name__}")
    for key in spec:
        if key in _READ_ONLY:
            raise InvalidInput(f"field {key!r} is set by queuectl and cannot be given")
        if key not in FIELDS:
            raise InvalidInput(f"unknown field {key!r}; known fields: {', '.join(FIELDS)}")
    job_id = _job_id(spec.get("id"), new_id)
    return NewJob(
        id=job_id,
        command=_command(spec.get("command")),
        max_retries=_max_retries(spec.get("max_retries"), settings.max_retries),
        cwd=_cwd(spec.get("cwd"), cwd),
        env=_env(spec.get("env")),
        timeout=_timeout(spec.get("timeout")),
        fatal_exit_codes=_exit_codes(spec.get("fatal_exit_codes")),
        retry_on_timeout=_flag(spec.get("retry_on_timeout"), "retry_on_timeout", default=True),
        output_limit=_output_limit(spec.get("output_limit")),
        **scheduling.parse_scheduling(spec, job_id),
    )


def _job_id(value: Any, new_id: str | None) -> str:
    if value is None:
        return new_job_id() if new_id is None else new_id
    if not isinstance(value, str):
        raise InvalidInput(f"id: expected a string, got {type(value).__name__}")
    if not _ID.match(value):
        raise InvalidInput(
            f"id: {value!r} must be 1-128 letters, digits or ._:@+-, and start with a letter"
            " or digit"
        )
    return value


def _command(value: Any) -> str:
    if value is None:
        raise InvalidInput("command: required")
    if not isinstance(value, str):
        raise InvalidInput(f"command: expected a string, got {type(value).__name__}")
    if not value.strip():
        raise InvalidInput("command: must not be empty")
    if "\0" in value:
        raise InvalidInput("command: must not contain a NUL character")
    return value


def _max_retries(value: Any, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"max_retries: expected a whole number, got {value!r}")
    if value < 0:
        raise InvalidInput(f"max_retries: must not be negative, got {value}")
    return value


def _cwd(value: Any, default: str | None) -> str:
    if value is None:
        return default if default is not None else os.getcwd()
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"cwd: expected a directory path, got {value!r}")
    return os.path.abspath(os.path.expanduser(value))


def _env(value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise InvalidInput(f"env: expected an object of strings, got {type(value).__name__}")
    for key, item in value.items():
        if not isinstance(key, str) or not key or "=" in key or "\0" in key:
            raise InvalidInput(f"env: {key!r} is not a valid variable name")
        if not isinstance(item, str):
            raise InvalidInput(f"env: value of {key} must be a string, got {item!r}")
    return dict(value)


def _timeout(value: Any) -> float | None:
    if value is None:
        return None
    if not isinstance(value, (str, int, float)):
        raise InvalidInput(f"timeout: expected a duration such as 30s, got {value!r}")
    seconds = parse_duration(value, field="timeout")
    if seconds <= 0:
        raise InvalidInput(f"timeout: must be more than zero, got {value!r}")
    return seconds


def _exit_codes(value: Any) -> tuple[int, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise InvalidInput(f"fatal_exit_codes: expected a list of exit codes, got {value!r}")
    for code in value:
        if isinstance(code, bool) or not isinstance(code, int) or not 1 <= code <= 255:
            raise InvalidInput(f"fatal_exit_codes: {code!r} is not an exit code from 1 to 255")
    return tuple(sorted(set(value)))


def _flag(value: Any, field: str, *, default: bool) -> bool:
    if value is None:
        return default
    if not isinstance(value, bool):
        raise InvalidInput(f"{field}: expected true or false, got {value!r}")
    return value


def _output_limit(value: Any) -> int | None:
    if value is None:
        return None
    if not isinstance(value, (str, int)):
        raise InvalidInput(f"output_limit: expected a size such as 64k or 1MiB, got {value!r}")
    return parse_size(value, field="output_limit")
