"""The job page against the real server and CLI: what it shows (queue, tags, dependencies,
priority, why a job waits) and what its buttons do (retry now, edit, restart, remove with a
confirm step, pause, resume and kill of a running job)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx

from queuectl import Queue
from tests.helpers import Cli, WorkerPool, drain, wait_until
from tests.web.conftest import DashboardServer, screenshot

TIMEOUT_MS = 20_000


def _show(cli: Cli, job_id: str) -> dict[str, Any]:
    shown: dict[str, Any] = json.loads(cli("show", job_id, "--json").stdout)
    return shown


def _fields(page: Any) -> dict[str, str]:
    names = page.locator("dl.fields dt").all_inner_texts()
    values = page.locator("dl.fields dd").all_inner_texts()
    return dict(zip(names, values, strict=True))


def test_the_page_says_why_a_job_waits(cli: Cli, dashboard: DashboardServer,
                                       page: Any) -> None:
    cli("enqueue", "-c", "make", "--id", "build", "--delay", "1h", "--queue", "ci",
        "--tag", "nightly", "--tag", "release", "--priority", "5")
    cli("enqueue", "-c", "deploy.sh", "--id", "deploy", "--after", "build", "--queue", "ci")
    cli("enqueue", "-c", "true", "--id", "stuck", "--queue", "paused-q")
    cli("queue", "pause", "paused-q")
    page.goto(dashboard.url + "jobs/deploy")
    fields = _fields(page)
    assert fields["Waiting"] == "waiting on build"
    assert fields["Queue"] == "ci"
    assert fields["Depends on"].split() == ["build", "pending"]
    page.goto(dashboard.url + "jobs/build")
    fields = _fields(page)
    assert fields["Waiting"].startswith("runs at 20")
    assert fields["Tags"].split() == ["nightly", "release"]
    assert fields["Priority"] == "5"
    assert fields["Next run"].startswith("in 5")  # "in 59m59s" or so
    screenshot(page, "job-waiting")
    page.goto(dashboard.url + "jobs/stuck")
    assert _fields(page)["Waiting"] == "queue paused-q paused"
    # A tag links to the jobs with that tag.
    page.goto(dashboard.url + "jobs/build")
    page.click('a.tag:text-is("release")')
    page.wait_for_url("**/jobs?tag=release")
    assert [r.get_attribute("data-job") for r in page.locator("tr[data-job]").all()] == ["build"]


def test_retry_now_edit_restart_and_remove(cli: Cli, dashboard: DashboardServer,
                                           workers: WorkerPool, page: Any) -> None:
    cli("config", "set", "backoff_base", "600")
    cli("enqueue", "-c", "test -e ok-file || exit 3", "--id", "flaky", "--max-retries", "2")
    workers.start(1)
    wait_until(lambda: _show(cli, "flaky")["state"] == "failed", timeout=30,
               message="the first run to fail")
    page.goto(dashboard.url + "jobs/flaky")
    assert _fields(page)["Next retry"].startswith("in ")
    assert _fields(page)["Waiting"].startswith("retries at ")

    # Edit: the command changes (and then succeeds); the other fields stay.
    page.click("details.edit summary")
    page.fill('textarea[name="command"]', "echo fixed")
    page.click('.edit-form button:has-text("Save")')
    page.wait_for_url("**/jobs/flaky?done=edited")
    assert _show(cli, "flaky")["command"] == "echo fixed"
    assert _show(cli, "flaky")["max_retries"] == 2

    page.click('button:has-text("Retry now")')
    page.wait_for_url("**/jobs/flaky?done=now")
    page.locator(".title-row .state", has_text="completed").wait_for(timeout=TIMEOUT_MS)
    page.locator("#log", has_text="fixed").wait_for(timeout=TIMEOUT_MS)

    page.click('button:has-text("Restart as a new job")')
    page.wait_for_url(re.compile(r"/jobs/(?!flaky\?)[^/?]+$"))
    new_id = page.url.rsplit("/", 1)[1]
    assert _show(cli, new_id)["restarted_from"] == "flaky"

    page.goto(dashboard.url + "jobs/flaky")
    page.click('button:has-text("Remove")')
    assert page.locator(".question").inner_text() == "Remove job flaky and its history?"
    assert _show(cli, "flaky")["state"] == "completed"  # nothing yet
    page.click('.confirm button:has-text("Remove")')
    page.wait_for_url("**/jobs")
    assert "no job with id 'flaky'" in cli("show", "flaky", check=1).stderr


def test_pause_resume_and_kill_a_running_job(cli: Cli, dashboard: DashboardServer,
                                             workers: WorkerPool, page: Any) -> None:
    cli("enqueue", "-c", "echo started; sleep 60", "--id", "long", "--max-retries", "0")
    workers.start(1)
    wait_until(lambda: _show(cli, "long")["state"] == "processing", timeout=30,
               message="the job to start")
    page.goto(dashboard.url + "jobs/long")
    page.click('button:has-text("Pause")')
    page.wait_for_url("**/jobs/long?done=paused")
    assert page.locator(".title-row .state").inner_text() == "paused"
    page.click('button:has-text("Resume")')
    page.wait_for_url("**/jobs/long?done=resumed")
    assert page.locator(".title-row .state").inner_text() == "processing"
    page.click('button:has-text("Send TERM")')
    page.wait_for_url("**/jobs/long?done=signal")
    page.locator(".title-row .state", has_text="dead").wait_for(timeout=TIMEOUT_MS)
    assert "SIGTERM" in _show(cli, "long")["last_error"]


def test_a_run_s_output_downloads_whole_and_a_bad_run_is_a_400(
    cli: Cli, dashboard: DashboardServer, workers: WorkerPool
) -> None:
    cli("enqueue", "-c", "printf 'caf\\303\\251\\n'", "--id", "cafe")
    workers.start(1)
    cli("wait", "cafe", "--timeout", "30")
    got = httpx.get(dashboard.url + "jobs/cafe/runs/1/output", timeout=30)
    assert got.content == "café\n".encode()
    assert got.headers["content-disposition"] == 'attachment; filename="cafe-run-1.log"'
    assert httpx.get(dashboard.url + "jobs/cafe/runs/2/output", timeout=30).status_code == 400
    log = httpx.get(dashboard.url + "api/jobs/cafe/runs/1/log?offset=3", timeout=30).json()
    assert (log["text"], log["offset"], log["finished"]) == ("é\n", 6, True)


def test_a_retried_job_s_page_shows_no_exit_code_of_its_earlier_run(
    cli: Cli, db_path: Path, dashboard: DashboardServer, page: Any
) -> None:
    """The page said 'Exit code 3' of a job retried from the DLQ and pending again, as show
    did; the attempts table keeps that run's exit code."""
    with Queue(db_path, environ={}) as queue:
        queue.enqueue("echo once; exit 3", id="again", max_retries=0)
        drain(queue)
    page.goto(dashboard.url + "jobs/again")
    assert (_fields(page)["Exit code"], _fields(page)["Last error"]) == ("3", "exit code 3")
    cli("dlq", "retry", "again")
    page.goto(dashboard.url + "jobs/again")
    fields = _fields(page)
    assert page.locator(".title-row .state").inner_text() == "pending"
    assert "Exit code" not in fields and "Last error" not in fields
    assert "exit code 3" in page.locator(".attempt").first.inner_text()
    api = httpx.get(dashboard.url + "api/jobs/again", timeout=30).json()
    assert (api["state"], api["exit_code"], api["last_error"]) == ("pending", None, None)
    assert api["attempts_history"][0]["exit_code"] == 3
    assert _show(cli, "again")["exit_code"] is None  # show --json agrees
