"""Fixtures shared by the CLI tests."""

from __future__ import annotations

import pytest
from tests.helpers import Cli


@pytest.fixture
def busy(cli: Cli) -> Cli:
    """A queue with a job run, a schedule and a setting: something for every reader."""
    cli("enqueue", "-c", "echo hello", "--id", "j1")
    cli("worker", "start", "--burst", "--quiet", timeout=120)
    cli("schedule", "add", "nightly", "--every", "1d", "-c", "true")
    cli("config", "set", "max_retries", "5")
    return cli
