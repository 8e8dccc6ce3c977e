"""The scheduling commands through the real CLI: what they print, and every bad input refused
with exit 2, one line, and nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.helpers import Cli, as_json, dump

from queuectl import Queue


def test_enqueue_flags_and_what_list_show_and_status_say(cli: Cli) -> None:
    cli("enqueue", "-c", "echo a", "--id", "a", "--priority", "5", "--tag", "nightly",
        "--tag", "db")
    out = cli("enqueue", "-c", "echo b", "--id", "b", "--after", "a", "--queue", "reports").stdout
    assert out == "Enqueued job b: echo b (after a)\n"
    out = cli("enqueue", '{"command":"echo c","id":"c"}', "--delay", "1h").stdout
    assert out.startswith("Enqueued job c: echo c (runs at ")
    job = as_json(cli("show", "b", "--json"))
    assert (job["queue"], job["depends_on"], job["waiting_on"]) == ("reports", ["a"], 1)
    shown = cli("show", "a").stdout
    assert "priority:    5" in shown and "tags:        nightly, db" in shown
    table = cli("list").stdout.splitlines()
    assert "after a" in next(line for line in table if line.startswith("b "))
    assert [row["id"] for row in as_json(cli("list", "--tag", "nightly", "--json"))] == ["a"]
    assert cli("list", "--tag", "none-such").stdout == "No jobs with tag none-such.\n"
    status = as_json(cli("status", "--json"))
    assert status["pending"] == {"ready": 1, "scheduled": 1, "blocked": 1}
    assert "(1 ready, 1 scheduled later, 1 waiting on dependencies)" in cli("status").stdout


def test_a_unique_key_reports_the_live_job(cli: Cli) -> None:
    first = as_json(cli("enqueue", "-c", "true", "--unique-key", "daily", "--json"))
    assert first["created"] is True
    again = cli("enqueue", "-c", "true", "--unique-key", "daily")
    assert again.stdout == (f"Job {first['id']} has unique key 'daily' and is pending:"
                            " nothing enqueued.\n")
    as_json_again = as_json(cli("enqueue", '{"command":"true","unique_key":"daily"}', "--json"))
    assert (as_json_again["id"], as_json_again["created"]) == (first["id"], False)


def test_dlq_retry_by_tag(cli: Cli, db_path: Path) -> None:
    with Queue(db_path, environ={}) as queue:
        queue.enqueue("exit 1", id="n1", tags=["nightly"], max_retries=0)
        queue.enqueue("exit 1", id="n2", tags=["nightly"], max_retries=0)
        queue.enqueue("exit 1", id="other", max_retries=0)
        queue.worker(slots=3).run(burst=True)
    assert cli("dlq", "retry", "--tag", "nightly").stdout == "Retried 2 dead jobs.\n"
    states = {job["id"]: job["state"] for job in as_json(cli("list", "--json"))}
    assert states == {"n1": "pending", "n2": "pending", "other": "dead"}


def test_queue_commands(cli: Cli) -> None:
    cli("db", "upgrade")  # an empty queue: `queue list` refuses a database that is not there
    assert cli("queue", "list").stdout == "No queues yet: jobs go to the queue named default.\n"
    cli("enqueue", "-c", "true", "--queue", "video")
    assert cli("queue", "limit", "video", "2").stdout == "Queue video: at most 2 jobs at once.\n"
    assert cli("queue", "pause", "video").stdout.startswith("Queue video paused")
    assert cli("queue", "list").stdout.splitlines() == [
        "QUEUE  PAUSED  LIMIT  PENDING  PROCESSING  COMPLETED  FAILED  DEAD  CANCELED",
        "video  yes     2      1        0           0          0       0     0",
    ]
    assert cli("queue", "resume", "video").stdout == "Queue video resumed.\n"
    assert cli("queue", "limit", "video", "none").stdout == "Queue video: no limit.\n"
    assert as_json(cli("queue", "list", "--json")) == [{
        "name": "video", "paused": False, "limit": None,
        "jobs": {"pending": 1, "processing": 0, "completed": 0, "failed": 0, "dead": 0,
                 "canceled": 0}}]


def test_schedule_commands(cli: Cli) -> None:
    out = cli("schedule", "add", "backup", "--cron", "30 2 * * *", "--tz", "Europe/Berlin",
              "-c", "backup.sh").stdout
    assert out.startswith("Schedule backup added (cron 30 2 * * * (Europe/Berlin)): first run at")
    cli("schedule", "add", "ping", "--every", "30s", '{"command":"true","queue":"net"}')
    [backup, ping] = as_json(cli("schedule", "list", "--json"))
    assert (backup["name"], backup["cron"], backup["tz"], backup["job"]["command"]) == (
        "backup", "30 2 * * *", "Europe/Berlin", "backup.sh")
    assert (ping["every"], ping["job"]["queue"], ping["paused"]) == (30.0, "net", False)
    assert backup["next_run_at"].endswith(":30:00.000Z")  # 02:30 in Berlin is hh:30 in UTC
    assert cli("schedule", "pause", "ping").stdout == "Schedule ping paused.\n"
    listed = cli("schedule", "list").stdout.splitlines()
    assert listed[0].split() == ["NAME", "SCHEDULE", "NEXT", "RUN", "LAST", "RUN", "LAST", "JOB",
                                 "PAUSED", "COMMAND"]
    assert "yes" in listed[2].split()
    assert cli("schedule", "resume", "ping").stdout.startswith("Schedule ping resumed: next run")
    assert cli("schedule", "remove", "ping").stdout == "Schedule ping removed.\n"
    assert [s["name"] for s in as_json(cli("schedule", "list", "--json"))] == ["backup"]


def test_purge_prints_how_many(cli: Cli, db_path: Path) -> None:
    with Queue(db_path, environ={}) as queue:
        queue.enqueue("true", id="done")
        queue.enqueue("exit 1", id="dead", max_retries=0)
        queue.enqueue("true", id="waiting", delay="1h")
        with queue.worker(slots=2) as worker:
            worker.run_once()
    assert cli("purge", "--state", "completed", "--older-than", "7d").stdout == "Purged 0 jobs.\n"
    assert cli("purge", "--state", "completed").stdout == "Purged 1 job.\n"
    assert cli("purge", "--all-terminal").stdout == "Purged 1 job.\n"
    assert [job["id"] for job in as_json(cli("list", "--json"))] == ["waiting"]


@pytest.fixture
def seeded(db_path: Path) -> list[str]:
    with Queue(db_path, environ={}) as queue:
        queue.enqueue("true", id="a")
        queue.schedules.add("existing", {"command": "true"}, every="1h")
    return dump(db_path)


BAD_INPUT = [
    # bad cron, bad tz, bad interval, both or neither
    (["schedule", "add", "s", "--cron", "61 * * * *", "-c", "true"], "out of range"),
    (["schedule", "add", "s", "--cron", "* * *", "-c", "true"], "5 fields"),
    (["schedule", "add", "s", "--cron", "0 2 * * *", "--tz", "Mars/Base", "-c", "true"],
     "time zone"),
    (["schedule", "add", "s", "--every", "0s", "-c", "true"], "at least 1s"),
    (["schedule", "add", "s", "--every", "often", "-c", "true"], "duration"),
    (["schedule", "add", "s", "-c", "true"], "--cron or --every"),
    (["schedule", "add", "s", "--every", "1m", "--cron", "* * * * *", "-c", "true"],
     "--cron or --every"),
    (["schedule", "add", "bad name", "--every", "1m", "-c", "true"], "schedule name"),
    (["schedule", "add", "s", "--every", "1m", '{"command":"true","id":"x"}'], "'id'"),
    (["schedule", "add", "s", "--every", "1m"], "JSON or --command"),
    # unknown dependency, cycles, bad priority type, bad durations and times
    (["enqueue", "-c", "true", "--after", "nope"], "no job with id 'nope'"),
    (["enqueue", '{"id":"x","command":"true","depends_on":["x"]}'], "itself"),
    (["enqueue", "-c", "true", "--priority", "high"], "priority"),
    (["enqueue", '{"command":"true","priority":"high"}'], "priority"),
    (["enqueue", "-c", "true", "--delay", "5x"], "delay"),
    (["enqueue", "-c", "true", "--run-at", "tomorrow"], "run_at"),
    (["enqueue", "-c", "true", "--delay", "5m", "--run-at", "2026-01-01T00:00:00Z"],
     "not both"),
    (["enqueue", "-c", "true", "--queue", "no good"], "queue"),
    (["enqueue", "-c", "true", "--tag", "a,b"], "tag"),
    (["enqueue", '{"command":"true","priority":1}', "--priority", "2"], "given twice"),
    (["enqueue", "--file", "-", "--priority", "2"], "--command or JSON"),
    # unknown queue options
    (["queue", "limit", "video", "--", "-1"], "limit"),
    # it said "No such option '-1'"
    (["queue", "limit", "video", "-1"], "limit: must be between 0 (none) and 1000000, got -1"),
    (["queue", "limit", "video", "lots"], "limit"),
    (["queue", "limit", "bad name", "2"], "queue"),
    (["queue", "pause", "bad/name"], "queue"),
    (["queue", "shuffle", "video"], "No such command"),
    (["list", "--tag", "has space"], "tag"),
    (["dlq", "retry", "--tag", "x", "--all"], "one of them"),
    (["purge", "--state", "pending"], "not pending"),
    (["purge", "--state", "completed", "--older-than", "a week"], "older-than"),
    # more than 100 years purged nothing without a word
    (["purge", "--state", "completed", "--older-than", "99999d"], "older-than: at most 100"),
    (["purge"], "--state or --all-terminal"),
    (["worker", "start", "--queue", "no good"], "--queue"),
]


@pytest.mark.parametrize(("args", "word"), BAD_INPUT, ids=[" ".join(a) for a, _ in BAD_INPUT])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(
        cli: Cli, db_path: Path, seeded: list[str], args: list[str], word: str) -> None:
    result = cli(*args, check=2, input="")
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert word in lines[-1], result.stderr
    assert "Traceback" not in result.stderr
    if not lines[-1].startswith("Error: No such command"):
        assert len([line for line in lines if line.startswith(("error:", "Error:"))]) == 1
    assert dump(db_path) == seeded


def test_missing_schedules_fail_with_exit_1(cli: Cli, seeded: list[str], db_path: Path) -> None:
    for action in ("remove", "pause", "resume"):
        result = cli("schedule", action, "nope", check=1)
        assert result.stderr == "error: no schedule named 'nope'\n"
    result = cli("schedule", "add", "existing", "--every", "1m", "-c", "true", check=1)
    assert result.stderr == "error: a schedule named 'existing' exists already\n"
    assert dump(db_path) == seeded
