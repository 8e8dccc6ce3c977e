"""``kill``, ``pause``, ``resume`` and ``parallel`` through the real CLI, on a real worker: the
job's processes are stopped and continued (read from /proc), its lease stays alive, and a
worker's parallelism changes without a restart."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from tests.helpers import Cli, WorkerPool, as_json, processes_using, state_of, wait_until

TICKING = "while true; do date +%s%N >> ticks; sleep 0.02; done"


def _job(cli: Cli, job_id: str) -> Any:
    return as_json(cli("show", job_id, "--json"))


def _in_state(cli: Cli, job_id: str, state: str) -> bool:
    return state_of(cli, job_id) == state


def _stat(pid: int) -> tuple[str, int] | None:
    """A process's scheduler state (R, S, D, T...) and its parent's pid; None once gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return fields[0], int(fields[1])


def _states(db_path: Path, job_id: str) -> set[str]:
    """The scheduler states of the job's processes."""
    stats = (_stat(pid) for pid in processes_using(db_path, QUEUECTL_JOB_ID=job_id))
    return {stat[0] for stat in stats if stat}


def _stopped(db_path: Path, job_id: str) -> bool:
    """Whether every process of the job is stopped, as far as a group can be.

    sh starts a command with vfork: the shell waits in state D until its child calls exec.
    A SIGSTOP that lands in between stops the child (T) before its exec, and the shell stays
    in D, unable to run, until a SIGCONT lets the child go on: that shell counts as stopped.
    Any other D, an R or an S is a process still running.
    """
    stats = {pid: _stat(pid) for pid in processes_using(db_path, QUEUECTL_JOB_ID=job_id)}
    states = {pid: stat for pid, stat in stats.items() if stat}
    if not states:
        return False
    in_d = {pid for pid, (state, _) in states.items() if state == "D"}
    if in_d:  # found by their parent's pid, all of /proc: a child has not run its exec yet
        everyone = (_stat(int(entry.name)) for entry in Path("/proc").iterdir()
                    if entry.name.isdigit())
        in_d -= {stat[1] for stat in everyone if stat and stat[0] == "T"}
    return not in_d and all(state in ("T", "D") for state, _ in states.values())


def test_pause_stops_the_job_keeps_its_lease_and_resume_continues_it(
    cli: Cli, workers: WorkerPool, db_path: Path, tmp_path: Path
) -> None:
    cli("config", "set", "lease_duration", "1s")  # heartbeats every third of a second
    cli("add", "--id", "tick", TICKING)
    workers.start(1)
    wait_until(lambda: _job(cli, "tick")["state"] == "processing" and (tmp_path / "ticks")
               .exists(), message="the job ticking")

    assert cli("pause", "tick").stdout == \
        "Paused job tick; `queuectl resume tick` continues it.\n"
    wait_until(lambda: _stopped(db_path, "tick"), message="every process stopped")
    job = _job(cli, "tick")
    assert (job["state"], job["paused"]) == ("processing", True)
    assert "  processing        1  (1 paused: queuectl resume ID)" in cli("status").stdout
    assert cli("list").stdout.splitlines()[1].split()[:2] == ["tick", "paused"]
    shown = cli("show", "tick").stdout  # not "processing" and "running": it is stopped
    assert "state:       paused (queuectl resume tick)\n" in shown
    assert "took -  paused  (worker " in shown
    assert as_json(cli("status", "--json"))["paused"] == 1
    # its worker renews the lease while it is paused: it is never rescued
    lease = job["lease_until"]
    wait_until(lambda: _job(cli, "tick")["lease_until"] > lease, message="the lease renewed")
    ticks = (tmp_path / "ticks").read_text()
    assert (tmp_path / "ticks").read_text() == ticks and _job(cli, "tick")["runs"] == 1

    assert cli("resume", "tick").stdout == "Resumed job tick.\n"
    wait_until(lambda: "T" not in _states(db_path, "tick"), message="the processes continued")
    wait_until(lambda: (tmp_path / "ticks").read_text() != ticks, message="ticking again")
    assert _job(cli, "tick")["paused"] is False
    shown = cli("show", "tick").stdout
    assert "state:       processing\n" in shown and "took -  running  (worker " in shown
    cli("cancel", "tick")


def test_kill_sends_a_signal_even_to_a_paused_job(cli: Cli, workers: WorkerPool,
                                                  db_path: Path) -> None:
    trap = ("trap 'echo got $1; exit 0' {0}; echo ready; "
            "while true; do sleep 0.02; done")
    cli("add", "--id", "hup", trap.format("HUP").replace("$1", "HUP"))
    cli("add", "--id", "term", trap.format("TERM").replace("$1", "TERM"))
    workers.start(2)
    wait_until(lambda: all(_job(cli, j)["state"] == "processing" and "ready" in
                           cli("logs", j).stdout for j in ("hup", "term")),
               message="both jobs ready")
    assert cli("kill", "hup", "--signal", "hup").stdout == "Sent SIGHUP to job hup.\n"
    cli("pause", "term")
    wait_until(lambda: _stopped(db_path, "term"), message="term stopped")
    assert cli("kill", "term").stdout == "Sent SIGTERM to job term.\n"  # TERM by default
    for job_id, name in (("hup", "HUP"), ("term", "TERM")):
        wait_until(partial(_in_state, cli, job_id, "completed"), message=f"{job_id} done")
        # the whole group gets it: the shell's trap runs (its sleep may say it was killed)
        out = cli("logs", job_id).stdout
        assert out.startswith("ready\n") and out.endswith(f"got {name}\n"), out


def test_kill_refuses_a_job_that_is_not_running_or_a_bad_signal(cli: Cli) -> None:
    cli("add", "--id", "later", "--delay", "1h", "true")
    result = cli("kill", "later", check=1)
    assert result.stderr == "error: job 'later' is pending: only a running job can be " \
                            "signalled\n"
    result = cli("kill", "later", "--signal", "BOGUS", check=2)
    assert result.stderr.startswith("error: --signal: no signal 'BOGUS'")
    assert cli("pause", "nosuch", check=1).stderr == "error: no job with id 'nosuch'\n"


def test_parallel_changes_a_running_workers_slots(cli: Cli, workers: WorkerPool,
                                                  tmp_path: Path) -> None:
    for n in range(4):
        cli("add", "--id", f"w{n}", "while [ ! -e go ]; do sleep 0.02; done")
    worker = workers.start(1)
    worker_id = workers.worker_id(worker)
    assert worker_id is not None
    wait_until(lambda: as_json(cli("status", "--json"))["jobs"]["processing"] == 1,
               message="one job running")
    assert cli("parallel", "3").stdout == f"Worker {worker_id} runs up to 3 jobs at once.\n"
    wait_until(lambda: as_json(cli("status", "--json"))["jobs"]["processing"] == 3,
               message="three jobs running")
    [info] = as_json(cli("worker", "list", "--json"))
    assert (info["slots"], info["slots_wanted"]) == (3, None)
    # Fewer slots: the running jobs go on; new ones start only below the new number.
    assert cli("parallel", "1", "--worker", worker_id).stdout == \
        f"Worker {worker_id} runs up to 1 job at once.\n"
    assert as_json(cli("status", "--json"))["jobs"]["processing"] == 3
    (tmp_path / "go").touch()
    wait_until(lambda: as_json(cli("status", "--json"))["jobs"]["completed"] == 4,
               message="every job done")
    assert f"worker {worker_id}: 1 slot(s) from now on (was 3)" in worker.stderr()


def test_parallel_with_no_worker_is_exit_1(cli: Cli) -> None:
    cli("add", "true")
    assert cli("parallel", "2", check=1).stderr == \
        "error: no worker on this host (--all asks every host's)\n"
    assert cli("parallel", "0", check=2).stderr.startswith("error: Invalid value for 'N'")


def test_a_worker_started_ignoring_signals_passes_them_on(cli: Cli, db_path: Path,
                                                           tmp_path: Path) -> None:
    """`nohup queuectl worker start` ignores SIGHUP, and a shell's `&` SIGINT and SIGQUIT; an
    ignored signal stays ignored across exec (a shell cannot even trap it), so every job would
    ignore them too and `queuectl kill --signal HUP` would do nothing. The worker keeps
    ignoring them, its jobs do not."""
    import subprocess

    for name in ("HUP", "QUIT", "USR1"):
        cli("add", "--id", name.lower(),
            f"trap 'echo got {name}; exit 0' {name}; echo ready; while true; do sleep 0.02; done")
    ignoring = ["/bin/sh", "-c", "trap '' HUP QUIT USR1; exec \"$@\"", "sh",
                *cli.argv("worker", "start", "--count", "3")]
    with open(tmp_path / "worker.log", "wb") as log:
        worker = subprocess.Popen(ignoring, env=cli.env, cwd=cli.cwd, stdin=subprocess.DEVNULL,
                                  stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: all(_in_state(cli, j, "processing") and "ready" in
                               cli("logs", j).stdout for j in ("hup", "quit", "usr1")),
                   message="the three jobs ready")
        for name in ("HUP", "QUIT", "USR1"):
            cli("kill", name.lower(), "--signal", name)
        for name in ("HUP", "QUIT", "USR1"):
            wait_until(partial(_in_state, cli, name.lower(), "completed"),
                       message=f"the job trapping {name} to end")
            # (sh may say first how its `sleep` died of the same signal: "Hangup", "Quit")
            assert cli("logs", name.lower()).stdout.endswith(f"got {name}\n")
        worker.send_signal(1)  # SIGHUP: the worker itself still ignores it
        assert worker.poll() is None
        assert _job(cli, "hup")["state"] == "completed"
        worker.terminate()
        assert worker.wait(30) == 0
    finally:
        if worker.poll() is None:  # a job that ignored its signal still runs: kill them all
            worker.terminate()
            worker.terminate()  # a second SIGTERM kills the running jobs
            worker.wait(30)
