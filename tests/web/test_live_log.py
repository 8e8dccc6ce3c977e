"""The job page's log in a real browser: it opens at the end, asks only for new bytes, follows
while the reader is at the bottom and keeps their place when they scroll up."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from queuectl import Queue
from tests.helpers import Cli, WorkerPool, drain, wait_until
from tests.web.conftest import DashboardServer, screenshot

TIMEOUT_MS = 20_000
# Prints numbered lines, five every 20 ms, for about 12 s: the test ends it by canceling.
# Several lines arrive between two polls of the page (one a second), as from a busy job;
# one line every 20 ms made the test wait 8 s for the 250 lines it reads.
TALKER = ('i=0; while [ $i -lt 3000 ]; do echo "line $i"; i=$((i+1));'
          ' if [ $((i % 5)) -eq 0 ]; then sleep 0.02; fi; done')

_AT_BOTTOM = "e => e.scrollHeight - e.scrollTop - e.clientHeight <= 8"


def _lines(page: Any) -> int:
    count: int = page.locator("#log").evaluate("e => e.textContent.split('\\n').length")
    return count


def test_a_finished_long_log_opens_at_its_end_with_a_download(
    cli: Cli, dashboard: DashboardServer, workers: WorkerPool, page: Any
) -> None:
    cli("enqueue", "--command", "seq 1 20000", "--id", "long")  # 108,894 bytes
    workers.start(1)
    cli("wait", "long", "--timeout", "30")
    page.goto(dashboard.url + "jobs/long")
    log = page.locator("#log")
    assert log.evaluate(_AT_BOTTOM)
    assert log.inner_text().rstrip().endswith("19999\n20000")
    assert "The first" in page.locator(".cut").inner_text()  # older output is not shown
    href = page.locator("#log-download").get_attribute("href")
    with page.expect_download() as download:
        page.click("#log-download")
    assert href == "/jobs/long/runs/1/output"
    lines = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    assert lines == [str(n) for n in range(1, 20001)]


def test_the_live_log_follows_at_the_bottom_and_stays_put_when_scrolled_up(
    cli: Cli, dashboard: DashboardServer, workers: WorkerPool, page: Any
) -> None:
    cli("enqueue", "--command", TALKER, "--id", "talker")
    offsets: list[int] = []
    page.on("request", lambda request: offsets.append(
        int(parse_qs(urlsplit(request.url).query)["offset"][0]))
        if "/runs/" in request.url and "/log" in request.url else None)
    page.goto(dashboard.url + "jobs/talker")
    workers.start(1)
    log = page.locator("#log")
    # Following: the view stays at the bottom as lines arrive.
    wait_until(lambda: _lines(page) > 150, timeout=30, message="150 lines")
    assert log.evaluate(_AT_BOTTOM)
    assert page.locator("#log-status").inner_text() == "following"

    # Scrolled up: new lines arrive below, and the reader's place does not move.
    log.evaluate("e => { e.scrollTop = 40; e.dispatchEvent(new Event('scroll')); }")
    assert page.locator("#log-status").inner_text().startswith("paused")
    seen = _lines(page)
    wait_until(lambda: _lines(page) > seen + 50, timeout=30, message="50 more lines")
    assert log.evaluate("e => e.scrollTop") == 40
    assert not log.evaluate(_AT_BOTTOM)

    # Back at the bottom: following again.
    log.evaluate("e => { e.scrollTop = e.scrollHeight; e.dispatchEvent(new Event('scroll')); }")
    seen = _lines(page)
    wait_until(lambda: _lines(page) > seen + 50, timeout=30, message="50 more lines")
    assert log.evaluate(_AT_BOTTOM)
    screenshot(page, "live-log")

    # Each poll asked for the bytes after the last one it had: offsets only grow, and the
    # text shown is the run's output exactly, with nothing doubled or missed.
    assert offsets == sorted(offsets) and len(offsets) >= 3
    shown = log.inner_text().splitlines()
    assert shown == [f"line {n}" for n in range(len(shown))]
    cli("cancel", "talker")


def test_the_log_moves_on_to_the_next_run_when_it_starts(
    cli: Cli, dashboard: DashboardServer, workers: WorkerPool, page: Any
) -> None:
    cli("config", "set", "backoff_base", "1")
    marker = cli.cwd / "ran-once"
    cli("enqueue", "--id", "retried", "--max-retries", "1", "-c",
        f"if [ -e {marker} ]; then echo second try; else touch {marker}; echo first try; "
        "exit 1; fi")
    page.goto(dashboard.url + "jobs/retried")
    workers.start(1)
    page.locator("#log", has_text="first try").wait_for(timeout=TIMEOUT_MS)
    # Run 1 failed; its output stays until run 2 starts, then run 2's replaces it.
    page.locator("#log-run", has_text="2").wait_for(timeout=TIMEOUT_MS)
    page.locator("#log", has_text="second try").wait_for(timeout=TIMEOUT_MS)
    assert page.locator("#log").inner_text() == "second try\n"
    page.locator("#log-status", has_text="finished").wait_for(timeout=TIMEOUT_MS)


def test_a_run_that_ran_and_ended_between_two_polls_is_followed(
    db_path: Path, dashboard: DashboardServer, page: Any
) -> None:
    with Queue(db_path, environ={}) as queue:
        queue.enqueue("exit 3", id="flaky", max_retries=2)
        drain(queue)  # run 1 fails; run 2 waits out its backoff
        assert queue.get("flaky").state.value == "failed"
        page.goto(dashboard.url + "jobs/flaky")
        assert page.locator("#log-run").inner_text() == "1"
        page.click("#live-toggle")  # no poll while paused
        # Run 2 starts and ends before the page asks again: the job is over by then.
        queue.edit("flaky", {"command": "echo fixed", "delay": 0})
        drain(queue)
        assert queue.get("flaky").state.value == "completed"
    page.click("#live-toggle")
    page.locator("#log", has_text="fixed").wait_for(timeout=TIMEOUT_MS)
    assert page.locator("#log-run").inner_text() == "2"
    page.locator("#log-status", has_text="finished").wait_for(timeout=TIMEOUT_MS)
