"""Which processes belong to a worker's jobs, kept where a job cannot change it.

A job can clear its environment (``exec env -i ...``), so ``QUEUECTL_*`` variables are no
proof of ownership. Two things are, on this host:

- **A cgroup per worker process** (cgroup v2, where this process may create one): the worker
  moves itself into ``queuectl-<pid>-<start>`` beside its own cgroup at start, so every job
  process inherits it, at no cost per job. Only a process allowed to write elsewhere in the
  cgroup tree (root, or the owner of a delegated subtree) can leave it.
- **A run record per job**, in a file per worker under ``/dev/shm/queuectl-<uid>``: the job's
  session id (its first process's pid: every job runs in a session of its own) and the time
  window of its start, so that a reused pid is told apart. A worker killed with SIGKILL leaves
  its records behind for whoever rescues its runs.

A record also says that a run started, which is written before its command can run: a run
claimed ahead and never started is then given back to the queue without costing an attempt
when its worker dies (``maintenance``). So a record lives, one ``pwrite`` per step, from just
before the fork (``starting``: no session yet), through the run (``started``: its session),
past its processes' end (``ended``: no session to kill any more, the run still started) until
the worker's database holds the run's result (``settled``: blank, the slot free again).

``leftovers`` reads the records to kill what a dead or frozen worker left running.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from queuectl.hosts import pid_namespace, start_marker

_SAFE_ID = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}")
_PLAIN_JSON = re.compile(r"[A-Za-z0-9._:-]*")  # a text that JSON quotes as it is
RECORD_SIZE = 512
HEADER_SIZE = 4096
_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")
# A record's three numbers (session, and the window of its start) at a fixed width, so that
# ``started`` and ``ended`` rewrite them alone, in place (zeros parse as the numbers they pad).
_NUMBERS = b"%020d %020d %020d"
_NO_SESSION = _NUMBERS % (0, 0, 0)


def records_folder() -> str:
    """Where workers of this user keep their run records: a tmpfs, gone at reboot like pids.
    ``QUEUECTL_RECORDS_DIR`` names another (a test run's own, out of other queues' way)."""
    chosen = os.environ.get("QUEUECTL_RECORDS_DIR")
    if chosen:
        return chosen
    base = "/dev/shm" if os.path.isdir("/dev/shm") else "/tmp"
    return os.path.join(base, f"queuectl-{os.getuid()}")


def record_path(worker_id: str) -> str | None:
    """The file of ``worker_id``'s records; None for an id that is no plain file name (ids
    come from the workers table, and ``--worker-id`` takes any text; a job's ``worker_id``
    edited by hand into bytes, on SQLite, is no name at all: the rescue of its run raised, and
    a worker starting up ended on it)."""
    if not isinstance(worker_id, str) or not _SAFE_ID.fullmatch(worker_id):
        return None
    return os.path.join(records_folder(), worker_id)


def boot_ns() -> int:
    """Nanoseconds since boot, the clock of a process's start time in ``/proc/PID/stat``."""
    return time.clock_gettime_ns(time.CLOCK_BOOTTIME)


def ticks(boot_nanoseconds: int) -> int:
    return boot_nanoseconds * _TICKS_PER_SECOND // 1_000_000_000


@dataclass(frozen=True)
class RunRecord:
    job_id: str
    run: int
    session: int  # the job's first process, the leader of its session
    started_after: int  # boot_ns() before the fork and after it: the leader's start time,
    started_before: int  # in clock ticks, lies between them
    started_at: float = 0.0  # the worker's clock just before the fork


@dataclass(frozen=True)
class WorkerRecords:
    worker_id: str
    pid: int
    marker: str | None  # procs.start_marker of the worker process
    cgroup: str | None  # the worker's cgroup folder, if it has one
    runs: list[RunRecord]  # the runs whose processes may still be going
    # Every run that started and whose result the database may not hold yet, with when it
    # started; None when that is not known (a record could not be written, an older file).
    started: dict[tuple[str, int], float] | None


class RunRecorder:
    """A worker's file of run records; every method is safe from any thread.

    Without a lock on the way of a start: a run takes a free slot with one ``list.pop`` (or
    a new one from a counter), each atomic, and only its own slot thread writes that record
    until ``settled`` gives the slot back. A lock there, contended by every slot starting a
    job, was a hand-off between threads on each start.
    """

    def __init__(self, worker_id: str, cgroup: str | None) -> None:
        folder = records_folder()
        self.path = record_path(worker_id) or ""
        self._fd = -1
        self._free: list[int] = []  # slots of settled runs, to be reused
        self._new_slots = itertools.count()
        self._slots: dict[tuple[str, int], int] = {}  # the record slot of each run
        self._lock = threading.Lock()
        self._header = {"worker": worker_id, "pid": os.getpid(),
                        "marker": start_marker(os.getpid()), "cgroup": cgroup, "starts": True}
        try:
            if not self.path:
                raise ValueError(f"no records for worker id {worker_id!r}")
            _private_folder(folder)
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC
                               | os.O_NOFOLLOW, 0o600)
            self._write_header()
        except (OSError, ValueError):
            self.close()  # no records: leftovers are then found by cgroup and environment

    def starting(self, job_id: str, run: int, at: float) -> None:
        """Record that a run is about to start (before its fork), at ``at`` (a Clock time)."""
        if self._write((job_id, run), _NO_SESSION, at) < 0:
            self._starts_unknown()

    def started(self, job_id: str, run: int, session: int, after: int, before: int) -> int:
        """Record a run's session; returns the slot to pass to ``ended`` (-1 if not kept)."""
        key = (job_id, run)
        slot = self._slots.get(key)
        numbers = _NUMBERS % (session, after, before)
        if slot is None:  # no ``starting`` before (a test's forged record)
            return self._write(key, numbers)
        return self._renumber(slot, numbers)

    def ended(self, job_id: str, run: int) -> None:
        """The run's processes are gone: forget its session (its id may now be reused), but
        not that the run started."""
        slot = self._slots.get((job_id, run))  # a dict lookup is atomic: no lock needed
        if slot is not None:
            self._renumber(slot, _NO_SESSION)

    def _renumber(self, slot: int, numbers: bytes) -> int:
        """Rewrite the numbers at the front of a record written whole by ``starting``: the
        slot thread of a run is the only writer of its record between ``starting`` and
        ``settled``, so no lock, and its tail is on the page already."""
        try:
            os.pwrite(self._fd, numbers, HEADER_SIZE + slot * RECORD_SIZE)
            return slot
        except OSError:  # tmpfs full, or closed meanwhile: the cgroup and environment remain
            return -1

    def settled(self, runs: Iterable[tuple[str, int]]) -> None:
        """The database holds these runs' results (or has them back): their slots may be
        reused. They are not blanked (a write per job saved): a rescuer only asks about the
        runs the database still shows held, and a settled run is never held again under the
        same run number."""
        for key in runs:
            slot = self._slots.pop(key, None)
            if slot is not None:
                self._free.append(slot)

    def _write(self, key: tuple[str, int], numbers: bytes, at: float | None = None) -> int:
        """Write the run's whole record (``at``: its start, given once, by ``starting``);
        returns its slot, -1 if not written. A record is one line of RECORD_SIZE bytes:
        ``session after before run at "job id"``, the numbers at a fixed width, the job id as
        JSON."""
        job_id = key[0]
        # JSON of an id of plain characters, without json.dumps (~2 us a run).
        quoted = f'"{job_id}"' if _PLAIN_JSON.fullmatch(job_id) else json.dumps(job_id)
        record = b"%s %d %r %s" % (numbers, key[1], at or 0.0, quoted.encode())
        if len(record) >= RECORD_SIZE or self._fd < 0:
            return -1
        slot = self._slots.get(key)
        if slot is None:
            try:
                slot = self._free.pop()
            except IndexError:
                slot = next(self._new_slots)
            self._slots[key] = slot
        try:
            os.pwrite(self._fd, record.ljust(RECORD_SIZE - 1) + b"\n",
                      HEADER_SIZE + slot * RECORD_SIZE)
            return slot
        except OSError:  # tmpfs full: the cgroup and the environment remain
            return -1

    def _starts_unknown(self) -> None:
        """A start went unrecorded: whoever rescues this worker must count every run it held
        as started."""
        with self._lock:
            if self._header["starts"]:
                self._header["starts"] = False
                try:
                    self._write_header()  # its page is written already: this cannot need space
                except OSError:
                    pass

    def _write_header(self) -> None:
        header = json.dumps(self._header).encode()
        os.pwrite(self._fd, header.ljust(HEADER_SIZE - 1) + b"\n", 0)

    def close(self) -> None:
        """Remove the file: called once no job of this worker runs any more."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
            try:
                os.unlink(self.path)
            except OSError:
                pass


def _private_folder(folder: str) -> None:
    """Create ``folder`` for this user alone; refuse one that someone else prepared."""
    try:
        os.mkdir(folder, 0o700)
    except FileExistsError:
        pass
    info = os.lstat(folder)
    if not os.path.isdir(folder) or os.path.islink(folder) or info.st_uid != os.getuid() \
            or info.st_mode & 0o077:
        raise OSError(f"{folder} is not a private folder of this user")


def read_records(path: str) -> WorkerRecords | None:
    """A worker's records, or None if unreadable or not of this boot and PID namespace."""
    try:
        with open(path, "rb") as file:
            data = file.read()
        header = json.loads(data[:HEADER_SIZE])
        marker, cgroup = header["marker"], header["cgroup"]
        worker_id, pid = str(header["worker"]), int(header["pid"])
        if not (marker is None or isinstance(marker, str)) or not (
                cgroup is None or isinstance(cgroup, str)):
            return None
    except (OSError, ValueError, TypeError, KeyError):  # not a records file of ours
        return None
    if marker is not None and ":" in marker:
        _, boot, namespace = marker.split(":", 2)
        from queuectl.hosts import boot_id

        if boot != boot_id() or namespace != pid_namespace():
            return None  # pids there mean other processes than here
    runs = []
    started: dict[tuple[str, int], float] | None = {} if header.get("starts") is True else None
    for offset in range(HEADER_SIZE, len(data) - RECORD_SIZE + 1, RECORD_SIZE):
        line = data[offset:offset + RECORD_SIZE].strip()
        if line:
            try:
                if "starts" in header:
                    session, after, before, run, at, job_id = line.decode().split(" ", 5)
                else:  # a worker of an earlier version: no start times
                    session, after, before, run, job_id = line.decode().split(" ", 4)
                    at = "0"
                record = RunRecord(json.loads(job_id), int(run), int(session), int(after),
                                   int(before), float(at))
            except (ValueError, TypeError):
                # A record torn by a crash mid-write (a pwrite of one page is not torn by a
                # SIGKILL, but who knows the tmpfs): its run's start is not known.
                started = None
                continue
            if not isinstance(record.job_id, str):
                started = None
                continue
            if started is not None:
                started[(record.job_id, record.run)] = record.started_at
            if record.session > 0:
                runs.append(record)
    return WorkerRecords(worker_id, pid, marker, cgroup, runs,
                         started)


def started_runs(worker_id: str) -> dict[tuple[str, int], float] | None:
    """The runs ``(job id, run)`` of a dead worker that started and may lack a result, with
    when each started; None when that is not known here (no records, another boot, a start
    unrecorded)."""
    path = record_path(worker_id)
    records = read_records(path) if path else None
    return records.started if records is not None else None


def all_records() -> Iterator[WorkerRecords]:
    folder = records_folder()
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        records = read_records(os.path.join(folder, name))
        if records is not None:
            yield records


def forget_worker(worker_id: str) -> None:
    path = record_path(worker_id)
    if path is None:
        return
    try:
        os.unlink(path)
    except OSError:
        pass
