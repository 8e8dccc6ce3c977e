"""The plain forms of ``enqueue`` run without Click (cli/plain_enqueue.py): for the same
command line they must print the same, on the same stream, exit with the same code and
store the same as Click's command, every bad input included."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.helpers import Cli

from queuectl import Queue
from queuectl.cli.plain_enqueue import parse

# Each process writes which of these modules it loaded to the file named by LOADED.
HEAVY = ("click", "dataclasses", "pathlib")
_REPORT = ("import atexit, os, sys; atexit.register(lambda: open(os.environ['LOADED'], 'w')"
           f".write(','.join(m for m in {HEAVY!r} if m in sys.modules)))")
FAST = _REPORT + "; from queuectl.cli import main; main(sys.argv[1:])"
CLICK = _REPORT + "; from queuectl.cli.group import run; run(sys.argv[1:])"

ID = re.compile(r"(?<=job )\d+\b")  # the numbers two databases give may differ
TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str
    loaded: list[str]


class Twins:
    """Runs each command line both ways, each against a database of its own, in one folder
    (the jobs' working directory is the same)."""

    def __init__(self, cli: Cli, tmp_path: Path) -> None:
        self.folder = tmp_path
        self.env = {k: v for k, v in cli.env.items() if k != "PYTHONDONTWRITEBYTECODE"}
        self.databases = {"fast": tmp_path / "fast.db", "click": tmp_path / "click.db"}

    def run(self, way: str, args: list[str], stdin: str | None = None) -> Outcome:
        loaded = self.folder / f"{way}.loaded"
        env = {**self.env, "QUEUECTL_DB": str(self.databases[way]), "LOADED": str(loaded)}
        code = FAST if way == "fast" else CLICK
        result = subprocess.run([sys.executable, "-c", code, *args], env=env, cwd=self.folder,
                                input=stdin, capture_output=True, text=True, timeout=60)
        normal = lambda text: TIME.sub("<time>", ID.sub("<id>", text))  # noqa: E731
        return Outcome(result.returncode, normal(result.stdout), normal(result.stderr),
                       loaded.read_text().split(",") if loaded.read_text() else [])

    def both(self, args: list[str], stdin: str | None = None) -> tuple[Outcome, Outcome]:
        fast, click = self.run("fast", args, stdin), self.run("click", args, stdin)
        assert (fast.code, fast.stdout, fast.stderr) == (click.code, click.stdout, click.stderr)
        assert "Traceback" not in fast.stderr
        return fast, click

    def jobs(self, way: str) -> list[dict[str, object]]:
        with Queue(self.databases[way], environ={}) as queue:
            return [{k: v for k, v in job.to_dict().items()
                     if k not in ("id", "created_at", "updated_at", "run_at")}
                    for job in queue.jobs(limit=100)]


@pytest.fixture
def twins(cli: Cli, tmp_path: Path) -> Twins:
    return Twins(cli, tmp_path)


LONG = "echo " + "x" * 80
JOBS_FILE = ('{"command":"echo a"}\n\n{"command":"echo b","priority":2,"unique_key":"k"}\n'
             '{"id":"c1","command":"echo c","tags":["t"]}\n{"command":"echo d","unique_key":"k"}\n')

# Command lines run in turn against one database; every one of them must agree.
CASES: dict[str, list[list[str]]] = {
    "command": [["enqueue", "-c", "echo hi"], ["enqueue", "--command", "echo hi"],
                ["enqueue", "--command=echo   many    spaces"]],
    "long and unusual commands": [["enqueue", "-c", LONG], ["enqueue", "-c", "echo héllo ☃"],
                                  ["enqueue", "-c", "--json"], ["enqueue", "-c", "x\ny"]],
    "ANSI codes (stripped off a terminal, as Click does)": [
        ["enqueue", "-c", "printf '\x1b[31mred\x1b[0m'"]],
    "json": [["enqueue", '{"command":"true"}'],
             ["enqueue", '{"command":"true","priority":3,"queue":"q1","tags":["a"],"env":'
                         '{"A":"1"},"timeout":"5s","max_retries":1,"cwd":"/tmp"}'],
             ["enqueue", '{"command":"true","id":"j1"}'], ["enqueue", '  {"command":"x"}  ']],
    "json that the line reports on": [
        ["enqueue", '{"id":"p","command":"true","delay":"1h"}'],
        ["enqueue", '{"command":"a","run_at":"2020-01-01T00:00:00Z"}'],
        ["enqueue", '{"command":"b","depends_on":["p"]}'],
        ["enqueue", '{"command":"c","unique_key":"k"}'],
        ["enqueue", '{"command":"d","unique_key":"k"}'],
        ["cancel", "p"], ["enqueue", '{"command":"e","depends_on":["p"]}']],
    "duplicate ids (exit 1)": [["enqueue", '{"id":"j1","command":"true"}'],
                               ["enqueue", '{"id":"j1","command":"false"}']],
    "bad json (exit 2)": [["enqueue", '{"command":"true"'], ["enqueue", "not json"],
                          ["enqueue", '["echo"]'], ["enqueue", "{}"], ["enqueue", ""],
                          ["enqueue", '{"command":"true","colour":"red"}'],
                          ["enqueue", '{"command":"true","state":"done"}'],
                          ["enqueue", '{"command":""}'], ["enqueue", '{"command":7}'],
                          ["enqueue", '{"command":"a","depends_on":["nope"]}'],
                          ["enqueue", '{"command":"a","run_at":"soon"}'],
                          ["enqueue", '{"command":"a","delay":"1h","run_at":"soon"}'],
                          ["enqueue", '{"command":"a","max_retries":-1}']],
    "bad command (exit 2)": [["enqueue", "-c", ""], ["enqueue", "--command="],
                             ["enqueue", "-c", "   "], ["enqueue", "-c", "\t"]],
    "file": [["enqueue", "-f", "jobs.jsonl"], ["enqueue", "--file=jobs.jsonl"]],
    "bad files": [["enqueue", "--file", "bad-json.jsonl"], ["enqueue", "-f", "bad-field.jsonl"],
                  ["enqueue", "-f", "empty.jsonl"], ["enqueue", "-f", "missing.jsonl"],
                  ["enqueue", "--file="], ["enqueue", "-f", "."]],
    "not plain: Click's own": [["enqueue", "-c", "true", "--json"], ["enqueue"],
                               ["enqueue", "-"], ["enqueue", "--bogus"], ["enqueue", "-h"],
                               ["enqueue", "a", "b"], ["--db"], ["enqueue", "-c"]],
}


@pytest.mark.parametrize("name", list(CASES))
def test_plain_enqueue_agrees_with_click(twins: Twins, name: str) -> None:
    folder = twins.folder
    (folder / "jobs.jsonl").write_text(JOBS_FILE)
    (folder / "bad-json.jsonl").write_text('{"command":"a"}\n\n{"command":"b"\n')
    (folder / "bad-field.jsonl").write_text('{"command":"a"}\n{"command":"b","x":1}\n{bad\n')
    (folder / "empty.jsonl").write_text("\n \n")
    for args in CASES[name]:
        twins.both(args)
    assert twins.jobs("fast") == twins.jobs("click")


def test_the_plain_forms_do_not_load_click_nor_the_dataclass_machinery(twins: Twins) -> None:
    (twins.folder / "jobs.jsonl").write_text(JOBS_FILE)
    for args in (["enqueue", "-c", "true"], ["enqueue", '{"command":"true","queue":"q"}'],
                 ["enqueue", '{"command":""}'], ["enqueue", '{"command":"true"']):
        fast, click = twins.both(args)
        assert fast.loaded == [], args
        assert "click" in click.loaded
    fast, _ = twins.both(["enqueue", "-f", "jobs.jsonl"])
    assert "click" not in fast.loaded
    fast, _ = twins.both(["enqueue", "-c", "true", "--json"])
    assert "click" in fast.loaded  # not a plain form: Click runs it


def test_stdin_and_the_database_flag_agree_with_click(twins: Twins) -> None:
    fast, _ = twins.both(["enqueue", "-f", "-"], stdin=JOBS_FILE)
    assert fast.stdout == "Enqueued 3 jobs. 1 already queued (same unique key).\n"
    twins.both(["enqueue", "--file", "-"], stdin='{"command":"a"}\n{oops\n')
    assert twins.jobs("fast") == twins.jobs("click")
    for flag in (["--db", "other.db"], ["--db=other.db"]):
        fast, _ = twins.both([*flag, "enqueue", "-c", "echo elsewhere"])
        assert fast.stdout == "Enqueued job <id>: echo elsewhere\n"
    with Queue(twins.folder / "other.db", environ={}) as queue:
        assert [job.command for job in queue.jobs()] == ["echo elsewhere"] * 4


def test_a_reader_that_left_gives_exit_0_both_ways(twins: Twins) -> None:
    outcomes = []
    for way, code in (("fast", FAST), ("click", CLICK)):
        env = {**twins.env, "QUEUECTL_DB": str(twins.databases[way]),
               "LOADED": str(twins.folder / "loaded")}
        proc = subprocess.Popen([sys.executable, "-c", code, "enqueue", "-c", "true"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # long before the process writes its line
        outcomes.append((proc.wait(timeout=60), proc.stderr.read()))
        proc.stderr.close()
    assert outcomes[0] == outcomes[1] == (0, b"")
    assert len(twins.jobs("fast")) == len(twins.jobs("click")) == 1


@pytest.mark.parametrize(
    ("args", "plan"),
    [
        (["enqueue", "-c", "x"], (None, "command", "x")),
        (["enqueue", "--command", "-h"], (None, "command", "-h")),
        (["enqueue", "--command=a=b"], (None, "command", "a=b")),
        (["enqueue", '{"command":"x"}'], (None, "json", '{"command":"x"}')),
        (["enqueue", "-f", "-"], (None, "file", "-")),
        (["enqueue", "--file=j"], (None, "file", "j")),
        (["--db", "q.db", "enqueue", "-c", "x"], ("q.db", "command", "x")),
        (["--db=", "enqueue", "x"], ("", "json", "x")),
        (["enqueue"], None), (["enqueue", "-"], None), (["enqueue", "-cx"], None),
        (["enqueue", "-c", "x", "--json"], None), (["enqueue", "--json"], None),
        (["enqueue", "--id=x"], None), (["list"], None), (["--db", "q.db"], None),
        (["--help"], None), (["enqueue", "--", "x"], None), (["enqueue", "-h"], None),
        (["--version"], None), ([], None), (["--db"], None),
    ],
)
def test_which_command_lines_are_plain(
    args: list[str], plan: tuple[str | None, str, str] | None
) -> None:
    found = parse(args)
    assert (None if found is None else (found.database, found.form, found.value)) == plan


def test_shell_completion_is_left_to_click(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("_QUEUECTL_COMPLETE", "bash_complete")
    assert parse(["enqueue", "-c", "x"]) is None
