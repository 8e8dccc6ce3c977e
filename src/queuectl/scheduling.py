"""Validation of the scheduling fields of a job: when, where and after what it may run.

``priority`` (higher first), ``run_at`` or ``delay``, ``queue``, ``depends_on``,
``unique_key``, ``tags`` and the per-job retry policy (``backoff_base``, ``backoff_max``,
``jitter``). Every problem is an ``InvalidInput`` naming the field. The rules these fields
feed are enforced by the store's claim statement, not here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from .errors import InvalidInput
from .units import parse_duration, parse_timestamp

FIELDS = ("priority", "run_at", "delay", "queue", "depends_on", "unique_key", "tags",
          "backoff_base", "backoff_max", "jitter")

# A 32-bit range: PostgreSQL keeps priority in an integer column.
PRIORITY_MIN, PRIORITY_MAX = -(2**31), 2**31 - 1
MAX_TAGS = 32
MAX_DEPENDENCIES = 1000
_QUEUE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
_TAG = re.compile(r"^[^\s\x00-\x1f,]{1,64}$")


def queue_name(value: Any, field: str = "queue") -> str:
    """A queue name: 1-64 letters, digits or ``._:-``, starting with a letter or digit."""
    if not isinstance(value, str):
        raise InvalidInput(f"{field}: expected a queue name, got {value!r}")
    if not _QUEUE.match(value):
        raise InvalidInput(
            f"{field}: {value!r} must be 1-64 letters, digits or ._:- and start with a letter"
            " or digit"
        )
    return value


def tag(value: Any, field: str = "tags") -> str:
    if not isinstance(value, str) or not _TAG.match(value):
        raise InvalidInput(
            f"{field}: {value!r} is not a tag (1-64 characters, no spaces or commas)"
        )
    return value


def parse_scheduling(spec: Mapping[str, Any], job_id: str) -> dict[str, Any]:
    """The scheduling fields of ``spec`` as ``NewJob`` keyword arguments (absent: default)."""
    fields: dict[str, Any] = {}
    if spec.get("priority") is not None:
        fields["priority"] = _priority(spec["priority"])
    if spec.get("queue") is not None:
        fields["queue"] = queue_name(spec["queue"])
    run_at, delay = spec.get("run_at"), spec.get("delay")
    if run_at is not None and delay is not None:
        raise InvalidInput("give run_at or delay, not both")
    if run_at is not None:
        if not isinstance(run_at, str):
            raise InvalidInput(f"run_at: expected an ISO 8601 time, got {run_at!r}")
        fields["run_at"] = parse_timestamp(run_at, field="run_at")
    if delay is not None:
        if not isinstance(delay, (str, int, float)):
            raise InvalidInput(f"delay: expected a duration such as 30s or 5m, got {delay!r}")
        fields["delay"] = _finite(parse_duration(delay, field="delay"), "delay", delay)
    if spec.get("depends_on") is not None:
        fields["depends_on"] = _depends_on(spec["depends_on"], job_id)
    if spec.get("unique_key") is not None:
        fields["unique_key"] = _unique_key(spec["unique_key"])
    if spec.get("tags") is not None:
        fields["tags"] = _tags(spec["tags"])
    if spec.get("backoff_base") is not None:
        fields["backoff_base"] = _number(spec["backoff_base"], "backoff_base", 1.0, 1000.0)
    if spec.get("backoff_max") is not None:
        value = spec["backoff_max"]
        if not isinstance(value, (str, int, float)):
            raise InvalidInput(f"backoff_max: expected a duration such as 1h, got {value!r}")
        seconds = _finite(parse_duration(value, field="backoff_max"), "backoff_max", value)
        if seconds <= 0:
            raise InvalidInput(f"backoff_max: must be more than zero, got {value!r}")
        fields["backoff_max"] = seconds
    if spec.get("jitter") is not None:
        fields["jitter"] = _number(spec["jitter"], "jitter", 0.0, 1.0)
    return fields


def _priority(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"priority: expected a whole number, got {value!r}")
    if not PRIORITY_MIN <= value <= PRIORITY_MAX:
        raise InvalidInput(f"priority: must be between {PRIORITY_MIN} and {PRIORITY_MAX}")
    return value


def _finite(seconds: float, field: str, given: Any) -> float:
    if not math.isfinite(seconds) or seconds > 100 * 365 * 86400:
        raise InvalidInput(f"{field}: too long, got {given!r}")
    return seconds


def _number(value: Any, field: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidInput(f"{field}: expected a number, got {value!r}")
    if not low <= value <= high:
        raise InvalidInput(f"{field}: must be between {low:g} and {high:g}, got {value!r}")
    return float(value)


def _depends_on(value: Any, job_id: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise InvalidInput(f"depends_on: expected a list of job ids, got {value!r}")
    if len(value) > MAX_DEPENDENCIES:
        raise InvalidInput(f"depends_on: at most {MAX_DEPENDENCIES} jobs")
    for item in value:
        if not isinstance(item, str) or not item or len(item) > 128:
            raise InvalidInput(f"depends_on: {item!r} is not a job id")
        if item == job_id:
            raise InvalidInput(f"depends_on: job {job_id!r} cannot depend on itself")
    return tuple(dict.fromkeys(value))


def _unique_key(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 256:
        raise InvalidInput(f"unique_key: expected a string of 1-256 characters, got {value!r}")
    return value


def _tags(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise InvalidInput(f"tags: expected a list of strings, got {value!r}")
    if len(value) > MAX_TAGS:
        raise InvalidInput(f"tags: at most {MAX_TAGS} tags")
    return tuple(dict.fromkeys(tag(item) for item in value))
