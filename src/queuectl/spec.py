"""Validation of job specifications given by users, as JSON objects or keyword arguments.

Every problem is an ``InvalidInput`` naming the field, so that the CLI can print one line.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from . import scheduling
from .config import Settings
from .errors import InvalidInput
from .models import NewJob
from .units import parse_duration, parse_size

FIELDS = (
    "id", "command", "max_retries", "cwd", "env", "timeout", "fatal_exit_codes",
    "retry_on_timeout", "output_limit", *scheduling.FIELDS,
)
# Fields of a stored job that a user may see but not set.
_READ_ONLY = ("state", "attempts", "runs", "created_at", "updated_at", "exit_code", "last_error")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@+-]{0,127}$")


def new_job_id() -> str:
    """A short random id: 12 hex digits (48 bits)."""
    return os.urandom(6).hex()


def parse_job_spec(spec: Any, settings: Settings, *, cwd: str | None = None) -> NewJob:
    """A ``NewJob`` from a mapping such as ``{"id": "job1", "command": "echo hi"}``."""
    if not isinstance(spec, Mapping):
        raise InvalidInput(f"a job must be a JSON object, got {type(spec).__name__}")
    for key in spec:
        if key in _READ_ONLY:
            raise InvalidInput(f"field {key!r} is set by queuectl and cannot be given")
        if key not in FIELDS:
            raise InvalidInput(f"unknown field {key!r}; known fields: {', '.join(FIELDS)}")
    job_id = _job_id(spec.get("id"))
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


def _job_id(value: Any) -> str:
    if value is None:
        return new_job_id()
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
