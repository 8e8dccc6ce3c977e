"""Template filters: how times, durations, counts and rates read on the dashboard.

Times read relative ("3m ago", "in 2h") with the absolute time on hover; static/app.js shows
the hover in local time when the reader picks that in the footer.
"""

from __future__ import annotations

from urllib.parse import urlencode

from jinja2 import Environment
from markupsafe import Markup
from starlette.requests import Request

from ..units import format_timestamp, format_timestamp_to_second, is_setting_span
from ..units import human_duration as duration
from ..units import human_rate as rate


def when(timestamp: float | None) -> str:
    """'2026-11-29 08:01:02Z', or '-'."""
    text = format_timestamp_to_second(timestamp, sep=" ")
    return "-" if text is None else text


def ago(timestamp: float | None, now: float) -> str:
    return "-" if timestamp is None else duration(now - timestamp) + " ago"


def relative(timestamp: float, now: float) -> str:
    """'3m05s ago', 'in 2h', 'now' (within a second)."""
    delta = timestamp - now
    if abs(delta) < 1:
        return "now"
    return f"in {duration(delta)}" if delta > 0 else f"{duration(-delta)} ago"


def moment(timestamp: float | None, now: float) -> Markup:
    """A ``<time>`` element: relative text, the absolute UTC time as its title."""
    if timestamp is None:
        return Markup("-")
    iso = format_timestamp(timestamp) or ""
    if not iso.endswith("Z"):
        # A stored value that is no time (text SQLite kept, an infinity) has no distance from
        # now: shown as schedule list shows it, "invalid time ('soon')".
        return Markup.escape(iso)
    return Markup('<time datetime="{}" title="{}">{}</time>').format(
        iso, when(timestamp), relative(timestamp, now))


def span(seconds: float | None) -> str:
    """A job's setting in seconds ('30.0s', '2m05s'), or '-' for none, and for a value no
    setting can hold (zero or less, infinite or NaN: a row edited by hand), which
    ``duration`` would read as '0ms'."""
    return duration(seconds) if is_setting_span(seconds) else "-"


def grouped(number: int | float | None) -> str:
    """12345 -> '12,345'."""
    if number is None:
        return "-"
    return f"{number:,}" if isinstance(number, int) else f"{number:,.1f}"


def percent(fraction: float | None) -> str:
    return "-" if fraction is None else f"{fraction * 100:.1f}%"


# The page cursor, and what a redirect after an action said once.
_NOT_KEPT = ("before", "after", "done", "count", "retried", "left", "deleted")


def page_link(request: Request, **cursor: str) -> str:
    """This page's address with its filters kept and the page cursor replaced."""
    params = [(key, value) for key, value in request.query_params.multi_items()
              if key not in _NOT_KEPT and value]
    params += [(key, value) for key, value in cursor.items() if value]
    return request.url.path + ("?" + urlencode(params) if params else "")


def install(env: Environment) -> None:
    env.filters.update(when=when, duration=duration, span=span, ago=ago, percent=percent, rate=rate,
                       moment=moment, num=grouped)
    env.tests.update(setting_span=is_setting_span)
    env.globals.update(page_link=page_link)
