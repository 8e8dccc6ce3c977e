"""Documentation is part of the feature: every command has help with an example and a README
entry."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from queuectl.cli import _COMMANDS, root

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def _commands() -> list[tuple[str, click.Command]]:
    found = []
    ctx = click.Context(root)
    for name in _COMMANDS:
        command = root.get_command(ctx, name)
        assert command is not None, name
        if isinstance(command, click.Group):
            found += [(f"{name} {sub}", command.commands[sub]) for sub in command.commands]
        else:
            found.append((name, command))
    return found


@pytest.mark.parametrize(("name", "command"), _commands(), ids=lambda v: str(v))
def test_every_command_is_in_the_readme_and_has_an_example(
    name: str, command: click.Command
) -> None:
    assert f"queuectl {name}" in README, f"README does not show `queuectl {name}`"
    assert "Example" in (command.help or ""), f"`queuectl {name} --help` has no example"
