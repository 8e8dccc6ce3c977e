"""Facts about processes on this host: which host this is, and is a worker alive.

A worker registers its host name, its pid and a marker: its start time, the boot id and its
PID namespace (``start_marker``). Containers may share a host name (``--network host``, or one
SQLite volume) while their pids mean different things; a registration from another boot or
PID namespace cannot be judged by its pid at all, so ``liveness`` answers "unknown" and the
caller relies on the lease instead.

What a dead or frozen worker's jobs left running is found and killed by ``leftovers``. This
module stays small: every enqueue imports it, for ``HOST``.
"""

from __future__ import annotations

import os

HOST = os.uname().nodename


def _stat(pid: int) -> list[str] | None:
    """Fields 3 onwards of ``/proc/PID/stat`` (state first), or None if unreadable."""
    try:
        with open(f"/proc/{pid}/stat") as file:
            stat = file.read()
    except OSError:
        return None
    # The command name (field 2) may contain spaces and parentheses: count from its last ')'.
    return stat.rsplit(")", 1)[1].split()


def start_ticks(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (clock ticks since boot), or None if unknown.

    A pid can be reused after its process exits; the pair (pid, start time) cannot.
    """
    fields = _stat(pid)
    return fields[19] if fields else None  # field 22


def _read_text(path: str) -> str:
    try:
        with open(path) as file:
            return file.read().strip()
    except OSError:
        return ""


def boot_id() -> str:
    """This boot of the kernel (a random UUID); "" where there is none to read."""
    return _read_text("/proc/sys/kernel/random/boot_id")


def pid_namespace(pid: int | str = "self") -> str:
    """The inode of ``pid``'s PID namespace: pids mean the same only within one."""
    try:
        return str(os.stat(f"/proc/{pid}/ns/pid").st_ino)
    except OSError:
        return ""


def start_marker(pid: int) -> str | None:
    """``ticks:boot id:PID namespace`` of ``pid`` (one of ours), or None if unknown.

    Markers written before the boot id and namespace were added hold the ticks alone; they are
    judged as before, by the host name alone.
    """
    ticks = start_ticks(pid)
    return None if ticks is None else f"{ticks}:{boot_id()}:{pid_namespace(pid)}"


ALIVE, DEAD, UNKNOWN = "alive", "dead", "unknown"
_HERE: list[tuple[str, str]] = []


def _here() -> tuple[str, str]:
    """This process's boot id and PID namespace; neither changes while it runs."""
    if not _HERE:
        _HERE.append((boot_id(), pid_namespace()))
    return _HERE[0]


def liveness(pid: int, marker: str | None) -> str:
    """Whether the process a registration names is ``alive``, ``dead``, or ``unknown`` here.

    Unknown when the marker names another boot or PID namespace (a container with the same
    host name): its pid is no fact about any process this host can see.
    """
    ticks = marker
    if marker is not None and ":" in marker:
        ticks, boot, namespace = marker.split(":", 2)
        if (boot, namespace) != _here():
            return UNKNOWN
    fields = _stat(pid)
    if fields is not None:
        # A zombie (Z) has exited and only waits for its parent to reap it: a worker killed
        # with SIGKILL stays one until then, and will never renew its leases.
        alive = fields[0] not in ("Z", "X") and ticks in (None, fields[19])
        return ALIVE if alive else DEAD
    try:  # no /proc entry to read: ask the kernel whether the pid exists at all
        os.kill(pid, 0)
    except ProcessLookupError:
        return DEAD
    except PermissionError:
        return ALIVE
    return ALIVE


def is_alive(pid: int, marker: str | None) -> bool:
    """Whether the process may still be running: False only when it is known to be gone."""
    return liveness(pid, marker) != DEAD
