"""Importing an export from a store older than the rule on env names: variables whose names
are not portable (no job's shell passed them on) are left out of jobs and of schedules' job
templates, one line for each says which, and every other bound still refuses the import."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.helpers import Cli, WorkerPool, as_json, wait_until

T0 = 1_767_225_600.0
LEFT_OUT = ("Left out env variables whose names are not portable (no job's shell passed them"
            " on) from 2 job(s): '9LIVES', 'BAD NAME', 'x-y'.")


def _old_job(job_id: str, env: dict[str, str], state: str = "pending") -> dict[str, Any]:
    """A job record as a store from before the rule exported it (written out by hand: no
    enqueue today takes such names)."""
    return {"kind": "job", "attempts": [], "job": {
        "id": job_id, "command": 'echo "OK=$OK"', "state": state, "attempts": 0,
        "max_retries": 0, "created_at": T0, "updated_at": T0, "run_at": T0, "cwd": "/",
        "env": env}}


def _old_schedule(name: str, env: dict[str, str], *, paused: bool = False) -> dict[str, Any]:
    """A schedule record as a store from before the rule exported it: hourly, due since T0."""
    return {"kind": "schedule", "schedule": {
        "name": name, "job": {"command": 'echo "OK=$OK"', "cwd": "/", "env": env},
        "cron": None, "every": 3600.0, "tz": None, "paused": paused, "next_run_at": T0,
        "last_run_at": None, "last_job_id": None, "created_at": T0}}


def _export_file(tmp_path: Path, *jobs: dict[str, Any]) -> Path:
    path = tmp_path / "old.jsonl"
    lines = [{"kind": "queuectl-export", "version": 1}, *jobs]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def test_import_leaves_out_unportable_env_names_and_says_so(cli: Cli, tmp_path: Path) -> None:
    old = _export_file(
        tmp_path,
        _old_job("mixed", {"OK": "1", "BAD NAME": "x", "9LIVES": "y"}),
        _old_job("only-bad", {"x-y": "z"}, state="dead"),
        _old_job("fine", {"FINE": "1"}))
    result = cli("import", str(old))
    assert result.stdout == "Imported 3 job(s) with 0 attempt(s), 0 schedule(s) and 0 setting(s).\n"
    assert result.stderr == LEFT_OUT + "\n"
    envs = {job_id: as_json(cli("show", job_id, "--json"))["env"]
            for job_id in ("mixed", "only-bad", "fine")}
    assert envs == {"mixed": {"OK": "1"}, "only-bad": None, "fine": {"FINE": "1"}}

    cli("worker", "start", "--burst", "--quiet", timeout=120)
    shown = as_json(cli("show", "mixed", "--json"))
    assert (shown["state"], shown["attempts_history"][0]["output"]) == ("completed", "OK=1\n")
    # What it writes now imports without a word.
    again = cli("--db", str(tmp_path / "again.db"), "import", input=cli("export").stdout)
    assert again.stderr == ""


def test_every_other_bound_still_refuses_the_whole_import(cli: Cli, tmp_path: Path) -> None:
    old = _export_file(tmp_path, _old_job("good", {"A": "1"}),
                       _old_job("nul", {"BAD NAME": "x", "OK": "a\0b"}))
    refused = cli("import", str(old), check=2)
    assert refused.stderr == ("error: line 3: job 'nul': env: value of OK must not contain a"
                              " NUL character\n")
    assert as_json(cli("list", "--json")) == []


def test_import_leaves_them_out_of_schedules_too(cli: Cli, workers: WorkerPool,
                                                 tmp_path: Path) -> None:
    old = _export_file(
        tmp_path,
        _old_schedule("hourly", {"OK": "1", "BAD NAME": "x"}),
        _old_schedule("only-bad", {"x-y": "z", "2FA": "1"}, paused=True),
        _old_schedule("fine", {"FINE": "1"}, paused=True),
        _old_job("old-job", {"9LIVES": "y"}, state="dead"))
    result = cli("import", str(old))
    assert result.stdout == "Imported 1 job(s) with 0 attempt(s), 3 schedule(s) and 0 setting(s).\n"
    assert result.stderr.splitlines() == [
        "Left out env variables whose names are not portable (no job's shell passed them on)"
        " from 1 job(s): '9LIVES'.",
        "Left out env variables whose names are not portable (no job's shell passed them on)"
        " from the job template of 2 schedule(s): '2FA', 'BAD NAME', 'x-y'."]
    templates = {s["name"]: s["job"] for s in as_json(cli("schedule", "list", "--json"))}
    assert templates == {
        "hourly": {"command": 'echo "OK=$OK"', "cwd": "/", "env": {"OK": "1"}},
        "only-bad": {"command": 'echo "OK=$OK"', "cwd": "/"},
        "fine": {"command": 'echo "OK=$OK"', "cwd": "/", "env": {"FINE": "1"}}}

    # Its missed ticks come as one catch-up run, which enqueues and runs as before.
    workers.start(1)
    tick = "hourly@20260101T000000Z"
    wait_until(lambda: any(job["id"] == tick and job["state"] == "completed"
                           for job in as_json(cli("list", "--json"))),
               timeout=60, interval=0.1, message="the schedule's catch-up tick to run")
    assert as_json(cli("show", tick, "--json"))["attempts_history"][0]["output"] == "OK=1\n"
    again = cli("--db", str(tmp_path / "again.db"), "import", input=cli("export").stdout)
    assert again.stderr == ""
