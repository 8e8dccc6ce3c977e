"""Fixtures shared by the CLI tests."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from tests.helpers import Cli


@pytest.fixture(scope="session")
def busy_queue(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A queue with a job run, a schedule and a setting: something for every reader. Made
    once (a worker and four runs of the CLI: 0.3 s) for the 40-odd tests of ``busy``."""
    home = tmp_path_factory.mktemp("busy")
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUEUECTL_")}
    env.update(QUEUECTL_DB=str(home / "queue.db"), XDG_DATA_HOME=str(home / "xdg"),
               NO_COLOR="1")
    cli = Cli(env, home)
    cli("enqueue", "-c", "echo hello", "--id", "j1")
    cli("worker", "start", "--burst", "--quiet", timeout=120)
    cli("schedule", "add", "nightly", "--every", "1d", "-c", "true")
    cli("config", "set", "max_retries", "5")
    assert not list(home.glob("queue.db-*")), "the CLI left a WAL behind: copy it too"
    return home / "queue.db"


@pytest.fixture
def busy(cli: Cli, busy_queue: Path) -> Cli:
    """The busy queue, the test's own copy (some of the commands run on it write)."""
    shutil.copyfile(busy_queue, cli.env["QUEUECTL_DB"])
    return cli
