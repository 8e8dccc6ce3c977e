"""The export and import commands: move a queue between stores, e.g. SQLite to PostgreSQL."""

from __future__ import annotations

import sys
from typing import TextIO

import click

from ..errors import QueuectlError
from .context import Session
from .render import discard

_LEFT_OUT = "Left out env variables whose names are not portable (no job's shell passed them on)"


@click.command("export")
@click.pass_obj
def export(session: Session) -> None:
    """Write every setting (queues' too), schedule and job (with its attempt history) as JSON
    lines to stdout.

    Stop the workers first: a job still running is exported as processing. An export that
    could not be written whole exits 1, with one line on stderr saying why, and lacks the end
    record that import checks for. A reader that leaves early (`| head`) is no error: exit 0,
    as for every command.

    \b
    Example:
      queuectl export > queue.jsonl
      queuectl --db queue.db export | queuectl --db postgresql://db.internal/jobs import
    """
    out = sys.stdout
    if out is None:  # started with it closed: `queuectl export >&-`
        raise QueuectlError("cannot write the export: stdout is closed "
                            "(send it to a file: queuectl export > queue.jsonl)")
    for line in session.existing_queue.export_lines():
        _write(out, line + "\n")
    # Flushed here, where a full disk is one line of error, rather than at exit.
    _write(out, "", flush=True)


def _write(out: TextIO, text: str, *, flush: bool = False) -> None:
    """``text`` to ``out``; a stdout that cannot take it (a full disk, a file opened for
    reading) is ``QueuectlError``. A reader that left (``| head``) is not: ``cli.group``
    ends the command, with exit 0 and nothing on stderr."""
    try:
        out.write(text)
        if flush:
            out.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        discard(out)  # its unwritten rest would fail again at exit, a second error
        raise QueuectlError(f"cannot write the export to stdout: {exc.strerror or exc}") from None


@click.command("import")
@click.argument("source", type=click.File("r"), default="-")
@click.pass_obj
def import_(session: Session, source: TextIO) -> None:
    """Add the jobs, schedules and settings of an export (a file, or stdin), all or nothing.

    Jobs keep their ids, states, attempt counts and history; an id that exists already
    fails the import and nothing is written. Env variables whose names are not portable
    (from a store older than that rule) are left out of jobs and of schedules' job
    templates, and stderr says which (a line for the jobs, one for the schedules).

    \b
    Example:
      queuectl --db postgresql://db.internal/jobs import queue.jsonl
    """
    if source.isatty():  # `queuectl import` alone would wait, silently, for a paste
        raise click.UsageError("give the export to import: queuectl import queue.jsonl, "
                               "or pipe it in: queuectl export | queuectl --db ... import")
    result = session.queue.import_lines(source)
    # A queue paused or limited is a setting too (queuectl queue ...).
    click.echo(f"Imported {result.jobs} job(s) with {result.attempts} attempt(s), "
               f"{result.schedules} schedule(s) and {result.settings + result.queues} "
               "setting(s).")
    if result.env_left_out:
        click.echo(f"{_LEFT_OUT} from {result.env_left_out_jobs} job(s): "
                   f"{_names(result.env_left_out)}.", err=True)
    if result.schedule_env_left_out:
        click.echo(f"{_LEFT_OUT} from the job template of {result.env_left_out_schedules} "
                   f"schedule(s): {_names(result.schedule_env_left_out)}.", err=True)


def _names(names: tuple[str, ...], shown_at_most: int = 10) -> str:
    """The names quoted, on one line whatever they hold, the first ``shown_at_most``."""
    from ..jobspec.text import shown

    listed = ", ".join(shown(name) for name in names[:shown_at_most])
    more = len(names) - shown_at_most
    return listed + (f" and {more} more" if more > 0 else "")
