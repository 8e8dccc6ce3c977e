"""Shared test helpers: a private database per test, the real CLI, and deadline polling."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from queuectl import Queue
from queuectl.clock import FakeClock

# PostgreSQL and browser tests: left out, with one line saying why, when no server or no
# browser is there (except under CI=true).
pytest_plugins = ["tests.postgres.plugin", "tests.browser_plugin"]


def pytest_configure(config: pytest.Config) -> None:
    # A shell that starts the suite in the background makes it ignore SIGINT, and every
    # process the tests start would inherit that: give them the ordinary Ctrl-C back.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """End-to-end tests are those that run the real CLI: ``pytest -m "not e2e"`` leaves them
    out, for a quick run of the library's tests."""
    for item in items:
        if "cli" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.e2e)


def wait_until(condition: Callable[[], Any], timeout: float = 20.0, interval: float = 0.02,
               message: str = "condition") -> Any:
    """Poll ``condition`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "queue.db"


@pytest.fixture
def clock() -> FakeClock:
    """A clock that moves only when the test says so."""
    return FakeClock()


@pytest.fixture
def queue(db_path: Path, clock: FakeClock) -> Iterator[Queue]:
    """A queue over the test's SQLite file, on the fake clock."""
    with Queue(db_path, clock=clock, environ={}) as q:
        yield q


@pytest.fixture
def live_queue(db_path: Path) -> Iterator[Queue]:
    """A queue on the real clock, for workers that run on their own."""
    with Queue(db_path, environ={}) as q:
        yield q


@pytest.fixture
def cli_env(tmp_path: Path, db_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUEUECTL_")}
    env.update(QUEUECTL_DB=str(db_path), XDG_DATA_HOME=str(tmp_path / "xdg"), NO_COLOR="1")
    return env


class Cli:
    """Runs the real ``queuectl`` in a subprocess against the test's database."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env = env
        self.cwd = cwd

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "queuectl", *args]

    def __call__(self, *args: str, input: str | None = None, timeout: float = 60,
                 check: bool | int = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(self.argv(*args), env=self.env, cwd=self.cwd, input=input,
                                capture_output=True, text=True, timeout=timeout)
        expected = 0 if check is True else check
        if check is not False and result.returncode != expected:
            raise AssertionError(
                f"queuectl {' '.join(args)} exited {result.returncode}, expected {expected}\n"
                f"stdout: {result.stdout}\nstderr: {result.stderr}"
            )
        return result

    def spawn(self, *args: str, **kwargs: Any) -> subprocess.Popen[str]:
        return subprocess.Popen(self.argv(*args), env=self.env, cwd=self.cwd, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)


@pytest.fixture
def cli(cli_env: dict[str, str], tmp_path: Path) -> Iterator[Cli]:
    yield Cli(cli_env, tmp_path)
