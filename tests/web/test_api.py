"""The JSON API and /metrics of a real ``queuectl dashboard``, checked against the CLI and the
database itself."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers import Cli, WorkerPool
from tests.web.conftest import SEEDED_COUNTS, DashboardServer


def get(server: DashboardServer, path: str) -> httpx.Response:
    return httpx.get(server.url + path.lstrip("/"), timeout=30)


def cli_json(cli: Cli, *args: str) -> Any:
    return json.loads(cli(*args, "--json").stdout)


@pytest.mark.parametrize(("path", "command"), [
    ("/api/status", ["status"]),
    ("/api/jobs?state=dead", ["list", "--state", "dead"]),
    ("/api/jobs", ["list"]),
    ("/api/dlq", ["dlq", "list"]),
    ("/api/jobs/dead-1", ["show", "dead-1"]),
    ("/api/jobs/xss", ["show", "xss"]),
    ("/api/workers", ["worker", "list"]),
])
def test_the_api_answers_in_the_shapes_of_the_cli(
    seeded: DashboardServer, seeded_cli: Cli, path: str, command: list[str]
) -> None:
    response = get(seeded, path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == cli_json(seeded_cli, *command)


def test_api_stats_has_the_shape_of_the_cli(seeded: DashboardServer, seeded_cli: Cli) -> None:
    api = get(seeded, "/api/stats?since=1h").json()
    cli = cli_json(seeded_cli, "stats", "--since", "1h")
    assert api.keys() == cli.keys()
    assert api["total"] == cli["total"]  # nothing ran in between: the same figures
    assert api["queues"] == cli["queues"]


def test_api_job_pages_follow_the_link_header(seeded: DashboardServer) -> None:
    seen: list[str] = []
    path = "/api/jobs?limit=4"
    newest_first = [job["id"] for job in get(seeded, "/api/jobs").json()]
    while path:
        response = get(seeded, path)
        seen.extend(job["id"] for job in response.json())
        links = response.links
        path = links["next"]["url"].removeprefix(seeded.url.rstrip("/")) if "next" in links \
            else ""
        if seen != newest_first[:4]:
            assert "prev" in links
    assert seen == newest_first
    assert len(seen) == sum(SEEDED_COUNTS.values())


@pytest.mark.parametrize(("path", "status", "error"), [
    ("/api/jobs/missing", 404, "no job with id 'missing'"),
    ("/api/jobs?state=bogus", 400, "unknown state 'bogus'"),
    ("/api/jobs?limit=lots", 400, "limit: expected a whole number"),
    ("/api/jobs?limit=0", 400, "limit: must be between 1 and 1000"),
    ("/api/jobs?before=xyz", 400, "invalid page cursor"),
    ("/api/stats?since=forever", 400, "since:"),
])
def test_api_errors_are_json_with_a_status(seeded: DashboardServer, path: str, status: int,
                                           error: str) -> None:
    response = get(seeded, path)
    assert response.status_code == status
    assert error in response.json()["error"]


def test_api_jobs_by_tag_and_error_text(seeded: DashboardServer) -> None:
    dead = get(seeded, "/api/jobs?error=exit+code+4").json()
    assert [job["id"] for job in dead] == ["dead-2"]
    assert get(seeded, "/api/jobs?tag=nothing-has-it").json() == []


def test_page_errors_are_pages(seeded: DashboardServer) -> None:
    response = get(seeded, "/jobs/<b>missing")
    assert response.status_code == 404
    assert "no job with id &#39;&lt;b&gt;missing&#39;" in response.text
    assert get(seeded, "/jobs?state=bogus").status_code == 400


def test_metrics_match_the_database(seeded: DashboardServer, seeded_cli: Cli) -> None:
    response = get(seeded, "/metrics")
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in families.values() for s in family.samples}

    db = sqlite3.connect(Path(seeded_cli.env["QUEUECTL_DB"]))
    try:
        by_state = dict(db.execute("SELECT state, COUNT(*) FROM jobs GROUP BY state").fetchall())
        finished, succeeded, took = db.execute(
            "SELECT COUNT(*), SUM(exit_code = 0 AND error IS NULL), "
            "SUM(finished_at - started_at) FROM attempts WHERE finished_at IS NOT NULL"
        ).fetchone()
        first_runs = db.execute(
            "SELECT COUNT(*) FROM attempts WHERE number = 1 AND finished_at IS NOT NULL"
        ).fetchone()[0]
    finally:
        db.close()

    assert families["queuectl_jobs"].type == "gauge"
    for state in SEEDED_COUNTS:
        labels = (("queue", "default"), ("state", state))
        assert samples[("queuectl_jobs", labels)] == by_state.get(state, 0)
    queue = (("queue", "default"),)
    assert families["queuectl_jobs_completed"].type == "counter"
    assert samples[("queuectl_jobs_completed_total", queue)] == succeeded == 4
    assert samples[("queuectl_jobs_failed_total", queue)] == finished - succeeded == 3
    assert samples[("queuectl_jobs_dead_total", queue)] == by_state["dead"] == 2
    assert families["queuectl_run_duration_seconds"].type == "histogram"
    assert samples[("queuectl_run_duration_seconds_count", queue)] == finished
    assert samples[("queuectl_run_duration_seconds_sum", queue)] == pytest.approx(took)
    infinite = ("queuectl_run_duration_seconds_bucket", (("le", "+Inf"), ("queue", "default")))
    assert samples[infinite] == finished
    assert samples[("queuectl_wait_duration_seconds_count", queue)] == first_runs
    assert samples[("queuectl_workers_up", ())] == 0
    assert samples[("queuectl_workers", (("state", "running"),))] == 0


def test_cancel_and_retry_a_job_from_its_page_and_the_api(
    cli: Cli, dashboard: DashboardServer
) -> None:
    cli("enqueue", "--command", "true", "--id", "waiting")
    cli("enqueue", "--command", "true", "--id", "other")
    own = {"Origin": dashboard.url.rstrip("/")}
    token = httpx.get(dashboard.url + "api/csrf", timeout=30).json()["csrf_token"]
    assert 'action="/jobs/waiting/cancel"' in get(dashboard, "/jobs/waiting").text

    canceled = httpx.post(dashboard.url + "jobs/waiting/cancel", data={"csrf_token": token},
                          headers=own, timeout=30)
    assert (canceled.status_code, canceled.headers["location"]) == (303, "/jobs/waiting")
    assert cli_json(cli, "show", "waiting")["state"] == "canceled"
    assert 'action="/jobs/waiting/retry"' in get(dashboard, "/jobs/waiting").text
    retried = httpx.post(dashboard.url + "jobs/waiting/retry", data={"csrf_token": token},
                         headers=own, timeout=30)
    assert retried.headers["location"] == "/jobs/waiting?done=retried"
    assert cli_json(cli, "show", "waiting")["state"] == "pending"

    api = httpx.post(dashboard.url + "api/jobs/other/cancel", headers={"X-CSRF-Token": token},
                     timeout=30)
    assert (api.status_code, api.json()["state"]) == (200, "canceled")
    again = httpx.post(dashboard.url + "api/jobs/other/cancel",
                       headers={"X-CSRF-Token": token}, timeout=30)
    assert again.status_code == 409 and "canceled" in again.json()["error"]


def test_the_workers_page_and_api_name_the_housekeeper(
    dashboard: DashboardServer, workers: WorkerPool
) -> None:
    first = workers.worker_id(workers.start(1))
    second = workers.worker_id(workers.start(1))
    listed = get(dashboard, "/api/workers").json()
    assert [(w["id"], w["housekeeper"]) for w in listed] == [(first, True), (second, False)]
    rows = {row.split('"')[0]: row for row in get(dashboard, "/workers").text.split(
        '<tr data-worker="')[1:]}
    assert ">housekeeper</span>" in rows[str(first)]
    assert "housekeeper" not in rows[str(second)]
