"""The export and import commands: move a queue between stores, e.g. SQLite to PostgreSQL."""

from __future__ import annotations

import sys
from typing import TextIO

import click

from .context import Session


@click.command("export")
@click.pass_obj
def export(session: Session) -> None:
    """Write every job (with its attempt history) and setting as JSON lines to stdout.

    Stop the workers first: a job still running is exported as processing.

    \b
    Example:
      queuectl export > queue.jsonl
      queuectl --db queue.db export | queuectl --db postgresql://db.internal/jobs import
    """
    out = sys.stdout
    for line in session.existing_queue.export_lines():
        out.write(line + "\n")


@click.command("import")
@click.argument("source", type=click.File("r"), default="-")
@click.pass_obj
def import_(session: Session, source: TextIO) -> None:
    """Add the jobs and settings of an export (a file, or stdin), all or nothing.

    Jobs keep their ids, states, attempt counts and history; an id that exists already
    fails the import and nothing is written.

    \b
    Example:
      queuectl --db postgresql://db.internal/jobs import queue.jsonl
    """
    result = session.queue.import_lines(source)
    click.echo(f"Imported {result.jobs} job(s) with {result.attempts} attempt(s) and "
               f"{result.settings} setting(s).")
