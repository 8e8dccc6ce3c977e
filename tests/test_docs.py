"""Documentation is part of the feature: every command has help with an example and a README
entry."""

from __future__ import annotations

import os
import re
import subprocess
import sys
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


_PYTHON_EXAMPLE = re.compile(r"```python\n(.*?)```\n\nprints\n\n```text\n(.*?)```", re.S)


def test_the_python_api_examples_run_and_print_what_the_readme_shows(tmp_path: Path) -> None:
    section = README.split("\n## Python API\n", 1)[1].split("\n## ", 1)[0]
    examples = _PYTHON_EXAMPLE.findall(section)
    assert len(examples) == 2
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUEUECTL_")}
    env["XDG_DATA_HOME"] = str(tmp_path / "xdg")
    for code, shown in examples:
        result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                                capture_output=True, text=True, timeout=60)
        assert (result.returncode, result.stderr) == (0, ""), code
        assert result.stdout == shown, code
