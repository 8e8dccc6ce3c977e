"""The Click side of the command line: the root group, its lazily loaded commands, and the
mapping of errors to exit codes.

Only this module and the commands import Click; ``cli.main`` imports it for every command
line except the plain forms of ``enqueue`` (see ``cli/plain_enqueue.py``).
"""

from __future__ import annotations

import importlib
import sys
from typing import Any, NoReturn

import click

from ..errors import QueuectlError
from . import _COMMANDS
from .render import OutputFailed, guard_stdout, output_failed, reader_left


class _ReaderLeft(Exception):
    """Our output's reader left (EPIPE). Raised instead of ``BrokenPipeError``, which Click
    itself catches, to exit 1."""


class LazyGroup(click.Group):
    def make_context(self, info_name: str | None, args: list[str],
                     parent: click.Context | None = None, **extra: Any) -> click.Context:
        try:  # --help and --version write while the command line is parsed
            return super().make_context(info_name, args, parent, **extra)
        except BrokenPipeError:
            raise _ReaderLeft from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            raise _ReaderLeft from None

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0]
        if name in _COMMANDS or name.startswith("-") or ctx.resilient_parsing:
            return super().resolve_command(ctx, args)
        # Click suggests from the commands it has loaded, and this group loads none up front.
        from difflib import get_close_matches

        close = [repr(match)
                 for match in get_close_matches(name, self.list_commands(ctx), n=2, cutoff=0.7)]
        hint = f" Did you mean {' or '.join(close)}?" if close else ""
        raise click.UsageError(f"No such command {name!r}.{hint}", ctx)

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


# Click 8.2+ shows the help, as a usage error, for a group given no command.
_HELP_INSTEAD: tuple[type[Exception], ...] = tuple(
    getattr(click.exceptions, name) for name in ("NoArgsIsHelpError",)
    if hasattr(click.exceptions, name)
)


def one_line(exc: click.ClickException) -> str:
    """A Click error as one line, as every other error is printed: Click's usage errors take
    four (the usage, a hint, a blank line, the error). The hint stays, shorter."""
    message = " ".join(exc.format_message().split())
    # A message that shows a command line says what to do already; the others point at help.
    if isinstance(exc, click.UsageError) and exc.ctx is not None and "queuectl " not in message:
        message = f"{message.rstrip('.')} (see '{exc.ctx.command_path} --help')"
    return f"error: {message}"


def run(argv: list[str] | None) -> NoReturn:
    """Run a command line through Click and exit with its code."""
    guard_stdout()
    try:
        code = root.main(args=argv, prog_name="queuectl", standalone_mode=False)
        if sys.stdout is not None:  # None: started with it closed (Click writes nothing)
            sys.stdout.flush()  # here, where a reader that left is caught, not at exit
    except (_ReaderLeft, BrokenPipeError):
        reader_left()  # `queuectl list | head -1`: exit 0, nothing on stderr
    except OutputFailed as exc:  # a full disk, say: one line, exit 1
        output_failed(exc)
    except click.ClickException as exc:
        if isinstance(exc, _HELP_INSTEAD):  # `queuectl` or `queuectl worker` alone: the help
            exc.show()
        else:
            click.echo(one_line(exc), err=True)
        sys.exit(exc.exit_code)
    except click.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except QueuectlError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    # Without standalone mode Click returns the code of ctx.exit(code) instead of exiting.
    sys.exit(code if isinstance(code, int) else 0)
