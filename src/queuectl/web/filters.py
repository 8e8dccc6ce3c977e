"""Template filters: how times, durations and rates read on the dashboard."""

from __future__ import annotations

from urllib.parse import urlencode

from jinja2 import Environment
from starlette.requests import Request

from ..stats import human_duration as duration
from ..stats import human_rate as rate
from ..units import format_timestamp

TAIL_BYTES = 64 * 1024


def when(timestamp: float | None) -> str:
    """'2026-11-29 08:01:02Z', or '-'."""
    text = format_timestamp(timestamp)
    return "-" if text is None else text[:10] + " " + text[11:19] + "Z"


def ago(timestamp: float | None, now: float) -> str:
    return "-" if timestamp is None else duration(now - timestamp) + " ago"


def percent(fraction: float | None) -> str:
    return "-" if fraction is None else f"{fraction * 100:.1f}%"


def tail(output: bytes, limit: int = TAIL_BYTES) -> str:
    """The end of a run's output as text, cut at a line start when it is long."""
    if len(output) > limit:
        output = output[-limit:]
        newline = output.find(b"\n")
        if 0 <= newline < 1024:
            output = output[newline + 1:]
    return output.decode("utf-8", "replace")


def page_link(request: Request, **cursor: str) -> str:
    """This page's address with its filters kept and the page cursor replaced."""
    params = [(key, value) for key, value in request.query_params.multi_items()
              if key not in ("before", "after") and value]
    params += [(key, value) for key, value in cursor.items() if value]
    return request.url.path + ("?" + urlencode(params) if params else "")


def install(env: Environment) -> None:
    env.filters.update(when=when, duration=duration, ago=ago, percent=percent, rate=rate,
                       tail=tail)
    env.globals.update(page_link=page_link)
