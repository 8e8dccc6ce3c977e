"""The dashboard in a real browser: Debian's headless Chromium driven by Playwright.

Each test saves a screenshot of the page it checked under ``test-artifacts/``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.helpers import Cli, WorkerPool, wait_until
from tests.web.conftest import SEEDED_COUNTS, DashboardServer, screenshot, seed

TIMEOUT_MS = 20_000


def test_overview_shows_the_counts(seeded: DashboardServer, page: Any) -> None:
    page.goto(seeded.url)
    shown = {state: page.locator(f'[data-state="{state}"] .count').inner_text()
             for state in SEEDED_COUNTS}
    assert shown == {state: str(n) for state, n in SEEDED_COUNTS.items()}
    # The last hour: 4 completed runs, 3 failed (flaky once, both dead jobs), 2 went dead.
    figures = {name: page.locator(f'[data-figure="{name}"]').inner_text()
               for name in ("completed", "failed", "dead")}
    assert figures == {"completed": "4", "failed": "3", "dead": "2"}
    assert page.locator("svg rect.bar-ok").count() >= 1
    screenshot(page, "overview")


def test_filtering_by_state_and_text(seeded: DashboardServer, page: Any) -> None:
    page.goto(seeded.url + "jobs")
    assert page.locator("table.jobs tbody tr").count() == sum(SEEDED_COUNTS.values())
    page.select_option('select[name="state"]', "dead")
    page.click('button:has-text("Filter")')
    page.wait_for_url("**/jobs?state=dead*")
    assert _listed(page) == ["dead-2", "dead-1"]

    page.select_option('select[name="state"]', "")
    page.fill('input[name="q"]', "HELLO 2")
    page.click('button:has-text("Filter")')
    page.wait_for_url("**q=HELLO*")
    assert _listed(page) == ["hello-2"]
    page.fill('input[name="q"]', "hello")
    page.click('button:has-text("Filter")')
    page.wait_for_url("**q=hello&tag=*")
    assert _listed(page) == ["hello-3", "hello-2", "hello-1"]
    screenshot(page, "jobs")


def test_opening_a_job_shows_its_log(seeded: DashboardServer, page: Any) -> None:
    page.goto(seeded.url + "jobs?state=dead")
    page.click('a:text-is("dead-1")')
    page.wait_for_url("**/jobs/dead-1")
    assert page.locator("pre.log").inner_text() == "about to fail\n"
    assert "exit code 3" in page.locator("dl.fields").inner_text()
    assert page.locator(".attempt td").first.inner_text() == "1"
    assert page.locator("#log-run").inner_text() == "1"
    screenshot(page, "job")


def test_a_command_with_a_script_tag_is_shown_as_text(seeded: DashboardServer,
                                                      page: Any) -> None:
    page.goto(seeded.url + "jobs/xss")
    assert "<script>" in page.locator("pre.command").inner_text()
    assert "<script>" in page.locator("pre.log").inner_text()
    assert page.locator("main script, main img").count() == 0
    assert page.title() != "pwned"
    page.goto(seeded.url + "jobs?q=script")
    assert "<script>" in page.locator("td.command").inner_text()
    assert page.title() != "pwned"  # and no dialog opened: the page fixture checks
    screenshot(page, "escaped")


def test_retrying_a_dead_job_from_the_dlq_makes_it_pending(
    cli: Cli, db_path: Path, dashboard: DashboardServer, page: Any
) -> None:
    seed(db_path)
    page.goto(dashboard.url + "dlq")
    assert _listed(page) == ["dead-2", "dead-1"]
    screenshot(page, "dlq")
    page.check('input[aria-label="select dead-1"]')
    page.click('button:has-text("Retry selected")')
    page.wait_for_url("**/dlq?retried=1")
    assert page.locator(".notice").inner_text() == "Retried 1 job."
    assert _listed(page) == ["dead-2"]
    assert _state(cli, "dead-1") == "pending"
    assert _state(cli, "dead-2") == "dead"

    page.check('input[aria-label="select dead-2"]')
    page.click('button:has-text("Delete selected")')
    assert page.locator(".question").inner_text() == "Delete 1 dead job and its history?"
    page.click('button:has-text("Delete 1 job")')
    page.wait_for_url("**/dlq?deleted=1")
    assert "The dead letter queue is empty." in page.locator("main").inner_text()
    assert "no job with id 'dead-2'" in cli("show", "dead-2", check=1).stderr


def test_the_dlq_page_refreshes_itself_but_not_while_a_job_is_ticked(
    cli: Cli, db_path: Path, dashboard: DashboardServer, page: Any
) -> None:
    # It was the one page with a changing table that never refreshed: a job retried or gone
    # dead elsewhere stayed as it was until a reload.
    seed(db_path)
    page.goto(dashboard.url + "dlq")
    assert _listed(page) == ["dead-2", "dead-1"]
    page.evaluate("""() => {
        window.ticks = 0; window.sent = 0;
        document.body.addEventListener('htmx:beforeRequest', () => { window.ticks += 1; });
        document.body.addEventListener('htmx:beforeSend', () => { window.sent += 1; });
    }""")
    cli("dlq", "retry", "dead-1")
    # No reload: the page's count and table follow the queue.
    page.locator('tr[data-job="dead-1"]').wait_for(state="detached", timeout=TIMEOUT_MS)
    assert page.locator("h1").inner_text() == "Dead letters (1)"
    assert _listed(page) == ["dead-2"]
    # A ticked job holds the refresh back (it would untick it), the rest of the page too.
    page.check('input[aria-label="select dead-2"]')
    sent = page.evaluate("() => window.sent")
    ticks = page.evaluate("() => window.ticks")
    page.wait_for_function(f"() => window.ticks >= {ticks + 1}", timeout=TIMEOUT_MS)
    assert page.evaluate("() => window.sent") == sent
    assert page.is_checked('input[aria-label="select dead-2"]')
    page.uncheck('input[aria-label="select dead-2"]')
    page.wait_for_function(f"() => window.sent > {sent}", timeout=TIMEOUT_MS)
    # Select all still works on the table a refresh brought.
    page.check("input[data-select-all]")
    assert page.is_checked('input[aria-label="select dead-2"]')
    screenshot(page, "dlq-live")


def test_bulk_actions_on_the_filter_and_on_the_ticked_jobs_ask_first(
    cli: Cli, db_path: Path, dashboard: DashboardServer, page: Any
) -> None:
    seed(db_path)
    # Every job matching the filter: the confirm step says how many.
    page.goto(dashboard.url + "jobs?state=completed")
    page.check('input[name="scope"]')
    page.click('#bulk button[value="delete"]')
    assert page.locator(".question").inner_text() == "Delete 4 jobs?"
    screenshot(page, "confirm")
    assert _counts(cli)["completed"] == 4  # nothing done before the confirm
    page.click('button:has-text("Delete 4 jobs")')
    page.wait_for_url("**/jobs?state=completed&done=delete&count=4")
    assert page.locator(".notice").inner_text() == "Deleted 4 jobs."
    assert _counts(cli)["completed"] == 0

    # Select all on the page, then back out at the confirm step: nothing changes.
    page.goto(dashboard.url + "jobs?state=pending")
    page.check("input[data-select-all]")
    assert page.locator('input[name="ids"]:checked').count() == 4
    page.click('#bulk button[value="cancel"]')
    assert page.locator(".question").inner_text() == "Cancel 4 jobs?"
    page.click('a:text-is("Cancel")')
    page.wait_for_url("**/jobs?state=pending")
    assert _counts(cli)["pending"] == 4

    # Ticked jobs of mixed states: those the action cannot change are left out, and said so.
    page.goto(dashboard.url + "jobs")
    for job_id in ("dead-1", "flaky", "later-0"):
        page.check(f'input[aria-label="select {job_id}"]')
    page.click('#bulk button[value="retry"]')
    assert page.locator(".question").inner_text() == "Retry 1 job?"
    assert "2 of the 3 picked are left out" in page.locator(".confirm").inner_text()
    page.click('button:has-text("Retry 1 job")')
    page.wait_for_url("**/jobs?done=retry&count=1")
    assert _state(cli, "dead-1") == "pending"


def test_a_job_page_follows_the_run_live(
    cli: Cli, dashboard: DashboardServer, workers: WorkerPool, page: Any
) -> None:
    cli("enqueue", "--command", "echo started; sleep 0.2; echo finished", "--id", "live")
    page.goto(dashboard.url + "jobs/live")
    assert page.locator(".state").first.inner_text() == "pending"
    workers.start(1)
    # No reload: htmx polls the page's live part until the job is done.
    page.locator("pre.log", has_text="finished").wait_for(timeout=TIMEOUT_MS)
    assert page.locator(".title-row .state").inner_text() == "completed"
    assert page.locator("pre.log").inner_text() == "started\nfinished\n"
    page.goto(dashboard.url + "workers")
    assert page.locator("tr[data-worker] .state").inner_text() == "running"
    screenshot(page, "workers")


def _listed(page: Any) -> list[str]:
    return [row.get_attribute("data-job") for row in page.locator("tr[data-job]").all()]


def _counts(cli: Cli) -> dict[str, int]:
    counts: dict[str, int] = json.loads(cli("status", "--json").stdout)["jobs"]
    return counts


def _state(cli: Cli, job_id: str) -> str:
    state: str = json.loads(cli("show", job_id, "--json").stdout)["state"]
    return state


def test_a_link_from_another_site_opens_a_token_dashboard_signed_in(cli: Cli,
                                                                    page: Any) -> None:
    """The cookie is SameSite=Lax: a top-level link from elsewhere (a chat, a ticket) carries
    it; Strict made such a link answer 401."""
    token = "correct-horse-battery-staple"
    server = DashboardServer(cli, "--host", "127.0.0.2",
                             env={"QUEUECTL_DASHBOARD_TOKEN": token})
    try:
        page.goto(server.url + f"?token={token}")
        assert page.url == server.url  # the token traded for the cookie
        page.goto("about:blank")  # another origin (an opaque one) links to the dashboard
        page.set_content(f'<a id="out" href="{server.url}jobs">the jobs</a>')
        with page.expect_navigation():
            page.click("#out")
        assert page.url == server.url + "jobs"
        assert page.locator("h1").inner_text() == "Jobs"
    finally:
        assert server.stop() == 0


def test_stopping_a_worker_from_the_workers_page(
    dashboard: DashboardServer, workers: WorkerPool, page: Any
) -> None:
    worker = workers.start(1)
    page.goto(dashboard.url + "workers")
    page.click('tr[data-worker] button:has-text("Stop")')
    page.wait_for_url("**/workers?done=stopping")
    assert "Asked the worker to stop" in page.locator(".notice").inner_text()
    wait_until(lambda: worker.proc.poll() is not None, timeout=30, message="the worker to exit")
    assert worker.proc.returncode == 0
    # The page refreshes itself: the worker leaves the table.
    page.locator("p.empty", has_text="No workers").wait_for(timeout=TIMEOUT_MS)


def test_the_overview_charts_a_day_and_a_week_per_queue(seeded: DashboardServer,
                                                       page: Any) -> None:
    page.goto(seeded.url)
    page.click('nav.tabs a:text-is("1d")')
    page.wait_for_url("**/?window=1d")
    assert page.locator("section h2").filter(has_text="Last day").count() == 1
    throughput = page.locator('figure[data-chart="throughput"] figcaption').inner_text()
    assert "per 30 minutes over the last day" in throughput
    page.click('nav.tabs a:text-is("7d")')
    page.wait_for_url("**/?window=7d")
    assert page.locator('[data-figure="completed"]').inner_text() == "4"
    assert page.locator("svg rect.bar-ok").count() >= 1
    page.goto(seeded.url + "queues")
    row = page.locator('tr[data-queue="default"]')
    assert row.locator('[data-figure="failed"]').inner_text() == "3"
    assert row.locator('[data-figure="wait"]').inner_text() != "-"


def test_the_overview_charts_wait_time_beside_throughput(seeded: DashboardServer,
                                                        browser: Any) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 900})
    page = context.new_page()
    try:
        for window in ("1h", "1d", "7d"):
            page.goto(seeded.url + f"?window={window}")
            wait = page.locator('figure[data-chart="wait"]')
            # The seeded runs waited: at least one bar, each with its mean in its title.
            assert wait.locator("rect.bar-wait").count() >= 1, window
            assert "waited" in wait.locator("rect.bar-wait title").first.text_content()
            assert "Mean wait of first runs" in wait.locator("figcaption").inner_text()
            assert page.locator('figure[data-chart="throughput"] rect.bar-ok').count() >= 1
            box = wait.locator("svg").bounding_box()
            assert box is not None and 0 <= box["x"] and box["x"] + box["width"] <= 390
            sizes = page.evaluate("() => [document.scrollingElement.scrollWidth, innerWidth]")
            assert sizes[0] <= sizes[1], window
        screenshot(page, "390-overview-wait-chart")
    finally:
        context.close()


def test_live_refresh_can_be_paused(cli: Cli, dashboard: DashboardServer, page: Any) -> None:
    cli("enqueue", "--command", "true", "--id", "waiting", "--delay", "1h")
    page.goto(dashboard.url + "jobs/waiting")  # refreshes every second while pending
    page.evaluate("""() => {
        window.ticks = 0; window.sent = 0;
        document.body.addEventListener('htmx:beforeRequest', () => { window.ticks += 1; });
        document.body.addEventListener('htmx:beforeSend', () => { window.sent += 1; });
    }""")
    page.wait_for_function("() => window.sent >= 1", timeout=TIMEOUT_MS)
    page.click("#live-toggle")
    assert page.locator("#live-toggle").inner_text() == "Live refresh: paused"
    sent = page.evaluate("() => window.sent")
    ticks = page.evaluate("() => window.ticks")
    # Two more ticks of the 1 s poll go by, and neither sends a request.
    page.wait_for_function(f"() => window.ticks >= {ticks + 2}", timeout=TIMEOUT_MS)
    assert page.evaluate("() => window.sent") == sent
    page.click("#live-toggle")
    assert page.locator("#live-toggle").inner_text() == "Live refresh: on"
    page.wait_for_function(f"() => window.sent > {sent}", timeout=TIMEOUT_MS)


def test_times_on_hover_in_utc_or_local_time(seeded: DashboardServer, browser: Any) -> None:
    context = browser.new_context(timezone_id="Asia/Kolkata")
    page = context.new_page()
    try:
        page.goto(seeded.url + "jobs/dead-1")
        created = page.locator("dl.fields time").first
        assert created.get_attribute("title").endswith("Z")
        assert created.inner_text() == "now" or created.inner_text().endswith(" ago")
        page.click("#zone-toggle")
        assert page.locator("#zone-toggle").inner_text() == "times in local time"
        assert created.get_attribute("title").endswith(" +05:30")
        page.reload()  # the choice is kept
        assert page.locator("dl.fields time").first.get_attribute("title").endswith(" +05:30")
    finally:
        context.close()
