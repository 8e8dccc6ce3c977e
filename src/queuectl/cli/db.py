"""The db command: the schema version of the database, and explicit upgrades."""

from __future__ import annotations

import click

from .context import Session
from .render import echo_json


@click.group()
def db() -> None:
    """Show and upgrade the database schema.

    Stores upgrade themselves when a command or worker opens them; `db upgrade` does it
    explicitly (before a rolling deploy, say), and `db status` shows where the schema is.

    \b
    Examples:
      queuectl --db postgresql://queue@db.internal/jobs db status
      queuectl db upgrade
    """


@db.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def status(session: Session, as_json: bool) -> None:
    """The schema version of the database, and the migrations an upgrade would apply.

    \b
    Example:
      queuectl db status
    """
    from ..queue import Queue

    state = Queue.schema_status(session.database)
    if as_json:
        echo_json(state.to_dict())
        return
    click.echo(f"Database: {state.location} ({state.backend})")
    if state.schema is not None:
        click.echo(f"Schema: {state.schema}")
    click.echo(f"Schema version: {state.version} of {state.latest}")
    if state.pending:
        click.echo(f"Pending: {', '.join(state.pending)} (run `queuectl db upgrade`)")
    else:
        click.echo("Up to date.")


@db.command()
@click.pass_obj
def upgrade(session: Session) -> None:
    """Apply every pending migration (safe while other workers start or run).

    \b
    Example:
      queuectl db upgrade
    """
    from ..queue import Queue

    applied = Queue.upgrade_schema(session.database)
    for name in applied:
        click.echo(f"Applied {name}")
    click.echo("Up to date." if applied else "Already up to date.")
