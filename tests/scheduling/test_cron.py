"""Cron expressions: parsing, the next due time, and DST in a real time zone."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from queuectl.cron import Cron
from queuectl.errors import InvalidInput
from queuectl.units import format_timestamp, parse_timestamp

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def ticks(expression: str, start: str, count: int, zone: ZoneInfo | None = None) -> list[str]:
    """The next ``count`` due times after ``start``, as UTC ISO strings."""
    cron, at, found = Cron.parse(expression), parse_timestamp(start), []
    for _ in range(count):
        at = cron.next_after(at, zone) if zone else cron.next_after(at)
        found.append(format_timestamp(at))
    return [text[:19] + "Z" for text in found if text]


def test_every_five_minutes_from_an_odd_moment() -> None:
    assert ticks("*/5 * * * *", "2026-01-01T10:03:27Z", 3) == [
        "2026-01-01T10:05:00Z", "2026-01-01T10:10:00Z", "2026-01-01T10:15:00Z"]


def test_a_time_exactly_on_a_tick_moves_to_the_next_one() -> None:
    assert ticks("0 * * * *", "2026-01-01T10:00:00Z", 1) == ["2026-01-01T11:00:00Z"]


def test_lists_ranges_steps_and_names() -> None:
    assert ticks("15,45 9-17/4 * jan-feb mon-fri", "2026-01-02T16:00:00Z", 4) == [
        "2026-01-02T17:15:00Z", "2026-01-02T17:45:00Z",  # Friday 2 January, 17 is in 9-17/4
        "2026-01-05T09:15:00Z", "2026-01-05T09:45:00Z",  # then Monday
    ]


def test_macros() -> None:
    assert ticks("@daily", "2026-01-01T10:00:00Z", 1) == ["2026-01-02T00:00:00Z"]
    assert ticks("@hourly", "2026-01-01T10:00:00Z", 1) == ["2026-01-01T11:00:00Z"]
    assert ticks("@weekly", "2026-01-01T10:00:00Z", 1) == ["2026-01-04T00:00:00Z"]  # Sunday
    assert ticks("@monthly", "2026-01-15T10:00:00Z", 1) == ["2026-02-01T00:00:00Z"]
    assert ticks("@yearly", "2026-01-15T10:00:00Z", 1) == ["2027-01-01T00:00:00Z"]


def test_both_day_fields_restricted_means_either() -> None:
    # The 13th of the month, or any Friday (as crontab(5) says).
    assert ticks("0 0 13 * 5", "2026-02-01T00:00:00Z", 4) == [
        "2026-02-06T00:00:00Z", "2026-02-13T00:00:00Z", "2026-02-20T00:00:00Z",
        "2026-02-27T00:00:00Z"]
    assert ticks("0 0 13 * 5", "2026-03-07T00:00:00Z", 2) == [
        "2026-03-13T00:00:00Z", "2026-03-20T00:00:00Z"]


def test_sunday_is_0_and_7() -> None:
    assert ticks("0 12 * * 0", "2026-01-01T00:00:00Z", 1) == ticks(
        "0 12 * * 7", "2026-01-01T00:00:00Z", 1) == ["2026-01-04T12:00:00Z"]


def test_29_february_waits_for_a_leap_year() -> None:
    assert ticks("0 0 29 2 *", "2026-03-01T00:00:00Z", 1) == ["2028-02-29T00:00:00Z"]


def test_a_zone_shifts_wall_clock_times() -> None:
    # 09:00 in New York is 14:00 UTC in winter (EST) and 13:00 in summer (EDT).
    assert ticks("0 9 * * *", "2026-01-10T00:00:00Z", 1, NEW_YORK) == ["2026-01-10T14:00:00Z"]
    assert ticks("0 9 * * *", "2026-07-10T00:00:00Z", 1, NEW_YORK) == ["2026-07-10T13:00:00Z"]


def test_spring_forward_a_skipped_time_runs_once_at_the_jump() -> None:
    # Berlin, 29 March 2026: at 02:00 CET the clocks jump to 03:00 CEST (01:00 UTC).
    assert ticks("30 2 * * *", "2026-03-28T12:00:00Z", 3, BERLIN) == [
        "2026-03-29T01:00:00Z",  # 02:30 does not exist: at the jump, 03:00 CEST
        "2026-03-30T00:30:00Z",  # 02:30 CEST
        "2026-03-31T00:30:00Z",
    ]


def test_spring_forward_every_skipped_minute_collapses_into_one_run() -> None:
    # Every 15 minutes: 02:00, 02:15, 02:30 and 02:45 are skipped; 03:00 runs once.
    assert ticks("*/15 * * * *", "2026-03-29T00:40:00Z", 3, BERLIN) == [
        "2026-03-29T00:45:00Z",  # 01:45 CET
        "2026-03-29T01:00:00Z",  # 03:00 CEST, the jump
        "2026-03-29T01:15:00Z",  # 03:15 CEST
    ]


def test_fall_back_a_repeated_time_runs_once_the_first_time() -> None:
    # Berlin, 25 October 2026: at 03:00 CEST the clocks go back to 02:00 CET (01:00 UTC).
    assert ticks("30 2 * * *", "2026-10-24T12:00:00Z", 3, BERLIN) == [
        "2026-10-25T00:30:00Z",  # 02:30 CEST, the first of the two
        "2026-10-26T01:30:00Z",  # 02:30 CET
        "2026-10-27T01:30:00Z",
    ]


def test_fall_back_the_repeated_hour_is_not_run_again() -> None:
    assert ticks("0,30 * * * *", "2026-10-25T00:10:00Z", 4, BERLIN) == [
        "2026-10-25T00:30:00Z",  # 02:30 CEST
        "2026-10-25T02:00:00Z",  # 03:00 CET: 02:00 and 02:30 CET came before, skipped
        "2026-10-25T02:30:00Z",
        "2026-10-25T03:00:00Z",
    ]


def test_from_inside_the_repeated_hour() -> None:
    # 02:10 CET (the second pass) is 01:10 UTC: the next run is 03:00 CET, not 02:30 again.
    assert ticks("0,30 * * * *", "2026-10-25T01:10:00Z", 1, BERLIN) == ["2026-10-25T02:00:00Z"]


@pytest.mark.parametrize(("expression", "word"), [
    ("* * * *", "5 fields"),
    ("* * * * * *", "5 fields"),
    ("60 * * * *", "out of range"),
    ("* 24 * * *", "out of range"),
    ("* * 0 * *", "out of range"),
    ("* * * 13 *", "out of range"),
    ("* * * * 8", "out of range"),
    ("*/0 * * * *", "step"),
    ("*/x * * * *", "step"),
    ("5-1 * * * *", "backwards"),
    ("* * * foo *", "month"),
    ("L * * * *", "minute"),
    ("0 0 30 2 *", "never"),
    ("0 0 31 4,6,9,11 *", "never"),
    ("", "5 fields"),
])
def test_bad_expressions_are_refused_with_the_reason(expression: str, word: str) -> None:
    with pytest.raises(InvalidInput, match=word):
        Cron.parse(expression)
