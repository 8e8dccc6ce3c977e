"""A command that closes its output and runs on: its run ends when its main process exits,
not when its output closes, and keeps its timeout, its kill and its streamed output; a short
command's output travels in its result only."""

from __future__ import annotations

import threading
import time

from tests.helpers import wait_until

from queuectl.process.runner import Execution, RunResult

CLOSE_OUTPUT = "exec >&- 2>&-"


def _in_thread(execution: Execution) -> tuple[threading.Thread, list[RunResult]]:
    results: list[RunResult] = []
    thread = threading.Thread(target=lambda: results.append(execution.wait()), daemon=True)
    thread.start()
    return thread, results


def test_a_command_that_closes_its_output_ends_when_it_exits() -> None:
    started = time.monotonic()
    result = Execution(f"{CLOSE_OUTPUT}; sleep 0.3; exit 3").wait()
    assert time.monotonic() - started >= 0.3
    assert (result.exit_code, result.error) == (3, "exit code 3")


def test_a_command_that_closes_its_output_still_times_out() -> None:
    started = time.monotonic()
    result = Execution(f"{CLOSE_OUTPUT}; sleep 30", timeout=0.2, kill_grace=0.2).wait()
    assert time.monotonic() - started < 20
    assert (result.timed_out, result.error) == (True, "timed out after 200ms")


def test_a_command_that_closed_its_output_is_killed_at_once() -> None:
    execution = Execution(f"{CLOSE_OUTPUT}; sleep 60")
    thread, results = _in_thread(execution)
    wait_until(lambda: execution._eof, message="the command to close its output")
    execution.kill()
    thread.join(20)
    assert [(result.interrupted, result.error) for result in results] == [(True, "killed")]


def test_output_before_the_command_closes_it_is_handed_on_while_it_runs() -> None:
    handed: list[bytes] = []
    execution = Execution(f"echo early; {CLOSE_OUTPUT}; sleep 60",
                          on_output=lambda offset, data: handed.append(data))
    thread, results = _in_thread(execution)
    wait_until(lambda: handed, timeout=20, message="the output handed on")
    assert handed == [b"early\n"] and not results  # still running
    execution.kill()
    thread.join(20)
    assert results[0].output == b"early\n" and results[0].streamed


def test_a_quick_command_with_output_hands_it_on_in_its_result_only() -> None:
    handed: list[bytes] = []
    result = Execution("echo hi", on_output=lambda offset, data: handed.append(data)).wait()
    assert (result.output, result.streamed, handed) == (b"hi\n", False, [])
