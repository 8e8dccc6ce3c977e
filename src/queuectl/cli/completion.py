"""The completion command: the shell script that completes queuectl's commands and flags."""

from __future__ import annotations

import click

# Click runs its completion when this variable is set (see cli/plain_enqueue.py as well).
COMPLETE_VARIABLE = "_QUEUECTL_COMPLETE"


@click.command()
@click.argument("shell", metavar="SHELL", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> None:
    """Print the completion script for SHELL (bash, zsh or fish).

    \b
    Examples:
      eval "$(queuectl completion bash)"                                   # in ~/.bashrc
      queuectl completion zsh > "${fpath[1]}/_queuectl"
      queuectl completion fish > ~/.config/fish/completions/queuectl.fish
    """
    from click.shell_completion import get_completion_class

    from .group import root

    script_class = get_completion_class(shell)
    assert script_class is not None  # every choice above is one of Click's shells
    script = script_class(root, {}, "queuectl", COMPLETE_VARIABLE).source()
    click.echo(script.rstrip("\n"))
