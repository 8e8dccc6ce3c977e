"""The dead letter page's actions given a job twice (two ticks of one job, or a form made by
hand: each job is acted on once, and the confirm step counts it once), and Retry all with no
dead job left."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx

from queuectl import JobState, Queue
from tests.helpers import Cli
from tests.web.conftest import DashboardServer, screenshot


def _dead(db_path: Path, *job_ids: str) -> None:
    with Queue(db_path, environ={}) as queue:
        for job_id in job_ids:
            queue.enqueue("exit 1", id=job_id, max_retries=0)
        with queue.worker() as worker:
            while worker.run_once():
                pass


def _post(server: DashboardServer, path: str, data: dict[str, Any]) -> httpx.Response:
    token = httpx.get(server.url + "api/csrf", timeout=30).json()["csrf_token"]
    return httpx.post(server.url + path, data={"csrf_token": token, **data},
                      headers={"Origin": server.url.rstrip("/")}, timeout=30)


def _state(cli: Cli, job_id: str) -> str:
    state: str = json.loads(cli("show", job_id, "--json").stdout)["state"]
    return state


def test_retrying_a_dead_job_named_twice_retries_it(
    cli: Cli, db_path: Path, dashboard: DashboardServer
) -> None:
    """It was refused with 409 'job 'gone' is pending, not dead: nothing retried': the second
    retry found the job the first had put back."""
    _dead(db_path, "gone")
    answer = _post(dashboard, "dlq/retry", {"ids": ["gone", "gone"]})
    assert (answer.status_code, answer.headers["location"]) == (303, "/dlq?retried=1")
    assert _state(cli, "gone") == JobState.PENDING.value


def test_deleting_a_dead_job_named_twice_asks_about_one_job(
    cli: Cli, db_path: Path, dashboard: DashboardServer
) -> None:
    _dead(db_path, "gone", "kept")
    asked = _post(dashboard, "dlq/delete", {"ids": ["gone", "gone"]})
    assert asked.status_code == 200
    assert re.findall(r'<p class="question">([^<]*)</p>', asked.text) == [
        "Delete 1 dead job and its history?"]
    done = _post(dashboard, "dlq/delete", {"ids": ["gone", "gone"], "confirm": "yes"})
    assert (done.status_code, done.headers["location"]) == (303, "/dlq?deleted=1")
    assert "no job" in cli("show", "gone", check=False).stderr
    assert _state(cli, "kept") == JobState.DEAD.value


def test_retry_all_with_no_dead_job_asks_nothing_and_says_nothing_was_retried(
    cli: Cli, db_path: Path, dashboard: DashboardServer, page: Any
) -> None:
    """A page left open while its jobs were retried elsewhere asked 'Retry all 0 dead jobs?'
    and, confirmed, said 'Retried 0 jobs.'."""
    _dead(db_path, "first", "second")
    page.goto(dashboard.url + "dlq")
    cli("dlq", "retry", "--all")  # elsewhere, while the page is open
    page.click('button:has-text("Retry all 2")')
    page.wait_for_url("**/dlq?retried=0")
    assert page.locator(".notice").inner_text() == "Nothing retried: no job is dead."
    assert "The dead letter queue is empty." in page.locator("main").inner_text()
    assert page.locator('button:has-text("Retry all")').count() == 0
    assert [_state(cli, job_id) for job_id in ("first", "second")] == ["pending"] * 2
    screenshot(page, "dlq-nothing-retried")

    # A form made by hand: no confirm step, confirmed or not.
    for form in ({}, {"confirm": "yes"}):
        answer = _post(dashboard, "dlq/retry-all", form)
        assert (answer.status_code, answer.headers["location"]) == (303, "/dlq?retried=0")

    # One dead job: the question counts it as one.
    cli("cancel", "first", "second")  # else they run, and die, with it
    _dead(db_path, "third")
    page.goto(dashboard.url + "dlq")
    page.click('button:has-text("Retry all 1")')
    assert page.locator(".question").inner_text() == "Retry the 1 dead job?"
    page.click('.confirm button:has-text("Retry all 1")')
    page.wait_for_url("**/dlq?retried=1")
    assert page.locator(".notice").inner_text() == "Retried 1 job."
    assert _state(cli, "third") == JobState.PENDING.value


def test_retry_all_says_how_many_it_left_dead_and_the_api_names_them(
    cli: Cli, db_path: Path, dashboard: DashboardServer
) -> None:
    """A dead job whose unique key a live job holds stays dead: Retry all said only 'Retried
    1 job.' (and 'no job is dead' when it was the only one), /api/dlq/retry no word of it."""
    with Queue(db_path, environ={}) as queue:
        queue.enqueue("exit 1", id="held", unique_key="nightly", max_retries=0)
        queue.enqueue("exit 1", id="free", max_retries=0)
        with queue.worker() as worker:
            while worker.run_once():
                pass
        queue.enqueue("true", id="holder", unique_key="nightly")  # live, never run here
    done = _post(dashboard, "dlq/retry-all", {"confirm": "yes"})
    assert (done.status_code, done.headers["location"]) == (303, "/dlq?retried=1&left=1")
    page = httpx.get(dashboard.url + "dlq?retried=1&left=1", timeout=30).text
    assert re.findall(r'<p class="notice">([^<]*)</p>', page) == [
        "Retried 1 job. 1 left dead: a live job holds its unique key, or it died again at "
        "once (a dependency dead or canceled)."]
    assert [_state(cli, job_id) for job_id in ("held", "free")] == ["dead", "pending"]

    cli("cancel", "free")
    nothing = _post(dashboard, "dlq/retry-all", {"confirm": "yes"})
    assert nothing.headers["location"] == "/dlq?retried=0&left=1"
    page = httpx.get(dashboard.url + "dlq?retried=0&left=1", timeout=30).text
    assert re.findall(r'<p class="notice">([^<]*)</p>', page)[0].startswith(
        "Nothing retried: 1 left dead: a live job holds its unique key")

    token = httpx.get(dashboard.url + "api/csrf", timeout=30).json()["csrf_token"]
    answer = httpx.post(dashboard.url + "api/dlq/retry", json={"all": True}, timeout=30,
                        headers={"X-CSRF-Token": token, "Origin": dashboard.url.rstrip("/")})
    assert answer.json() == {"retried": [], "left": [
        {"id": "held", "why": "unique key 'nightly' held by a live job"}]}
