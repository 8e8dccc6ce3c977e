"""Input that is not UTF-8 is bad input like any other: one line, exit 2, nothing written."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from tests.helpers import Cli

NOT_UTF8 = b'{"command": "true"}\n{"command": "echo \xff"}\n'


@pytest.mark.parametrize("extra", [[], ["--json"]], ids=["plain", "click"])
def test_a_jobs_file_that_is_not_utf8_is_refused(
    cli: Cli, tmp_path: Path, extra: list[str]
) -> None:
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_bytes(NOT_UTF8)
    from_file = cli("enqueue", *extra, "--file", str(jobs), check=2)
    from_stdin = subprocess.run(cli.argv("enqueue", *extra, "--file", "-"), input=NOT_UTF8,
                                env=cli.env, cwd=cli.cwd, capture_output=True, timeout=60)
    assert from_stdin.returncode == 2
    for stderr in (from_file.stderr, from_stdin.stderr.decode()):
        assert stderr.startswith("error: ") and stderr.count("\n") == 1, stderr
    assert json.loads(cli("status", "--json").stdout)["jobs"]["pending"] == 0


@pytest.mark.parametrize("extra", [[], ["--json"]], ids=["plain", "click"])
def test_a_jobs_file_starting_with_a_bom_is_read(
    cli: Cli, tmp_path: Path, extra: list[str]
) -> None:
    """As a Windows editor saves UTF-8: the byte order mark is no part of the first job."""
    with_bom = b'\xef\xbb\xbf{"command": "echo one"}\n{"command": "echo two"}\n'
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_bytes(with_bom)
    cli("enqueue", *extra, "--file", str(jobs))
    subprocess.run(cli.argv("enqueue", *extra, "--file", "-"), input=with_bom, env=cli.env,
                   cwd=cli.cwd, capture_output=True, timeout=60, check=True)
    listed = json.loads(cli("list", "--json").stdout)
    assert sorted(job["command"] for job in listed) == ["echo one", "echo one", "echo two",
                                                        "echo two"]
