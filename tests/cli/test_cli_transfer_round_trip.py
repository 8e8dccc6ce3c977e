"""export then import keeps what the store held: each job's completion hooks and what came of
them (import dropped them: a waiting job's on-finish command never ran on the new store), and
the settings of queues (a queue paused on purpose came back unpaused)."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import Cli, as_json


def test_a_round_trip_keeps_hooks_their_results_and_restarts(
    either_cli: Cli, tmp_path: Path
) -> None:
    cli = either_cli
    hooked = tmp_path / "hooked"
    hook = f"echo $QUEUECTL_JOB_ID >> {hooked}"
    cli("enqueue", "-c", "echo first", "--id", "ran", "--on-finish", hook)
    cli("worker", "start", "--burst", "--quiet", timeout=120)
    cli("restart", "ran")  # a job that runs 'ran' again, with the hook too
    cli("enqueue", "-c", "true", "--id", "waits", "--on-finish", hook,
        "--webhook", "http://127.0.0.1:9/nobody-listens", "--delay", "1h")
    assert hooked.read_text() == "ran\n"
    exported = cli("export").stdout

    target = Cli({**cli.env, "QUEUECTL_DB": str(tmp_path / "target.db")}, cli.cwd)
    target("import", input=exported)
    assert target("export").stdout == exported
    waits = as_json(target("show", "waits", "--json"))
    assert (waits["on_finish"], waits["webhook"]) == (
        hook, "http://127.0.0.1:9/nobody-listens")
    [restarted] = [job for job in as_json(target("list", "--json")) if job["id"] != "waits"
                   and job["id"] != "ran"]
    assert restarted["restarted_from"] == "ran"

    # On the new store the restarted job runs and its hook with it; the hook of 'ran' ran
    # before the export and does not run again.
    target("worker", "start", "--burst", "--quiet", timeout=120)
    assert hooked.read_text() == f"ran\n{restarted['id']}\n"


def test_restore_job_writes_every_stored_field_of_a_job_on_both_backends() -> None:
    """A column added to jobs (and to ``Job``) must be added to ``restore_job`` too, or import
    drops it: this is how on_finish, webhook and restarted_from were lost."""
    import re

    import queuectl.storage as storage
    from queuectl.storage.restore import JOB_COLUMNS
    from queuectl.storage.sql import load_queries

    stored = set(JOB_COLUMNS) - {"unreadable"}  # why a row could not be read: no column
    for backend in ("sqlite", "postgres"):
        query = load_queries(Path(storage.__file__).parent / backend / "queries.sql")
        columns = re.search(r"INSERT INTO jobs \(([^)]*)\)", query["restore_job"])
        assert columns is not None
        assert {name.strip() for name in columns.group(1).split(",")} == stored, backend


def test_a_paused_and_limited_queue_stays_so_on_the_new_store(
    either_cli: Cli, tmp_path: Path
) -> None:
    """The settings of queues were not exported: a queue paused on purpose came back
    unpaused, and the first worker on the new store ran its jobs."""
    cli = either_cli
    cli("enqueue", "-c", "echo ran", "--id", "held", "--queue", "video")
    cli("queue", "pause", "video")
    cli("queue", "limit", "video", "2")
    cli("queue", "limit", "audio", "3")
    exported = cli("export").stdout

    target = Cli({**cli.env, "QUEUECTL_DB": str(tmp_path / "target.db")}, cli.cwd)
    assert target("import", input=exported).stdout == (
        "Imported 1 job(s) with 0 attempt(s), 0 schedule(s) and 2 setting(s).\n")
    assert target("export").stdout == exported
    queues = {q["name"]: (q["paused"], q["limit"])
              for q in as_json(target("queue", "list", "--json"))}
    assert queues == {"audio": (False, 3), "video": (True, 2)}
    target("worker", "start", "--burst", "--quiet", timeout=120)
    assert as_json(target("show", "held", "--json"))["state"] == "pending"
