"""A worker's threads, named for the OS: ``top -H``, ``ps -L`` and ``/proc/PID/task/*/comm``.

Python (before 3.14) keeps a thread's name to itself, so every thread of a worker reads
``python`` to the OS. A worker's threads give theirs (``coordinator``, ``slot-0``...,
``lease-fence``, ``hooks``) to the OS as they start, so that an operator can tell which one
spins, and ``bench/`` can split a worker's CPU by what each thread does. Linux keeps 15 bytes
of a name; where there is no ``/proc/thread-self``, threads stay unnamed.
"""

from __future__ import annotations

import threading

_LONGEST = 15  # bytes: the kernel's TASK_COMM_LEN, less its NUL


def name_os_thread() -> None:
    """Give the calling thread's Python name to the OS (best effort: a convenience)."""
    name = threading.current_thread().name.encode("utf-8", "replace")[:_LONGEST]
    try:
        with open("/proc/thread-self/comm", "wb") as comm:
            comm.write(name)
    except OSError:  # no procfs here, or not Linux
        pass
