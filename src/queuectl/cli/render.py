"""Plain-text tables and values for the terminal, and JSON for scripts.

Click is imported where it writes: the plain ``enqueue`` (which runs without Click) formats
with ``shorten`` and ``when``.
"""

from __future__ import annotations

import os
import sys

from ..units import format_timestamp_to_second, is_setting_span

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing and collections stay off the plain enqueue's path
    from collections.abc import Mapping, Sequence
    from typing import Any, NoReturn, TextIO

    from ..listing import JobRun
    from ..models import Job, WorkerInfo


def echo_json(value: Any) -> None:
    """``value`` as JSON; a value JSON cannot carry (a row edited by hand: bytes SQLite keeps
    in a text column, an infinite time) as ``unreadable.marked`` text."""
    import json

    import click

    from ..unreadable import jsonable

    click.echo(json.dumps(jsonable(value), indent=2, ensure_ascii=False))


def refused_setting(why: str, *, lease: bool = False) -> str:
    """The warning for a setting ``config set`` would refuse (stored by hand), which reads
    take at its default: ``warning: lease_duration: expected ... (fix it with ...)``; with
    ``lease`` (a refused ``lease_duration`` where workers are shown), that they are judged
    running or lost by the default lease: ``...; workers judged by the default lease, 30s``.
    What was stored is shown with its control characters as escapes (``visible``)."""
    from .visible import visible

    line = f"warning: {visible(why)} (fix it with queuectl config set or unset)"
    if lease:
        from ..config import Settings
        from ..units import format_duration

        default = format_duration(Settings().lease_duration)
        line += f"; workers judged by the default lease, {default}"
    return line


def warn_refused(refused: Mapping[str, str], key: str | None = None, *,
                 workers: bool = False) -> None:
    """One ``refused_setting`` line on stderr per setting refused (only ``key``'s if given);
    ``workers``: the command shows workers, judged by the lease (see ``refused_setting``)."""
    import click

    for name, why in refused.items():
        if key is None or name == key:
            click.echo(refused_setting(why, lease=workers and name == "lease_duration"),
                       err=True)


def text(value: object) -> str:
    """A stored text as it is, or ``unreadable.marked`` where a row edited by hand holds
    another type (SQLite keeps bytes in any column)."""
    if isinstance(value, str):
        return value
    from ..unreadable import marked

    return marked(value)


def reader_left() -> NoReturn:
    """Exit 0, silently: the reader of our output left (``queuectl list | head -1``), which is
    no error."""
    discard(sys.stdout, sys.stderr)
    sys.exit(0)


def output_failed(exc: OutputFailed) -> NoReturn:
    """Exit 1 with one line: stdout could not take our output (``queuectl list > /dev/full``),
    as export says it."""
    discard(sys.stdout)
    sys.stderr.write(f"error: cannot write to stdout: {exc.strerror}\n")
    sys.exit(1)


def discard(*streams: TextIO | None) -> None:
    """Point the streams' descriptors at /dev/null: Python flushes stdout and stderr at exit,
    and what they still hold would fail again, with a second message (and exit status 120)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        for stream in streams:
            if stream is None:  # started with it closed
                continue
            try:
                os.dup2(devnull, stream.fileno())
            except (AttributeError, OSError, ValueError):  # closed, or no file at all
                pass
    finally:
        os.close(devnull)


class OutputFailed(OSError):
    """stdout cannot take our output (a full disk, a file opened for reading): raised by a
    ``guarded`` stdout instead of the write's own OSError, which ``cli.group`` cannot tell from
    any other, so that the command ends with one line and exit 1, not a traceback."""


class _Guarded:
    """A stream (stdout, or its binary buffer) whose failed writes raise ``OutputFailed``; the
    rest is the stream's own. A reader that left (EPIPE) stays a ``BrokenPipeError``: that is
    no error (``reader_left``). The stream is left as it is: Click probes it with writes that
    may fail, and goes on to write (and fail) again."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, data: Any) -> int:
        return self._guarded(self._stream.write, data)  # type: ignore[no-any-return]

    def flush(self) -> None:
        self._guarded(self._stream.flush)

    @property
    def buffer(self) -> _Guarded:  # `logs` writes the output's bytes as they are
        return _Guarded(self._stream.buffer)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)

    @staticmethod
    def _guarded(call: Any, *args: Any) -> Any:
        try:
            return call(*args)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise OutputFailed(exc.errno, exc.strerror or str(exc)) from None


def guard_stdout() -> None:
    """Make stdout's failed writes ``OutputFailed`` (see ``_Guarded``) for the commands."""
    if sys.stdout is not None and not isinstance(sys.stdout, _Guarded):
        sys.stdout = _Guarded(sys.stdout)


def when(timestamp: float | None) -> str:
    """A timestamp to the second, as tables show it: '2026-11-29T08:01:02Z'."""
    text = format_timestamp_to_second(timestamp)
    return "-" if text is None else text


def span(seconds: float | None) -> str:
    """A job's setting in seconds as ``show`` prints it ('30s', '1.5s'), or '-' for none, and
    for a value no setting can hold (zero or less, infinite or NaN: a row edited by hand),
    which ``-infs`` would pass off as one."""
    return f"{seconds:g}s" if is_setting_span(seconds) else "-"


_YEAR = 365 * 86400.0
_INF = float("inf")
_AGO_UNITS = (("s", 1.0, 60.0), ("m", 60.0, 3600.0), ("h", 3600.0, 86400.0),
              ("d", 86400.0, _YEAR))


def ago(timestamp: float, now: float) -> str:
    """A heartbeat's age in one rounded unit, the next unit from two of it on: '90s ago',
    '5m ago', '47h ago', '3d ago', '12y ago' (a year is 365 days). One a minute or more
    ahead (a hand edit, or a clock stepped back) says so: '3d ahead'."""
    if not -_INF < timestamp < _INF:  # NaN or inf, no time: a heartbeat edited by
        return format_timestamp_to_second(timestamp) or "-"  # hand (storage/workers.py)
    seconds, word = now - timestamp, "ago"
    if seconds <= -60:
        seconds, word = -seconds, "ahead"
    seconds = max(0.0, seconds)
    for unit, size, next_size in _AGO_UNITS:
        if seconds < 2 * next_size:
            return f"{seconds / size:.0f}{unit} {word}"
    return f"{seconds / _YEAR:.0f}y {word}"


def shorten(value: str | None, width: int) -> str:
    if not value:
        return "-"
    value = " ".join(text(value).split())
    return value if len(value) <= width else value[: width - 1] + "…"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """``rows`` under ``headers``, in columns. Cells are shown with their control characters
    as escapes (``visible``): a queue name, worker id or host stored by hand may hold any."""
    import click

    from .visible import visible

    cells = [[visible(str(cell)) for cell in row] for row in rows]
    widths = [max([len(h)] + [len(row[i]) for row in cells]) for i, h in enumerate(headers)]
    for row in [list(headers), *cells]:
        padded = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        click.echo("  ".join(padded).rstrip())


def jobs_table(jobs: Sequence[Job], runs: Mapping[str, JobRun], now: float) -> None:
    """Jobs with the start, end and duration of their latest run (``runs``, by job id)."""
    from ..units import human_duration
    from .visible import visible

    rows = []
    for job in jobs:
        run = runs.get(job.id)
        ended = None if run is None else run.finished_at
        took = None if run is None else (now if ended is None else ended) - run.started_at
        rows.append((
            job.id,
            "paused" if job.paused else job.state.value,  # a paused job is processing
            f"{job.attempts}/{job.max_retries}",
            shorten(visible(text(job.command)), 32),
            when(None if run is None else run.started_at),
            when(ended),
            "-" if took is None else human_duration(took),
            _next_run(job),
            _error_cell(job),
        ))
    table(("ID", "STATE", "ATTEMPTS", "COMMAND", "STARTED", "ENDED", "TOOK", "NEXT RUN",
           "LAST ERROR"), rows)


def more_notice(limit: int) -> str:
    """The line (for stderr) that says a listing stopped at its limit."""
    return (f"Showing the newest {limit} job{'s' if limit != 1 else ''}; more match "
            "(--limit N shows more).")


def _error_cell(job: Job) -> str:
    """The LAST ERROR cell: the last run's error, or why the row cannot be read whole."""
    from .visible import visible

    if job.unreadable:
        return shorten(visible(f"unreadable row: {job.unreadable}"), 32)
    return shorten(visible(text(job.current_error)) if job.current_error else None, 32)


def _next_run(job: Job) -> str:
    """When a waiting job runs: its retry or scheduled time, or the jobs it waits on."""
    state = job.state.value
    if state == "pending" and job.waiting_on:
        return shorten("after " + ",".join(job.depends_on), 30)
    if state == "failed" or (state == "pending" and job.run_at > job.updated_at):
        return when(job.run_at)
    return "-"


def role(worker: WorkerInfo) -> str:
    """A worker's ROLE cell, in ``worker list``, ``status`` and ``status --watch`` alike."""
    return "housekeeper" if worker.housekeeper else "-"


def workers_table(workers: Sequence[WorkerInfo], now: float) -> None:
    rows = [
        (w.id, w.state, role(w), w.host, w.pid,
         w.slots if w.slots_wanted is None else f"{w.slots}->{w.slots_wanted}", w.running,
         when(w.started_at), ago(w.heartbeat_at, now))
        for w in workers
    ]
    table(("ID", "STATE", "ROLE", "HOST", "PID", "SLOTS", "RUNNING", "STARTED", "HEARTBEAT"),
          rows)


def echo_retried(jobs: Sequence[Job]) -> bool:
    """One line per job retried: its state now, or why it is dead again at once (a dependency
    dead or removed). Whether any is: the command then exits 1, as a script must know."""
    import click

    from ..models import JobState
    from .visible import visible

    dead_again = False
    for job in jobs:
        if job.state is JobState.DEAD:
            click.echo(visible(f"Retried {job.id}: dead again at once: {job.last_error}"))
            dead_again = True
        else:
            click.echo(f"Retried {job.id}: now {job.state.value}")
    return dead_again
