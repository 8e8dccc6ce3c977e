"""The ``queuectl`` command line: a thin client of ``queuectl.Queue``.

Only Click is imported at start-up; each command's module (and with it the library) is
imported when that command runs, so that ``queuectl enqueue`` in a loop stays fast.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from ..errors import QueuectlError

# command name -> "module:attribute", imported on first use
_COMMANDS = {
    "enqueue": "queuectl.cli.jobs:enqueue",
    "list": "queuectl.cli.jobs:list_jobs",
    "show": "queuectl.cli.jobs:show",
    "status": "queuectl.cli.status:status",
    "worker": "queuectl.cli.workers:worker",
    "dlq": "queuectl.cli.dlq:dlq",
    "config": "queuectl.cli.settings:config",
    "logs": "queuectl.cli.runtime:logs",
    "wait": "queuectl.cli.runtime:wait",
    "cancel": "queuectl.cli.runtime:cancel",
    "retry": "queuectl.cli.runtime:retry",
    "db": "queuectl.cli.db:db",
    "export": "queuectl.cli.transfer:export",
    "import": "queuectl.cli.transfer:import_",
    "dashboard": "queuectl.cli.dashboard:dashboard",
    "stats": "queuectl.cli.stats:stats",
    "queue": "queuectl.cli.queues:queue_group",
    "schedule": "queuectl.cli.schedule:schedule",
    "purge": "queuectl.cli.purge:purge",
}


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


def main(argv: list[str] | None = None) -> Any:
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
