"""A stdout that cannot take a command's output (a full disk, a file opened for reading) is
one line on stderr and exit 1, as for ``export``; never a traceback. Through the real CLI,
its stdout a real /dev/full."""

from __future__ import annotations

import subprocess
from typing import IO, Any

import pytest
from tests.helpers import Cli


def _run(cli: Cli, args: tuple[str, ...], stdout: IO[Any] | int,
         shell: str = "") -> subprocess.CompletedProcess[str]:
    """``queuectl ARGS`` with ``stdout`` as given; ``shell`` redirects (``>&-``) after it."""
    argv = cli.argv(*args)
    if shell:
        argv = ["/bin/sh", "-c", f'exec "$@" {shell}', "sh", *argv]
    return subprocess.run(argv, env=cli.env, cwd=cli.cwd, stdin=subprocess.DEVNULL,
                          stdout=stdout, stderr=subprocess.PIPE, text=True, timeout=60)


@pytest.mark.parametrize("args", [
    ("list",), ("list", "--json"), ("show", "j1"), ("show", "--json", "j1"), ("logs", "j1"),
    ("status",), ("status", "--json"), ("stats",), ("dlq", "list"), ("worker", "list"),
    ("schedule", "list"), ("config", "list"), ("queue", "list"), ("wait", "j1"),
    ("--help",), ("--version",),
    # The plain enqueue, which runs without Click, and Click's.
    ("enqueue", "-c", "true"), ("add", "true"),
], ids=" ".join)
def test_a_full_disk_under_stdout_is_one_line(busy: Cli, args: tuple[str, ...]) -> None:
    with open("/dev/full", "w") as full:
        result = _run(busy, args, full)
    assert (result.returncode, result.stderr) == (
        1, "error: cannot write to stdout: No space left on device\n")


def test_a_stdout_open_for_reading_is_one_line(busy: Cli) -> None:
    result = _run(busy, ("list",), subprocess.DEVNULL, "1</dev/null")
    assert (result.returncode, result.stderr) == (
        1, "error: cannot write to stdout: Bad file descriptor\n")


def test_a_command_started_with_stdout_closed_writes_nothing_and_ends_well(busy: Cli) -> None:
    """As Click does without a stdout: a command's output has nowhere to go (``export``,
    whose whole point is its output, refuses: see test_cli_export_errors)."""
    result = _run(busy, ("list",), subprocess.DEVNULL, ">&-")
    assert (result.returncode, result.stderr) == (0, "")
