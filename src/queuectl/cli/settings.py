"""The config command: read and change settings stored in the database."""

from __future__ import annotations

import click

from ..config import KEYS, canonical_key
from .context import Session
from .render import echo_json, warn_refused
from .visible import visible


@click.group(
    help="Read and change settings, stored in the database.\n\nKeys: " + ", ".join(KEYS)
    + "\n\n\b\nExample:\n  queuectl config set max-retries 5\n  queuectl config list"
)
def config() -> None:
    pass


@config.command("set", context_settings={"ignore_unknown_options": True})
@click.argument("key")
@click.argument("value")
@click.pass_obj
def set_value(session: Session, key: str, value: str) -> None:
    """Set KEY to VALUE; the value is validated first.

    \b
    Examples:
      queuectl config set max-retries 5
      queuectl config set backoff_base 3
      queuectl config set lease_duration 1m
    """
    key, stored = session.queue.config_set(key, value)
    click.echo(f"{key} = {visible(stored)}")


@config.command("get")
@click.argument("key", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def get_value(session: Session, key: str | None, as_json: bool) -> None:
    """Print the effective value of KEY; without KEY, every setting (as `config list`).

    \b
    Examples:
      queuectl config get max_retries
      queuectl config get
    """
    queue = session.existing_queue
    name = None if key is None else canonical_key(key)
    values, refused = queue.config_listing()
    if name is None:
        _print_settings(values, as_json)
    elif as_json:
        echo_json({name: values[name]})
    else:
        click.echo(visible(values[name]))
    warn_refused(refused, name)


@config.command("unset")
@click.argument("key")
@click.pass_obj
def unset_value(session: Session, key: str) -> None:
    """Forget the stored value of KEY: its default applies again.

    \b
    Example:
      queuectl config unset backoff_base
    """
    click.echo(f"{session.queue.config_unset(key)} reset to its default")


@config.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def list_values(session: Session, as_json: bool) -> None:
    """Every key with its effective value.

    \b
    Example:
      queuectl config list
    """
    values, refused = session.existing_queue.config_listing()
    _print_settings(values, as_json)
    warn_refused(refused)


def _print_settings(values: dict[str, str], as_json: bool) -> None:
    if as_json:
        echo_json(values)
        return
    for key, value in values.items():
        # A value stored by hand (an on_finish command) may hold control characters.
        click.echo(f"{key:<15} {visible(value):<10} {KEYS[key].help}")
