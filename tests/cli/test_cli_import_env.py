"""Importing an export from a store older than the rule on env names: variables whose names
are not portable (no job's shell passed them on) are left out, one line says which, and every
other bound still refuses the import."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.helpers import Cli, as_json

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
    assert result.stdout == "Imported 3 job(s) with 0 attempt(s) and 0 setting(s).\n"
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
