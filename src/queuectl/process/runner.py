"""Runs one shell command: the only module that touches ``subprocess``.

Each command runs in a session (and process group) of its own, with stdin from /dev/null and
stdout and stderr on one pipe, so that output keeps its order. The attempt ends when the
command's main process exits: whatever is left of its process group is then killed (before the
main process is reaped, so that the group id cannot have been reused), and the pipe is drained
for a moment only, so that a background child that escaped the group and holds the pipe cannot
hang the slot. Output past ``output_limit`` is read and counted but not kept.

Processes start through ``spawn.fork_exec_child`` where this interpreter allows it, else
through ``subprocess.Popen`` (``popen_child``); ``launcher.Launcher`` is the worker's lean way
in, ``Execution(command, ...)`` the plain one.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from queuectl.process import spawn

from ..units import format_duration

_READ_SIZE = 65536
# How long to keep reading the pipe after the group was killed; only an escaped
# grandchild that still holds the pipe makes this wait its full length.
_DRAIN_SECONDS = 0.2
# poll() takes milliseconds in a C int (at most about 24.8 days): a longer timeout is waited
# for in steps of this size.
_LONGEST_POLL = 86400.0
# Output of a running command is handed on at most this often (and not at all for a
# command that ends sooner, whose output travels with its result).
FLUSH_SECONDS = 0.5


@dataclass(frozen=True)
class RunResult:
    exit_code: int | None  # None when the command could not start or died by a signal
    error: str | None  # None exactly when the run succeeded
    output: bytes
    output_dropped: int
    interrupted: bool = False  # killed by ``Execution.kill`` (a forced stop or a cancel)
    timed_out: bool = False
    streamed: bool = False  # some output was handed to ``on_output`` while the run went on

    @property
    def succeeded(self) -> bool:
        return self.error is None


def _run_result(exit_code: int | None, error: str | None, output: bytes, output_dropped: int,
                interrupted: bool, timed_out: bool, streamed: bool) -> RunResult:
    """A ``RunResult`` without the frozen dataclass's ``__init__`` (an ``object.__setattr__``
    per field): ~1 us instead of ~4 on every run's way back."""
    result = object.__new__(RunResult)
    result.__dict__.update(exit_code=exit_code, error=error, output=output,
                           output_dropped=output_dropped, interrupted=interrupted,
                           timed_out=timed_out, streamed=streamed)
    return result


@dataclass
class Child:
    """A started process: its pid (also its session and group id) and its output pipe."""

    pid: int
    out: int
    popen: subprocess.Popen[bytes] | None = None  # set on the Popen path only
    on_reaped: Callable[[], None] | None = None  # e.g. forget the run record
    # Exec'd without sh: a death by signal is reported as sh would have (see _as_the_shell).
    without_shell: bool = False


def describe_exit(returncode: int) -> str | None:
    """The error for a return code: ``describe_exit(127) == "exit code 127: command not found"``."""
    if returncode == 0:
        return None
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"killed by {name}"
    meaning = {126: "command not executable", 127: "command not found"}.get(returncode)
    return f"exit code {returncode}: {meaning}" if meaning else f"exit code {returncode}"


class Execution:
    """One started command. ``wait`` runs it to its end; ``kill`` may be called from any thread.

    ``start``, if given, starts the process instead of the plain ``sh -c command`` with ``env``
    (a whole environment; None inherits this process's).
    """

    def __init__(
        self,
        command: str,
        *,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
        kill_grace: float = 5.0,
        output_limit: int = 1024 * 1024,
        on_output: Callable[[int, bytes], None] | None = None,
        start: Callable[[], Child] | None = None,
    ) -> None:
        """``on_output(offset, data)`` receives kept output every ``FLUSH_SECONDS`` or so
        while the command runs; output of a run shorter than that arrives only in the result.
        """
        self._timeout = timeout
        self._on_output = on_output
        self._flushed = 0
        self._kill_grace = kill_grace
        self._limit = output_limit
        self._output = bytearray()
        self._dropped = 0
        self._killed = False
        self._start_error: str | None = None
        self._child: Child | None = None
        # Held while signalling the group and when the main process is about to be reaped:
        # after that its group id may belong to someone else, and nothing may signal it.
        self._lock = threading.Lock()
        self._reaped = False
        self._eof = False  # the output pipe's every writer has closed it
        self._started = time.monotonic()
        if timeout is not None and not timeout >= 0:  # NaN or negative: from an old database
            self._start_error = f"cannot start: invalid timeout {timeout!r}"
            return
        try:
            self._child = start() if start is not None else shell_child(command, cwd, env)
        except Exception as exc:  # whatever it is: the attempt fails, never the slot
            self._start_error = start_error(exc, cwd)

    @property
    def pid(self) -> int | None:
        return self._child.pid if self._child else None

    @property
    def ended(self) -> bool:
        """Whether the command ended (it was reaped): a kill now would kill nothing."""
        return self._reaped

    def kill(self) -> None:
        """Kill the whole process group now; the run ends as interrupted."""
        self._killed = True
        self._signal_group(signal.SIGKILL)

    def send_signal(self, signum: int) -> None:
        """Send ``signum`` to the whole process group (queuectl kill, pause, resume)."""
        self._signal_group(signum)

    def _signal_group(self, signum: int, *, last: bool = False) -> None:
        """Signal the group unless its leader was reaped; ``last``: no signal may follow
        (the leader is about to be reaped), set in the same hold of the lock."""
        with self._lock:
            if self._child is None or self._reaped:
                return
            self._reaped = last
            try:
                os.killpg(self._child.pid, signum)
            except (ProcessLookupError, PermissionError):
                pass

    def wait(self) -> RunResult:
        child = self._child
        if child is None:
            return RunResult(None, self._start_error, b"", 0)
        failure: str | None = None
        timed_out = False
        try:
            timed_out = self._watch(child.pid, child.out)
        except Exception as exc:  # a bug or odd OS error ends this attempt only
            failure = f"runner failed: {type(exc).__name__}: {_one_line(exc)}"
        # The main process has exited (or must now die) but is not reaped yet, so its group id
        # is still ours; from here on nothing may signal it.
        self._signal_group(signal.SIGKILL, last=True)
        status = _reap(child)
        returncode = os.waitstatus_to_exitcode(status)
        if child.without_shell and returncode < 0 and not (self._killed or timed_out):
            returncode = self._as_the_shell(status)
        try:
            if not self._eof:  # at EOF every writer is gone: nothing more can come
                self._drain(child.out)
        except OSError:
            pass
        os.close(child.out)
        if child.on_reaped is not None:
            child.on_reaped()
        if failure is not None:
            error: str | None = failure
        elif self._killed:
            error = "killed"
        elif timed_out:
            error = f"timed out after {format_duration(self._timeout or 0)}"
        else:
            error = describe_exit(returncode)
        exit_code = returncode if returncode >= 0 else None
        return _run_result(exit_code, error, bytes(self._output), self._dropped, self._killed,
                           timed_out, self._flushed > 0)

    def _watch(self, pid: int, out: int) -> bool:
        """Read output until the main process exits; returns whether the timeout struck."""
        poller = select.poll()
        poller.register(out, select.POLLIN)
        exit_fd: int | None = None
        try:
            exit_fd = os.pidfd_open(pid)
            poller.register(exit_fd, select.POLLIN)
        except (AttributeError, OSError):  # no pidfd (old kernel): poll the process instead
            pass
        # No timeout, or one so long (an infinite one from an old database) that it never
        # comes: wait in steps all the same.
        deadline = self._started + self._timeout if self._timeout else None
        if deadline is not None and deadline == float("inf"):
            deadline = None
        next_flush = self._started + FLUSH_SECONDS
        timed_out = False
        try:
            while True:
                now = time.monotonic()
                wait = _LONGEST_POLL if deadline is None else min(_LONGEST_POLL,
                                                                  max(0.0, deadline - now))
                if exit_fd is None:
                    wait = min(wait, 0.05)
                if self._on_output is not None and len(self._output) > self._flushed:
                    if now >= next_flush:
                        self._on_output(self._flushed, bytes(self._output[self._flushed:]))
                        self._flushed = len(self._output)
                        next_flush = now + FLUSH_SECONDS
                    else:
                        wait = min(wait, next_flush - now)
                exited = False
                for fd, _ in poller.poll(wait * 1000):
                    if fd == exit_fd:
                        exited = True
                    elif not self._read(out):  # every writer closed it: nothing more comes
                        poller.unregister(out)
                if exited or (exit_fd is None and _has_exited(pid)):
                    return timed_out
                if deadline is not None and time.monotonic() >= deadline:
                    if not timed_out:
                        timed_out = True
                        self._signal_group(signal.SIGTERM)
                        deadline = time.monotonic() + self._kill_grace
                    else:
                        self._signal_group(signal.SIGKILL)
                        deadline = None
        finally:
            if exit_fd is not None:
                os.close(exit_fd)

    def _as_the_shell(self, status: int) -> int:
        """What ``sh -c`` reports of a command killed by a signal sent to it alone (a crash,
        the OOM killer): dash prints the signal's description (not for SIGINT and SIGPIPE)
        and exits 128 + the signal number."""
        signum = os.WTERMSIG(status)
        if signum not in (signal.SIGINT, signal.SIGPIPE):
            core = " (core dumped)" if os.WCOREDUMP(status) else ""
            self._keep(f"{signal.strsignal(signum) or signum}{core}\n".encode())
        return 128 + signum

    def _read(self, fd: int) -> bool:
        """Keep what the pipe holds; False at its end (every writer closed it)."""
        chunk = os.read(fd, _READ_SIZE)
        self._keep(chunk)
        self._eof = not chunk
        return bool(chunk)

    def _keep(self, chunk: bytes) -> None:
        room = self._limit - len(self._output)
        if room > 0:
            self._output += chunk[:room]
        self._dropped += max(0, len(chunk) - max(room, 0))

    def _drain(self, fd: int) -> None:
        poller = select.poll()  # not select(), which refuses a descriptor numbered over 1023
        poller.register(fd, select.POLLIN)
        end = time.monotonic() + _DRAIN_SECONDS
        while (left := end - time.monotonic()) > 0:
            if not poller.poll(left * 1000) or not self._read(fd):
                return


def _reap(child: Child) -> int:
    """Wait for the main process; returns its wait status."""
    while True:
        try:
            _, status = os.waitpid(child.pid, 0)
            break
        except ChildProcessError:  # reaped elsewhere (SIGCHLD ignored): the status is lost
            status = 0
            break
        except InterruptedError:
            continue
    if child.popen is not None:
        # Popen must know, or its finalizer warns and a later waitpid could reap a stranger.
        child.popen.returncode = os.waitstatus_to_exitcode(status)
    return status


def start_error(exc: BaseException, cwd: str | None) -> str:
    """One line saying why a command could not start: ``cannot start in /x: No such file...``.

    Beyond OSError, bad values from an old database end here too: a NUL byte in the command,
    cwd or environment (ValueError), a lone surrogate (UnicodeEncodeError).
    """
    if isinstance(exc, OSError):
        where = f" in {cwd}" if cwd and exc.filename == cwd else ""
        return f"cannot start{where}: {exc.strerror or exc}"
    return f"cannot start: {type(exc).__name__}: {_one_line(exc)}"


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 300 else text[:297] + "..."


def _has_exited(pid: int) -> bool:
    """Whether ``pid`` has exited, without reaping it (WNOWAIT keeps its group id ours)."""
    return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None


def shell_child(command: str, cwd: str | None, env: Mapping[str, str] | None) -> Child:
    """``sh -c command`` with a whole environment (None: this process's), the plain way."""
    argv = [spawn.SHELL, b"-c", os.fsencode(command)]
    if b"\0" in argv[2]:
        raise ValueError("embedded null byte")
    entries = None if env is None else [spawn.env_entry(k, v) for k, v in env.items()]
    devnull = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
    try:
        if spawn.fork_exec_available():
            pid, out = spawn.fork_exec_child(argv, (spawn.SHELL,), cwd, entries, devnull)
            return Child(pid, out)
        return popen_child(argv, cwd, env, devnull)
    finally:
        os.close(devnull)


def popen_child(
    argv: list[bytes], cwd: str | None, env: Mapping[str, str] | None, stdin: int
) -> Child:
    """Start ``argv`` (searched in ``env``'s PATH) through Popen: the public way, for
    interpreters whose ``fork_exec`` we do not know."""
    out_read, out_write = os.pipe()
    try:
        process = subprocess.Popen(
            argv, cwd=cwd, env=env, stdin=stdin, stdout=out_write, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    except BaseException:
        os.close(out_read)
        raise
    finally:
        os.close(out_write)
    return Child(process.pid, out_read, popen=process)


def spawn_detached(
    argv: list[str], log_path: str, env: Mapping[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start ``argv`` in a session of its own, writing to ``log_path``, and return at once.

    The child keeps running when the terminal that started it closes.
    """
    log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        return subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=log_fd, stderr=subprocess.STDOUT,
            start_new_session=True, env=env,
        )
    finally:
        os.close(log_fd)
