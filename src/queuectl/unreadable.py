"""Values that a row edited by hand may hold and queuectl never writes, made showable.

SQLite keeps any value in any column (bytes in a command, text in a number), and both
databases keep infinities (PostgreSQL NaN too) in a time: ``list``, ``show``, the dashboard
and the JSON API show such a value as stored, marked, rather than fail on the whole page.
"""

from __future__ import annotations

import math
from typing import Any


def marked(value: object) -> str:
    """A value of a type queuectl never stores there, as tables show it:

    >>> marked(b"echo hi")
    "(unreadable) b'echo hi'"
    """
    from .jobspec.text import shown

    return f"(unreadable) {shown(value)}"


def jsonable(value: Any) -> Any:
    """``value`` with what strict JSON cannot carry marked (``marked``): bytes, and numbers
    that are no number (``inf``, ``nan``), which Python would write as ``Infinity``."""
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return marked(value)
    if value is None or isinstance(value, (str, int, float)):
        return value
    return marked(value)
