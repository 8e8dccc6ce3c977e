"""The lean way to start a job's process: ``_posixsubprocess.fork_exec`` with raw descriptors.

``subprocess.Popen`` spends most of a short job's worker CPU on itself: it builds an env list
from a dict per call, wraps pipes in file objects, keeps a lock and a finalizer. A worker needs
none of that. ``fork_exec`` is what Popen calls underneath (with vfork, releasing the GIL, so
slot threads spawn in parallel; ``os.posix_spawn`` holds the GIL on 3.11). It is private and
its arguments change between versions, so it is used only where this interpreter's own
``subprocess`` calls it with exactly the arguments below; elsewhere ``runner`` uses Popen.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from typing import Any

SHELL = b"/bin/sh"

# How subprocess.Popen._execute_child calls fork_exec on CPython 3.11 (from 3.11.? on), 3.12
# and 3.13; 3.10 passes neither process_group nor _USE_VFORK, and 3.14 changed it again.
_KNOWN_CALL = ("args, executable_list, close_fds, tuple(sorted(map(int, fds_to_keep))), cwd, "
               "env_list, p2cread, p2cwrite, c2pread, c2pwrite, errread, errwrite, "
               "errpipe_read, errpipe_write, restore_signals, start_new_session, process_group, "
               "gid, gids, uid, umask, preexec_fn, _USE_VFORK")
_KNOWN_VERSIONS = ((3, 11), (3, 12), (3, 13))


def _find_fork_exec() -> Callable[..., int] | None:
    """``fork_exec`` if this interpreter calls it the way we do, else None (use Popen)."""
    if sys.version_info[:2] not in _KNOWN_VERSIONS:
        return None
    try:
        import _posixsubprocess
        from importlib.util import find_spec

        spec = find_spec("subprocess")
        assert spec is not None and spec.origin is not None
        with open(spec.origin) as file:
            source = file.read()
    except (ImportError, OSError, AssertionError):
        return None
    if _KNOWN_CALL not in _fork_exec_calls(source):
        return None
    fork_exec: Callable[..., int] = _posixsubprocess.fork_exec
    return fork_exec


def _fork_exec_calls(source: str) -> list[str]:
    """The argument lists of every ``fork_exec(...)`` call in ``source``, spaces normalised."""
    calls = []
    for match in re.finditer(r"fork_exec\(", source):
        depth, end = 1, match.end()
        while depth and end < len(source):
            depth += {"(": 1, ")": -1}.get(source[end], 0)
            end += 1
        calls.append(" ".join(source[match.end():end - 1].split()))
    return calls


_fork_exec: list[Callable[..., int] | None] = []


def fork_exec_available() -> bool:
    if not _fork_exec:
        _fork_exec.append(_find_fork_exec())
    return _fork_exec[0] is not None


def env_entry(key: str, value: str) -> bytes:
    """``KEY=value`` as execve wants it; ValueError or UnicodeEncodeError for what no OS takes."""
    name = os.fsencode(key)
    if b"=" in name:
        raise ValueError("illegal environment variable name")
    entry = name + b"=" + os.fsencode(value)
    if b"\0" in entry:
        raise ValueError("embedded null byte")
    return entry


def fork_exec_child(
    argv: list[bytes], executables: tuple[bytes, ...], cwd: str | None,
    env: list[bytes] | None, stdin: int,
) -> tuple[int, int]:
    """Start ``argv`` in a new session with stdin from ``stdin`` and stdout and stderr on one
    pipe; returns ``(pid, read end of the pipe)``. Raises OSError as Popen would when the
    program cannot be run or ``cwd`` entered. Call only if ``fork_exec_available()``."""
    fork_exec = _fork_exec[0]
    assert fork_exec is not None
    out_read, out_write = os.pipe()
    try:
        error_read, error_write = os.pipe()
    except OSError:
        os.close(out_read)
        os.close(out_write)
        raise
    try:
        if min(out_read, out_write, error_read, error_write) < 3:  # a worker started with
            raise OSError("standard descriptors closed")  # 0-2 closed: let Popen cope with it
        pid = fork_exec(
            argv, executables, True, (error_write,), cwd, env,
            stdin, -1, out_read, out_write, -1, out_write, error_read, error_write,
            True, True, -1, None, None, None, -1, None, True,
        )
    except BaseException:
        for fd in (out_read, out_write, error_read, error_write):
            os.close(fd)
        raise
    os.close(error_write)
    os.close(out_write)
    try:
        report = _read_all(error_read)
    finally:
        os.close(error_read)
    if report:  # the child could not exec; it has exited already
        os.close(out_read)
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
        raise _child_error(report, cwd, argv[0])
    return pid, out_read


def _read_all(fd: int) -> bytes:
    data = b""
    while part := os.read(fd, 50000):
        data += part
        if len(data) > 50000:
            break
    return data


def _child_error(report: bytes, cwd: str | None, program: bytes) -> Exception:
    """The exception the child reported, in ``subprocess``'s format ``Name:hex errno:text``."""
    name, _, rest = report.partition(b":")
    hex_errno, _, text = rest.partition(b":")
    if name == b"OSError":
        try:
            number = int(hex_errno, 16)
        except ValueError:
            number = 0
        filename: Any = cwd if text == b"noexec" else os.fsdecode(program)
        return OSError(number, os.strerror(number), filename)
    return RuntimeError(report.decode(errors="replace"))
