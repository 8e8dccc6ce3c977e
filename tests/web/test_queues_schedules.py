"""The Queues and Schedules pages, their actions and API, and the jobs listing by queue,
against a real ``queuectl dashboard``; what they do is checked through the CLI."""

from __future__ import annotations

import json
import re
import sqlite3
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers import Cli, dump
from tests.web.conftest import DashboardServer, screenshot

TIMEOUT_MS = 20_000
NIGHTLY = ("schedule", "add", "nightly", "--cron", "0 2 * * *", "--tz", "Europe/Berlin",
           "-c", "backup.sh --to '<b>tape</b>'")


def cli_json(cli: Cli, *args: str) -> Any:
    return json.loads(cli(*args, "--json").stdout)


def queue_of(cli: Cli, name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(q for q in cli_json(cli, "queue", "list") if q["name"] == name)
    return found


def get(server: DashboardServer, path: str) -> httpx.Response:
    return httpx.get(server.url + path.lstrip("/"), timeout=30)


def csrf_token(server: DashboardServer) -> str:
    token: str = get(server, "api/csrf").json()["csrf_token"]
    return token


def post(server: DashboardServer, path: str, **kwargs: Any) -> httpx.Response:
    return httpx.post(server.url + path.lstrip("/"), timeout=30, **kwargs)


def seed_queues(cli: Cli) -> None:
    for job_id, queue in (("v1", "video"), ("v2", "video"), ("m1", "mail"), ("d1", "default")):
        cli("enqueue", "-c", f"echo {job_id}", "--id", job_id, "--queue", queue)


def test_pausing_a_queue_from_the_queues_page(cli: Cli, dashboard: DashboardServer,
                                              page: Any) -> None:
    seed_queues(cli)
    page.goto(dashboard.url + "queues")
    row = page.locator('tr[data-queue="video"]')
    assert row.locator("td.paused").inner_text() == "no"
    row.locator('button:has-text("Pause")').click()  # posts, then back to /queues
    row.locator('td.paused:has-text("paused")').wait_for(timeout=TIMEOUT_MS)
    assert queue_of(cli, "video")["paused"] is True
    assert queue_of(cli, "mail")["paused"] is False

    row.locator('input[name="limit"]').fill("3")
    row.locator('button:has-text("Set limit")').click()
    row.locator('td.limit:text-is("3")').wait_for(timeout=TIMEOUT_MS)
    assert queue_of(cli, "video")["limit"] == 3
    screenshot(page, "queues")

    row.locator('button:has-text("Resume")').click()
    row.locator('td.paused:text-is("no")').wait_for(timeout=TIMEOUT_MS)
    assert queue_of(cli, "video")["paused"] is False


def test_the_schedules_page_lists_a_schedule_added_with_the_cli(
    cli: Cli, dashboard: DashboardServer, page: Any
) -> None:
    cli(*NIGHTLY)
    cli("schedule", "add", "ping", "--every", "30s", "-c", "true")
    page.goto(dashboard.url + "schedules")
    row = page.locator('tr[data-schedule="nightly"]')
    cells = row.locator("td").all_inner_texts()
    assert cells[:2] == ["nightly", "cron 0 2 * * * (Europe/Berlin)"]
    assert cells[3:6] == ["-", "no", "backup.sh --to '<b>tape</b>'"]  # shown as text
    assert cells[2].startswith("in ")  # relative, with the absolute time on hover:
    # 02:00 in Berlin is 00:00 or 01:00 UTC
    assert row.locator("time").first.get_attribute("title").endswith(":00:00Z")
    assert page.locator('tr[data-schedule="ping"] td').nth(1).inner_text() == "every 30s"
    screenshot(page, "schedules")

    row.locator('button:has-text("Pause")').click()
    row.locator('td.paused:has-text("paused")').wait_for(timeout=TIMEOUT_MS)
    [nightly] = [s for s in cli_json(cli, "schedule", "list") if s["name"] == "nightly"]
    assert nightly["paused"] is True


def _page_with_edited_rows(cli: Cli, db_path: Path, dashboard: DashboardServer,
                           names: tuple[str, ...], edit: str) -> str:
    """The Schedules page once the schedules ``names`` (every minute) were added and ``edit``
    (SQL, as a person editing the database by hand) ran: it answers, never a server error."""
    for name in names:
        cli("schedule", "add", name, "--every", "1m", "-c", "true")
    with sqlite3.connect(db_path) as db:
        db.execute(edit)
    response = get(dashboard, "schedules")
    assert response.status_code == 200
    return response.text


def test_the_schedules_page_marks_a_template_edited_into_no_object(
        cli: Cli, db_path: Path, dashboard: DashboardServer) -> None:
    """A row edited by hand: the page still lists every schedule (no server error), the
    unreadable template marked and the reason on hover; the API answers as the CLI."""
    page = _page_with_edited_rows(cli, db_path, dashboard, ("bad", "good"),
                                  "UPDATE schedules SET job = '[1, 2]' WHERE name = 'bad'")
    assert ('<code class="unreadable" title="its job template is not a JSON object: [1, 2]">'
            "(unreadable)</code>") in page
    assert 'data-schedule="good"' in page
    assert get(dashboard, "api/schedules").json() == cli_json(cli, "schedule", "list")


@pytest.mark.parametrize(("stored", "shown"), [
    pytest.param("'soon'", "invalid time (&#39;soon&#39;)", id="text"),
    pytest.param("9e999", "invalid time (inf)", id="infinite"),  # SQLite reads 9e999 as inf
])
def test_the_schedules_page_shows_a_next_run_that_is_no_time(
        cli: Cli, db_path: Path, dashboard: DashboardServer, stored: str, shown: str) -> None:
    """SQLite keeps text written by hand in the REAL column: the page shows the value as
    ``schedule list`` does (no relative time, no server error) and the API answers as the
    CLI's JSON."""
    page = _page_with_edited_rows(
        cli, db_path, dashboard, ("bad", "good"),
        f"UPDATE schedules SET next_run_at = {stored}, last_run_at = {stored} WHERE name = 'bad'")
    bad = re.search(r'<tr data-schedule="bad">.*?</tr>', page, re.DOTALL)
    assert bad is not None
    assert bad[0].count(f'<td class="time">{shown}</td>') == 1  # the next run
    assert bad[0].count(f'<td class="time wide">{shown}</td>') == 1  # the last run
    assert 'data-schedule="good"' in page
    as_json = cli_json(cli, "schedule", "list")
    assert get(dashboard, "api/schedules").json() == as_json
    [listed] = [schedule for schedule in as_json if schedule["name"] == "bad"]
    assert listed["next_run_at"] == listed["last_run_at"] == shown.replace("&#39;", "'")


def test_the_schedules_page_shows_a_time_past_year_9999_whole(
        cli: Cli, db_path: Path, dashboard: DashboardServer) -> None:
    """The absolute time on hover keeps every digit of a year past 9999 (written by hand),
    and the relative time reads in years (a year is 365 days), not hours."""
    page = _page_with_edited_rows(cli, db_path, dashboard, ("far",),
                                  "UPDATE schedules SET next_run_at = 1e12 WHERE name = 'far'")
    years = int((1e12 - time.time()) // (365 * 86400))  # 31652 in 2026
    assert ('<time datetime="+33658-09-27T01:46:40.000Z" title="+33658-09-27 01:46:40Z">'
            f"in {years}y</time>") in page


def test_the_schedules_page_shows_a_next_run_days_away_in_days(
        cli: Cli, db_path: Path, dashboard: DashboardServer) -> None:
    """Three days and four and a half hours ahead reads "in 3d04h", not "in 76h04m"; the
    half hour keeps the text the same however long the test takes."""
    due = time.time() + (3 * 24 + 4.5) * 3600
    page = _page_with_edited_rows(cli, db_path, dashboard, ("later",),
                                  f"UPDATE schedules SET next_run_at = {due} WHERE name = 'later'")
    assert re.search(r'<tr data-schedule="later">.*?>in 3d04h</time>', page, re.DOTALL)


@pytest.mark.parametrize(("every", "shown"), [
    pytest.param("0", "0s", id="zero"), pytest.param("-60", "-60s", id="negative"),
])
def test_resuming_a_schedule_whose_interval_is_not_positive_is_refused(
        cli: Cli, db_path: Path, dashboard: DashboardServer, every: str, shown: str) -> None:
    """As ``schedule resume`` (exit 2): the button and the API answer 400 with the one line
    it prints, and the row stays as it was, still paused, so nothing ticks at every look."""
    _page_with_edited_rows(cli, db_path, dashboard, ("bad",),
                           f"UPDATE schedules SET every = {every}, paused = 1 WHERE name = 'bad'")
    before = dump(db_path)
    message = f"every: must be positive; got {shown}"
    form = post(dashboard, "schedules/bad/resume", data={"csrf_token": csrf_token(dashboard)},
                headers={"Origin": dashboard.url.rstrip("/")})
    assert form.status_code == 400
    assert f'<p class="error-message">{message}</p>' in form.text
    api = post(dashboard, "api/schedules/bad/resume",
               headers={"X-CSRF-Token": csrf_token(dashboard)})
    assert (api.status_code, api.json()) == (400, {"error": message})
    assert dump(db_path) == before
    [listed] = cli_json(cli, "schedule", "list")
    assert listed["paused"] is True


def test_the_api_answers_in_the_shapes_of_the_cli(cli: Cli,
                                                  dashboard: DashboardServer) -> None:
    seed_queues(cli)
    cli("queue", "pause", "mail")
    cli("queue", "limit", "video", "2")
    cli(*NIGHTLY)
    for path, command in (("api/queues", ("queue", "list")),
                          ("api/schedules", ("schedule", "list"))):
        response = get(dashboard, path)
        assert response.headers["content-type"] == "application/json"
        assert response.json() == cli_json(cli, *command)
    assert len(get(dashboard, "api/queues").json()) == 3


def test_api_actions_answer_with_what_the_cli_lists(cli: Cli,
                                                    dashboard: DashboardServer) -> None:
    seed_queues(cli)
    cli(*NIGHTLY)
    token = {"X-CSRF-Token": csrf_token(dashboard)}
    paused = post(dashboard, "api/queues/video/pause", headers=token)
    assert paused.json() == queue_of(cli, "video") and paused.json()["paused"] is True
    limited = post(dashboard, "api/queues/video/limit", json={"limit": 4}, headers=token)
    assert limited.json() == queue_of(cli, "video") and limited.json()["limit"] == 4
    unlimited = post(dashboard, "api/queues/video/limit", json={"limit": None}, headers=token)
    assert unlimited.json()["limit"] is None
    resumed = post(dashboard, "api/queues/video/resume", headers=token)
    assert resumed.json() == queue_of(cli, "video") and resumed.json()["paused"] is False
    # A queue with neither jobs nor settings yet: pausing it is how one prepares it.
    fresh = post(dashboard, "api/queues/later/pause", headers=token).json()
    assert fresh == queue_of(cli, "later") and fresh["jobs"]["pending"] == 0

    stopped = post(dashboard, "api/schedules/nightly/pause", headers=token).json()
    assert (stopped["paused"], stopped["next_run_at"]) == (True, None)
    assert stopped == cli_json(cli, "schedule", "list")[0]
    started = post(dashboard, "api/schedules/nightly/resume", headers=token).json()
    assert started == cli_json(cli, "schedule", "list")[0] and started["paused"] is False
    removed = post(dashboard, "api/schedules/nightly/remove", headers=token)
    assert removed.json() == {"removed": "nightly"}
    assert cli_json(cli, "schedule", "list") == []


@pytest.mark.parametrize(("path", "body", "status", "error"), [
    ("api/queues/video/limit", {"limit": -1}, 400, "limit: must be between 0"),
    ("api/queues/video/limit", {"limit": "lots"}, 400, "limit: expected a whole number"),
    ("api/queues/video/limit", {}, 400, 'give "limit"'),
    ("api/queues/bad%20name/pause", None, 400, "queue: 'bad name' must be"),
    ("api/schedules/missing/pause", None, 404, "no schedule named 'missing'"),
    ("api/schedules/missing/resume", None, 404, "no schedule named 'missing'"),
    ("api/schedules/missing/remove", None, 404, "no schedule named 'missing'"),
])
def test_bad_api_actions_are_refused_and_change_nothing(
    cli: Cli, db_path: Path, dashboard: DashboardServer, path: str, body: Any, status: int,
    error: str,
) -> None:
    seed_queues(cli)
    before = dump(db_path)
    response = post(dashboard, path, json=body, headers={"X-CSRF-Token": csrf_token(dashboard)})
    assert response.status_code == status
    assert error in response.json()["error"]
    assert dump(db_path) == before


def test_a_bad_limit_from_the_page_is_an_error_page(cli: Cli, db_path: Path,
                                                    dashboard: DashboardServer) -> None:
    seed_queues(cli)
    before = dump(db_path)
    own = {"Origin": dashboard.url.rstrip("/")}
    form = {"csrf_token": csrf_token(dashboard), "limit": "-5"}
    response = post(dashboard, "queues/video/limit", data=form, headers=own)
    assert response.status_code == 400
    assert "limit: must be between 0 (none) and 1000000" in response.text
    assert dump(db_path) == before
    form["limit"] = "7"
    done = post(dashboard, "queues/video/limit", data=form, headers=own)
    assert (done.status_code, done.headers["location"]) == (303, "/queues")
    assert queue_of(cli, "video")["limit"] == 7
    form["limit"] = ""  # an empty field removes the limit
    post(dashboard, "queues/video/limit", data=form, headers=own)
    assert queue_of(cli, "video")["limit"] is None


@pytest.mark.parametrize(("referer", "back"), [
    pytest.param("queues?queue=video", "/queues?queue=video", id="the-page"),
    pytest.param("jobs/v1", "/jobs/v1", id="another-page"),
    pytest.param(None, "/queues", id="none-its-part-of-the-dashboard"),
    pytest.param("queues/video/limit", "/queues", id="its-own-address-a-confirmation"),
    pytest.param("http://evil.example/jobs", "/queues", id="another-site"),
    pytest.param("/evil.example/jobs", "/queues", id="a-path-to-another-site"),
    pytest.param("\\evil.example", "/queues", id="a-backslash"),  # a browser reads '//'
])
def test_an_error_page_links_back_to_the_page_the_action_came_from(
        cli: Cli, dashboard: DashboardServer, referer: str | None, back: str) -> None:
    """Its Referer, when that is a page of this dashboard; never another site's address."""
    seed_queues(cli)
    headers = {"Origin": dashboard.url.rstrip("/")}
    if referer is not None:
        headers["Referer"] = referer if "://" in referer else dashboard.url + referer
    response = post(dashboard, "queues/video/limit", headers=headers,
                    data={"csrf_token": csrf_token(dashboard), "limit": "-5"})
    assert response.status_code == 400
    title = {"/queues": "Queues"}.get(back, "the page you came from")
    assert f'<p><a href="{back}">Back to {title}</a></p>' in response.text
    assert "evil" not in response.text


def test_a_refused_button_leads_back_to_its_page_in_a_browser(
        cli: Cli, db_path: Path, dashboard: DashboardServer, browser: Any) -> None:
    """The browser sends the Referer our referrer-policy allows (same origin). (A context of
    its own: the ``page`` fixture fails a test on the 400 the console reports.)"""
    _page_with_edited_rows(cli, db_path, dashboard, ("bad",),
                           "UPDATE schedules SET every = 0, paused = 1 WHERE name = 'bad'")
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(dashboard.url + "schedules?done=x")
        page.locator('tr[data-schedule="bad"] button:has-text("Resume")').click()
        page.locator(".error-message", has_text="every: must be positive").wait_for(
            timeout=TIMEOUT_MS)
        page.locator('a:has-text("Back to the page you came from")').click()
        page.locator('tr[data-schedule="bad"]').wait_for(timeout=TIMEOUT_MS)
        assert page.url == dashboard.url + "schedules?done=x"
    finally:
        context.close()


def test_an_error_page_outside_the_pages_links_back_to_the_overview(
        dashboard: DashboardServer) -> None:
    response = get(dashboard, "nowhere")
    assert response.status_code == 404
    assert '<p><a href="/">Back to the overview</a></p>' in response.text


ACTIONS = ["queues/video/pause", "queues/video/resume", "queues/video/limit",
           "schedules/nightly/pause", "schedules/nightly/resume", "schedules/nightly/remove"]


def test_new_actions_need_our_origin_and_the_csrf_token(
    cli: Cli, db_path: Path, dashboard: DashboardServer
) -> None:
    seed_queues(cli)
    cli(*NIGHTLY)
    before = dump(db_path)
    own, token = dashboard.url.rstrip("/"), csrf_token(dashboard)
    for action in ACTIONS:
        refused = [
            post(dashboard, action, data={"csrf_token": token, "limit": "1"},
                 headers={"Origin": "http://evil.example"}),
            post(dashboard, action, data={"limit": "1"}, headers={"Origin": own}),
            post(dashboard, action, data={"csrf_token": "guess"}, headers={"Origin": own}),
            post(dashboard, "api/" + action, json={"limit": 1},
                 headers={"Origin": "http://evil.example", "X-CSRF-Token": token}),
            post(dashboard, "api/" + action, json={"limit": 1}),
        ]
        assert [r.status_code for r in refused] == [403] * len(refused), action
    assert dump(db_path) == before, "a refused request changed the database"


def test_read_only_hides_and_refuses_the_new_actions(cli: Cli, db_path: Path) -> None:
    seed_queues(cli)
    cli(*NIGHTLY)
    server = DashboardServer(cli, "--read-only")
    try:
        for path, row in (("queues", 'data-queue="video"'),
                          ("schedules", 'data-schedule="nightly"')):
            html = get(server, path).text
            assert row in html
            assert "<form" not in html and "<button type=\"submit\"" not in html, path
        before = dump(db_path)
        own, token = server.url.rstrip("/"), csrf_token(server)
        for action in ACTIONS:
            form = post(server, action, data={"csrf_token": token, "limit": "1"},
                        headers={"Origin": own})
            api = post(server, "api/" + action, json={"limit": 1},
                       headers={"X-CSRF-Token": token})
            assert (form.status_code, api.status_code) == (403, 403), action
            assert form.text == "the dashboard is read-only\n"
        assert dump(db_path) == before
    finally:
        assert server.stop() == 0


def test_jobs_filter_by_queue(cli: Cli, dashboard: DashboardServer) -> None:
    seed_queues(cli)
    cli("queue", "limit", "idle", "1")  # a queue with a setting and no jobs
    video = get(dashboard, "api/jobs?queue=video").json()
    assert [job["id"] for job in video] == ["v2", "v1"]
    assert video == [job for job in cli_json(cli, "list") if job["queue"] == "video"]
    assert get(dashboard, "api/jobs?queue=idle").json() == []
    first = get(dashboard, "api/jobs?queue=video&limit=1")
    assert [job["id"] for job in first.json()] == ["v2"]
    assert "queue=video" in first.links["next"]["url"]
    bad = get(dashboard, "api/jobs?queue=bad%20name")
    assert bad.status_code == 400 and "queue: 'bad name'" in bad.json()["error"]

    html = get(dashboard, "jobs?queue=mail&state=pending").text
    assert 'data-job="m1"' in html and 'data-job="v1"' not in html
    assert '<option value="mail" selected>' in html
    assert '<option value="idle">' in html
    assert "No jobs in queue idle." in get(dashboard, "jobs?queue=idle").text
    assert get(dashboard, "jobs?queue=bad%20name").status_code == 400


def test_metrics_count_jobs_by_queue_and_state(cli: Cli, db_path: Path,
                                               dashboard: DashboardServer) -> None:
    seed_queues(cli)
    cli("cancel", "m1")
    cli("queue", "pause", "idle")  # a queue with a setting and no jobs shows its zeros
    text = get(dashboard, "metrics").text
    [jobs] = [f for f in text_string_to_metric_families(text) if f.name == "queuectl_jobs"]
    assert jobs.type == "gauge"
    shown = {(s.labels["queue"], s.labels["state"]): s.value for s in jobs.samples}
    db = sqlite3.connect(db_path)
    try:
        counted = {(queue, state): n for queue, state, n in db.execute(
            "SELECT queue, state, COUNT(*) FROM jobs GROUP BY queue, state")}
    finally:
        db.close()
    assert counted == {("video", "pending"): 2, ("mail", "canceled"): 1,
                       ("default", "pending"): 1}
    states = cli_json(cli, "queue", "list")[0]["jobs"].keys()
    assert shown == {(queue, state): counted.get((queue, state), 0)
                     for queue in ("default", "idle", "mail", "video") for state in states}


def test_page_actions_work_for_names_with_dots_and_colons(cli: Cli,
                                                          dashboard: DashboardServer) -> None:
    cli("enqueue", "-c", "true", "--queue", "media.hd:4k")
    cli("schedule", "add", "db.backup:full", "--every", "1h", "-c", "true")
    own = {"Origin": dashboard.url.rstrip("/")}
    form = {"csrf_token": csrf_token(dashboard)}
    for page, name in (("queues", "media.hd:4k"), ("schedules", "db.backup:full")):
        html = get(dashboard, page).text
        [action] = re.findall(r'action="(/[a-z]+/[^"]+/pause)"', html)
        done = post(dashboard, action, data=form, headers=own)
        assert done.status_code == 303, (action, done.text)
        listed = cli_json(cli, page.removesuffix("s"), "list")
        assert [item["paused"] for item in listed if item["name"] == name] == [True]


def test_the_overview_shows_jobs_per_queue(cli: Cli, dashboard: DashboardServer) -> None:
    seed_queues(cli)
    cli("queue", "pause", "video")
    html = get(dashboard, "").text
    row = re.search(r'<tr data-queue="video">(.*?)</tr>', html, re.S)
    assert row is not None
    cells = re.findall(r'<td class="num">(\d+)</td>', row.group(1))
    assert cells == ["2", "0", "0", "0", "0", "0"]  # pending first, in JobState order
    assert "paused" in row.group(1)
    assert '<tr data-queue="mail">' in html
