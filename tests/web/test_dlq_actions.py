"""The dead letter page's actions given a job twice: two ticks of one job, or a form made by
hand. Each job is acted on once, and the confirm step counts it once."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx

from queuectl import JobState, Queue
from tests.helpers import Cli
from tests.web.conftest import DashboardServer


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
