"""Parsing and formatting of the units users type: durations, sizes and timestamps.

Durations accept ``30``, ``1.5``, ``30s``, ``250ms``, ``5m``, ``2h`` and ``1d``; timestamps are
ISO 8601, printed in UTC with a ``Z``.

Parsed by hand rather than with ``re``, and timestamps printed without ``datetime``: every
``queuectl enqueue`` reads the stored settings through here, and those two modules cost more
to import than the enqueue spends parsing.
"""

from __future__ import annotations

import time

from .errors import InvalidInput

_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_SIZE_UNITS = {"": 1, "b": 1, "k": 1024, "kb": 1024, "kib": 1024, "m": 1024**2, "mb": 1024**2,
               "mib": 1024**2, "g": 1024**3, "gb": 1024**3, "gib": 1024**3}
_MAX_SIZE_DIGITS = 20  # more than any size a setting may hold; int() of 4,300+ digits fails


def is_number(value: object) -> TypeGuard[int | float]:
    """Whether ``value`` is an int or a float, and not a bool: Python counts True as 1, and
    a flag given where a count, a duration or a time belongs is a mistake, never a number."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def whole_number(value: object, field: str, low: int, high: int, *,
                 expected: str | None = "a whole number", bounds: str = "") -> int:
    """``value`` if it is an int (not a bool) from ``low`` to ``high``, else ``InvalidInput``
    naming ``field``: ``whole_number(1.5, "bars", 1, 60)`` raises 'bars: expected a whole
    number, got 1.5', and ``whole_number(0, ...)`` 'bars: must be between 1 and 60, got 0'.

    ``expected=None`` words a value of another type (NaN, "1", 2.0) as one out of bounds;
    ``bounds`` replaces the words "between {low} and {high}" ("between 0 (none) and 10").
    Checking here first keeps such values from the database: past its integers a query
    fails with OverflowError, and a float or NaN with 'datatype mismatch' or no rows.
    """
    whole = not isinstance(value, bool) and isinstance(value, int)
    if whole and isinstance(value, int) and low <= value <= high:
        return value
    if not whole and expected is not None:
        raise InvalidInput(f"{field}: expected {expected}, got {_shown(value)}")
    raise InvalidInput(f"{field}: must be {bounds or f'between {low} and {high}'},"
                       f" got {_shown(value)}")


def parse_duration(text: str | float | int, *, field: str = "duration") -> float:
    """Seconds in ``text``: ``parse_duration("5m") == 300.0``.

    Errors start with ``field`` (``"timeout: ..."``); pass ``field=""`` for none. Not bounded
    above: an int too large for a float is infinite, which callers refuse with their bound.
    """
    prefix = f"{field}: " if field else ""
    if not (isinstance(text, str) or is_number(text)):
        raise InvalidInput(f"{prefix}expected a duration such as 30s, 5m, 2h, got {_shown(text)}")
    if isinstance(text, (int, float)):
        try:
            seconds = float(text)
        except OverflowError:  # an int beyond any float
            seconds = float("inf")
    else:
        number, unit = _number_and_unit(text, ("ms", "s", "m", "h", "d"))
        if not _is_decimal(number):
            raise InvalidInput(
                f"{prefix}expected a duration such as 30, 30s, 5m, 2h or 1d, got {_shown(text)}"
            )
        seconds = float(number) * _DURATION_UNITS.get(unit, 1.0)
    if seconds < 0:
        raise InvalidInput(f"{prefix}must not be negative, got {_shown(text)}")
    return seconds


def wait_seconds(value: float | None, field: str = "wait") -> float | None:
    """``value``, how long a caller of the library waits (None: for ever), if it is a number
    and not NaN: a NaN deadline is never reached, so the wait would never end."""
    if value is None:
        return None
    if not is_number(value) or value != value:
        raise InvalidInput(f"{field}: expected a number of seconds or None, got {_shown(value)}")
    return value


def format_duration(seconds: float) -> str:
    """The shortest exact-enough form: 0.5 -> '500ms', 90 -> '90s', 3600 -> '1h'."""
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


# How spans and rates read in tables (list, stats, watch, the dashboard).
_YEAR = 365 * 86400  # a calendar's worth is not needed: past a year, only years are shown
_INFINITE = float("inf")  # not math.inf: math is one more import for every enqueue


def is_setting_span(seconds: float | None) -> bool:
    """Whether ``seconds`` is a span a setting (a timeout) can hold: more than zero and finite.
    None, zero or less, infinity and NaN (rows edited by hand) are not, and read as '-'."""
    return seconds is not None and 0 < seconds < _INFINITE  # NaN fails both comparisons


def human_duration(seconds: float | None) -> str:
    """How a duration reads, in at most two units: 0.0123 -> '12ms', 4.5 -> '4.5s',
    125 -> '2m05s', 7300 -> '2h01m', 275400 -> '3d04h', and from a year (365 days) on only
    the whole years, 10 * 365 * 86400 -> '10y': the dashboard's "in 10y", not "in 87600h".
    No number of units fits an infinite or NaN span (a time edited by hand into 9e999): '-'."""
    if seconds is None or not -_INFINITE < seconds < _INFINITE:  # NaN fails it too
        return "-"
    seconds = max(0.0, seconds)
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.1f}s"
    if seconds >= _YEAR:
        return f"{int(seconds // _YEAR)}y"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h"


def human_rate(per_second: float) -> str:
    """A rate in the unit that reads best: 12.5 -> '12.5/s', 0.05 -> '3.0/min', 0.0005 ->
    '1.8/h'."""
    if per_second >= 1:
        return f"{per_second:.1f}/s"
    if per_second * 60 >= 1:
        return f"{per_second * 60:.1f}/min"
    return f"{per_second * 3600:.1f}/h"


def parse_size(text: str | int, *, field: str = "size") -> int:
    """Bytes in ``text``: ``parse_size("1MiB") == 1048576``."""
    prefix = f"{field}: " if field else ""
    if isinstance(text, bool) or not isinstance(text, (str, int)):
        raise InvalidInput(f"{prefix}expected a size such as 512k or 1MiB, got {_shown(text)}")
    if isinstance(text, int):
        value = text
    else:
        body = text.strip()
        end = len(body)
        while end and body[end - 1].isalpha():
            end -= 1
        number, unit = body[:end].rstrip(), body[end:].lower()
        if unit not in _SIZE_UNITS or not (number.isascii() and number.isdigit()):
            raise InvalidInput(
                f"{prefix}expected a size such as 4096, 512k or 1MiB, got {_shown(text)}")
        if len(number) > _MAX_SIZE_DIGITS:
            raise InvalidInput(f"{prefix}too large, got {text[:40]!r}")
        value = int(number) * _SIZE_UNITS[unit]
    if value < 0:
        raise InvalidInput(f"{prefix}must not be negative, got {_shown(text)}")
    return value


def format_size(size: int) -> str:
    for unit, factor in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if size >= factor and size % factor == 0:
            return f"{size // factor}{unit}"
    return str(size)


def _shown(value: object) -> str:
    """``value`` as a refusal quotes it, cut to one line's share (``jobspec.text.shown``)."""
    from .jobspec.text import shown  # only to word a refusal: never on an enqueue's path

    return shown(value)


def _number_and_unit(text: str, units: tuple[str, ...]) -> tuple[str, str]:
    """``" 250 ms "`` -> ``("250", "ms")``; the unit is ``""`` when none of ``units`` ends
    the text (longer units first: ``ms`` before ``s`` and ``m``)."""
    body = text.strip()
    for unit in units:
        if body.endswith(unit):
            return body[: -len(unit)].rstrip(), unit
    return body, ""


def _is_decimal(number: str) -> bool:
    """Whether ``number`` is ASCII digits, optionally with a fraction: ``12`` or ``1.5``."""
    whole, dot, fraction = number.partition(".")
    return (whole.isascii() and whole.isdigit()
            and (not dot or (fraction.isascii() and fraction.isdigit())))


def to_datetime(timestamp: float) -> datetime:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(timestamp, tz=timezone.utc)


def format_timestamp(timestamp: float | None) -> str | None:
    """ISO 8601 in UTC with millisecond precision: '2026-11-04T10:30:00.000Z'.

    The digits are those of ``datetime.fromtimestamp(t, utc).isoformat(timespec=
    "milliseconds")`` (microseconds rounded half to even, then cut to milliseconds). Never
    fails on a stored value: a year past 9999 prints with its 5 digits (``+10000-...``, as ISO
    8601 writes such years) and a value that is no time at all prints as itself.
    """
    if timestamp is None:
        return None
    try:
        whole = int(timestamp)
        micros = round((timestamp - whole) * 1_000_000)  # exact: the subtraction loses nothing
        if micros >= 1_000_000:
            whole, micros = whole + 1, micros - 1_000_000
        elif micros < 0:
            whole, micros = whole - 1, micros + 1_000_000
        t = time.gmtime(whole)
    except (ValueError, OverflowError, OSError):  # NaN, infinite, or beyond the C library
        return f"invalid time ({timestamp!r})"
    year = f"{t.tm_year:04d}" if 0 < t.tm_year <= 9999 else f"{t.tm_year:+05d}"
    return (f"{year}-{t.tm_mon:02d}-{t.tm_mday:02d}T{t.tm_hour:02d}:{t.tm_min:02d}:"
            f"{t.tm_sec:02d}.{micros // 1000:03d}Z")


def format_timestamp_to_second(timestamp: float | None, *, sep: str = "T") -> str | None:
    """``format_timestamp`` without the milliseconds, as tables show a time:
    '2026-11-04T10:30:00Z', or '2026-11-04 10:30:00Z' with ``sep=" "``.

    Built from the parts rather than cut to a width, so a year past 9999 keeps every digit
    ('+33658-09-27T01:46:40Z') and a value that is no time prints as itself, whole.
    """
    text = format_timestamp(timestamp)
    if text is None or not text.endswith("Z"):  # "invalid time (...)" ends with ")"
        return text
    day, _, clock = text.partition("T")  # "01:46:40.000Z"
    return f"{day}{sep}{clock[:8]}Z"


def parse_timestamp(text: str, *, field: str = "time") -> float:
    """A POSIX timestamp from ISO 8601; a time without an offset is taken as UTC."""
    from datetime import datetime, timezone

    prefix = f"{field}: " if field else ""
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        return parsed.timestamp()
    except (ValueError, AttributeError, OverflowError):
        raise InvalidInput(f"{prefix}expected an ISO 8601 time, got {_shown(text)}") from None


TYPE_CHECKING = False
if TYPE_CHECKING:
    from datetime import datetime
    from typing import TypeGuard
