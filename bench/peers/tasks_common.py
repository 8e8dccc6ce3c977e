"""The one job every Python peer runs: a shell command, as queuectl and the ceiling do."""

from __future__ import annotations

import subprocess


def run_command(command: str) -> int:
    return subprocess.run(command, shell=True, check=False).returncode
