"""Every page fits the window from a phone (390 px) to a large screen (2560 px): nothing makes
the page itself scroll sideways (a wide table scrolls inside its card), and the navigation
stays readable. Screenshots of each page and width go to test-artifacts/."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from queuectl import Queue
from tests.helpers import Cli, drain
from tests.web.conftest import DashboardServer, screenshot

WIDTHS = [390, 1024, 1440, 2560]
PAGES = ["", "jobs", "jobs/long-command", "jobs/dead-1", "dlq", "workers", "queues",
         "schedules", "jobs?state=dead&tag=nightly", "no-such-page"]
LONG = "python3 -c 'import sys; print(sys.argv)' " + " ".join(f"--option-{i}=value-{i}"
                                                             for i in range(40))


@pytest.fixture(scope="module")
def wide_data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DashboardServer]:
    """Long ids, commands, errors and names: what makes tables wide."""
    home = tmp_path_factory.mktemp("layouts")
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUEUECTL_")}
    env.update(QUEUECTL_DB=str(home / "queue.db"), XDG_DATA_HOME=str(home / "xdg"),
               NO_COLOR="1")
    with Queue(home / "queue.db", environ={}) as queue:
        queue.enqueue(LONG, id="long-command", tags=["nightly", "reports"])
        queue.enqueue("echo " + "x" * 300 + " >&2; exit 4", id="dead-1", max_retries=0,
                      tags=["nightly"], queue="a-rather-long-queue-name-for-reports")
        queue.enqueue_many([{"id": f"job-with-a-long-identifier-{i:04d}",
                             "command": f"echo {i}", "queue": f"queue-{i % 7}"}
                            for i in range(120)])
        drain(queue)
        queue.enqueue("sleep 1", id="waiting", depends_on=["long-command"], delay=3600)
        queue.queues.limit("queue-1", 3)
        queue.queues.pause("queue-2")
    cli = Cli(env, home)
    cli("schedule", "add", "a-schedule-with-a-long-name", "--cron", "*/5 * * * *", "--tz",
        "America/Argentina/Buenos_Aires", "-c", LONG)
    server = DashboardServer(cli)
    yield server
    server.stop()


@pytest.mark.parametrize("width", WIDTHS)
def test_no_page_overflows_the_window(wide_data: DashboardServer, browser: Any,
                                      width: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        overflowing = []
        for path in PAGES:
            page.goto(wide_data.url + path)
            sizes = page.evaluate("() => [document.scrollingElement.scrollWidth, innerWidth]")
            if sizes[0] > sizes[1]:
                overflowing.append((path, sizes))
            nav = page.locator("header nav a").all()
            assert all(link.is_visible() for link in nav), (path, width)
            name = (path or "overview").replace("/", "-").replace("?", "-")
            screenshot(page, f"{width}-{name}")
        assert overflowing == [], f"at {width} px"
    finally:
        context.close()


def test_the_nav_is_readable_on_a_phone(wide_data: DashboardServer, browser: Any) -> None:
    """White links on the header's own dark background, not on the page's light one."""
    context = browser.new_context(viewport={"width": 390, "height": 800})
    page = context.new_page()
    try:
        page.goto(wide_data.url)
        header_bottom = page.evaluate(
            "() => document.querySelector('header.top').getBoundingClientRect().bottom")
        for link in page.locator("header nav a").all():
            box = link.bounding_box()
            assert box is not None and box["y"] + box["height"] <= header_bottom
            assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    finally:
        context.close()
