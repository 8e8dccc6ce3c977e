"""The dashboard's parameters, read and bounded in one place: query strings, forms and JSON
bodies.

Every handler takes its values from here, so that a hostile value (2^63, a 5,000-digit
number, "²", NaN, 1e400, a list where one value belongs, 10,000 characters) is refused with
``InvalidInput`` (a 400 with one line), never passed on to overflow a database integer or to
raise something that would answer 500.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request

from .. import units
from ..errors import InvalidInput
from ..units import parse_duration

MAX_TEXT = 1000  # characters of a search or a name: more is not a real search
MAX_IDS = 10_000  # job ids in one form or body
MAX_CURSOR = 2**63 - 1  # a page cursor is a job's seq: a signed 64-bit integer
_MAX_DIGITS = 19  # len(str(MAX_CURSOR)): longer is refused before int() reads it


class Fields:
    """Named values from a query string or a urlencoded form, each given at most once."""

    def __init__(self, items: Sequence[tuple[str, str]]) -> None:
        self._items = items

    @classmethod
    def query(cls, request: Request) -> Fields:
        return cls(request.query_params.multi_items())

    @classmethod
    async def form(cls, request: Request) -> Fields:
        # Our forms are urlencoded; parsing them here spares the web extra a multipart parser.
        body = (await request.body()).decode("utf-8", "replace")
        try:
            return cls(parse_qsl(body, keep_blank_values=True, max_num_fields=MAX_IDS + 100))
        except ValueError:  # more fields than that
            raise InvalidInput(f"at most {MAX_IDS} jobs at once") from None

    def items(self) -> list[tuple[str, str]]:
        return list(self._items)

    def all(self, name: str) -> list[str]:
        return [value for key, value in self._items if key == name]

    def text(self, name: str, *, most: int = MAX_TEXT) -> str | None:
        """The value, stripped; None when absent or blank."""
        values = self.all(name)
        if len(values) > 1:
            raise InvalidInput(f"{name}: give it once, got {len(values)} values")
        if not values or not values[0].strip():
            return None
        return checked_text(name, values[0].strip(), most)

    def choice(self, name: str, choices: Sequence[str]) -> str | None:
        value = self.text(name)
        if value is not None and value not in choices:
            raise InvalidInput(f"{name}: expected one of {', '.join(choices)}, "
                               f"got {_shown(value)}")
        return value

    def whole(self, name: str, *, low: int, high: int) -> int | None:
        value = self.text(name)
        return None if value is None else whole_number(name, value, low, high)

    def cursor(self, name: str) -> str | None:
        """A page cursor (``before``/``after``): a job's seq, as the pages' links give it."""
        value = self.text(name)
        if value is None:
            return None
        digits = value.isascii() and value.isdigit() and len(value) <= _MAX_DIGITS
        if not digits or int(value) > MAX_CURSOR:
            raise InvalidInput(f"{name}: invalid page cursor {_shown(value)}")
        return value

    def duration(self, name: str, *, default: str, most: float) -> float:
        """Seconds, from "90", "5m", "7d"; more than ``most`` is refused."""
        value = self.text(name) or default
        try:
            seconds = parse_duration(value, field=name)
        except OverflowError:
            seconds = math.inf
        if not 0 < seconds <= most:
            raise InvalidInput(f"{name}: must be more than 0 and at most "
                               f"{most / 86400:g} days, got {_shown(value)}")
        return seconds

    def ids(self, name: str = "ids") -> list[str]:
        # Each once: a page that names a job twice (two ticks, a hand-made form) acts on it
        # once, and the confirm step counts it once.
        values = list(dict.fromkeys(value for value in self.all(name) if value))
        if not values:
            raise InvalidInput("select at least one job first")
        if len(values) > MAX_IDS:
            raise InvalidInput(f"{name}: at most {MAX_IDS} at once, got {len(values)}")
        return [checked_text(name, value, MAX_TEXT) for value in values]


def checked_text(name: str, value: str, most: int = MAX_TEXT) -> str:
    if len(value) > most:
        raise InvalidInput(f"{name}: at most {most} characters, got {len(value)}")
    if "\x00" in value:
        raise InvalidInput(f"{name}: must not hold a NUL character")
    return value


def whole_number(name: str, value: str, low: int, high: int) -> int:
    """A whole number from ASCII digits only: "²" and Arabic-Indic digits pass
    ``str.isdigit`` but are not ours, and a 5,000-digit string must be refused before
    ``int`` reads it."""
    digits = value.strip()
    if not (digits.isascii() and digits.isdigit()) or len(digits) > _MAX_DIGITS:
        raise InvalidInput(f"{name}: expected a whole number from {low} to {high}, "
                           f"got {_shown(value)}")
    return units.whole_number(int(digits), name, low, high)


async def json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object; NaN, Infinity and numbers beyond a float are refused."""
    try:
        body = json.loads(await request.body() or b"{}", parse_constant=_no_constant,
                          parse_float=_finite_float)
    except (ValueError, RecursionError):
        raise InvalidInput("the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object")
    return body


def json_ids(body: dict[str, Any], name: str = "ids") -> list[str]:
    ids = body.get(name)
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise InvalidInput(f'give "{name}": a non-empty list of job ids')
    if len(ids) > MAX_IDS:
        raise InvalidInput(f"{name}: at most {MAX_IDS} at once, got {len(ids)}")
    return [checked_text(name, value) for value in ids]


def json_limit(body: dict[str, Any], name: str) -> int | str | None:
    """A limit from JSON for ``Queues.limit`` (which bounds it): a whole number, a string,
    or null. A float, a list or an object is refused here: ``int()`` of those answers 500."""
    value = body[name]
    if value is None or isinstance(value, str) or (
            isinstance(value, int) and not isinstance(value, bool)):
        return value if not isinstance(value, str) else checked_text(name, value, 40)
    raise InvalidInput(f"{name}: expected a whole number or null, got {json.dumps(value)[:40]}")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number here")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is too large")
    return value


def _shown(value: str) -> str:
    """A value as an error message quotes it: never 10,000 characters of it."""
    return repr(value if len(value) <= 40 else value[:40] + "…")
