"""Moving a queue between stores: ``queuectl export > queue.jsonl``, ``queuectl import``.

The format is JSON lines: a header, then the stored settings, then every job oldest first with
its whole attempt history, exactly as stored (states, counters, times in POSIX seconds, output
in base64). Any two backends can exchange it, SQLite to PostgreSQL being the usual move.

    {"kind": "queuectl-export", "version": 3}
    {"kind": "config", "key": "max_retries", "value": "5"}
    {"kind": "queue", "name": "video", "paused": true, "limit": 2}
    {"kind": "schedule", "schedule": {"name": "backup", "cron": "0 2 * * *", ...}}
    {"kind": "job", "job": {"id": "build-42", "state": "dead", ...}, "attempts": [...]}
    {"kind": "end", "settings": 1, "queues": 1, "schedules": 1, "jobs": 1}

The end record (version 2 on) is written last, once everything before it was: an export cut
short (a full disk, a database that failed half way, a job row that cannot be exported) lacks
it, and ``import`` refuses such a file rather than take part of a queue for the whole. Its
counts catch lines lost from the middle. Files of version 1, written before the end record,
are still read without one. Version 3 added the queues' settings (paused, concurrency limit),
which files of versions 1 and 2 lack: their queues import unpaused and unlimited.

Stop the workers before exporting: a job still running is exported as processing, and on the
new store it is rescued like the run of any lost worker once its lease has expired.
An import is all or nothing: every line is checked first, then everything is written in one
transaction; a job id or schedule name that exists already fails the whole import. Env
variables whose names are not portable (from a store older than that rule), in jobs and in
schedules' job templates, are left out, and ``Imported`` says which (see
``jobspec.stored.portable_env``).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from typing import Any

from . import config
from .errors import DuplicateSchedule, InvalidInput, QueuectlError, UnknownDependency
from .jobspec.limits import MAX_QUEUE_LIMIT
from .jobspec.parse import load_json_error, read_lines
from .jobspec.stored import (
    check_stored_attempt,
    check_stored_job,
    check_stored_schedule,
    schedule_without_unportable_env,
    without_unportable_env,
)
from .jobspec.text import queue_name, shown
from .listing import JobQuery
from .models import Attempt, Job, JobState, QueueInfo
from .recurring import Schedule, schedule_name, time_zone
from .storage import Storage

FORMAT = "queuectl-export"
VERSION = 3  # 2: ends with an end record; 3: queues' settings
READABLE_VERSIONS = (1, 2, 3)
# What the end record counts, in its order, by version.
_COUNTED = {2: ("settings", "schedules", "jobs"), 3: ("settings", "queues", "schedules", "jobs")}
_PAGE = 500
# Fields of Job that describe the call that returned it, not the stored job.
_NOT_STORED = frozenset({"unique_conflict"})
_JOB_FIELDS = {f.name: f for f in fields(Job) if f.name not in _NOT_STORED}
_ATTEMPT_FIELDS = {f.name for f in fields(Attempt)} - {"job_id", "output"}
_SCHEDULE_FIELDS = {f.name for f in fields(Schedule)}


@dataclass(frozen=True)
class Imported:
    jobs: int
    attempts: int
    settings: int
    schedules: int = 0
    # Variables left out of the jobs' env, their names not portable: how many jobs had
    # some, and the names, sorted.
    env_left_out_jobs: int = 0
    env_left_out: tuple[str, ...] = ()
    # The same for the env of the schedules' job templates.
    env_left_out_schedules: int = 0
    schedule_env_left_out: tuple[str, ...] = ()
    queues: int = 0  # queues paused or limited


def _jobs_oldest_first(storage: Storage) -> Iterator[Job]:
    """Every job, oldest first, page by page (newest-first pages, walked from the end)."""
    pages = []
    page = storage.search_jobs(JobQuery(), _PAGE)
    while True:
        pages.append([job.id for job in page.jobs])
        if page.older is None:
            break
        page = storage.search_jobs(JobQuery(), _PAGE, before=page.older)
    for ids in reversed(pages):
        for job_id in reversed(ids):
            job = storage.get(job_id)
            if job is not None:  # deleted while we read: it is not part of the export
                yield job


def _job_record(job: Job, attempts: list[Attempt]) -> dict[str, Any]:
    stored = {name: getattr(job, name) for name in _JOB_FIELDS}
    stored["state"] = job.state.value
    stored["env"] = dict(job.env) if job.env else None
    for name, value in stored.items():
        if isinstance(value, tuple):
            stored[name] = list(value)
    history = [
        {**{name: getattr(a, name) for name in sorted(_ATTEMPT_FIELDS)},
         "output": base64.b64encode(a.output).decode("ascii")}
        for a in attempts
    ]
    return {"kind": "job", "job": stored, "attempts": history}


def export_lines(storage: Storage) -> Iterator[str]:
    """The store as JSON lines (without line ends).

    ``QueuectlError``, before the first line, if a schedule's row is one import would
    refuse (see ``_schedule_line``).
    """
    schedules = [_schedule_line(schedule) for schedule in storage.schedules()]
    queues = [_queue_line(queue) for queue in storage.queues()
              if queue.paused or queue.limit is not None]
    settings = sorted(storage.config_items().items())
    yield json.dumps({"kind": FORMAT, "version": VERSION})
    for key, value in settings:
        yield _line({"kind": "config", "key": key, "value": value}, f"setting {shown(key)}",
                    f"set it with queuectl config set {key} VALUE, or unset it")
    yield from queues
    yield from schedules
    jobs = 0
    for job in _jobs_oldest_first(storage):
        if job.unreadable:  # exported as read, it would come back changed
            raise QueuectlError(f"cannot export job {shown(job.id)}: unreadable row: "
                                f"{job.unreadable} (fix its row or remove it with queuectl "
                                f"remove {job.id})")
        yield _line(_job_record(job, storage.attempts(job.id)), f"job {shown(job.id)}",
                    f"fix its row or remove it with queuectl remove {job.id}", sort_keys=True)
        jobs += 1
    yield json.dumps({"kind": "end", "settings": len(settings), "queues": len(queues),
                      "schedules": len(schedules), "jobs": jobs})


def _line(record: dict[str, Any], what: str, fix: str, *, sort_keys: bool = False) -> str:
    """``record`` as a JSON line; ``QueuectlError`` naming ``what`` and the field if a row
    edited by hand holds a value JSON cannot carry (SQLite keeps bytes in any column)."""
    try:
        return json.dumps(record, sort_keys=sort_keys)
    except (TypeError, ValueError):
        problem = _unwritable(record) or "a value JSON cannot carry"
        raise QueuectlError(f"cannot export {what}: {problem} ({fix})") from None


def _unwritable(value: Any, path: str = "") -> str | None:
    """Where in ``value`` the first value JSON cannot carry is, and what it is:
    ``"command: b'\\xff' is no JSON value"``; None if there is none."""
    if isinstance(value, dict):
        items: Iterable[tuple[str, Any]] = ((f"{path}.{key}" if path else str(key), item)
                                            for key, item in value.items())
    elif isinstance(value, list):
        items = ((f"{path}[{index}]", item) for index, item in enumerate(value))
    else:
        try:
            json.dumps(value)
            return None
        except (TypeError, ValueError):
            # A job's fields sit under "job": its own name is enough.
            return f"{path.removeprefix('job.')}: {shown(value)} is no JSON value"
    return next((found for key, item in items if (found := _unwritable(item, key))), None)


def _schedule_line(schedule: Schedule) -> str:
    """``schedule``'s line of an export, checked as import will check it. A row that import
    would refuse (edited by hand: a template that is no JSON object, a field of the wrong
    type) is refused here rather than written raw, since one refused line fails the whole
    import: an export that cannot be imported back is worse than none."""
    problem = schedule.template_problem()
    if problem is None:
        stored = {name: getattr(schedule, name) for name in sorted(_SCHEDULE_FIELDS)}
        stored["job"] = dict(schedule.job)
        problem = _unwritable(stored)
    if problem is None:
        line = json.dumps({"kind": "schedule", "schedule": stored}, sort_keys=True)
        try:
            _schedule_from(json.loads(line))
            return line
        except InvalidInput as exc:
            problem = str(exc).removeprefix(f"schedule {shown(schedule.name)}: ")
    raise QueuectlError(f"cannot export schedule {shown(schedule.name)}: {problem} (fix its "
                        "row or remove it with queuectl schedule remove)")


def _queue_line(queue: QueueInfo) -> str:
    """``queue``'s settings as a line of an export, checked as import will check them (a row
    edited by hand, e.g. a limit of 0 or a name in bytes, is refused here, as schedules are)."""
    line = json.dumps({"kind": "queue", "name": queue.name, "paused": queue.paused,
                       "limit": queue.limit})
    try:
        _queue_from(json.loads(line))
    except InvalidInput as exc:
        raise QueuectlError(f"cannot export the settings of queue {shown(queue.name)}: {exc} "
                            "(fix its row in the queues table)") from None
    return line


def _queue_from(record: dict[str, Any]) -> QueueInfo:
    if set(record) != {"kind", "name", "paused", "limit"}:
        raise InvalidInput("a queue record needs exactly the fields kind, name, paused, limit")
    name = queue_name(record["name"])
    paused, limit = record["paused"], record["limit"]
    if type(paused) is not bool:
        raise InvalidInput(f"queue {name!r}: paused must be true or false, got {shown(paused)}")
    if limit is not None and (type(limit) is not int or not 1 <= limit <= MAX_QUEUE_LIMIT):
        raise InvalidInput(f"queue {name!r}: limit must be null or a whole number from 1 to "
                           f"{MAX_QUEUE_LIMIT}, got {shown(limit)}")
    return QueueInfo(name, {}, paused, limit)


def _job_from(record: dict[str, Any]) -> tuple[Job, list[Attempt], list[str]]:
    stored = record.get("job")
    if not isinstance(stored, dict):
        raise InvalidInput("a job record needs a 'job' object")
    unknown = set(stored) - set(_JOB_FIELDS)
    if unknown:
        raise InvalidInput(f"unknown job field(s): {', '.join(sorted(unknown))}")
    values = dict(stored)
    try:
        values["state"] = JobState(values.get("state"))
    except ValueError:
        raise InvalidInput(f"unknown state {values.get('state')!r}") from None
    for name, value in values.items():
        if isinstance(value, list):
            values[name] = tuple(value)
    try:
        job = Job(**values)
    except TypeError as exc:
        raise InvalidInput(f"incomplete job: {exc}") from None
    job, left_out = without_unportable_env(job)
    check_stored_job(job)
    history = record.get("attempts", [])
    if not isinstance(history, list):
        raise InvalidInput("'attempts' must be a list")
    attempts = []
    for entry in history:
        if not isinstance(entry, dict) or set(entry) != _ATTEMPT_FIELDS | {"output"}:
            raise InvalidInput(f"job {job.id!r}: malformed attempt {entry!r}"[:200])
        try:
            output = base64.b64decode(entry["output"], validate=True)
        except (ValueError, TypeError):
            raise InvalidInput(f"job {job.id!r}: attempt output is not base64") from None
        attempt = Attempt(job_id=job.id, output=output,
                          **{k: v for k, v in entry.items() if k != "output"})
        check_stored_attempt(attempt)
        attempts.append(attempt)
    return job, attempts, left_out


def _schedule_from(record: dict[str, Any]) -> tuple[Schedule, list[str]]:
    stored = record.get("schedule")
    if not isinstance(stored, dict) or set(stored) != _SCHEDULE_FIELDS:
        wanted = ", ".join(sorted(_SCHEDULE_FIELDS))
        raise InvalidInput(f"a schedule record needs exactly the fields {wanted}")
    schedule = Schedule(**stored)
    schedule_name(schedule.name)
    if not isinstance(schedule.job, dict) or (schedule.cron is None) == (schedule.every is None):
        raise InvalidInput(f"schedule {schedule.name!r}: needs a job and either cron or every")
    schedule, left_out = schedule_without_unportable_env(schedule)
    if schedule.cron is not None:
        from .cron import Cron

        Cron.parse(schedule.cron)
    time_zone(schedule.tz)
    check_stored_schedule(schedule)
    return schedule, left_out


def _header_version(record: dict[str, Any]) -> int:
    version = record.get("version")
    if record.get("kind") != FORMAT or type(version) is not int \
            or version not in READABLE_VERSIONS:
        *older, newest = map(str, READABLE_VERSIONS)
        raise InvalidInput(f"not a {FORMAT} file of version {', '.join(older)} or {newest}")
    return version


def _check_end(record: dict[str, Any], version: int, found: dict[str, int]) -> None:
    """The end record must count what came before it: a line lost from the middle (a file
    edited, or spliced from two exports) fails the import too."""
    names = _COUNTED[version]
    told = tuple(record.get(name) for name in names)
    counted = tuple(found[name] for name in names)
    if set(record) != {"kind", *names} or told != counted \
            or any(type(n) is not int for n in told):
        found_text = ", ".join(f"{name}: {n}" for name, n in zip(names, counted, strict=True))
        raise InvalidInput(f"the end record does not match the records before it ({found_text}): "
                           "the file was changed or cut (export it again; nothing imported)")


def _refuse_unknown_dependencies(storage: Storage, jobs: list[Job]) -> None:
    """``UnknownDependency`` naming the first job that still waits (pending or failed, its
    waiting_on above 0) on an id stored neither in the input nor here: nothing would ever
    count it down, as ``enqueue`` refuses such a job. A finished or ready job may depend on a
    job purged before the export: it waits for nothing."""
    ids = {job.id for job in jobs}
    for job in jobs:
        if job.waiting_on <= 0 or job.state not in (JobState.PENDING, JobState.FAILED):
            continue
        for other in job.depends_on:
            if other not in ids and storage.get(other) is None:
                raise UnknownDependency(other, f"job {job.id!r} waits on {other!r}, a job "
                                        "stored neither in the input nor here: nothing "
                                        "imported")


def import_lines(storage: Storage, lines: Iterable[str]) -> Imported:
    """Check every line, then write everything in one transaction; errors name the line."""
    settings: dict[str, str] = {}
    schedules: list[Schedule] = []
    queues: dict[str, QueueInfo] = {}
    jobs: list[Job] = []
    attempts: list[Attempt] = []
    env_left_out: set[str] = set()
    env_left_out_jobs = 0
    schedule_env_left_out: set[str] = set()
    env_left_out_schedules = 0
    version: int | None = None  # of the header, once read
    ended = False
    number = 0
    for number, line in enumerate(read_lines(lines), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise InvalidInput("expected a JSON object")
            kind = record.get("kind")
            if version is None:
                version = _header_version(record)
            elif ended:
                raise InvalidInput("a record after the end record")
            elif kind == "end":
                _check_end(record, version, {"settings": len(settings), "queues": len(queues),
                                             "schedules": len(schedules), "jobs": len(jobs)})
                ended = True
            elif kind == "queue" and version >= 3:
                queue = _queue_from(record)
                if queue.name in queues:
                    raise InvalidInput(f"queue {queue.name!r} appears twice in the input")
                queues[queue.name] = queue
            elif kind == "config":
                key = config.canonical_key(str(record.get("key")))
                settings[key] = config.normalize_value(key, str(record.get("value")))
            elif kind == "schedule":
                schedule, left_out = _schedule_from(record)
                schedules.append(schedule)
                schedule_env_left_out.update(left_out)
                env_left_out_schedules += bool(left_out)
            elif kind == "job":
                job, history, left_out = _job_from(record)
                jobs.append(job)
                attempts.extend(history)
                env_left_out.update(left_out)
                env_left_out_jobs += bool(left_out)
            else:
                raise InvalidInput(f"unknown record kind {kind!r}")
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"line {number}: invalid JSON: {exc.msg}") from None
        except (RecursionError, ValueError):  # nested too deeply, or a number of 4,300+ digits
            raise InvalidInput(f"line {number}: invalid JSON: {load_json_error(line)}") from None
        except InvalidInput as exc:
            raise InvalidInput(f"line {number}: {exc}") from None
    if version is None:
        raise InvalidInput(f"empty input: expected a {FORMAT} file")
    if version >= 2 and not ended:
        raise InvalidInput(f"the export ends early, after line {number}: it has no end record, "
                           "so part of it is missing (export it again; nothing imported)")
    ids = [job.id for job in jobs]
    if len(set(ids)) != len(ids):
        duplicate = next(job_id for job_id in ids if ids.count(job_id) > 1)
        raise InvalidInput(f"job {duplicate!r} appears twice in the input")
    _refuse_unknown_dependencies(storage, jobs)
    for schedule in schedules:
        if storage.get_schedule(schedule.name) is not None:
            raise DuplicateSchedule(schedule.name, ": nothing imported")
    storage.restore(settings, jobs, attempts, schedules, list(queues.values()))
    return Imported(len(jobs), len(attempts), len(settings), len(schedules),
                    env_left_out_jobs, tuple(sorted(env_left_out)),
                    env_left_out_schedules, tuple(sorted(schedule_env_left_out)), len(queues))
