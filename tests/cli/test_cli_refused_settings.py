"""A setting stored by hand that ``config set`` refuses (``lease_duration = 'soon'``) stops
only what reads it.

An enqueue reads a job's settings (``max_retries``, ``on_finish``, ``webhook``) and
``autostart``, and with ``autostart`` on every setting (the worker it starts reads them all);
an edit reads ``max_retries`` only when it clears the job's; ``schedule add`` reads none. Each
used to resolve every setting strictly, so that a lease stored by hand stopped every enqueue
with ``error: lease_duration: expected ...``. ``status --json`` and ``/api/status`` list the
settings refused.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.helpers import Cli, as_json, with_a_terminal
from tests.storage.conftest import execute_raw
from tests.web.conftest import dashboard_pages

from queuectl import Queue

LEASE = "lease_duration: expected a duration such as 30, 30s, 5m, 2h or 1d, got 'soon'"
LEASE_WARNING = f"warning: {LEASE} (fix it with queuectl config set or unset)\n"


def _store_by_hand(cli: Cli, key: str, value: str) -> None:
    with Queue(cli.env["QUEUECTL_DB"], environ={}) as queue:
        execute_raw(queue.storage, f"INSERT INTO config VALUES ('{key}', '{value}')"
                                   " ON CONFLICT (key) DO UPDATE SET value = excluded.value")


def _ids(cli: Cli) -> list[str]:
    return sorted(job["id"] for job in as_json(cli("list", "--json")))


def test_a_lease_stored_by_hand_stops_no_enqueue(either_cli: Cli, tmp_path: Path) -> None:
    """Every form of enqueue (the plain ones without Click, the Click ones, the library)
    adds its job and warns in one line; so do edit and schedule add, without the warning."""
    cli = either_cli
    cli("enqueue", "-c", "true", "--id", "before")
    _store_by_hand(cli, "lease_duration", "soon")
    (tmp_path / "jobs.jsonl").write_text('{"id": "file1", "command": "true"}\n')
    for args in (["enqueue", "-c", "true"],  # the plain forms (cli/plain_enqueue.py)
                 ["enqueue", '{"id": "json1", "command": "true"}'],
                 ["enqueue", "--file", "jobs.jsonl"],
                 ["enqueue", "-c", "true", "--id", "click1"],  # Click's
                 ["enqueue", "--file", "-", "--json"],
                 ["add", "--id", "add1", "true"]):
        added = cli(*args, input='{"id": "stdin1", "command": "true"}\n')
        assert added.stderr == LEASE_WARNING, args
    with Queue(cli.env["QUEUECTL_DB"], environ={}) as queue:
        queue.enqueue("true", id="lib1")
        queue.enqueue_many([{"id": "lib2", "command": "true"}])
    assert _ids(cli) == sorted(["1", "before", "json1", "file1", "click1", "stdin1",
                                "add1", "lib1", "lib2"])
    edited = cli("edit", "before", "--priority", "4")
    assert edited.stdout == "Edited job before: priority 0 -> 4\n"
    scheduled = cli("schedule", "add", "nightly", "--every", "1h", "-c", "true")
    assert scheduled.stderr == ""


@pytest.mark.parametrize(("key", "value", "why"), [
    ("max_retries", "many", "max_retries: expected a whole number, got 'many'"),
    ("on_finish", "", None),
    ("webhook", "ftp://example.org", None),
    ("autostart", "lots", "autostart: expected a number of slots (1-1024) or off, got 'lots'"),
], ids=["max_retries", "on_finish", "webhook", "autostart"])
def test_a_setting_an_enqueue_reads_still_stops_it(cli: Cli, tmp_path: Path, key: str,
                                                    value: str, why: str | None) -> None:
    """One line naming the setting, exit 2, nothing stored, from every form."""
    if key == "on_finish":
        value = "x" * 140000  # longer than a command may be (128 KiB)
    _store_by_hand(cli, key, value)
    (tmp_path / "jobs.jsonl").write_text('{"command": "true"}\n')
    errors = set()
    for args in (["enqueue", "-c", "true"], ["enqueue", '{"command": "true"}'],
                 ["enqueue", "--file", "jobs.jsonl"], ["enqueue", "-c", "true", "--id", "c"],
                 ["add", "true"]):
        refused = cli(*args, check=2)
        assert refused.stdout == "" and refused.stderr.startswith(f"error: {key}: "), args
        assert len(refused.stderr.splitlines()) == 1, args
        errors.add(refused.stderr)
    assert len(errors) == 1  # the same line from each
    if why is not None:
        assert errors == {f"error: {why}\n"}
    assert _ids(cli) == []


def test_a_job_that_gives_its_own_max_retries_needs_no_stored_one(
        either_cli: Cli, tmp_path: Path) -> None:
    """A max_retries stored by hand refused every enqueue, even of a job that gives its own
    (--max-retries 1, or "max_retries" in its JSON), which never reads it. Such a job is
    added, from every form, without a word; a job that takes the default is still refused,
    in one line, and in a file of both nothing is added."""
    cli = either_cli
    _store_by_hand(cli, "max_retries", "many")
    (tmp_path / "own.jsonl").write_text('{"id": "file1", "command": "true", "max_retries": 2}\n')
    (tmp_path / "mixed.jsonl").write_text('{"id": "m1", "command": "true", "max_retries": 2}\n'
                                          '{"id": "m2", "command": "true"}\n')
    for args in (["enqueue", '{"id": "json1", "command": "true", "max_retries": 1}'],  # plain
                 ["enqueue", "--file", "own.jsonl"],
                 ["enqueue", "-c", "true", "--id", "click1", "--max-retries", "1"],  # Click's
                 ["enqueue", '{"id": "json2", "command": "true", "max_retries": 0}', "--json"],
                 ["add", "--id", "add1", "--max-retries", "3", "true"]):
        added = cli(*args)
        assert added.stderr == "", args
    with Queue(cli.env["QUEUECTL_DB"], environ={}) as queue:
        queue.enqueue("true", id="lib1", max_retries=1)
        queue.enqueue_many([{"id": "lib2", "command": "true", "max_retries": 1}])
    for args in (["enqueue", "-c", "true"], ["enqueue", "--file", "mixed.jsonl"]):
        refused = cli(*args, check=2)
        assert refused.stderr == "error: max_retries: expected a whole number, got 'many'\n"
    assert _ids(cli) == sorted(["json1", "file1", "click1", "json2", "add1", "lib1", "lib2"])
    assert as_json(cli("show", "click1", "--json"))["max_retries"] == 1


def test_autostart_refuses_a_setting_its_worker_would(cli: Cli) -> None:
    """With autostart on, the enqueue starts a worker, which reads every setting: a lease
    stored by hand is refused before the job is stored, not after (the worker exiting at
    start, or the job stored and the enqueue failing)."""
    cli("config", "set", "autostart", "1")
    _store_by_hand(cli, "lease_duration", "soon")
    for args in (["enqueue", "-c", "true"], ["enqueue", "-c", "true", "--id", "c"]):
        assert cli(*args, check=2).stderr == f"error: {LEASE}\n", args
    assert _ids(cli) == []


def test_edit_reads_max_retries_only_when_it_clears_the_jobs(cli: Cli, tmp_path: Path) -> None:
    cli("enqueue", "-c", "true", "--id", "e", "--max-retries", "1")
    _store_by_hand(cli, "max_retries", "many")
    assert cli("edit", "e", "--priority", "2").stdout == "Edited job e: priority 0 -> 2\n"
    editor = tmp_path / "editor.py"  # null: the job takes the setting's max_retries
    editor.write_text("import json, sys\npath = sys.argv[1]\njob = json.load(open(path))\n"
                      "job['max_retries'] = None\njson.dump(job, open(path, 'w'))\n")
    cli.env = {**cli.env, "EDITOR": f"python3 {editor}", "VISUAL": ""}
    refused = with_a_terminal(cli, "edit", "e")
    assert (refused.returncode, refused.stderr) == (
        2, "error: max_retries: expected a whole number, got 'many'\n")
    assert as_json(cli("show", "e", "--json"))["max_retries"] == 1


def test_status_lists_the_settings_refused(either_cli: Cli) -> None:
    """status --json and /api/status: ``refused_settings``, empty when none; status says on
    stderr that the workers are judged by the default lease."""
    cli = either_cli
    cli("enqueue", "-c", "true")
    assert as_json(cli("status", "--json"))["refused_settings"] == {}
    _store_by_hand(cli, "lease_duration", "soon")
    shown = cli("status", "--json")
    assert json.loads(shown.stdout)["refused_settings"] == {"lease_duration": LEASE}
    assert shown.stderr == (LEASE_WARNING.rstrip("\n")
                            + "; workers judged by the default lease, 30s\n")
    assert cli("worker", "list").stderr == shown.stderr
    api = dashboard_pages(cli, "api/status")["api/status"]
    assert api.status_code == 200
    assert api.json()["refused_settings"] == {"lease_duration": LEASE}
