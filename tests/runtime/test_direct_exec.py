"""Direct exec: a command of plain words runs without ``sh`` only where that changes nothing.

A corpus of commands runs twice, once through the worker's launcher with direct exec on and
once as plain ``sh -c``, in the same folder with the same environment: output, exit code and
error must be the same, including "command not found" (127), a file that is not executable
(126), a script without ``#!`` and PWD through a symbolic link.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any, TypedDict

import pytest
from tests.helpers import wait_until

from queuectl.process import spawn
from queuectl.process.launcher import Launcher, _shell_is_dash
from queuectl.process.runner import Execution, RunResult
from queuectl.process.shellwords import plain_argv

WORKER = "w-corpus"
CORPUS = [
    # exec'd directly
    "sleep 0.01", "seq 3", "id -u", "uname -s", "/bin/pwd", "printenv PWD", "env",
    "ls -d / /nonexistent", "cat /nonexistent", "head -c 5 /dev/zero",
    "dd if=/dev/null of=/dev/null status=none", "/usr/bin/env A=1", "sh -c exit",
    "  seq\t2  ", "nosuchcommand-qctl", "nosuch/cmd", "./not-executable", "./a-folder",
    "./no-shebang one", "./with-shebang a b", "localtool", "printenv not-a-name",
    "ls /proc/self/fd",
    # through sh: builtins, keywords, anything the shell would expand or interpret
    "true", "false", "echo -e 'a\\tb'", "echo $HOME", "ls -d /*", "A=1 env", "cd /; pwd",
    "test -d /", "kill -0 1", "exit 7", "ls > /dev/null", "printf x", "! true", "type ls",
    "echo ~", "echo a#b", "echo `id -u`", "ls /tm?", "{ echo hi; }", "echo a;echo b", "",
]


def _prepare(folder: Path) -> None:
    (folder / "not-executable").write_text("#!/bin/sh\necho never\n")
    (folder / "a-folder").mkdir()
    script = folder / "no-shebang"
    script.write_text("echo from-script \"$@\"; exit 4\n")
    script.chmod(0o755)
    shebang = folder / "with-shebang"
    shebang.write_text("#!/bin/sh\necho shebang \"$@\"\n")
    shebang.chmod(0o755)
    tool = folder / "localtool"
    tool.write_text("#!/bin/sh\necho local\n")
    tool.chmod(0o755)


class _Where(TypedDict):
    """Where the fixture's launcher runs commands: the environment it was given, the folder."""

    environ: dict[str, str]
    cwd: str


@pytest.fixture(params=[True, False], ids=["fork_exec", "popen"])
def setup(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Launcher, _Where]]:
    if not _shell_is_dash():
        pytest.skip("/bin/sh is not dash: commands always run through it")
    real = tmp_path / "real"
    real.mkdir()
    _prepare(real)
    link = tmp_path / "link"
    link.symlink_to(real)
    environ = {
        # An empty entry in PATH is the current folder, for sh and for the direct exec alike.
        "PATH": "/usr/local/bin:/usr/bin:/bin:", "HOME": "/root", "LANG": "C",
        "PWD": str(link),  # a name of the job's folder through a link: dash keeps it
        "not-a-name": "dash drops it", "EMPTY": "",
    }
    launcher = Launcher(environ, worker_id=WORKER, lean=request.param, own_processes=False)
    yield launcher, {"environ": environ, "cwd": str(real)}
    launcher.close()


def _through_sh(command: str, environ: dict[str, str], cwd: str) -> RunResult:
    env = {**environ, "QUEUECTL_JOB_ID": "c", "QUEUECTL_ATTEMPT": "1",
           "QUEUECTL_WORKER_ID": WORKER}
    return Execution(command, cwd=cwd, env=env).wait()


def _same(result: RunResult) -> tuple[int | None, str | None, list[bytes]]:
    # The environment's order is the one thing that differs: dash rebuilds it.
    return result.exit_code, result.error, sorted(result.output.split(b"\n"))


def test_the_corpus_gives_the_same_results_with_and_without_sh(
    setup: tuple[Launcher, _Where], monkeypatch: pytest.MonkeyPatch
) -> None:
    launcher, where = setup
    programs: list[bytes] = []
    original = spawn.fork_exec_child if launcher.lean else None
    if original is not None:
        def recording(argv: list[bytes], *args: Any) -> tuple[int, int]:
            programs.append(argv[0])
            return original(argv, *args)

        monkeypatch.setattr(spawn, "fork_exec_child", recording)
    for command in CORPUS:
        direct = launcher.start(command, job_id="c", run=1, cwd=where["cwd"], direct=True)
        by_sh = _through_sh(command, where["environ"], where["cwd"])
        assert _same(direct.wait()) == _same(by_sh), command
    for pwd in ("/", where["cwd"] + "/.", "relative"):  # names of other folders, or not names
        direct = launcher.start("printenv PWD", job_id="c", run=1, cwd=where["cwd"],
                                env={"PWD": pwd}, direct=True)
        by_sh = _through_sh("printenv PWD", {**where["environ"], "PWD": pwd}, where["cwd"])
        assert _same(direct.wait()) == _same(by_sh), pwd
    plain = [command for command in CORPUS if plain_argv(command)]
    assert len(plain) == 23
    if original is not None:  # each plain command was exec'd without sh first
        assert len([program for program in programs if program != spawn.SHELL]) == len(plain) + 3


def test_exit_codes_of_failures_are_the_shells(tmp_path: Path) -> None:
    plain_file = tmp_path / "data"
    plain_file.write_text("x\n")
    launcher = Launcher({"PATH": "/usr/bin:/bin"}, worker_id=WORKER, own_processes=False)
    try:
        missing = launcher.start("nosuchcommand-qctl", job_id="c", run=1, direct=True).wait()
        assert (missing.exit_code, missing.error) == (127, "exit code 127: command not found")
        assert b"not found" in missing.output
        denied = launcher.start(str(plain_file), job_id="c", run=1, direct=True).wait()
        assert (denied.exit_code, denied.error) == (126, "exit code 126: command not executable")
    finally:
        launcher.close()


@pytest.mark.parametrize("command", [
    "echo hi", "ls *", "a=b env", "ls ~", "x 'y'", 'x "y"', "x\\ y", "x | y", "x && y", "x;y",
    "x > y", "x < y", "x & ", "x $(y)", "x `y`", "x #y", "x\ny", "if true", "[ -d / ]",
    ". ./x", ": x", "x {a,b}", "x [ab]", "x ?", "x *", "x=1",
])
def test_commands_the_shell_would_interpret_are_not_plain(command: str) -> None:
    assert plain_argv(command) is None


def test_plain_words_are_split_on_blanks() -> None:
    assert plain_argv(" sleep\t10  ") == ["sleep", "10"]
    assert plain_argv("dd if=/dev/zero of=/dev/null") == ["dd", "if=/dev/zero", "of=/dev/null"]
    assert plain_argv("./bin/tool --flag=1 a,b:c@d%e+f") == ["./bin/tool", "--flag=1",
                                                             "a,b:c@d%e+f"]


def test_direct_exec_is_off_when_the_shell_would_change_the_environment() -> None:
    for variable in ("IFS", "OPTIND", "PPID", "BASH_FUNC_sleep%%"):
        launcher = Launcher({"PATH": os.environ["PATH"], variable: "x"}, own_processes=False)
        try:
            result = launcher.start("printenv " + variable.split("%")[0], job_id="c", run=1,
                                    direct=True).wait()
            by_sh = _through_sh("printenv " + variable.split("%")[0],
                                {"PATH": os.environ["PATH"], variable: "x"}, os.getcwd())
            assert _same(result)[:2] == _same(by_sh)[:2]
        finally:
            launcher.close()


def _runs_sleep(execution: Execution) -> bool:
    """Whether the command's own process is sleep yet (not sh still on its way to it)."""
    return Path(f"/proc/{_command_process(execution)}/comm").read_text().strip() == "sleep"


def _command_process(execution: Execution) -> int:
    """The pid of the command itself: the leader when exec'd directly, else sh's child."""
    assert execution.pid is not None
    leader = execution.pid
    children = Path(f"/proc/{leader}/task/{leader}/children")
    comm = Path(f"/proc/{leader}/comm").read_text().strip()
    if comm != "sh":
        return leader
    wait_until(lambda: children.read_text().split(), message="sh to start its command")
    return int(children.read_text().split()[0])


@pytest.mark.parametrize("signum", [signal.SIGSEGV, signal.SIGKILL, signal.SIGTERM,
                                    signal.SIGINT, signal.SIGPIPE])
def test_a_command_killed_by_a_signal_reads_as_through_sh(
    setup: tuple[Launcher, _Where], signum: int
) -> None:
    launcher, where = setup
    results = []
    for direct in (True, False):
        execution = launcher.start("sleep 30", job_id="c", run=1, cwd=where["cwd"],
                                   direct=direct)
        if direct:
            assert Path(f"/proc/{execution.pid}/comm").read_text().strip() != "sh"
        wait_until(partial(_runs_sleep, execution), message="sleep to run")
        os.kill(_command_process(execution), signum)  # the command alone, as a crash would
        results.append(_same(execution.wait()))
    assert results[0] == results[1]
    assert results[0][0] == 128 + signum
