"""Editing a waiting job: which fields a person may change, and checking the change exactly
as an enqueue checks a new job (``jobspec``), so that no edit stores what an enqueue would
refuse.

The fields are ``models.EDITABLE``; ``Job.editable()`` gives their values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .errors import InvalidInput
from .models import EDITABLE
from .units import format_timestamp

if TYPE_CHECKING:
    from .config import Settings
    from .jobspec.newjob import NewJob
    from .models import Job


def checked_edit(job: Job, changes: Mapping[str, Any], settings: Settings,
                 now: float) -> tuple[NewJob, float]:
    """The job with ``changes`` (editable fields, or ``delay`` instead of ``run_at``), checked
    as an enqueue checks a job, and when it may run: unchanged unless the change moves it."""
    from .jobspec.parse import parse_job_spec

    unknown = [key for key in changes if key not in EDITABLE and key != "delay"]
    if unknown:
        raise InvalidInput(f"{unknown[0]!r} cannot be edited; the fields that can: "
                           f"{', '.join(EDITABLE)}")
    if "delay" in changes and "run_at" in changes:
        raise InvalidInput("give run_at or delay, not both")
    spec = {**job.editable(), **changes}
    if "delay" in changes:
        del spec["run_at"]
    checked = parse_job_spec(spec, settings, cwd=job.cwd)
    # A job whose time is not changed keeps it exactly: order within a priority goes by it.
    return checked, checked.first_run_at(now) if _moves(job, changes) else job.run_at


def settings_read(changes: Mapping[str, Any]) -> tuple[str, ...]:
    """The settings an edit with ``changes`` reads: ``max_retries`` if the change clears the
    job's (null takes the setting's), else none (every other field is the job's own, and its
    hooks are not editable). A setting stored by hand stops only the edit that reads it."""
    return ("max_retries",) if "max_retries" in changes and changes["max_retries"] is None \
        else ()


def _moves(job: Job, changes: Mapping[str, Any]) -> bool:
    if "delay" in changes:
        return True
    return "run_at" in changes and changes["run_at"] != format_timestamp(job.run_at)
