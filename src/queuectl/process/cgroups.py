"""A cgroup (v2) per worker process, so that a job's processes can be found whatever they do.

Every process starts in its parent's cgroup, and only a process allowed to write to another
cgroup's ``cgroup.procs`` can leave: a worker that moves itself into a cgroup of its own at
start therefore has every job process (and their children, daemons included) inside it, at no
cost per job. Whoever finds the worker dead kills the whole cgroup with one write.

Where this process may not create a cgroup (no cgroup2 mount, a systemd session scope owned
by root, a container without a delegated subtree) workers run without one, and leftover
processes are found by their session id and environment alone.
"""

from __future__ import annotations

import os
import signal
import threading
import time

from queuectl.hosts import start_ticks

PREFIX = "queuectl-"
_lock = threading.Lock()
_entered: list[tuple[str, str]] = []  # (our cgroup, the one we came from), while workers run
_users = 0


def _cgroup2_mount() -> str | None:
    try:
        with open("/proc/self/mountinfo") as file:
            for line in file:
                fields = line.split()
                separator = fields.index("-")
                if fields[separator + 1] == "cgroup2":
                    return fields[4]
    except (OSError, ValueError, IndexError):
        pass
    return None


def _current_cgroup(mount: str) -> str | None:
    try:
        with open("/proc/self/cgroup") as file:
            for line in file:
                if line.startswith("0::"):
                    return mount + line[3:].rstrip("\n").rstrip("/")
    except OSError:
        pass
    return None


def enter_own_cgroup() -> str | None:
    """Move this process into a cgroup of its own; returns its folder, or None if we may not.

    The first worker of a process moves it; later ones share the cgroup (they live and die
    with the same process). ``leave_own_cgroup`` undoes it once the last one has stopped.
    """
    global _users
    with _lock:
        if _entered:
            _users += 1
            return _entered[0][0]
        mount = _cgroup2_mount()
        here = _current_cgroup(mount) if mount else None
        if here is None:
            return None
        pid = os.getpid()
        ours = os.path.join(here, f"{PREFIX}{pid}-{start_ticks(pid)}")
        try:
            os.mkdir(ours)
        except FileExistsError:
            pass
        except OSError:
            return None
        try:
            with open(os.path.join(ours, "cgroup.procs"), "w") as procs:
                procs.write(str(pid))
        except OSError:
            _remove(ours)
            return None
        _entered.append((ours, here))
        _users = 1
        _remove_stale_siblings(here)
        return ours


def leave_own_cgroup() -> None:
    """Move this process back where it came from; remove our cgroup if nothing is left in it.

    Processes that jobs left behind on purpose (a daemon started with ``setsid``) keep it.
    """
    global _users
    with _lock:
        if not _entered:
            return
        _users -= 1
        if _users > 0:
            return
        ours, origin = _entered.pop()
        try:
            with open(os.path.join(origin, "cgroup.procs"), "w") as procs:
                procs.write(str(os.getpid()))
        except OSError:
            return
        _remove(ours)


def _remove(folder: str) -> bool:
    """Whether ``folder`` is gone now (a cgroup with processes in it cannot be removed)."""
    try:
        os.rmdir(folder)
    except FileNotFoundError:
        pass
    except OSError:
        return False
    return True


def _remove_stale_siblings(parent: str) -> None:
    """Remove empty cgroups of worker processes that are gone (a clean exit leaves none)."""
    try:
        names = [name for name in os.listdir(parent) if name.startswith(PREFIX)]
    except OSError:
        return
    for name in names:
        pid, _, started = name[len(PREFIX):].partition("-")
        if pid.isdigit() and start_ticks(int(pid)) != started:
            _remove(os.path.join(parent, name))


def cgroup_processes(folder: str) -> list[int]:
    """Pids in ``folder`` and every cgroup below it."""
    pids: list[int] = []
    for here, _, _ in os.walk(folder):
        try:
            with open(os.path.join(here, "cgroup.procs")) as procs:
                pids.extend(int(line) for line in procs if line.strip())
        except (OSError, ValueError):
            continue
    return pids


def kill_cgroup(folder: str, deadline_seconds: float = 2.0) -> list[int]:
    """SIGKILL every process in ``folder`` (and below) and remove it; returns their pids.

    ``cgroup.kill`` (Linux 5.14) does it in one write that no fork escapes; on older kernels
    the cgroup is frozen first so that nothing forks while its processes are killed one by one.
    """
    if not os.path.basename(folder).startswith(PREFIX) or not os.path.isdir(folder):
        return []  # only a worker's own cgroup, never one a damaged record names
    pids = cgroup_processes(folder)
    if not _write(os.path.join(folder, "cgroup.kill"), "1"):
        frozen = _write(os.path.join(folder, "cgroup.freeze"), "1")
        for _ in range(20):
            left = cgroup_processes(folder)
            if not left:
                break
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        if frozen:
            _write(os.path.join(folder, "cgroup.freeze"), "0")
    # The killed processes leave the cgroup once they have exited; then it can go.
    end = time.monotonic() + deadline_seconds
    pause = threading.Event()
    while not _remove_tree(folder) and time.monotonic() < end:
        pause.wait(0.01)
    return pids


def _remove_tree(folder: str) -> bool:
    for here, _, _ in sorted(os.walk(folder), key=lambda entry: -len(entry[0])):
        if not _remove(here):
            return False
    return True


def _write(path: str, text: str) -> bool:
    try:
        with open(path, "w") as file:
            file.write(text)
        return True
    except OSError:
        return False
