"""Fixtures for the dashboard's tests: the real ``queuectl dashboard`` in a subprocess over a
real SQLite file, and one headless Chromium (Debian's) for the whole session.

Screenshots go to ``test-artifacts/`` at the top of the repository (git-ignored).
"""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from queuectl import Queue
from tests.helpers import Cli, drain

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
XSS_COMMAND = "echo '<script>document.title=\"pwned\"</script><img src=x onerror=alert(1)>'"
SEEDED_COUNTS = {"pending": 4, "processing": 0, "completed": 4, "failed": 1, "dead": 2,
                 "canceled": 0}


class DashboardServer:
    """``queuectl dashboard --port 0 ...`` in a subprocess; ``url`` is where it listens."""

    def __init__(self, cli: Cli, *args: str, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            cli.argv("dashboard", "--port", "0", *args), env={**cli.env, **(env or {})},
            cwd=cli.cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True,
        )
        self.banner = self._first_line(timeout=30)
        match = re.search(r"http://\S+?/", self.banner)
        if match is None:
            self.stop()
            raise AssertionError(f"no address in {self.banner!r}: {self.proc.stderr!r}")
        self.url = match.group(0)

    def _first_line(self, timeout: float) -> str:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while not select.select([self.proc.stdout], [], [], 0.1)[0]:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                _, errors = self.proc.communicate(timeout=10)
                raise AssertionError(f"the dashboard did not start: {errors}")
        return self.proc.stdout.readline()

    def stop(self) -> int:
        """Ctrl-C, as a person would; the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            _, errors = self.proc.communicate(timeout=20)  # also closes the pipes
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, errors = self.proc.communicate()
        print(f"dashboard stderr:\n{errors}")  # shown when a test fails
        return self.proc.returncode



def dashboard_pages(cli: Cli, *paths: str) -> dict[str, httpx.Response]:
    """Each of ``paths`` (below the dashboard's root: ``""``, ``"jobs/j"``) as a dashboard
    started for these reads answers it; the dashboard is stopped after them."""
    server = DashboardServer(cli)
    try:
        return {path: httpx.get(server.url + path, timeout=30) for path in paths}
    finally:
        server.stop()

def seed(db_path: Path) -> None:
    """Jobs in every reachable state; SEEDED_COUNTS says how many of each."""
    with Queue(db_path, environ={}) as queue:
        queue.config_set("backoff_base", "600")  # the failed job stays failed for the test
        queue.enqueue_many([{"id": f"hello-{i}", "command": f"echo hello {i}"}
                            for i in (1, 2, 3)])
        queue.enqueue(XSS_COMMAND, id="xss")
        queue.enqueue("echo about to fail; exit 3", id="dead-1", max_retries=0)
        queue.enqueue("echo bad input >&2; exit 4", id="dead-2", max_retries=0)
        queue.enqueue("echo flaky; exit 1", id="flaky", max_retries=5)
        drain(queue)
        queue.enqueue_many([{"id": f"later-{i}", "command": "true"} for i in range(4)])


@pytest.fixture(scope="module")
def seeded_cli(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    """A CLI over a database seeded once for a module whose tests only read it."""
    home = tmp_path_factory.mktemp("seeded")
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUEUECTL_")}
    env.update(QUEUECTL_DB=str(home / "queue.db"), XDG_DATA_HOME=str(home / "xdg"),
               NO_COLOR="1")
    seed(home / "queue.db")
    return Cli(env, home)


@pytest.fixture(scope="module")
def seeded(seeded_cli: Cli) -> Iterator[DashboardServer]:
    server = DashboardServer(seeded_cli)
    yield server
    assert server.stop() == 0


@pytest.fixture
def dashboard(cli: Cli) -> Iterator[DashboardServer]:
    """A dashboard of the test's own (empty) database."""
    server = DashboardServer(cli)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (scripts/test.sh does)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context per test; any page error or CSP violation fails the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda message: problems.append(f"console: {message.text}")
            if message.type == "error" else None)

    def dismiss(dialog: Any) -> None:
        problems.append(f"dialog: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", dismiss)
    yield page
    context.close()
    assert problems == []


def screenshot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"dashboard-{name}.png"), full_page=True)
