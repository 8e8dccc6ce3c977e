"""Parsing and formatting of the units users type: durations, sizes and timestamps.

Durations accept ``30``, ``1.5``, ``30s``, ``250ms``, ``5m``, ``2h`` and ``1d``; timestamps are
ISO 8601, printed in UTC with a ``Z``.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

from .errors import InvalidInput

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}
_SIZE = re.compile(r"^\s*(\d+)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {"b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def parse_duration(text: str | float | int, *, field: str = "duration") -> float:
    """Seconds in ``text``: ``parse_duration("5m") == 300.0``.

    Errors start with ``field`` (``"timeout: ..."``); pass ``field=""`` for none.
    """
    prefix = f"{field}: " if field else ""
    if isinstance(text, bool):
        raise InvalidInput(f"{prefix}expected a duration such as 30s, 5m, 2h, got {text!r}")
    if isinstance(text, (int, float)):
        seconds = float(text)
    else:
        match = _DURATION.match(text)
        if match is None:
            raise InvalidInput(
                f"{prefix}expected a duration such as 30, 30s, 5m, 2h or 1d, got {text!r}"
            )
        seconds = float(match.group(1)) * _DURATION_UNITS[match.group(2)]
    if seconds < 0:
        raise InvalidInput(f"{prefix}must not be negative, got {text!r}")
    return seconds


def format_duration(seconds: float) -> str:
    """The shortest exact-enough form: 0.5 -> '500ms', 90 -> '90s', 3600 -> '1h'."""
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def parse_size(text: str | int, *, field: str = "size") -> int:
    """Bytes in ``text``: ``parse_size("1MiB") == 1048576``."""
    prefix = f"{field}: " if field else ""
    if isinstance(text, bool):
        raise InvalidInput(f"{prefix}expected a size such as 512k or 1MiB, got {text!r}")
    if isinstance(text, int):
        value = text
    else:
        match = _SIZE.match(text)
        if match is None:
            raise InvalidInput(f"{prefix}expected a size such as 4096, 512k or 1MiB, got {text!r}")
        unit = (match.group(2) or "b")[0].lower()
        value = int(match.group(1)) * _SIZE_UNITS[unit]
    if value < 0:
        raise InvalidInput(f"{prefix}must not be negative, got {text!r}")
    return value


def format_size(size: int) -> str:
    for unit, factor in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if size >= factor and size % factor == 0:
            return f"{size // factor}{unit}"
    return str(size)


def to_datetime(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=timezone.utc)


def format_timestamp(timestamp: float | None) -> str | None:
    """ISO 8601 in UTC with millisecond precision: '2026-11-04T10:30:00.000Z'."""
    if timestamp is None:
        return None
    return to_datetime(timestamp).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_timestamp(text: str, *, field: str = "time") -> float:
    """A POSIX timestamp from ISO 8601; a time without an offset is taken as UTC."""
    prefix = f"{field}: " if field else ""
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except (ValueError, AttributeError):
        raise InvalidInput(f"{prefix}expected an ISO 8601 time, got {text!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()
