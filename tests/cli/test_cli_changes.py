"""``restart``, ``remove`` and ``edit`` through the real CLI."""

from __future__ import annotations

import os
import pty
import subprocess
from pathlib import Path

from tests.helpers import Cli, as_json, dump, with_a_terminal

from queuectl import Queue


def _run_all(db_path: Path) -> None:
    with Queue(db_path, environ={}) as queue, queue.worker() as worker:
        while worker.run_once():
            pass


def test_restart_runs_a_finished_job_again_as_a_new_one(cli: Cli, db_path: Path) -> None:
    cli("add", "--max-retries", "0", "--tag", "nightly", "echo run $QUEUECTL_JOB_ID; exit 3")
    _run_all(db_path)
    assert cli("restart", "1").stdout == "Restarted 1 as job 2: echo run $QUEUECTL_JOB_ID; exit 3\n"
    again = as_json(cli("show", "2", "--json"))
    assert (again["restarted_from"], again["state"], again["tags"]) == ("1", "pending", ["nightly"])
    assert "restarts:    1" in cli("show", "2").stdout
    _run_all(db_path)
    assert cli("logs", "2").stdout == "run 2\n"
    assert as_json(cli("show", "1", "--json"))["state"] == "dead"  # the original stays


def test_restart_given_an_id_twice_restarts_it_once_and_says_so_once(
    cli: Cli, db_path: Path,
) -> None:
    cli("add", "--id", "a", "true")
    cli("add", "--id", "b", "true")
    _run_all(db_path)
    result = cli("restart", "a", "b", "a")
    assert result.stdout == "Restarted a as job 1: true\nRestarted b as job 2: true\n"
    assert result.stderr == ""


def test_restart_refuses_a_waiting_job(cli: Cli, db_path: Path) -> None:
    cli("add", "--id", "later", "--delay", "1h", "true")
    before = dump(db_path)
    result = cli("restart", "later", check=1)
    assert result.stderr == ("error: job 'later' is pending: only completed, dead or canceled "
                             "jobs can be restarted; nothing restarted\n")
    assert dump(db_path) == before


def test_restart_refused_for_a_held_unique_key_exits_1_and_restarts_none(
    cli: Cli, db_path: Path,
) -> None:
    # It printed "... not restarted." and exited 0, while dlq retry exits 1 in the same case;
    # and the other ids given were restarted, though restart acts on all of them or none.
    cli("add", "--id", "theirs", "--unique-key", "nightly", "true")
    cli("add", "--id", "other", "true")
    _run_all(db_path)
    cli("add", "--id", "ours", "--unique-key", "nightly", "--delay", "1h", "true")
    before = dump(db_path)
    result = cli("restart", "other", "theirs", check=1)
    assert (result.stdout, result.stderr) == ("", "error: job 'theirs' has unique key "
                                              "'nightly', which live job 'ours' holds already: "
                                              "nothing restarted\n")
    assert dump(db_path) == before


def test_restart_of_two_jobs_with_one_unique_key_restarts_neither(
    cli: Cli, db_path: Path,
) -> None:
    for name in ("a", "b"):
        cli("add", "--id", name, "--unique-key", "k", "true")
        _run_all(db_path)
    before = dump(db_path)
    result = cli("restart", "a", "b", check=1)
    assert result.stderr == ("error: jobs 'a' and 'b' have unique key 'k', and one live job "
                             "may hold it: nothing restarted\n")
    assert dump(db_path) == before


def test_remove_deletes_jobs_with_their_history(cli: Cli, db_path: Path) -> None:
    cli("add", "echo one")
    cli("add", "--delay", "1h", "echo two")
    cli("add", "--after", "2", "echo three")
    _run_all(db_path)
    before = dump(db_path)
    error = cli("remove", "2", check=1).stderr
    assert error == "error: job '2': job '3' waits on it (remove or cancel that one too); " \
                    "nothing removed\n"
    assert dump(db_path) == before
    assert cli("remove", "1", "2", "3").stdout == "Removed 3 jobs: 1, 2, 3.\n"
    assert cli("list").stdout == "No jobs.\n"
    assert "no job with id '1'" in cli("logs", "1", check=1).stderr


def test_edit_by_flags_is_checked_like_an_enqueue(cli: Cli, db_path: Path) -> None:
    cli("add", "--id", "e", "--delay", "1h", "echo old")
    out = cli("edit", "e", "--priority", "7", "--queue", "fast", "-c", "echo new",
              "--timeout", "30s").stdout
    assert out == ('Edited job e: command "echo old" -> "echo new"; priority 0 -> 7; '
                   'queue "default" -> "fast"; timeout none -> 30s\n')
    job = as_json(cli("show", "e", "--json"))
    assert (job["command"], job["priority"], job["queue"], job["timeout"]) == (
        "echo new", 7, "fast", 30.0)
    before = dump(db_path)
    for args, word in ((["--max-retries", "-1"], "max_retries"),
                       (["--queue", "no such"], "queue"), (["--timeout", "soon"], "timeout"),
                       (["--run-at", "2026-13-40"], "run_at")):
        result = cli("edit", "e", *args, check=2)
        [line] = result.stderr.splitlines()
        assert line.startswith("error: ") and word in line, line
    assert dump(db_path) == before
    assert cli("edit", "e", "--priority", "7").stdout == "No changes to job e.\n"
    assert dump(db_path) == before


def test_edit_in_the_editor_as_json(cli: Cli, db_path: Path, tmp_path: Path) -> None:
    cli("add", "--id", "e", "--delay", "1h", "echo old")
    editor = tmp_path / "editor.py"
    editor.write_text(
        "import json, sys\n"
        "path = sys.argv[1]\n"
        "job = json.load(open(path))\n"
        "job['priority'] = 4\n"
        "job['max_retries'] = 0\n"
        "json.dump(job, open(path, 'w'))\n")
    cli.env = {**cli.env, "EDITOR": f"python3 {editor}", "VISUAL": ""}
    edited = with_a_terminal(cli, "edit", "e")
    assert (edited.returncode, edited.stdout) == (
        0, "Edited job e: priority 0 -> 4; max_retries 3 -> 0\n")
    broken = tmp_path / "broken.py"
    broken.write_text("import sys\nopen(sys.argv[1], 'w').write('{not json')\n")
    cli.env["EDITOR"] = f"python3 {broken}"
    before = dump(db_path)
    result = with_a_terminal(cli, "edit", "e")
    error = result.stderr
    assert result.returncode == 2
    assert error.startswith("error: the edited job is not JSON: ") and "nothing changed" in error
    assert dump(db_path) == before


def _job_e_and_an_editor_that_sets_its_priority(cli: Cli, tmp_path: Path) -> Path:
    """Job 'e', scheduled later, and $EDITOR a script that sets its priority to 9; the file
    returned appears once the editor has started."""
    cli("add", "--id", "e", "--delay", "1h", "echo old")
    started = tmp_path / "started"
    editor = tmp_path / "editor.py"
    editor.write_text(f"import sys\nopen({str(started)!r}, 'w').close()\n"
                      "open(sys.argv[1], 'w').write('{\"priority\": 9}')\n")
    cli.env = {**cli.env, "EDITOR": f"python3 {editor}", "VISUAL": ""}
    return started


def test_edit_without_flags_and_without_a_terminal_refuses(
    cli: Cli, db_path: Path, tmp_path: Path,
) -> None:
    # It opened $EDITOR anyway: vim, its input not a terminal, printed escape codes and failed.
    _job_e_and_an_editor_that_sets_its_priority(cli, tmp_path)
    before = dump(db_path)
    result = cli("edit", "e", input="", check=2)
    assert (result.stdout, result.stderr) == ("", (
        "error: no fields to change: pass them as flags (queuectl edit e --priority 10), or "
        "run on a terminal to edit the job in $EDITOR; nothing changed\n"))
    assert dump(db_path) == before


def test_edit_without_flags_and_stdout_redirected_refuses(
    cli: Cli, db_path: Path, tmp_path: Path,
) -> None:
    # `queuectl edit e > file` started $EDITOR with stdin on the terminal: the editor drew
    # its screen into the file, blind, and waited for keys typed at a screen nobody saw.
    started = _job_e_and_an_editor_that_sets_its_priority(cli, tmp_path)
    before = dump(db_path)
    main, secondary = pty.openpty()
    try:
        result = subprocess.run(cli.argv("edit", "e"), env=cli.env, cwd=cli.cwd,
                                stdin=secondary, capture_output=True, text=True, timeout=60)
    finally:
        os.close(main)
        os.close(secondary)
    assert (result.returncode, result.stdout, result.stderr) == (2, "", (
        "error: no fields to change: pass them as flags (queuectl edit e --priority 10), or "
        "run with stdout on a terminal (not redirected) to edit the job in $EDITOR; nothing "
        "changed\n"))
    assert not started.exists()
    assert dump(db_path) == before


def test_edit_refuses_a_finished_job(cli: Cli, db_path: Path) -> None:
    cli("add", "--id", "done", "true")
    _run_all(db_path)
    error = cli("edit", "done", "--priority", "1", check=1).stderr
    assert error == "error: job 'done' is completed: only pending or failed jobs can be " \
                    "edited; nothing changed\n"
