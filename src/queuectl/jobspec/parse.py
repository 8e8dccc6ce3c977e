"""Job specs, as users give them, made into ``NewJob`` s: one JSON object, keyword arguments
(as a mapping), or a file with one JSON object per line. All or nothing: the first problem
is an ``InvalidInput`` naming the field (and the line, or the job's place in a batch).

A spec is a mapping such as ``{"id": "job1", "command": "echo hi", "timeout": "5m"}``; its
fields are checked by ``fields`` and bounded by ``limits``.
"""

from __future__ import annotations

from ..errors import DuplicateJob, InvalidInput
from . import fields
from .limits import MAX_ARGUMENT_BYTES, MAX_BATCH_JOBS, MAX_LINE_CHARACTERS
from .newjob import NUMBERED, NewJob
from .text import job_id, queue_name, shown

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from typing import IO, Any, TypeAlias

    from ..config import Settings

    # Lines of JSON: any iterable of text lines (a text file is one), or a binary file whose
    # bytes are UTF-8 (read_lines decodes it).
    JsonLines: TypeAlias = "Iterable[str] | IO[bytes]"

# The fields a spec may give, in the order ``queuectl enqueue --help`` names them.
FIELDS = (
    "id", "command", "max_retries", "cwd", "env", "timeout", "fatal_exit_codes",
    "retry_on_timeout", "output_limit", "priority", "run_at", "delay", "queue", "depends_on",
    "unique_key", "tags", "backoff_base", "backoff_max", "jitter", "on_finish", "webhook",
)
# Fields of a stored job that a user may see but not set.
_READ_ONLY = ("state", "attempts", "runs", "created_at", "updated_at", "exit_code", "last_error")
# The settings a job's parse reads (its max_retries, its hooks unless it gives its own):
# an enqueue refuses a value stored by hand in one of these, and only in these.
JOB_SETTINGS = ("max_retries", "on_finish", "webhook")
_CHUNK = 1 << 20  # characters read at a time from a jobs file


def load_json(text: str) -> Any:
    """The value in ``text``; ``InvalidInput`` if it is not JSON, is nested past what the
    parser allows, or is larger than one job can be."""
    if len(text) > MAX_LINE_CHARACTERS:
        raise InvalidInput(f"the JSON is too large ({len(text)} characters; at most"
                           f" {MAX_LINE_CHARACTERS})")
    import json  # here: ``enqueue --command`` needs no JSON

    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise InvalidInput(f"invalid JSON: {load_json_error(text)}") from None


def load_json_error(text: str) -> str:
    """Why ``json.loads(text)`` fails, in a few words: ``Expecting value at column 1``."""
    import json

    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        return f"{exc.msg} at column {exc.colno}"
    except RecursionError:
        return "nested too deeply"
    except ValueError as exc:  # a number of more digits than int() takes
        return str(exc).split(":")[0]
    return "no error"


def parse_job_spec(
    spec: Any, settings: Settings, *, cwd: str | None = None,
    retries_refused: str | None = None,
) -> NewJob:
    """A ``NewJob`` from a mapping such as ``{"id": "job1", "command": "echo hi"}``.

    A spec without an id gets ``NUMBERED``: the store gives it the next number. One without a
    ``cwd`` gets ``cwd`` (default: the current directory). ``retries_refused``: why the
    stored ``max_retries`` is refused (a hand edit), raised as ``InvalidInput`` only for a
    job that takes it, giving none of its own.
    """
    if not isinstance(spec, dict) and not _is_mapping(spec):
        raise InvalidInput(f"a job must be a JSON object, got {type(spec).__name__}")
    for key in spec:
        if key in _READ_ONLY:
            raise InvalidInput(f"field {key!r} is set by queuectl and cannot be given")
        if key not in FIELDS:
            raise InvalidInput(f"unknown field {shown(key)}; known fields: {', '.join(FIELDS)}")
    given = {key: value for key, value in spec.items() if value is not None}
    own_id = job_id(given["id"]) if "id" in given else NUMBERED
    command = fields.command(given.get("command"))
    if "max_retries" in given:
        retries = fields.max_retries(given["max_retries"])
    elif retries_refused is not None:
        raise InvalidInput(retries_refused)
    else:
        retries = settings.max_retries
    where = (fields.cwd(given["cwd"]) if "cwd" in given
             else cwd if cwd is not None else fields.current_directory())
    if settings.on_finish is not None or settings.webhook is not None:
        # The configured hooks are the job's own, unless it gives its own (null: none).
        for key in ("on_finish", "webhook"):
            if key not in spec and getattr(settings, key) is not None:
                given[key] = getattr(settings, key)
    if len(given) == ("id" in given) + ("max_retries" in given) + ("cwd" in given) + 1:
        return NewJob(own_id, command, retries, where)
    return NewJob(own_id, command, retries, where, **_other_fields(given, own_id))


def _other_fields(spec: dict[str, Any], own_id: str) -> dict[str, Any]:
    """The fields of ``spec`` after id, command, max_retries and cwd, as ``NewJob``
    keyword arguments."""
    checked: dict[str, Any] = {}
    if "env" in spec:
        checked["env"] = fields.env(spec["env"])
    if "timeout" in spec:
        checked["timeout"] = fields.timeout(spec["timeout"])
    if "fatal_exit_codes" in spec:
        checked["fatal_exit_codes"] = fields.exit_codes(spec["fatal_exit_codes"])
    if "retry_on_timeout" in spec:
        checked["retry_on_timeout"] = fields.flag(spec["retry_on_timeout"], "retry_on_timeout")
    if "output_limit" in spec:
        checked["output_limit"] = fields.output_limit(spec["output_limit"])
    if "priority" in spec:
        checked["priority"] = fields.priority(spec["priority"])
    if "queue" in spec:
        checked["queue"] = queue_name(spec["queue"])
    if "run_at" in spec and "delay" in spec:
        raise InvalidInput("give run_at or delay, not both")
    if "run_at" in spec:
        checked["run_at"] = fields.run_at(spec["run_at"])
    if "delay" in spec:
        checked["delay"] = fields.delay(spec["delay"])
    if "depends_on" in spec:
        checked["depends_on"] = fields.depends_on(spec["depends_on"], own_id)
    if "unique_key" in spec:
        checked["unique_key"] = fields.unique_key(spec["unique_key"])
    if "tags" in spec:
        checked["tags"] = fields.tags(spec["tags"])
    if "backoff_base" in spec:
        checked["backoff_base"] = fields.backoff_base(spec["backoff_base"])
    if "backoff_max" in spec:
        checked["backoff_max"] = fields.backoff_max(spec["backoff_max"])
    if "jitter" in spec:
        checked["jitter"] = fields.jitter(spec["jitter"])
    if "on_finish" in spec:
        checked["on_finish"] = fields.on_finish(spec["on_finish"])
    if "webhook" in spec:
        checked["webhook"] = fields.webhook(spec["webhook"])
    return checked


def parse_job_specs(
    specs: Sequence[Any], settings: Settings, name: Callable[[int], str] | None = None, *,
    retries_refused: str | None = None,
) -> list[NewJob]:
    """Validate a batch of job specifications, in order, all or nothing.

    The same as ``parse_job_spec`` for each, at less cost per job: a spec that is only
    ``{"command": ...}`` skips the checks of the fields it does not have and reads the
    current directory once for the batch. An error is prefixed with ``name(index)`` (e.g.
    ``"line 7"``) when ``name`` is given; ``retries_refused`` (see ``parse_job_spec``) is
    not, since it is the stored setting's, as when every job takes it.
    """
    if len(specs) > MAX_BATCH_JOBS:
        raise InvalidInput(f"too many jobs at once: {len(specs)} (at most {MAX_BATCH_JOBS};"
                           " enqueue them in parts)")
    jobs: list[NewJob] = []
    cwd: str | None = None
    max_retries = settings.max_retries
    # configured hooks make every job one with fields beyond the plain ones
    plain = settings.on_finish is None and settings.webhook is None
    for index, spec in enumerate(specs):
        if retries_refused is not None and _is_mapping(spec) \
                and spec.get("max_retries") is None:
            raise InvalidInput(retries_refused)
        try:
            if plain and type(spec) is dict and len(spec) == 1 and "command" in spec:
                command = spec["command"]
                # fields.command's checks, inline (a call per job costs); it words a problem.
                if (type(command) is not str or not command or not command.isascii()
                        or len(command) > MAX_ARGUMENT_BYTES or command.isspace()
                        or "\0" in command):
                    command = fields.command(command)
                if cwd is None:
                    cwd = fields.current_directory()
                jobs.append(NewJob(NUMBERED, command, max_retries, cwd))
                continue
            jobs.append(parse_job_spec(spec, settings, retries_refused=retries_refused))
        except InvalidInput as exc:
            if name is None:
                raise
            raise InvalidInput(f"{name(index)}: {exc}") from None
    _refuse_repeated_ids(jobs, name or (lambda index: f"job {index + 1}"))
    return jobs


def _refuse_repeated_ids(jobs: Sequence[NewJob], name: Callable[[int], str]) -> None:
    """A batch that gives one id twice is refused (``DuplicateJob``), naming both places:
    neither job exists, so "already exists" would send the reader looking for it."""
    given = [job.id for job in jobs if job.id != NUMBERED]
    if len(set(given)) == len(given):  # the usual batch: one pass, no loop in Python
        return
    first: dict[str, int] = {}
    for index, job in enumerate(jobs):
        if job.id == NUMBERED:
            continue
        if job.id in first:
            raise DuplicateJob(job.id, f"{name(index)}: id {shown(job.id)} is given twice"
                                       f" ({name(first[job.id])} too)")
        first[job.id] = index


def parse_job_lines(
    lines: JsonLines, settings: Settings, *, retries_refused: str | None = None
) -> tuple[list[Any], list[NewJob], Callable[[int], str]]:
    """The specs of the non-blank lines of JSON, their ``NewJob`` s, all or nothing, and the
    name of each one's line ("line 7", by index: for the errors of the store); an error names
    its line (the first bad line, be it bad JSON or a bad field).

    ``lines`` is a text or UTF-8 binary file (read in bounded pieces: a file such as /dev/zero
    is refused after its first 4 Mi characters, not read until memory runs out) or any iterable
    of lines.
    """
    import json

    lines = read_lines(lines, MAX_BATCH_JOBS)
    numbers: list[int] | None = None  # the line of each spec, once a blank one is skipped

    def name(index: int) -> str:
        return f"line {index + 1 if numbers is None else numbers[index]}"

    try:
        # The usual input, a JSON value on every line, decoded without a Python loop.
        # (decode is loads without its check for a byte order mark, which fails anyway.)
        specs = list(map(json.JSONDecoder().decode, lines))
    except (ValueError, TypeError, RecursionError):  # a blank line, bad JSON: line by line
        specs, numbers = [], []
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                specs.append(load_json(line))
            except InvalidInput as exc:
                # an earlier line's error first
                parse_job_specs(specs, settings, name, retries_refused=retries_refused)
                raise InvalidInput(f"line {number}: {exc}") from None
            numbers.append(number)
    if not specs:
        raise InvalidInput("no jobs given: the input has no JSON lines")
    return specs, parse_job_specs(specs, settings, name, retries_refused=retries_refused), name


def read_lines(source: JsonLines, most: int | None = None) -> list[str]:
    """Every line of ``source`` (a text or binary file, or an iterable of lines), each at most
    ``MAX_LINE_CHARACTERS`` long, and at most ``most`` of them (None: no bound).

    A byte order mark at the start (a file saved by a Windows editor) is dropped. Reading
    errors (bytes that are not UTF-8, a file the OS cannot read such as
    /proc/self/mem) are ``InvalidInput``, worded in one line.
    """
    lines: list[str] = []
    try:
        if not hasattr(source, "read"):  # not a file: lines of text
            for line in source:
                lines.append(line)
                if len(line) > MAX_LINE_CHARACTERS:
                    _too_long(len(lines))
                if most is not None and len(lines) > most:
                    _too_many(most)
            return _without_bom(lines)
        read = source.read
        tail = ""
        decoder = None  # for a binary file: its bytes must be UTF-8
        while chunk := read(_CHUNK):
            if not isinstance(chunk, str):
                if decoder is None:
                    import codecs

                    decoder = codecs.getincrementaldecoder("utf-8")("strict")
                chunk = decoder.decode(chunk)
            pieces = (tail + chunk).split("\n")
            tail = pieces.pop()
            if pieces and max(map(len, pieces)) > MAX_LINE_CHARACTERS:
                _too_long(len(lines) + next(number for number, line in enumerate(pieces, 1)
                                            if len(line) > MAX_LINE_CHARACTERS))
            if len(tail) > MAX_LINE_CHARACTERS:
                _too_long(len(lines) + len(pieces) + 1)
            lines += pieces
            if most is not None and len(lines) > most:
                _too_many(most)
        if decoder is not None:
            tail += decoder.decode(b"", final=True)
        if tail:
            lines.append(tail)
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"the input is not UTF-8 text (byte {exc.start} of a read)") from None
    except OSError as exc:
        raise InvalidInput(f"cannot read the input: {exc.strerror or exc}") from None
    return _without_bom(lines)


def _without_bom(lines: list[str]) -> list[str]:
    """``lines`` without the UTF-8 byte order mark that Windows editors put first."""
    if lines and lines[0].startswith("\ufeff"):
        lines[0] = lines[0][1:]
    return lines


def _too_many(most: int) -> None:
    raise InvalidInput(f"too many lines: more than {most} (enqueue the jobs in parts)")


def _too_long(number: int) -> None:
    raise InvalidInput(f"line {number}: longer than {MAX_LINE_CHARACTERS} characters")


def _is_mapping(value: object) -> bool:
    from collections.abc import Mapping

    return isinstance(value, Mapping)
