"""``list``: filters by state, queue and tag; says when it stopped at its limit; shows when each
job's latest run started and ended and how long it took."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import Cli, WorkerPool, as_json, wait_until

from queuectl import Queue
from queuectl.units import parse_timestamp

WAIT_FOR_GO = "while [ ! -e go ]; do sleep 0.02; done"


def _table(text: str) -> dict[str, dict[str, str]]:
    """A table's rows by id, each a dict of column -> cell (cells hold no double space)."""
    header, *rows = text.splitlines()
    columns = header.split()
    columns[columns.index("NEXT")] = "NEXT RUN"
    columns.remove("RUN")
    columns[columns.index("LAST")] = "LAST ERROR"
    columns.remove("ERROR")
    table = {}
    for row in rows:
        cells = row.split("  ")
        cells = [cell.strip() for cell in cells if cell.strip()]
        table[cells[0]] = dict(zip(columns, cells, strict=True))
    return table


def test_list_filters_by_queue_alone_and_with_state_and_tag(cli: Cli) -> None:
    cli("add", "--id", "m1", "--queue", "mail", "--tag", "t", "true")
    cli("add", "--id", "w1", "--queue", "web", "--tag", "t", "true")
    cli("add", "--id", "m2", "--queue", "mail", "true")
    assert [j["id"] for j in as_json(cli("list", "--queue", "mail", "--json"))] == ["m2", "m1"]
    assert list(_table(cli("list", "--queue", "web").stdout)) == ["w1"]
    assert [j["id"] for j in as_json(cli("list", "--queue", "mail", "--tag", "t", "--json"))] \
        == ["m1"]
    assert as_json(cli("list", "--queue", "mail", "--state", "dead", "--json")) == []
    assert cli("list", "--queue", "nope").stdout == "No jobs in queue nope.\n"
    assert cli("list", "--queue", "web", "--state", "dead").stdout \
        == "No jobs in state dead in queue web.\n"


def test_list_says_on_stderr_when_more_jobs_match_than_it_shows(cli: Cli) -> None:
    for n in range(3):
        cli("add", "--id", f"j{n}", "true")
    exact = cli("list", "--limit", "3")
    assert list(_table(exact.stdout)) == ["j2", "j1", "j0"] and exact.stderr == ""
    cut = cli("list", "--limit", "2", "--json")
    assert [job["id"] for job in as_json(cut)] == ["j2", "j1"]  # stdout stays pure JSON
    assert cut.stderr == "Showing the newest 2 jobs; more match (--limit N shows more).\n"
    assert cli("list", "--state", "pending", "--limit", "1").stderr.startswith(
        "Showing the newest 1 job; more match")
    assert cli("dlq", "list", "--limit", "1").stderr == ""


def test_a_tag_with_many_jobs_in_other_queues_still_finds_this_queues(db_path: Path) -> None:
    with Queue(db_path, environ={}) as queue:
        queue.enqueue_many([{"command": "true", "id": f"a{n}", "queue": "a", "tags": ["t"]}
                            for n in range(3)])
        queue.enqueue_many([{"command": "true", "queue": "b", "tags": ["t"]}
                            for _ in range(1200)])  # newer: more than a page of the tag's jobs
        listing = queue.listing(tag="t", queue="a", limit=2)
        assert ([job.id for job in listing.jobs], listing.more) == (["a2", "a1"], True)
        listing = queue.listing(tag="t", queue="a", limit=3)
        assert ([job.id for job in listing.jobs], listing.more) == (["a2", "a1", "a0"], False)


def test_list_shows_start_end_and_duration_of_the_latest_run(
    cli: Cli, workers: WorkerPool, tmp_path: Path
) -> None:
    cli("add", "--id", "quick", "sleep 0.2")
    cli("add", "--id", "waiting", "--delay", "1h", "true")
    worker = workers.start(2)
    wait_until(lambda: as_json(cli("show", "quick", "--json"))["state"] == "completed",
               message="the quick job done")
    cli("add", "--id", "busy", WAIT_FOR_GO)
    wait_until(lambda: as_json(cli("show", "busy", "--json"))["state"] == "processing",
               message="the busy job running")

    rows = _table(cli("list").stdout)
    [run] = as_json(cli("show", "quick", "--json"))["attempts_history"]
    quick = rows["quick"]
    assert quick["STARTED"] == run["started_at"][:19] + "Z"
    assert quick["ENDED"] == run["finished_at"][:19] + "Z"
    took = parse_timestamp(run["finished_at"]) - parse_timestamp(run["started_at"])
    assert took >= 0.2 and quick["TOOK"].endswith("ms")
    # the JSON times are to the millisecond: within rounding of both ends
    assert abs(int(quick["TOOK"].removesuffix("ms")) - took * 1000) <= 2
    busy = rows["busy"]
    assert busy["STATE"] == "processing" and busy["STARTED"] != "-" and busy["ENDED"] == "-"
    assert busy["TOOK"] != "-"  # counts on while it runs
    waiting = rows["waiting"]
    assert (waiting["STARTED"], waiting["ENDED"], waiting["TOOK"]) == ("-", "-", "-")
    assert waiting["NEXT RUN"] != "-"

    (tmp_path / "go").touch()
    worker.signal(15)
    assert worker.wait() == 0
