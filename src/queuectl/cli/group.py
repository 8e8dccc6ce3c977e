"""The Click side of the command line: the root group, its lazily loaded commands, and the
mapping of errors to exit codes.

Only this module and the commands import Click; ``cli.main`` imports it for every command
line except the plain forms of ``enqueue`` (see ``cli/plain_enqueue.py``).
"""

from __future__ import annotations

import importlib
import sys
from typing import NoReturn

import click

from ..errors import QueuectlError
from . import _COMMANDS


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = _COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, attribute = target.split(":")
        command: click.Command = getattr(importlib.import_module(module), attribute)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db", "database", metavar="PATH", envvar="QUEUECTL_DB", show_envvar=True,
    help="Database file (default: $XDG_DATA_HOME/queuectl/queue.db, one queue per user).",
)
@click.version_option(package_name="queuectl", prog_name="queuectl")
@click.pass_context
def root(ctx: click.Context, database: str | None) -> None:
    """A durable background job queue for shell commands.

    \b
    Example:
      queuectl enqueue '{"id":"job1","command":"echo hello","max_retries":3}'
      queuectl worker start --count 2
      queuectl status
    """
    from .context import Session

    ctx.obj = Session(database)
    ctx.call_on_close(ctx.obj.close)


def run(argv: list[str] | None) -> NoReturn:
    """Run a command line through Click and exit with its code."""
    try:
        code = root.main(args=argv, prog_name="queuectl", standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except QueuectlError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except BrokenPipeError:
        sys.stderr.close()  # `queuectl list | head`: the reader left, which is fine
        sys.exit(0)
    # Without standalone mode Click returns the code of ctx.exit(code) instead of exiting.
    sys.exit(code if isinstance(code, int) else 0)
