"""A worker's way to start its jobs: lean, and owned.

Lean: the worker's environment is encoded once, not merged from a dict per job; a job without
``env`` of its own gets that list plus its three ``QUEUECTL_*`` entries. Processes start with
raw descriptors through ``spawn.fork_exec_child`` where this interpreter allows it (else
Popen), and with ``direct`` a command of plain words is exec'd without ``sh`` (``shellwords``).

Owned: the worker process moves into a cgroup of its own (``cgroups``), and every job's session
is written down in the worker's run records (``ownership``) as it starts, so that whoever finds
the worker dead or frozen can kill what its jobs left (``leftovers``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping
from functools import partial

from queuectl.jobspec.text import is_variable_name
from queuectl.process import cgroups, spawn
from queuectl.process.leftovers import prune_stale_records
from queuectl.process.ownership import RunRecorder, boot_ns
from queuectl.process.runner import Child, Execution, popen_child
from queuectl.process.shellwords import plain_argv

JOB_VARIABLES = ("QUEUECTL_JOB_ID", "QUEUECTL_ATTEMPT", "QUEUECTL_WORKER_ID")
# Variables dash sets itself at start when it finds them (so a program it runs sees another
# value); with one in the environment a command is not exec'd directly.
_SHELL_SET = ("IFS", "OPTIND", "PPID")
# Parsed commands kept per Launcher: at most this many, of at most this many characters each
# (a short job's start spends ~4 us parsing; a long command's parse is small beside its run).
_KEPT_COMMANDS = 1000
_KEPT_COMMAND = 512


def _shell_is_dash() -> bool:
    """Direct exec is proved the same as ``sh -c`` for dash (Debian's and Ubuntu's sh) only;
    bash as sh, for one, exports ``_`` and ``SHLVL`` of its own."""
    return os.path.basename(os.path.realpath(os.fsdecode(spawn.SHELL))) == "dash"


def _search_path(environ: Mapping[str, str]) -> tuple[bytes, ...] | None:
    """PATH's folders as the shell searches them; None when the shell would use its own
    default (no PATH) or treat an entry specially (dash's ``%builtin`` marks)."""
    path = environ.get("PATH")
    if path is None or "%" in path:
        return None
    return tuple(os.fsencode(folder) for folder in path.split(":"))


def _unlike_the_shell(environ: Mapping[str, str]) -> bool:
    """Whether the shell would change what a program sees of ``environ`` beyond PWD, or could
    run something else than the program (bash imports functions from the environment)."""
    return any(key in environ for key in _SHELL_SET) or any(
        key.startswith("BASH_FUNC_") for key in environ)


def _shell_pwd(inherited: str | None, folder: str) -> str:
    """PWD as dash sets it on start in ``folder``: the inherited value if it is an absolute
    name of that folder, else the folder's physical path."""
    if inherited and inherited.startswith("/"):
        if inherited == folder:
            return inherited  # one name, one folder: no need to compare what two name
        try:
            named, actual = os.stat(inherited), os.stat(folder)
            if (named.st_dev, named.st_ino) == (actual.st_dev, actual.st_ino):
                return inherited
        except OSError:
            pass
    return os.path.realpath(folder)


class Launcher:
    """Starts jobs for one worker. ``close`` once no job of it runs any more."""

    def __init__(
        self,
        environ: Mapping[str, str] | None = None,
        *,
        worker_id: str | None = None,
        lean: bool = True,
        own_processes: bool = True,
    ) -> None:
        """``lean=False`` forces Popen; ``own_processes=False`` skips the cgroup and records."""
        self._environ = {k: v for k, v in (os.environ if environ is None else environ).items()
                         if k not in JOB_VARIABLES}
        # An environment no process can have (a NUL, say, from a library caller) fails each
        # job's start, as Popen did, rather than the worker's.
        self._bad_environ: Exception | None = None
        try:
            self._entries = {key: spawn.env_entry(key, value)
                             for key, value in self._environ.items()}
        except (ValueError, UnicodeError) as exc:
            self._entries, self._bad_environ = {}, exc
        self._base = list(self._entries.values())
        self._search = _search_path(self._environ)
        self._candidates: dict[tuple[bytes, tuple[bytes, ...]], tuple[bytes, ...]] = {}
        # Each command text's words for a direct exec (None: through sh) and its bytes for sh,
        # kept as jobs repeat commands: the parse was ~4 us of a short job's start.
        self._commands: dict[str, tuple[list[bytes] | None, bytes]] = {}
        self._direct = _shell_is_dash() and not _unlike_the_shell(self._environ)
        # What the shell passes on of the worker's environment: variables with valid names,
        # and PWD set to the job's folder (computed per job).
        self._direct_base = [entry for key, entry in self._entries.items()
                             if key != "PWD" and is_variable_name(key)]
        self._lean = lean and spawn.fork_exec_available()
        self._worker_id = worker_id
        self._worker_entry = [spawn.env_entry("QUEUECTL_WORKER_ID", worker_id)] \
            if worker_id else []
        self._devnull = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
        self.cgroup = cgroups.enter_own_cgroup() if own_processes else None
        self._records = None
        if own_processes and worker_id:
            prune_stale_records(time.time())
            self._records = RunRecorder(worker_id, self.cgroup)

    @property
    def lean(self) -> bool:
        return self._lean

    def close(self) -> None:
        if self._devnull >= 0:
            os.close(self._devnull)
            self._devnull = -1
            if self._records is not None:
                self._records.close()
            if self.cgroup is not None:
                cgroups.leave_own_cgroup()

    def start(
        self,
        command: str,
        *,
        job_id: str,
        run: int,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
        kill_grace: float = 5.0,
        output_limit: int = 1024 * 1024,
        on_output: Callable[[int, bytes], None] | None = None,
        direct: bool = False,
        started_at: float | None = None,
    ) -> Execution:
        """Start one run of a job; ``env`` is the job's own, merged over the worker's.
        ``started_at``: the worker's clock now (default: the system's)."""
        return Execution(
            command, cwd=cwd, timeout=timeout, kill_grace=kill_grace, output_limit=output_limit,
            on_output=on_output,
            start=partial(self._spawn, command, job_id, run, cwd, env, direct,
                          time.time() if started_at is None else started_at),
        )

    def _spawn(self, command: str, job_id: str, run: int, cwd: str | None,
               env: Mapping[str, str] | None, direct: bool, started_at: float) -> Child:
        if self._bad_environ is not None:
            raise self._bad_environ
        job_entries = [spawn.env_entry("QUEUECTL_JOB_ID", job_id),
                       b"QUEUECTL_ATTEMPT=%d" % run, *self._worker_entry]
        search = self._search
        direct = direct and self._direct
        if env:
            entries = dict(self._entries)
            for key, value in env.items():
                if key not in JOB_VARIABLES:
                    entries[key] = spawn.env_entry(key, value)
            env_list = [*entries.values(), *job_entries]
            if "PATH" in env:
                search = _search_path(env)
            direct = direct and not _unlike_the_shell(env)
        else:
            env_list = [*self._base, *job_entries]
        words, shell_command = self._commands.get(command) or self._parse(command)
        if self._records is not None:
            # Before the fork: a run recorded as started may have run (rescues charge it an
            # attempt); one that is not never did (rescues give it back for free).
            self._records.starting(job_id, run, started_at)
        started_after = boot_ns()
        child = None
        if words is not None and direct and search is not None:
            argv = words
            executables = self._executables(argv[0], search)
            try:
                direct_env = self._direct_env(env, cwd, job_entries)
                child = self._exec(argv, executables, cwd, direct_env)
                child.without_shell = True
            except OSError:
                pass  # not found, not executable, not a binary: the shell says so its own way
        if child is None:
            child = self._exec([spawn.SHELL, b"-c", shell_command], (spawn.SHELL,), cwd,
                               env_list)
        if self._records is not None:
            slot = self._records.started(job_id, run, child.pid, started_after, boot_ns())
            if slot >= 0:
                child.on_reaped = partial(self._records.ended, job_id, run)
        return child

    def settled(self, runs: Iterable[tuple[str, int]]) -> None:
        """The database holds the results of these runs ``(job id, run)``, or has them back:
        their records may go."""
        if self._records is not None:
            self._records.settled(runs)

    def _parse(self, command: str) -> tuple[list[bytes] | None, bytes]:
        """``command``'s words if it is plain (see ``shellwords``), and its bytes; raises for
        a command no process can have (a NUL, a lone surrogate), which is not kept."""
        shell_command = os.fsencode(command)
        if b"\0" in shell_command:
            raise ValueError("embedded null byte")
        words = plain_argv(command)
        parsed = ([os.fsencode(word) for word in words] if words else None), shell_command
        if len(command) <= _KEPT_COMMAND:  # a command may be 128 KiB: keep only short ones
            if len(self._commands) >= _KEPT_COMMANDS:
                self._commands.clear()
            self._commands[command] = parsed
        return parsed

    def _executables(self, program: bytes, search: tuple[bytes, ...]) -> tuple[bytes, ...]:
        """Where the shell would look for ``program``, in order (kept: jobs repeat commands)."""
        if b"/" in program:
            return (program,)
        key = (program, search)
        found = self._candidates.get(key)
        if found is None:
            found = tuple(os.path.join(folder, program) for folder in search)
            if len(program) <= _KEPT_COMMAND:  # no file has a longer name: keep short ones
                if len(self._candidates) >= _KEPT_COMMANDS:
                    self._candidates.clear()
                self._candidates[key] = found
        return found

    def _direct_env(self, env: Mapping[str, str] | None, cwd: str | None,
                    job_entries: list[bytes]) -> list[bytes]:
        """The environment ``sh`` would hand the command: see ``_direct_base``."""
        inherited = (env or {}).get("PWD", self._environ.get("PWD"))
        pwd = spawn.env_entry("PWD", _shell_pwd(inherited, cwd or os.getcwd()))
        if not env:
            return [*self._direct_base, pwd, *job_entries]
        merged = {key: entry for key, entry in self._entries.items()
                  if key != "PWD" and is_variable_name(key)}
        for key, value in env.items():
            if key != "PWD" and key not in JOB_VARIABLES and is_variable_name(key):
                merged[key] = spawn.env_entry(key, value)
        return [*merged.values(), pwd, *job_entries]

    def _exec(self, argv: list[bytes], executables: tuple[bytes, ...], cwd: str | None,
              env_list: list[bytes]) -> Child:
        if self._lean:
            pid, out = spawn.fork_exec_child(argv, executables, cwd, env_list, self._devnull)
            return Child(pid, out)
        # Popen wants a dict (and searches PATH itself, as executables were built).
        env = dict(os.fsdecode(entry).split("=", 1) for entry in env_list)
        return popen_child(argv, cwd, env, self._devnull)
