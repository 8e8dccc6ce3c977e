"""Job input through the real ``queuectl enqueue`` (JSON, ``--command`` with flags, ``--file``
and stdin), each example a process: no traceback; exit 0, or 2 with one line on stderr (1
for an id that exists, or that a file gives twice), and then no row written; every accepted
job runs to a finished attempt in a real worker at the end."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from queuectl import Queue
from tests.helpers import Cli

from .conftest import fuzz_settings, tally
from .running import run_accepted
from .strategies import any_specs, job_specs

# JSON field -> the flag of ``enqueue --command`` that sets it.
_FLAGS = {"id": "--id", "max_retries": "--max-retries", "timeout": "--timeout", "cwd": "--cwd",
          "output_limit": "--output-limit", "priority": "--priority", "delay": "--delay",
          "run_at": "--run-at", "queue": "--queue", "unique_key": "--unique-key"}
_REPEATED = {"fatal_exit_codes": "--fatal-exit-code", "depends_on": "--after", "tags": "--tag"}
_DEEP = "[" * 50_000 + "]" * 50_000


def _argument(value: Any) -> str | None:
    """``value`` as one argument of a command line, or None if no command line can hold it
    (a NUL, or a lone surrogate that is not an undecodable byte)."""
    text = json.dumps(value) if isinstance(value, (list, dict)) or value is None else str(value)
    try:
        text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return None
    return None if "\0" in text else text


def _flags(spec: dict[str, Any]) -> list[str] | None:
    """``enqueue --command ...`` for ``spec``, or None if its values cannot be flags."""
    args = ["--command", spec.get("command")]
    for field, value in spec.items():
        if field in _FLAGS:
            args += [_FLAGS[field], value]
        elif field in _REPEATED and isinstance(value, list):
            for item in value:
                args += [_REPEATED[field], item]
        elif field == "env" and isinstance(value, dict):
            args += [arg for key, item in value.items() for arg in ("--env", f"{key}={item}")]
        elif field == "retry_on_timeout" and value is False:
            args.append("--no-retry-on-timeout")
        elif field != "command":
            return None
    arguments = [_argument(arg) for arg in args]
    return None if None in arguments else [arg for arg in arguments if arg is not None]


@st.composite
def invocations(draw: st.DrawFn) -> tuple[list[str], str | None, int]:
    """``(arguments after enqueue, standard input, jobs given)``."""
    form = draw(st.sampled_from(["json", "command", "file", "stdin", "deep"]))
    if form == "command":
        flags = _flags(draw(job_specs))
        if flags is not None:
            return flags, None, 1
        form = "json"
    if form == "deep":
        return [draw(st.sampled_from([_DEEP, '{"command":"x","env":' + _DEEP[:2000] + "}"]))], \
            None, 1
    if form == "json":
        text = json.dumps(draw(any_specs))
        return ([text], None, 1) if "\0" not in text else (["--file", "-"], text + "\n", 1)
    lines = [json.dumps(spec) for spec in draw(st.lists(any_specs, min_size=1, max_size=4))]
    text = "\n".join(lines) + "\n"
    return (["--file", "-"] if form == "stdin" else ["--file", "@"]), text, len(lines)


def _rows(db_path: Path) -> int:
    with sqlite3.connect(db_path) as db:
        try:
            return int(db.execute("SELECT count(*) FROM jobs").fetchone()[0])
        except sqlite3.OperationalError:  # no table yet: nothing was ever stored
            return 0


def test_cli_enqueue_refuses_in_one_line_or_stores_a_runnable_job(
    cli: Cli, db_path: Path, tmp_path: Path
) -> None:
    counts = tally("cli")
    jobs_file = tmp_path / "jobs.jsonl"

    @fuzz_settings(short_examples=30)
    @given(invocation=invocations())
    def enqueue(invocation: tuple[list[str], str | None, int]) -> None:
        args, text, _ = invocation
        if args[-1] == "@":  # the lines go to a file rather than standard input
            jobs_file.write_text(text or "", encoding="utf-8", errors="surrogateescape")
            args, text = [*args[:-1], str(jobs_file)], None
        before = _rows(db_path)
        result = cli("enqueue", *args, input=text, check=False)
        counts["examples"] += 1
        counts[f"exit {result.returncode}"] += 1
        traceback = "Traceback" in result.stderr
        counts["tracebacks"] += traceback
        assert not traceback, result.stderr[-3000:]
        assert result.returncode in (0, 1, 2), result.stderr
        if result.returncode == 0:
            assert result.stderr == ""
            assert _rows(db_path) >= before
            return
        counts["rows written on error"] += _rows(db_path) - before
        assert _rows(db_path) == before, result.stderr
        lines = result.stderr.splitlines()
        if result.returncode == 1:
            assert len(lines) == 1 and ("already exists" in lines[0]
                                        or "is given twice" in lines[0]), result.stderr
        elif lines and lines[0].startswith("error: "):
            assert len(lines) == 1, result.stderr  # ours: one line
        else:  # Click's usage error: usage, hint, and one error line
            assert sum("Error:" in line for line in lines) == 1, result.stderr

    enqueue()
    with Queue(db_path, environ={}) as queue:
        stored = {job.id for job in queue.search_jobs(limit=1000).jobs}
        missing = run_accepted(queue, stored, counts)
    assert not missing, f"accepted jobs that did not run: {missing[:5]}"
