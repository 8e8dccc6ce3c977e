"""A filtered jobs page looks at a bounded number of jobs (listing.PAGE_SCAN). When it stops
there, with fewer than a page of matches, it says so beside its "Older" link.

The application runs in this process with the bound lowered to 8 jobs, so that the test needs
40 jobs rather than 100,000."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from queuectl import Queue
from queuectl.web.app import create_app
from tests.web.test_hostile_input import AppClient


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppClient]:
    monkeypatch.setattr("queuectl.web.pages.PAGE_SCAN", 8)
    with Queue(tmp_path / "queue.db", environ={}) as queue:
        queue.enqueue_many([{"id": f"j{i:02d}", "command": "echo hit" if i % 7 == 3 else "true"}
                            for i in range(40)])  # hits: j03, j10, j17, j24, j31, j38
        app_client = AppClient(create_app(queue))
        try:
            yield app_client
        finally:
            app_client.close()


def _pager(html: str) -> str:
    found = re.search(r'<nav class="pager".*?</nav>', html, re.S)
    assert found is not None
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(0))).strip()


def _listed(html: str) -> list[str]:
    return re.findall(r'<tr[^>]*data-job="([^"]+)"', html)


def test_a_page_cut_short_by_its_scan_says_older_jobs_may_match(client: AppClient) -> None:
    page = client.get("/jobs?q=hit").text
    assert _listed(page) == ["j38"]  # one match among the newest 8 jobs
    assert _pager(page) == "looked at 8 jobs; older ones may match: Older \u203a Oldest »"
    older = re.search(r'<a rel="next" href="([^"]+)"', page)
    assert older is not None
    next_page = client.get(older.group(1).replace("&amp;", "&")).text
    assert _listed(next_page) == ["j31"]
    assert "older ones may match" in _pager(next_page)
    # From the oldest end, it is the newer jobs that may match.
    oldest = client.get("/jobs?q=hit&after=0").text
    assert _listed(oldest) == ["j03"]
    assert "looked at 8 jobs; newer ones may match: \u2039 Newer" in _pager(oldest)


def test_an_unfiltered_or_whole_page_says_nothing_of_a_scan(client: AppClient) -> None:
    # No filter: the index serves the page, and the scan is not bounded.
    assert "may match" not in client.get("/jobs").text
    # The last page of matches: nothing older is left.
    assert _pager(client.get("/jobs?q=hit&before=8").text) == "« Newest \u2039 Newer"
