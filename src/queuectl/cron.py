"""Cron expressions: when a recurring job is due, in a time zone, across DST changes.

Five fields, as in crontab(5): minute (0-59), hour (0-23), day of month (1-31), month (1-12
or jan-dec), day of week (0-7 or sun-sat; 0 and 7 are Sunday). Each field is ``*``, a value,
a range ``a-b``, a step ``*/n`` or ``a-b/n``, or a comma-separated list of those; ``@hourly``,
``@daily``, ``@weekly``, ``@monthly`` and ``@yearly`` stand for the usual lines. As in cron,
when both day fields are restricted a day matching either one is due.

Times are wall-clock times in the schedule's zone, and DST is handled as cron does:

- a time the clocks skip (02:30 on the night they spring forward) runs once, at the jump;
- a time that happens twice (02:30 on the night they fall back) runs once, the first time.

>>> from zoneinfo import ZoneInfo
>>> from queuectl.units import format_timestamp, parse_timestamp
>>> daily = Cron.parse("30 2 * * *")
>>> berlin = ZoneInfo("Europe/Berlin")
>>> format_timestamp(daily.next_after(parse_timestamp("2026-03-28T12:00:00Z"), berlin))
'2026-03-29T01:00:00.000Z'

(03:00 CEST, the moment 02:00 CET became 03:00 CEST: 02:30 did not exist that night.)
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo

from .errors import InvalidInput

_MACROS = {
    "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_MONTHS = {name: number for number, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
    start=1)}
_WEEKDAYS = {name: number for number, name in enumerate(
    ("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
# name, lowest, highest, names
_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}), ("hour", 0, 23, {}), ("day of month", 1, 31, {}),
    ("month", 1, 12, _MONTHS), ("day of week", 0, 7, _WEEKDAYS),
)
_SEARCH_YEARS = 5  # every valid expression is due within 4 years (29 February)


@dataclass(frozen=True)
class Cron:
    text: str
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    any_day: bool  # the day-of-month field is a '*': only the day of week decides
    any_weekday: bool  # the day-of-week field is a '*': only the day of month decides

    @classmethod
    def parse(cls, text: str) -> Cron:
        """Parse a cron line; anything wrong is an ``InvalidInput`` saying which field."""
        if not isinstance(text, str):
            raise InvalidInput(f"cron: expected an expression such as '*/5 * * * *', got {text!r}")
        line = _MACROS.get(text.strip().lower(), text.strip())
        parts = line.split()
        if len(parts) != 5:
            raise InvalidInput(
                f"cron: expected 5 fields (minute hour day month weekday), got {text!r}"
            )
        values = [_parse_field(part, *spec) for part, spec in zip(parts, _FIELDS, strict=True)]
        minutes, hours, days, months, weekdays = values
        cron = cls(
            text=text.strip(), minutes=tuple(sorted(minutes)), hours=tuple(sorted(hours)),
            days=frozenset(days), months=frozenset(months),
            weekdays=frozenset(day % 7 for day in weekdays),
            any_day=parts[2].startswith("*"), any_weekday=parts[4].startswith("*"),
        )
        if cron.any_weekday and not any(
            day <= _longest_month(month) for month in cron.months for day in cron.days
        ):
            raise InvalidInput(f"cron: {text!r} names a day that its months never have")
        return cron

    def matches_day(self, day: date) -> bool:
        if day.month not in self.months:
            return False
        in_month = day.day in self.days
        in_week = (day.weekday() + 1) % 7 in self.weekdays  # Python: Monday 0; cron: Sunday 0
        if self.any_day or self.any_weekday:
            return in_month and in_week
        return in_month or in_week

    def next_after(self, after: float, zone: tzinfo = timezone.utc) -> float:
        """The first due instant strictly after ``after`` (POSIX seconds)."""
        wall = _wall(after, zone).replace(second=0, microsecond=0) + timedelta(minutes=1)
        end = wall + timedelta(days=366 * _SEARCH_YEARS)
        while wall < end:
            if wall.month not in self.months:
                wall = _first_of_next_month(wall)
            elif not self.matches_day(wall.date()):
                wall = _next_day(wall)
            elif (hour := _first_at_least(self.hours, wall.hour)) is None:
                wall = _next_day(wall)
            elif hour != wall.hour:
                wall = wall.replace(hour=hour, minute=0)
            elif (minute := _first_at_least(self.minutes, wall.minute)) is None:
                wall = wall.replace(minute=0) + timedelta(hours=1)
            else:
                wall = wall.replace(minute=minute)
                instant = _instant(wall, zone)
                if instant > after:  # not so for the second pass of a repeated hour
                    return instant
                wall += timedelta(minutes=1)
        raise InvalidInput(f"cron: {self.text!r} is never due")  # parse() rules this out


def _parse_field(text: str, name: str, low: int, high: int, names: dict[str, int]) -> set[int]:
    values: set[int] = set()
    for item in text.split(","):
        body, slash, step_text = item.partition("/")
        step = 1
        if slash:
            if not step_text.isdigit() or int(step_text) == 0:
                raise InvalidInput(f"cron: bad step {item!r} in the {name} field")
            step = int(step_text)
        if body == "*":
            first, last = low, high
        elif "-" in body:
            start, _, stop = body.partition("-")
            first = _value(start, name, low, high, names)
            last = _value(stop, name, low, high, names)
            if first > last:
                raise InvalidInput(f"cron: range {body!r} runs backwards in the {name} field")
        else:
            first = _value(body, name, low, high, names)
            last = high if slash else first  # '5/15' means 5, 20, 35, 50
        values.update(range(first, last + 1, step))
    return values


def _value(text: str, name: str, low: int, high: int, names: dict[str, int]) -> int:
    key = text.strip().lower()
    if key in names:
        return names[key]
    if not key.isdigit():
        raise InvalidInput(f"cron: {text!r} is not a valid {name}")
    value = int(key)
    if not low <= value <= high:
        raise InvalidInput(f"cron: {value} is out of range for the {name} field ({low}-{high})")
    return value


def _longest_month(month: int) -> int:
    return 29 if month == 2 else calendar.monthrange(2001, month)[1]


def _first_at_least(values: tuple[int, ...], floor: int) -> int | None:
    return next((value for value in values if value >= floor), None)


def _wall(instant: float, zone: tzinfo) -> datetime:
    """The naive local wall-clock time of ``instant`` in ``zone``."""
    return datetime.fromtimestamp(instant, zone).replace(tzinfo=None)


def _instant(wall: datetime, zone: tzinfo) -> float:
    """When the clocks in ``zone`` show ``wall``: the first time, or at the jump over a gap."""
    first = wall.replace(tzinfo=zone, fold=0)
    if _wall(first.timestamp(), zone) == wall:
        return first.timestamp()
    # The clocks skip this time (spring forward): due at the first wall time that exists.
    later = wall
    while True:
        later += timedelta(minutes=1)
        candidate = later.replace(tzinfo=zone, fold=0)
        if _wall(candidate.timestamp(), zone) == later:
            return candidate.timestamp()


def _next_day(wall: datetime) -> datetime:
    return wall.replace(hour=0, minute=0) + timedelta(days=1)


def _first_of_next_month(wall: datetime) -> datetime:
    if wall.month == 12:
        return wall.replace(year=wall.year + 1, month=1, day=1, hour=0, minute=0)
    return wall.replace(month=wall.month + 1, day=1, hour=0, minute=0)
