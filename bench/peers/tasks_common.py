"""The one job every Python peer runs: a shell command, as queuectl and the ceiling do."""

from __future__ import annotations

import subprocess


def run_command(command: str) -> int:
    return subprocess.run(command, shell=True, check=False).returncode


def run_capture(command: str) -> str:
    """Run a command and return what it printed (the latency benchmark's `date +%s.%N`)."""
    return subprocess.run(command, shell=True, check=False, capture_output=True,
                          text=True).stdout
