"""A reader that leaves before the output ends (``queuectl list | head -1``) is no error: the
command exits 0 with nothing on stderr. Click catches EPIPE itself, to exit 1, so this is
tested through the real CLI on real pipes."""

from __future__ import annotations

import os
import subprocess

import pytest
from tests.helpers import Cli


@pytest.mark.parametrize("args", [
    ("list",), ("list", "--json"), ("show", "j1"), ("logs", "j1"), ("status",),
    ("status", "--json"), ("stats",), ("export",), ("dlq", "list"), ("worker", "list"),
    ("schedule", "list"), ("config", "list"), ("queue", "list"),
    ("--help",), ("--version",), ("list", "--help"), ("schedule", "list", "--help"),
    # The plain enqueue, which runs without Click, and Click's.
    ("enqueue", "-c", "true"), ("enqueue", '{"command": "true"}'), ("add", "true"),
    ("enqueue", "-c", "true", "--priority", "2"),
], ids=" ".join)
def test_a_reader_gone_before_the_first_line_is_no_error(busy: Cli,
                                                         args: tuple[str, ...]) -> None:
    """The pipe's reading end is closed before the command starts: its first write fails."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = subprocess.run(busy.argv(*args), env=busy.env, cwd=busy.cwd,
                                stdin=subprocess.DEVNULL, stdout=write_end,
                                stderr=subprocess.PIPE, text=True, timeout=60)
    finally:
        os.close(write_end)
    assert (result.returncode, result.stderr) == (0, "")


def test_a_reader_that_leaves_after_a_line_is_no_error(cli: Cli) -> None:
    """As ``queuectl list --json | head -1``: more than a pipe holds (64 kB), so the command
    is still writing when the reader leaves."""
    cli("enqueue", "--file", "-", input="".join(
        f'{{"id": "j{i}", "command": "echo {"x" * 400}"}}\n' for i in range(300)))
    proc = subprocess.Popen(cli.argv("list", "--json", "--limit", "300"), env=cli.env,
                            cwd=cli.cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    with proc.stdout, proc.stderr:
        assert proc.stdout.readline() == b"[\n"
        proc.stdout.close()
        errors = proc.stderr.read()
    assert (proc.wait(timeout=60), errors) == (0, b"")
