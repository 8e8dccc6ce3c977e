"""A command that cannot start, or whose watch fails, ends its attempt: it never jams a slot.

Values an old database may still hold (enqueue refuses them now) go straight to ``Execution``.
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Any

import pytest
from tests.helpers import wait_until

from queuectl.process import runner
from queuectl.process.runner import Execution, RunResult


def _ends(execution: Execution) -> runner.RunResult:
    started = time.monotonic()
    result = execution.wait()
    assert time.monotonic() - started < 30
    return result


@pytest.mark.parametrize("timeout", [30 * 86400.0, 1e300, math.inf, 99999999999999 * 86400.0])
def test_huge_timeouts_run_the_command_to_its_end(timeout: float) -> None:
    result = _ends(Execution("echo hi", timeout=timeout))
    assert (result.error, result.output) == (None, b"hi\n")


@pytest.mark.parametrize("timeout", [math.nan, -1.0])
def test_a_timeout_that_is_no_duration_fails_the_attempt(timeout: float) -> None:
    result = _ends(Execution("echo hi", timeout=timeout))
    assert result.error == f"cannot start: invalid timeout {timeout!r}"
    assert (result.exit_code, result.output) == (None, b"")


@pytest.mark.parametrize(("kwargs", "error"), [
    ({"cwd": "/tmp\0x"}, "cannot start: ValueError: embedded null byte"),
    ({"env": {"A": "x\0y"}}, "cannot start: ValueError: embedded null byte"),
    ({"env": {"A": "\ud800"}}, "cannot start: UnicodeEncodeError: 'utf-8' codec can't encode"),
    ({"env": {"A=B": "x"}}, "cannot start: ValueError: illegal environment variable name"),
    ({"cwd": "/no/such/folder"}, "cannot start in /no/such/folder: No such file or directory"),
])
def test_values_the_os_refuses_fail_the_attempt_in_one_line(
    kwargs: dict[str, Any], error: str
) -> None:
    result = _ends(Execution("echo hi", **kwargs))
    assert result.error is not None and result.error.startswith(error)
    assert "\n" not in result.error
    assert (result.exit_code, result.output, result.succeeded) == (None, b"", False)


def test_a_nul_in_the_command_fails_the_attempt() -> None:
    result = _ends(Execution("echo a\0b"))
    assert result.error == "cannot start: ValueError: embedded null byte"


def test_a_failing_output_handler_ends_the_run_and_its_processes(tmp_path) -> None:
    pid_file = tmp_path / "pid"

    def broken(offset: int, data: bytes) -> None:
        raise RuntimeError("disk on fire")

    execution = Execution(f"sleep 60 & echo $! > {pid_file}; echo out; sleep 60",
                          on_output=broken)
    result = _ends(execution)
    assert result.error == "runner failed: RuntimeError: disk on fire"
    background = int(pid_file.read_text())
    wait_until(lambda: _gone(background), message="the background child killed with its group")
    assert result.output == b"out\n"


def _gone(pid: int) -> bool:
    """Exited: no /proc entry, or a zombie waiting for init (not our child) to reap it."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_a_timeout_longer_than_one_poll_is_waited_for_in_steps(monkeypatch) -> None:
    monkeypatch.setattr(runner, "_LONGEST_POLL", 0.05)
    started = time.monotonic()
    result = Execution("sleep 30", timeout=0.4, kill_grace=5).wait()
    assert result.timed_out and result.error == "timed out after 400ms"
    assert 0.4 <= time.monotonic() - started < 10


def test_a_result_built_without_its_init_is_the_dataclass_itself() -> None:
    # runner._run_result fills the frozen RunResult's fields by hand: every field, and no more.
    values: dict[str, Any] = dict(exit_code=3, error="exit code 3", output=b"x",
                                  output_dropped=2, interrupted=True, timed_out=True,
                                  streamed=True)
    assert {field.name for field in dataclasses.fields(RunResult)} == set(values)
    built = runner._run_result(**values)
    assert built == RunResult(**values)
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.error = None  # type: ignore[misc]


def test_output_held_by_an_escaped_child_is_drained_on_a_descriptor_over_1023() -> None:
    # A worker with hundreds of slots holds over a thousand descriptors; select() refuses one
    # numbered past 1023, which the drain after a run's end used, and the run failed then.
    import os
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1200:
        pytest.skip("cannot open 1,100 descriptors here")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1200), hard))
    fillers = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    try:
        # The escaped child (a session of its own) keeps the pipe open past the command's end.
        result = _ends(Execution("setsid sleep 1 & echo out"))
    finally:
        for fd in fillers:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert (result.error, result.output) == (None, b"out\n")
