from __future__ import annotations

import math

import pytest

from queuectl.errors import InvalidInput
from queuectl.units import (
    format_duration,
    format_size,
    format_timestamp,
    format_timestamp_to_second,
    human_duration,
    human_rate,
    parse_duration,
    parse_size,
    parse_timestamp,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30", 30.0), ("1.5", 1.5), ("30s", 30.0), ("250ms", 0.25), ("5m", 300.0), ("2h", 7200.0),
     ("1d", 86400.0), (" 10 s ", 10.0), (7, 7.0), (0.5, 0.5)],
)
def test_durations_parse(text: str | float, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "abc", "5 minutes", "-1", "1w", "1.2.3s", True])
def test_bad_durations_are_invalid_input(text: str) -> None:
    with pytest.raises(InvalidInput, match="duration"):
        parse_duration(text, field="timeout")


def test_negative_number_duration_is_refused() -> None:
    with pytest.raises(InvalidInput, match="negative"):
        parse_duration(-3)


@pytest.mark.parametrize(
    ("seconds", "text"), [(0.5, "500ms"), (90, "90s"), (3600, "1h"), (120, "2m"), (86400, "1d")]
)
def test_durations_format(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
    assert parse_duration(text) == seconds


def test_sizes() -> None:
    assert parse_size("1MiB") == 1024 * 1024
    assert parse_size("512k") == 512 * 1024
    assert parse_size("4096") == 4096
    assert format_size(1024 * 1024) == "1MiB"
    with pytest.raises(InvalidInput):
        parse_size("lots")


def test_timestamps_round_trip_in_utc_with_z() -> None:
    assert format_timestamp(0.0) == "1970-01-01T00:00:00.000Z"
    assert parse_timestamp("2026-11-04T10:30:00Z") == parse_timestamp("2026-11-04T11:30:00+01:00")
    assert parse_timestamp("2026-11-04T10:30:00") == parse_timestamp("2026-11-04T10:30:00Z")
    assert format_timestamp(None) is None
    with pytest.raises(InvalidInput, match="ISO 8601"):
        parse_timestamp("yesterday")


@pytest.mark.parametrize(("timestamp", "shown"), [
    (1_796_521_385.999, "2026-12-06T01:43:05Z"),  # cut to the second, never rounded up
    (1e12, "+33658-09-27T01:46:40Z"),  # a year past 9999 keeps all its digits
    (-1e12, "-29719-04-05T22:13:20Z"),
    (1e300, "invalid time (1e+300)"),  # no time at all prints as itself, whole
    (None, None),
])
def test_timestamps_to_the_second_are_never_cut_to_a_width(timestamp: float | None,
                                                            shown: str | None) -> None:
    assert format_timestamp_to_second(timestamp) == shown
    assert format_timestamp_to_second(timestamp, sep=" ") == (
        shown.replace("T", " ") if shown and shown.endswith("Z") else shown)


def test_database_locations_print_without_their_password() -> None:
    from queuectl.storage import redact

    assert redact("postgresql://app:s3cret@db:5432/jobs") == "postgresql://app:***@db:5432/jobs"
    assert redact("postgresql://app@db/jobs") == "postgresql://app@db/jobs"
    assert redact("/home/me/queue.db") == "/home/me/queue.db"


@pytest.mark.parametrize(("seconds", "text"), [
    (None, "-"), (0.0123, "12ms"), (4.5, "4.5s"), (125, "2m05s"), (7300, "2h01m"), (-1, "0ms"),
    (86399, "23h59m"), (86400, "1d00h"), ((3 * 24 + 4) * 3600 + 59, "3d04h"),
    (365 * 86400 - 0.5, "364d23h"), (365 * 86400, "1y"), (87600 * 3600, "10y"),
    (1e12, "31709y"), (math.inf, "-"), (-math.inf, "-"), (math.nan, "-"),
])
def test_human_duration(seconds: float | None, text: str) -> None:
    assert human_duration(seconds) == text


@pytest.mark.parametrize(("per_second", "text"), [
    (12.5, "12.5/s"), (0.05, "3.0/min"), (0.0005, "1.8/h"), (0.0, "0.0/h"),
])
def test_human_rate(per_second: float, text: str) -> None:
    assert human_rate(per_second) == text
