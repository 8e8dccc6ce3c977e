"""Configuration keys, their defaults and validation.

Precedence: a command-line flag > ``QUEUECTL_<KEY>`` in the environment > the value stored in
the database with ``queuectl config set`` > the default below. Every value is validated before
it is stored, and keys are spelled freely: ``max-retries``, ``max_retries`` and the original
QueueCTL's ``default_max_retries`` name the same key.
"""

from __future__ import annotations

import os

from .errors import InvalidInput
from .jobspec.limits import MAX_DELAY_SECONDS, MAX_OUTPUT_LIMIT, MAX_RETRIES, MAX_WAIT_SECONDS
from .units import format_duration, format_size, parse_duration, parse_size

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Container, Mapping
    from typing import Any, NamedTuple
else:  # typing costs more to import than an enqueue: see named_tuple.py
    from .named_tuple import NamedTuple


class Settings(NamedTuple):
    """The effective configuration. A named tuple, not a dataclass: every ``queuectl
    enqueue`` reads it, and the dataclass machinery costs more to import than an enqueue."""

    max_retries: int = 3
    backoff_base: float = 2.0
    backoff_max: float = 3600.0
    poll_interval: float = 1.0
    lease_duration: float = 30.0
    job_timeout: float | None = None
    kill_grace: float = 5.0
    output_limit: int = 1024 * 1024
    durability: str = "full"
    retention: float | None = None  # finished jobs older than this are pruned by workers
    # Completed jobs are pruned after this even without ``retention`` (the shorter wins): a
    # busy queue would otherwise grow by every job it ever ran. None: kept.
    keep_completed: float | None = 7 * 86400.0
    direct_exec: bool = True  # exec a command of plain words without sh (see process/shellwords.py)
    autostart: int = 0  # slots of the worker an enqueue starts when none runs here; 0: off
    on_finish: str | None = None  # a completion hook every job enqueued from now on gets
    webhook: str | None = None  # a URL every job enqueued from now on POSTs its JSON to


def _max_retries(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise InvalidInput(f"expected a whole number, got {text[:40]!r}") from None
    if value < 0:
        raise InvalidInput(f"must not be negative, got {text!r}")
    if value > MAX_RETRIES:
        raise InvalidInput(f"at most {MAX_RETRIES}, got {text[:40]!r}")
    return value


def _backoff_base(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InvalidInput(f"expected a number such as 2 or 1.5, got {text!r}") from None
    if not 1.0 <= value <= 1000.0:  # NaN too
        raise InvalidInput(f"must be between 1 and 1000, got {text!r}")
    return value


def _duration(text: str, shortest: float, longest: float) -> float:
    """Seconds from ``shortest`` (exclusive when 0) to ``longest`` (see jobspec.limits)."""
    value = parse_duration(text, field="")
    if value <= 0 or value < shortest:
        least = "more than zero" if shortest == 0 else f"at least {format_duration(shortest)}"
        raise InvalidInput(f"must be {least}, got {text!r}")
    if value > longest:
        raise InvalidInput(f"at most {format_duration(longest)}, got {text!r}")
    return value


def _wait(text: str) -> float:
    """A duration the worker waits for in one go: at most 24 days (poll's longest wait)."""
    return _duration(text, 0, MAX_WAIT_SECONDS)


def _delay(text: str) -> float:
    return _duration(text, 0, MAX_DELAY_SECONDS)


def _lease(text: str) -> float:
    return _duration(text, 1, MAX_WAIT_SECONDS)


def _optional_wait(text: str) -> float | None:
    return None if _is_none(text) else _wait(text)


def _optional_delay(text: str) -> float | None:
    return None if _is_none(text) else _delay(text)


def _is_none(text: str) -> bool:
    return text.strip().lower() in ("none", "off", "0", "")


def _output_limit(text: str) -> int:
    value = parse_size(text, field="")
    if value > MAX_OUTPUT_LIMIT:
        raise InvalidInput(f"at most {format_size(MAX_OUTPUT_LIMIT)}, got {text!r}")
    return value


def _durability(text: str) -> str:
    value = text.strip().lower()
    if value not in ("full", "normal"):
        raise InvalidInput(f"expected full or normal, got {text!r}")
    return value


def _on_off(text: str) -> bool:
    value = text.strip().lower()
    if value not in ("on", "off", "true", "false", "1", "0", "yes", "no"):
        raise InvalidInput(f"expected on or off, got {text!r}")
    return value in ("on", "true", "1", "yes")


def _slots(text: str) -> int:
    """How many jobs an autostarted worker runs at once: 1-1024 (worker start's range), or
    0 / off for no autostart."""
    if _is_none(text):
        return 0
    try:
        value = int(text)
    except ValueError:
        raise InvalidInput(f"expected a number of slots (1-1024) or off, got {text[:40]!r}"
                           ) from None
    if not 1 <= value <= 1024:
        raise InvalidInput(f"expected a number of slots (1-1024) or off, got {text[:40]!r}")
    return value


def _on_finish(text: str) -> str | None:
    from .jobspec.fields import on_finish

    return None if text.strip().lower() in ("none", "off", "") else on_finish(text)


def _webhook(text: str) -> str | None:
    from .jobspec.fields import webhook

    return None if text.strip().lower() in ("none", "off", "") else webhook(text.strip())


def _format_optional_duration(value: Any) -> str:
    return "none" if value is None else format_duration(value)


class Key(NamedTuple):
    name: str
    parse: Callable[[str], Any]
    format: Callable[[Any], str]
    help: str


KEYS: dict[str, Key] = {
    key.name: key
    for key in (
        Key("max_retries", _max_retries, str, "retries after the first run (default 3)"),
        Key("backoff_base", _backoff_base, lambda v: f"{v:g}", "retry delay is base ** attempts"),
        Key("backoff_max", _delay, format_duration, "cap on one retry delay"),
        Key("poll_interval", _wait, format_duration, "fallback poll of idle workers"),
        Key("lease_duration", _lease, format_duration, "a claim's lease, renewed by heartbeats"),
        Key("job_timeout", _optional_wait, _format_optional_duration, "default job timeout"),
        Key("kill_grace", _wait, format_duration, "SIGTERM to SIGKILL grace"),
        Key("output_limit", _output_limit, format_size, "output kept per attempt"),
        Key("durability", _durability, str, "full: fsync every commit; normal: faster, see README"),
        Key("retention", _optional_delay, _format_optional_duration,
            "workers delete finished jobs older than this (default: never)"),
        Key("keep_completed", _optional_delay, _format_optional_duration,
            "workers delete completed jobs older than this (default 7d; off: keep)"),
        Key("direct_exec", _on_off, lambda v: "on" if v else "off",
            "exec plain commands without sh (default on)"),
        Key("autostart", _slots, lambda v: str(v) if v else "off",
            "enqueue starts a worker of N slots if none runs here"),
        Key("on_finish", _on_finish, lambda v: v or "none",
            "a command run when a job enqueued after this ends"),
        Key("webhook", _webhook, lambda v: v or "none",
            "a URL sent each finished job's JSON (jobs enqueued after this)"),
    )
}

_ALIASES = {"lease": "lease_duration", "retries": "max_retries", "timeout": "job_timeout"}


def canonical_key(name: str) -> str:
    """The key's one spelling: ``canonical_key("default-max-retries") == "max_retries"``."""
    if not isinstance(name, str):
        raise InvalidInput(f"config key: expected a string, got {type(name).__name__}")
    key = name.strip().lower().replace("-", "_")
    key = _ALIASES.get(key, key)
    if key not in KEYS and key.startswith("default_"):
        key = _ALIASES.get(key[len("default_"):], key[len("default_"):])
    if key not in KEYS:
        raise InvalidInput(f"unknown config key {name!r}; valid keys: {', '.join(KEYS)}")
    return key


def normalize_value(key: str, text: str) -> str:
    """Validate ``text`` for ``key`` and return the form to store."""
    spec = KEYS[key]
    try:
        return spec.format(spec.parse(str(text)))
    except InvalidInput as exc:
        raise InvalidInput(_named(key, exc)) from None


def resolve(stored: Mapping[str, str], environ: Mapping[str, str] | None = None, *,
            only: Container[str] | None = None) -> Settings:
    """Settings from stored values, overridden by ``QUEUECTL_<KEY>`` variables; the first
    value refused (in the order of ``Settings``) raises ``InvalidInput``. With ``only``, the
    first of those keys refused: the others are left at their defaults, as by
    ``resolve_readable``, for what reads only those (an enqueue reads a job's three, see
    ``jobspec.parse.JOB_SETTINGS``: a lease stored by hand must not stop it)."""
    settings, refused = resolve_readable(stored, environ)
    for key, (_, why) in refused.items():
        if only is None or key in only:
            raise InvalidInput(why)
    return settings


def resolve_readable(stored: Mapping[str, str], environ: Mapping[str, str] | None = None
                     ) -> tuple[Settings, dict[str, tuple[str, str]]]:
    """``resolve``, with each value it refuses (stored by hand, or in the environment) left
    at its default: the settings and ``{key: (value found, why refused)}``, for what must
    work until the value is fixed (``config get``, ``config list``, ``worker stop``)."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    refused: dict[str, tuple[str, str]] = {}
    for name in Settings._fields:
        text = environ.get(f"QUEUECTL_{name.upper()}", stored.get(name))
        if text is not None:
            try:
                values[name] = KEYS[name].parse(text)
            except InvalidInput as exc:
                refused[name] = (text, _named(name, exc))
    return Settings(**values), refused


def _named(key: str, exc: InvalidInput) -> str:
    """The error with the key in front, once: the hook settings are checked by the job
    fields' own checks, whose messages name the field already."""
    message = str(exc)
    return message if message.startswith(f"{key}: ") else f"{key}: {message}"


def describe(settings: Settings) -> dict[str, str]:
    """Every key with its effective value, formatted as ``config get`` prints it."""
    return {name: key.format(getattr(settings, name)) for name, key in KEYS.items()}
