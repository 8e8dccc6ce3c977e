"""The worker's launcher: both spawn paths (fork_exec and the Popen fallback) keep every
guarantee, run records describe each running job, the cgroup holds it, and a rescuer kills a
recorded run (and nothing else) from outside."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.helpers import wait_until

from queuectl.hosts import start_ticks
from queuectl.process import spawn
from queuectl.process.cgroups import cgroup_processes
from queuectl.process.launcher import Launcher
from queuectl.process.leftovers import kill_job_run, kill_leftover_job_processes
from queuectl.process.ownership import (
    HEADER_SIZE,
    RECORD_SIZE,
    RunRecorder,
    boot_ns,
    read_records,
    records_folder,
)

LEAN = [pytest.param(True, id="fork_exec"), pytest.param(False, id="popen")]


@pytest.fixture
def launcher(request: pytest.FixtureRequest) -> Iterator[Launcher]:
    lean = getattr(request, "param", True)
    started = Launcher({"PATH": os.environ["PATH"], "KEEP": "worker"}, worker_id="w-test" +
                       os.urandom(3).hex(), lean=lean)
    assert started.lean is lean
    yield started
    started.close()


def test_this_interpreter_takes_the_lean_path() -> None:
    if sys.version_info[:2] in ((3, 11), (3, 12), (3, 13)):
        assert spawn.fork_exec_available()


@pytest.mark.parametrize("launcher", LEAN, indirect=True)
def test_environment_descriptors_stdin_cwd_and_exit_code(launcher: Launcher, tmp_path) -> None:
    command = ("echo $QUEUECTL_JOB_ID $QUEUECTL_ATTEMPT ${QUEUECTL_WORKER_ID%????????} $KEEP $A;"
               " ls /proc/self/fd; read x || echo eof; pwd; echo err >&2; exit 3")
    result = launcher.start(command, job_id="j1", run=2, cwd=str(tmp_path),
                            env={"A": "job", "QUEUECTL_JOB_ID": "forged"}).wait()
    assert (result.exit_code, result.error) == (3, "exit code 3")
    assert result.output.decode().split("\n") == [
        "j1 2 w-te worker job", "0", "1", "2", "3", "eof", str(tmp_path), "err", ""]


@pytest.mark.parametrize("launcher", LEAN, indirect=True)
def test_own_session_kill_timeout_and_cap(launcher: Launcher) -> None:
    execution = launcher.start("sleep 60 & sleep 60", job_id="j", run=1)
    assert execution.pid is not None
    pid = execution.pid
    assert os.getsid(pid) == pid and os.getpgid(pid) == pid
    execution.kill()
    result = execution.wait()
    assert (result.error, result.interrupted) == ("killed", True)
    timed = launcher.start("sleep 60", job_id="j", run=2, timeout=0.2, kill_grace=1).wait()
    assert timed.timed_out and timed.error == "timed out after 200ms"
    capped = launcher.start("head -c 200000 /dev/zero", job_id="j", run=3,
                            output_limit=1000).wait()
    assert (len(capped.output), capped.output_dropped, capped.error) == (1000, 199000, None)


@pytest.mark.parametrize("launcher", LEAN, indirect=True)
def test_what_cannot_start_fails_in_one_line(launcher: Launcher) -> None:
    missing = launcher.start("true", job_id="j", run=1, cwd="/no/such").wait()
    assert missing.error == "cannot start in /no/such: No such file or directory"
    bad = launcher.start("true", job_id="j", run=1, env={"A": "\0"}).wait()
    assert bad.error == "cannot start: ValueError: embedded null byte"
    assert launcher.start("exit 0", job_id="j", run=1).wait().succeeded  # the slot goes on
    for _ in range(2):  # a command no process can have is refused each time, never kept
        nul = launcher.start("echo a\0b", job_id="j", run=1).wait()
        assert nul.error == "cannot start: ValueError: embedded null byte"


def test_a_running_job_is_recorded_and_forgotten_when_it_ends(launcher: Launcher) -> None:
    before = boot_ns()
    execution = launcher.start("sleep 60", job_id="rec", run=4)
    path = Path(launcher._records.path) if launcher._records else None
    assert path is not None
    records = read_records(str(path))
    assert records is not None and records.cgroup == launcher.cgroup
    [run] = records.runs
    assert (run.job_id, run.run, run.session) == ("rec", 4, execution.pid)
    assert before <= run.started_after <= run.started_before <= boot_ns()
    execution.kill()
    execution.wait()
    records = read_records(str(path))
    assert records is not None and records.runs == []
    launcher.close()
    assert not path.exists()


def test_a_run_counts_as_started_from_before_its_fork_until_its_result_is_settled(
    launcher: Launcher,
) -> None:
    assert launcher._records is not None
    path = launcher._records.path
    launcher.start("true", job_id="done", run=1).wait()
    execution = launcher.start("sleep 60", job_id="going", run=2)
    records = read_records(path)
    assert records is not None and set(records.started or ()) == {("done", 1), ("going", 2)}
    assert [run.job_id for run in records.runs] == ["going"]  # only it has a session to kill
    # A settled run's slot is reused by the next run (settling itself writes nothing).
    launcher.settled([("done", 1)])
    launcher.start("true", job_id="next", run=1).wait()
    records = read_records(path)
    assert records is not None and set(records.started or ()) == {("going", 2), ("next", 1)}
    execution.kill()
    execution.wait()
    records = read_records(path)
    assert records is not None and records.runs == []
    assert os.path.getsize(path) <= HEADER_SIZE + 2 * RECORD_SIZE


def test_a_start_that_cannot_be_recorded_makes_every_start_unknown(tmp_path) -> None:
    worker_id = "w-unknown" + os.urandom(3).hex()
    recorder = RunRecorder(worker_id, None)
    recorder.starting("ok", 1, 1234.5)
    first = read_records(recorder.path)
    assert first is not None and first.started == {("ok", 1): 1234.5}
    recorder.starting('quote"d \u00e9', 2, 1.5)  # an id JSON must escape
    second = read_records(recorder.path)
    assert second is not None
    assert second.started == {("ok", 1): 1234.5, ('quote"d \u00e9', 2): 1.5}
    recorder.starting("x" * RECORD_SIZE, 1, 1234.5)  # too long for a record
    records = read_records(recorder.path)
    assert records is not None and records.started is None
    recorder.close()


def test_slot_threads_starting_at_once_never_share_a_record() -> None:
    """Eight threads record 300 runs each at once, settling as a coordinator would: every run
    gets a slot of its own while it is held, and the file says exactly the held runs."""
    recorder = RunRecorder("w-threads" + os.urandom(3).hex(), None)
    held: set[tuple[str, int]] = set()
    lock = threading.Lock()
    errors: list[str] = []

    def slot(number: int) -> None:
        for run in range(1, 301):
            key = (f"job-{number}", run)
            recorder.starting(*key, float(run))
            if recorder.started(*key, 10_000 + run, 1, 2) < 0:
                errors.append(f"{key} not recorded")
            recorder.ended(*key)
            with lock:
                held.add(key)
                if len(held) > 20:  # a batch settled while the others go on
                    recorder.settled(sorted(held)[:10])
                    held.difference_update(sorted(held)[:10])

    threads = [threading.Thread(target=slot, args=(number,)) for number in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    records = read_records(recorder.path)
    assert errors == [] and records is not None
    assert set(records.started or ()) >= held  # settled ones may linger: see settled()
    slots = [recorder._slots[key] for key in held]
    assert len(slots) == len(set(slots)), "two held runs share a record"
    assert records.runs == []  # every run ended
    recorder.close()


def test_job_processes_are_in_the_workers_cgroup(launcher: Launcher) -> None:
    if launcher.cgroup is None:
        pytest.skip("this process may not create a cgroup here")
    execution = launcher.start("sleep 60", job_id="cg", run=1)
    assert execution.pid in cgroup_processes(launcher.cgroup)
    assert os.getpid() in cgroup_processes(launcher.cgroup)
    execution.kill()
    execution.wait()
    folder = launcher.cgroup
    launcher.close()
    assert not os.path.exists(folder)
    assert "/queuectl-" not in Path("/proc/self/cgroup").read_text()


def test_a_rescuer_kills_a_recorded_run_that_cleared_its_environment(
    launcher: Launcher, tmp_path
) -> None:
    pid_file = tmp_path / "child"
    execution = launcher.start(f"env -i sleep 60 & echo $! > {pid_file}; exec env -i sleep 60",
                               job_id="escape", run=1)
    wait_until(lambda: pid_file.exists() and pid_file.read_text().strip(), message="child")
    child = int(pid_file.read_text())
    worker_id = launcher._worker_id
    assert kill_job_run("escape", 2, worker_id) == 0, "another run of the job is not this one"
    assert kill_job_run("escape", 1, "w-another-queue") == 0, "a job of the same id elsewhere"
    assert kill_job_run("escape", 1, worker_id) == 2
    result = execution.wait()
    assert result.error == "killed by SIGKILL"
    wait_until(lambda: start_ticks(child) is None or _zombie(child), message="child gone")


def test_a_record_whose_pid_was_reused_kills_nothing(tmp_path) -> None:
    stranger = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        forged = "w-forged" + os.urandom(3).hex()
        recorder = RunRecorder(forged, None)
        an_hour_ago = boot_ns() - 3600 * 10**9
        recorder.started("old-job", 1, stranger.pid, an_hour_ago, an_hour_ago + 10**6)
        assert kill_job_run("old-job", 1, forged) == 0
        assert stranger.poll() is None
        recorder.close()
    finally:
        stranger.send_signal(signal.SIGKILL)
        stranger.wait()


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_a_worker_id_that_is_no_file_name_gets_no_records(tmp_path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("keep me")
    sneaky = os.path.relpath(victim, records_folder())
    recorder = RunRecorder(sneaky, None)
    assert recorder.started("j", 1, os.getpid(), boot_ns(), boot_ns()) == -1
    recorder.close()
    assert kill_leftover_job_processes(sneaky) == 0
    assert victim.read_text() == "keep me"


def test_files_in_the_records_folder_that_are_no_records_are_ignored() -> None:
    folder = Path(records_folder())
    folder.mkdir(mode=0o700, exist_ok=True)
    junk = {"w-junk-list": b"[1, 2]", "w-junk-text": b"not json", "w-junk-types":
            b'{"worker": "w", "pid": "x", "marker": 5, "cgroup": null}'}
    try:
        for name, content in junk.items():
            (folder / name).write_bytes(content)
            assert read_records(str(folder / name)) is None
        assert kill_job_run("no-such-job", 1, "w-junk-list") == 0
    finally:
        for name in junk:
            (folder / name).unlink()
