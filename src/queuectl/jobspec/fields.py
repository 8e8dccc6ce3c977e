"""One check per field of a job: each takes what the user gave and returns the value to
store, or raises ``InvalidInput`` naming the field. The bounds are in ``limits``.

How the job runs: ``command``, ``cwd``, ``env``, ``timeout``, ``max_retries``,
``fatal_exit_codes``, ``retry_on_timeout``, ``output_limit``. When, where and after what
it may run: ``priority``, ``run_at`` or ``delay``, ``queue``, ``depends_on``, ``unique_key``,
``tags``, and its own retry policy: ``backoff_base``, ``backoff_max``, ``jitter``. The rules
these feed (order, limits, dependencies) are the store's claim statement's, not checked here.
"""

from __future__ import annotations

import os

from .. import units
from ..errors import InvalidInput
from ..units import is_number, parse_duration, parse_size, parse_timestamp
from .limits import (
    EARLIEST_TIME,
    LATEST_TIME,
    MAX_ARGUMENT_BYTES,
    MAX_DELAY_SECONDS,
    MAX_DEPENDENCIES,
    MAX_ENV_BYTES,
    MAX_ENV_ENTRIES,
    MAX_EXIT_CODE,
    MAX_OUTPUT_LIMIT,
    MAX_PATH_BYTES,
    MAX_RETRIES,
    MAX_TAGS,
    MAX_UNIQUE_KEY_LENGTH,
    MAX_URL_LENGTH,
    MAX_WAIT_SECONDS,
    PRIORITY_MAX,
    PRIORITY_MIN,
)
from .text import is_variable_name, job_id, os_text, shown, tag, utf8_size

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping


def command(value: object) -> str:
    if value is None:
        raise InvalidInput("command: required")
    if not isinstance(value, str):
        raise InvalidInput(f"command: expected a string, got {type(value).__name__}")
    if not value.strip():
        raise InvalidInput("command: must not be empty")
    return os_text(value, "command", MAX_ARGUMENT_BYTES)


def whole_number(value: object, field: str, low: int, high: int) -> int:
    """An int (not a bool) from ``low`` to ``high``: ``max_retries``, ``priority``; one
    below a least of zero 'must not be negative'."""
    if low == 0 and isinstance(value, int) and value < 0:  # a bool is never below zero
        raise InvalidInput(f"{field}: must not be negative, got {shown(value)}")
    return units.whole_number(value, field, low, high)


def max_retries(value: object) -> int:
    return whole_number(value, "max_retries", 0, MAX_RETRIES)


def priority(value: object) -> int:
    return whole_number(value, "priority", PRIORITY_MIN, PRIORITY_MAX)


def current_directory() -> str:
    """The current directory, where a job runs unless it says otherwise."""
    try:
        path = os.getcwd()
    except OSError as exc:  # removed under us, or unreadable
        raise InvalidInput(f"cwd: the current directory cannot be used ({exc.strerror});"
                           " give one") from None
    return os_text(path, "cwd (the current directory)", MAX_PATH_BYTES)


def cwd(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"cwd: expected a directory path, got {shown(value)}")
    os_text(value, "cwd", MAX_PATH_BYTES)
    return os_text(os.path.abspath(os.path.expanduser(value)), "cwd", MAX_PATH_BYTES)


def env(value: object) -> dict[str, str]:
    """Variables for the job: portable names (``[A-Za-z_][A-Za-z0-9_]*``, see
    ``text.is_variable_name``) and values without NUL, each ``NAME=value`` at most 128 KiB and
    all of them together at most 1 MiB."""
    if not isinstance(value, dict) and not _is_mapping(value):
        raise InvalidInput(f"env: expected an object of strings, got {type(value).__name__}")
    mapping: Mapping[object, object] = value  # type: ignore[assignment]
    if len(mapping) > MAX_ENV_ENTRIES:
        raise InvalidInput(f"env: at most {MAX_ENV_ENTRIES} variables, got {len(mapping)}")
    total = 0
    for key, item in mapping.items():
        if not isinstance(key, str) or not is_variable_name(key):
            raise InvalidInput(f"env: {shown(key)} is not a variable name (letters, digits"
                               " and _, not starting with a digit)")
        if not isinstance(item, str):
            raise InvalidInput(f"env: value of {key} must be a string, got {shown(item)}")
        if "\0" in item:
            raise InvalidInput(f"env: value of {key} must not contain a NUL character")
        size = utf8_size(key, "env") + 1 + utf8_size(item, f"env: value of {key}")
        if size > MAX_ARGUMENT_BYTES:
            raise InvalidInput(f"env: {key} is too long ({size} bytes; at most"
                               f" {MAX_ARGUMENT_BYTES})")
        total += size + 1
    if total > MAX_ENV_BYTES:
        raise InvalidInput(f"env: too large ({total} bytes; at most {MAX_ENV_BYTES})")
    return dict(mapping)  # type: ignore[arg-type]


def duration(value: object, field: str, longest: float, example: str = "30s", *,
             zero: bool = False) -> float:
    """Seconds, more than zero (or zero too, with ``zero``) and at most ``longest``; NaN and
    infinities are refused."""
    if not (isinstance(value, str) or is_number(value)):
        raise InvalidInput(f"{field}: expected a duration such as {example}, got {shown(value)}")
    seconds = parse_duration(value, field=field)
    if seconds != seconds:  # NaN: no duration at all
        raise InvalidInput(f"{field}: expected a duration such as {example}, got {shown(value)}")
    if seconds <= 0 and not (zero and seconds == 0):
        raise InvalidInput(f"{field}: must be more than zero, got {shown(value)}")
    if seconds > longest:
        raise InvalidInput(f"{field}: at most {_longest(longest)}, got {shown(value)}")
    return seconds


def timeout(value: object) -> float:
    return duration(value, "timeout", MAX_WAIT_SECONDS)


def exit_codes(value: object) -> tuple[int, ...]:
    if not isinstance(value, (list, tuple)):
        raise InvalidInput(f"fatal_exit_codes: expected a list of exit codes, got {shown(value)}")
    for code in value:
        if isinstance(code, bool) or not isinstance(code, int) or not 1 <= code <= MAX_EXIT_CODE:
            raise InvalidInput(
                f"fatal_exit_codes: {shown(code)} is not an exit code from 1 to {MAX_EXIT_CODE}"
            )
    return tuple(sorted(set(value)))


def flag(value: object, field: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(f"{field}: expected true or false, got {shown(value)}")
    return value


def output_limit(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InvalidInput(
            f"output_limit: expected a size such as 64k or 1MiB, got {shown(value)}")
    size = parse_size(value, field="output_limit")
    if size > MAX_OUTPUT_LIMIT:
        raise InvalidInput(f"output_limit: at most 256MiB, got {shown(value)}")
    return size


def run_at(value: object) -> float:
    """A time in ISO 8601 (any offset; UTC without one) within years 1-9999 in UTC."""
    if not isinstance(value, str):
        raise InvalidInput(f"run_at: expected an ISO 8601 time, got {shown(value)}")
    timestamp = parse_timestamp(value, field="run_at")
    if not EARLIEST_TIME <= timestamp <= LATEST_TIME:
        raise InvalidInput(f"run_at: {shown(value)} is outside years 1-9999 in UTC")
    return timestamp


def timestamp(value: object, field: str) -> float:
    """A time as seconds since 1970 (POSIX, UTC) within years 1-9999: a stored job's or
    run's times, the window of ``Queue.finished_runs``."""
    if not (is_number(value) and EARLIEST_TIME <= value <= LATEST_TIME):  # NaN fails too
        raise InvalidInput(f"{field}: {shown(value)} is not a time within years 1-9999")
    return float(value)


def delay(value: object) -> float:
    return duration(value, "delay", MAX_DELAY_SECONDS, "30s or 5m", zero=True)


def backoff_max(value: object) -> float:
    return duration(value, "backoff_max", MAX_DELAY_SECONDS, "1h")


def number(value: object, field: str, low: float, high: float) -> float:
    """A finite number from ``low`` to ``high``: ``backoff_base``, ``jitter``."""
    if not is_number(value) or value != value or value in (float("inf"), float("-inf")):
        raise InvalidInput(f"{field}: expected a number, got {shown(value)}")
    if not low <= value <= high:
        raise InvalidInput(f"{field}: must be between {low:g} and {high:g}, got {shown(value)}")
    return float(value)


def backoff_base(value: object) -> float:
    return number(value, "backoff_base", 1.0, 1000.0)


def jitter(value: object) -> float:
    return number(value, "jitter", 0.0, 1.0)


def depends_on(value: object, own_id: str) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)):
        raise InvalidInput(f"depends_on: expected a list of job ids, got {shown(value)}")
    if len(value) > MAX_DEPENDENCIES:
        raise InvalidInput(f"depends_on: at most {MAX_DEPENDENCIES} jobs")
    for item in value:
        try:
            job_id(item)
        except InvalidInput:
            raise InvalidInput(f"depends_on: {shown(item)} is not a job id") from None
        if item == own_id:
            raise InvalidInput(f"depends_on: job {own_id!r} cannot depend on itself")
    return tuple(dict.fromkeys(value))


def unique_key(value: object) -> str:
    if (not isinstance(value, str) or not value.strip()
            or len(value) > MAX_UNIQUE_KEY_LENGTH):
        raise InvalidInput(
            f"unique_key: expected a string of 1-{MAX_UNIQUE_KEY_LENGTH} characters, got"
            f" {shown(value)}")
    return os_text(value, "unique_key", 4 * MAX_UNIQUE_KEY_LENGTH)


def tags(value: object) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)):
        raise InvalidInput(f"tags: expected a list of strings, got {shown(value)}")
    if len(value) > MAX_TAGS:
        raise InvalidInput(f"tags: at most {MAX_TAGS} tags")
    return tuple(dict.fromkeys(tag(item) for item in value))


def _is_mapping(value: object) -> bool:
    from collections.abc import Mapping

    return isinstance(value, Mapping)


def _longest(seconds: float) -> str:
    days = seconds / 86400
    return f"{days / 365:g} years" if days >= 365 else f"{days:g} days"


def on_finish(value: object) -> str:
    """A completion hook: a shell command, checked as ``command`` is."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"on_finish: expected a shell command, got {shown(value)}")
    return os_text(value, "on_finish", MAX_ARGUMENT_BYTES)


def webhook(value: object) -> str:
    """A URL to POST a finished job's JSON to: http or https, no spaces, a host and a port
    that can be reached (urllib refused 'http://[::1' only when the hook ran, and took port
    99999 for 34463)."""
    if (not isinstance(value, str) or not value.startswith(("http://", "https://"))
            or len(value) > MAX_URL_LENGTH or any(c.isspace() for c in value)
            or not value.isascii() or not _host_and_port(value.split("://", 1)[1])):
        raise InvalidInput(f"webhook: expected an http:// or https:// URL with a host (and a"
                           f" port from 1 to 65535, if any) of at most {MAX_URL_LENGTH}"
                           f" characters, got {shown(value)}")
    return value


def _host_and_port(rest: str) -> bool:
    """Whether the part of a URL after ``scheme://`` starts with a host (a name, an address,
    an IPv6 address in brackets) and at most a port from 1 to 65535; checked by hand, as
    urllib.parse costs 20 ms to import and a configured webhook is checked on every enqueue."""
    authority = rest
    for end in "/?#":
        authority = authority.split(end, 1)[0]
    host_port = authority.rpartition("@")[2]
    if host_port.startswith("["):
        host, bracket, port = host_port[1:].partition("]")
        if not bracket or (port and not port.startswith(":")):
            return False
        port = port[1:]
    else:
        host, _, port = host_port.partition(":")
    if not host or "[" in host or "]" in host:
        return False
    return port == "" or (port.isdigit() and 1 <= int(port) <= 65535)
