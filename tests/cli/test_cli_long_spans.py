"""Times far from now read in days and years, never in thousands of hours: a worker's
heartbeat in ``worker list`` ("3d ago") and on the dashboard's Workers page ("3d00h ago");
and a span that is no number (a time edited by hand into infinity) reads "-"."""

from __future__ import annotations

import os
import re
import sqlite3
import time
from pathlib import Path

import pytest
from tests.helpers import Cli
from tests.web.conftest import dashboard_pages

from queuectl import Queue
from queuectl.cli.render import ago
from queuectl.hosts import HOST
from queuectl.storage.base import WorkerRegistration

DAY, YEAR = 86400.0, 365 * 86400.0


@pytest.mark.parametrize(("seconds", "shown"), [
    (0, "0s ago"), (119, "119s ago"), (300, "5m ago"), (7199, "120m ago"), (7200, "2h ago"),
    (47 * 3600, "47h ago"), (2 * DAY, "2d ago"), (729 * DAY, "729d ago"), (2 * YEAR, "2y ago"),
    (87600 * 3600, "10y ago"), (-5, "0s ago"),
])
def test_ago_reads_in_the_unit_that_fits(seconds: float, shown: str) -> None:
    assert ago(1_000_000_000.0, 1_000_000_000.0 + seconds) == shown


def _register_lost_workers(db_path: Path, ages: dict[str, float]) -> None:
    """Workers whose last heartbeat was ``ages[id]`` seconds ago: lost, still listed."""
    now = time.time()
    with Queue(db_path, environ={}) as queue:
        for worker_id, age in ages.items():
            queue.storage.register_worker(
                WorkerRegistration(worker_id, HOST, os.getpid(), None, 1), now - age)


def test_old_heartbeats_read_in_days_and_years(cli: Cli, db_path: Path) -> None:
    # 30 minutes past the whole unit, so the seconds the test takes never change the text.
    _register_lost_workers(db_path, {"w-days": 3 * DAY + 1800, "w-years": 12 * YEAR + DAY})
    listed = cli("worker", "list").stdout
    rows = {line.split()[0]: line for line in listed.splitlines()[1:]}
    assert rows["w-days"].endswith("  3d ago") and " lost " in rows["w-days"]
    assert rows["w-years"].endswith("  12y ago")

    html = dashboard_pages(cli, "workers")["workers"].text
    rows = dict(re.findall(r'<tr data-worker="([^"]+)">(.*?)</tr>', html, re.DOTALL))
    # Started and heartbeat alike: the worker registered then and never beat again.
    assert re.findall(r">([^<>]+)</time>", rows["w-days"]) == ["3d00h ago"] * 2
    assert re.findall(r">([^<>]+)</time>", rows["w-years"]) == ["12y ago"] * 2


def test_a_run_that_ended_at_no_time_took_no_duration(cli: Cli, db_path: Path) -> None:
    """SQLite reads 9e999 as infinity: the run's end shows as stored, its duration as "-",
    in ``list`` and on the job's page, rather than a traceback or a server error."""
    cli("enqueue", "-c", "true", "--id", "j")
    cli("worker", "start", "--burst", "--quiet", timeout=120)
    with sqlite3.connect(db_path) as db:
        db.execute("UPDATE attempts SET finished_at = 9e999")
    listed = cli("list")
    assert listed.stderr == ""
    [row] = listed.stdout.splitlines()[1:]
    cells = re.split(r"\s{2,}", row)  # ..., STARTED, ENDED, TOOK, NEXT RUN, LAST ERROR
    assert cells[-4:] == ["invalid time (inf)", "-", "-", "-"], row
    shown = cli("show", "j").stdout
    assert re.search(r"^attempt 1  started \S+  took -  ok", shown, re.MULTILINE), shown

    page = dashboard_pages(cli, "jobs/j")["jobs/j"]
    assert page.status_code == 200
    run = re.search(r'<tr class="attempt" data-attempt="1".*?</tr>', page.text, re.DOTALL)
    assert run is not None and '<td class="num">-</td>' in run[0]  # took


@pytest.mark.parametrize("started", ["finished_at + 3", "-9e999"])
def test_show_gives_a_run_that_ended_before_it_started_no_duration(
    cli: Cli, db_path: Path, started: str
) -> None:
    """An attempt edited by hand to end before it started (or to start at minus infinity):
    ``show`` prints its duration as "-", not '-3.00s' or 'infs'."""
    cli("enqueue", "-c", "true", "--id", "j")
    cli("worker", "start", "--burst", "--quiet", timeout=120)
    with sqlite3.connect(db_path) as db:
        db.execute(f"UPDATE attempts SET started_at = {started}")
    shown = cli("show", "j")
    assert shown.stderr == ""
    assert re.search(r"^attempt 1  started .+  took -  ok", shown.stdout, re.MULTILINE), \
        shown.stdout
