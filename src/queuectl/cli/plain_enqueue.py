"""The plain forms of ``queuectl enqueue``, run without loading Click.

``queuectl enqueue`` in a shell loop pays for Python's start-up on every call, and importing
Click alone would cost more than the enqueue itself. So ``cli.main`` hands exactly these
command lines to ``run`` here, and every other one (any other flag, ``--help``, a typo) to
Click:

    queuectl [--db PATH] enqueue JSON
    queuectl [--db PATH] enqueue (-c | --command) CMD
    queuectl [--db PATH] enqueue (-f | --file) FILE        FILE may be '-' (stdin)

(also ``--db=PATH``, ``--command=CMD`` and ``--file=FILE``). For the same command line both
ways print the same text on the same stream and exit with the same code: they call the same
``Queue`` methods, the messages come from the functions below, which the Click command uses
too, and where Click would treat a stream or a failure specially this module either does
the same or leaves the command line to Click (tests/cli/test_plain_enqueue.py).
"""

from __future__ import annotations

import os
import sys

from ..errors import QueuectlError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO, Any

    from ..models import Job
    from ..queue import QueueCore

# Click's shell completion runs when this variable is set: that is Click's business.
_COMPLETION_VARIABLE = "_QUEUECTL_COMPLETE"
_VALUE_OPTIONS = {"-c": "command", "--command": "command", "-f": "file", "--file": "file"}
# Fields after which enqueue's line may say more than "Enqueued job ID: COMMAND".
_SILENT_FIELDS = frozenset({"unique_key", "depends_on", "delay", "run_at"})


class Plan:
    """A plain enqueue command line, taken apart: ``form`` is json, command or file."""

    __slots__ = ("database", "form", "value")

    def __init__(self, database: str | None, form: str, value: str) -> None:
        self.database = database
        self.form = form
        self.value = value


def parse(args: list[str]) -> Plan | None:
    """The plan for ``args`` (the command line without the program), or None when the command
    line is not one of the plain forms and Click must handle it."""
    if _COMPLETION_VARIABLE in os.environ:
        return None
    database: str | None = None
    if args and args[0] == "--db" and len(args) > 1:
        database, args = args[1], args[2:]
    elif args and args[0].startswith("--db="):
        database, args = args[0][len("--db="):], args[1:]
    if len(args) == 3 and args[0] == "enqueue" and args[1] in _VALUE_OPTIONS:
        return Plan(database, _VALUE_OPTIONS[args[1]], args[2])
    if len(args) != 2 or args[0] != "enqueue":
        return None
    option, equals, value = args[1].partition("=")
    if equals and option in ("--command", "--file"):
        return Plan(database, option[2:], value)
    if args[1].startswith("-"):  # an option, --help, or '-' (which Click takes as JSON)
        return None
    return Plan(database, "json", args[1])


def run(plan: Plan) -> None:
    """Carry out the plan, print what Click's ``enqueue`` prints, and exit with its code.

    Returns (having done nothing) only if the command line needs Click after all.
    """
    from .render import OutputFailed, guard_stdout, output_failed, reader_left

    guard_stdout()  # as for the Click commands: a stdout that fails is one line, exit 1
    lines: IO[str] | None = None
    if plan.form == "file":
        lines = _open_lines(plan.value)
        if lines is None:
            return
    try:
        try:
            _enqueue(plan, lines)
        except (EOFError, KeyboardInterrupt):
            _write(sys.stderr, "\n")  # as Click: the blank line closes the terminal's ^C echo
            _echo("Aborted.", err=True)
            sys.exit(130)
        except BrokenPipeError:
            reader_left()  # as the Click commands: the reader left, which is no error
        except OutputFailed as exc:
            output_failed(exc)
        finally:
            if lines is not None and lines is not sys.stdin:
                lines.close()
    except QueuectlError as exc:
        _echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    sys.exit(0)


def _enqueue(plan: Plan, lines: IO[str] | None) -> None:
    # The part of Queue that adds jobs: no other part loads (queue/__init__.py).
    from ..queue import QueueCore
    from .render import refused_setting

    with QueueCore(plan.database) as queue:
        # Refused here if a setting it reads was stored by hand; any other is only warned of.
        settings, refused = queue.enqueue_settings()
        for why in refused.values():
            _echo(refused_setting(why), err=True)
        _add(plan, lines, queue)
        if settings.autostart:  # opt-in: start a worker if none runs (cli/autostart.py)
            from .autostart import start_worker_if_configured

            start_worker_if_configured(queue)


def _add(plan: Plan, lines: IO[str] | None, queue: QueueCore) -> None:
    if lines is not None:
        added = queue.enqueue_many(lines, ids_only=True)
        _echo(batch_message(added.created, added.existing))
        return
    spec = {"command": plan.value} if plan.form == "command" else _simple_spec(plan.value)
    if spec is None:
        _echo(enqueued_message(queue.enqueue(queue.load_json(plan.value))))
        return
    # What Click's enqueue does (queue.enqueue), without building the Job it would print
    # from: for such a job the line needs only the id.
    [job_id] = queue.enqueue_many([spec], ids_only=True).ids
    _echo(simple_enqueued_message(job_id, spec["command"]))


def _simple_spec(text: str) -> dict[str, Any] | None:
    """The job in ``text`` if ``enqueue`` prints nothing about it but its id and command:
    none of the fields that delay it or may leave it unenqueued. None for anything else,
    invalid JSON included (``Queue.load_json`` words that error)."""
    import json

    try:
        spec = json.loads(text)
    except (ValueError, RecursionError):  # too deep: Queue.load_json words that too
        return None
    if type(spec) is not dict or not _SILENT_FIELDS.isdisjoint(spec):
        return None
    return spec


# -- what enqueue prints: shared with the Click command (cli/jobs.py) ------------------------


def enqueued_message(job: Job) -> str:
    """The line ``enqueue`` prints for one job (the job stored, or the one its unique key
    matched)."""
    from .render import when

    if job.unique_conflict:
        return (f"Job {job.id} has unique key {job.unique_key!r} and is {job.state.value}:"
                " nothing enqueued.")
    if job.state.value == "dead":
        note = f" (dead: {job.last_error})"
    elif job.waiting_on:
        note = f" (after {', '.join(job.depends_on)})"
    elif job.run_at > job.created_at:
        note = f" (runs at {when(job.run_at)})"
    else:
        note = ""
    return simple_enqueued_message(job.id, job.command) + note


def simple_enqueued_message(job_id: str, command: str) -> str:
    """The line for a job that was added, is pending and may run now."""
    from .render import shorten

    return f"Enqueued job {job_id}: {shorten(command, 60)}"


def batch_message(created: int, existing: int) -> str:
    """The line ``enqueue --file`` prints: how many jobs were added, and how many were not
    because a live job had the same unique key."""
    return (f"Enqueued {created} job{'s' if created != 1 else ''}."
            + (f" {existing} already queued (same unique key)." if existing else ""))


# -- streams, as Click treats them ------------------------------------------------------------


def _open_lines(path: str) -> IO[str] | None:
    """The file to read jobs from, as Click's ``File("r")`` would open it; None when that
    needs Click (a file it cannot open: Click words the usage error; a stdin it re-wraps)."""
    if path == "-":
        return sys.stdin if _used_as_is(sys.stdin, errors="strict") else None
    try:
        return open(path, encoding=None, errors="strict")
    except OSError:
        return None


def _used_as_is(stream: IO[str] | None, errors: str | None = None) -> bool:
    """Whether Click reads or writes ``stream`` unchanged: a text stream whose encoding is
    set and is not ASCII (Click re-wraps those as UTF-8), with the error handler it wants."""
    if stream is None:
        return False
    encoding = getattr(stream, "encoding", None)
    handler = getattr(stream, "errors", None)
    if not encoding or handler is None or (errors is not None and handler != errors):
        return False
    import codecs

    try:
        return codecs.lookup(encoding).name != "ascii"
    except LookupError:
        return True


def _echo(text: str, *, err: bool = False) -> None:
    """``click.echo(text, err=err)``, without importing Click when it would change nothing."""
    stream = sys.stderr if err else sys.stdout
    # Click strips ANSI codes when the stream is not a terminal, and re-wraps odd streams.
    if "\x1b" in text or not _used_as_is(stream):
        import click

        click.echo(text, err=err)
        return
    _write(stream, text + "\n")


def _write(stream: IO[str], text: str) -> None:
    stream.write(text)
    stream.flush()
