"""Values that a row edited by hand may hold and queuectl never writes, made showable.

SQLite keeps any value in any column (bytes in a command, text in a number), and both
databases keep infinities (PostgreSQL NaN too) in a time: ``list``, ``show``, the dashboard
and the JSON API show such a value as stored, marked, rather than fail on the whole page.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .models import Job


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


# The types each stored field of a Job has as queuectl writes it, for ``readable``: text,
# whole numbers, numbers (int or float), each with None where the column may be NULL, and
# what replaces a value of another type. The rest (state, env, lists, flags) rows.py decodes,
# and reads a row that fails field by field. Exact types: bool is no whole number here.
_NONE = type(None)
_FIELDS: tuple[tuple[tuple[str, ...], str, frozenset[type], Any], ...] = (
    (("id", "command", "queue"), "text", frozenset({str}), None),
    (("cwd", "last_error", "worker_id", "unique_key", "restarted_from", "signal_request",
      "on_finish", "webhook", "hook_result"), "text", frozenset({str, _NONE}), None),
    (("attempts", "max_retries", "runs", "priority", "waiting_on"), "a whole number",
     frozenset({int}), 0),
    (("exit_code", "output_limit", "paused_run", "hook_run"), "a whole number",
     frozenset({int, _NONE}), None),
    (("created_at", "updated_at", "run_at"), "a number", frozenset({int, float}), math.nan),
    (("timeout", "lease_until", "backoff_base", "backoff_max", "jitter"), "a number",
     frozenset({int, float, _NONE}), None),
)


def readable(job: Job) -> Job:
    """``job`` as it is if every field has the type queuectl writes, else with each field
    that has not replaced (text by its ``marked`` form, a number by 0 or None, a time by
    NaN, which reads ``invalid time (nan)``) and ``unreadable`` saying what was found.

    For what people and export read (one job, a page of them), not for a claim: a check per
    field costs a few microseconds a job. SQLite keeps any value in any column, so only a
    row edited by hand (the sqlite3 shell, a bad import) fails it.
    """
    values = vars(job)
    hook = values["hook_result"]
    if all(type(values[name]) in types for names, _, types, _ in _FIELDS for name in names) \
            and not (hook and _json_problem(hook)):
        return job
    from dataclasses import replace

    from .jobspec.text import shown

    changes: dict[str, Any] = {}
    problems = [job.unreadable] if job.unreadable else []
    for names, kind, types, replacement in _FIELDS:
        for name in names:
            value = values[name]
            if type(value) not in types:
                problems.append(f"{name} is not {kind}: {shown(value)}")
                changes[name] = marked(value) if kind == "text" else replacement
    if "hook_result" in changes:  # bytes: no JSON to read either, not its marked text
        changes["hook_result"] = None
    elif hook and _json_problem(hook):
        problems.append(f"hook_result is not a JSON object: {shown(hook)}")
        changes["hook_result"] = None
    return replace(job, **changes, unreadable="; ".join(problems))


def unreadable_fields(job: Job, names: tuple[str, ...]) -> str | None:
    """What ``readable`` would say of these fields of ``job`` (``timeout is not a number:
    'x'``), None if each has the type queuectl writes. For a worker about to use them: a
    claim reads rows without this check (see storage/rows.py), so text in a number reaches
    it there."""
    from .jobspec.text import shown

    values = vars(job)
    problems = [f"{name} is not {kind}: {shown(values[name])}"
                for names_of, kind, types, _ in _FIELDS for name in names_of
                if name in names and type(values[name]) not in types]
    return "; ".join(problems) or None


def _json_problem(text: str) -> bool:
    import json

    try:
        return not isinstance(json.loads(text), dict)
    except (TypeError, ValueError):
        return True
