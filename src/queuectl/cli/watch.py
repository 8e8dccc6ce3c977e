"""``queuectl status --watch``: a live view, redrawn in place until Ctrl-C.

On a terminal the view is drawn on the alternate screen (as ``top`` and ``less`` do), so
that Ctrl-C gives the terminal back exactly as it was. When stdout is not a terminal, or is
one that takes no escape codes (``TERM=dumb``: Emacs' shell, some CI logs), each refresh is
printed as plain text, one frame after another, without escape codes. A command's control
characters are shown as escapes (``visible``), never sent to the terminal. Colours
follow the NO_COLOR convention (https://no-color.org): any non-empty value turns them off.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType
from typing import Protocol, TextIO

from ..models import JobState
from ..queue import Queue
from ..units import format_timestamp_to_second, human_duration, human_rate
from .render import ago, refused_setting, role, text
from .visible import visible

ENTER, LEAVE = "\x1b[?1049h\x1b[?25l", "\x1b[?25h\x1b[?1049l"  # alternate screen, cursor
HOME, CLEAR_LINE, CLEAR_BELOW = "\x1b[H", "\x1b[K", "\x1b[J"
_COLOURS = {"pending": "36", "processing": "34", "completed": "32", "failed": "33",
            "dead": "31", "canceled": "35", "running": "32", "stopping": "33", "lost": "31"}
RUNNING_SHOWN = 10


class _Paint(Protocol):
    def __call__(self, word: str, width: int = 0) -> str: ...


def frame(queue: Queue, interval: float, colour: bool) -> list[str]:
    """One screenful: jobs per state, the last minute, workers, and what runs now."""
    now = queue.clock.now()
    counts = queue.counts()
    listed = queue.worker_list()  # and the settings refused, in the same read
    workers = listed.workers
    running = queue.running_jobs(RUNNING_SHOWN)
    minute = queue.stats(60).total

    def paint(word: str, width: int = 0) -> str:
        text = word.ljust(width)
        return f"\x1b[{_COLOURS[word]}m{text}\x1b[0m" if colour and word in _COLOURS else text

    stamp = format_timestamp_to_second(now) or ""
    lines = [f"queuectl  {queue.location}  {stamp}  (every {interval:g}s, Ctrl-C to quit)"]
    lines += [refused_setting(why, lease=key == "lease_duration")
              for key, why in listed.refused_settings.items()]
    lines.append("")
    lines.append("Jobs  " + "   ".join(f"{paint(s.value)} {n}" for s, n in counts.items()))
    lines.append(f"Last minute  {minute.completed} completed, {minute.failed} failed, "
                 f"{minute.dead} dead  ({human_rate(minute.throughput)})")
    lines += ["", f"Workers ({len(workers)})"]
    lines += _table(
        ("ID", "STATE", "ROLE", "HOST", "PID", "BUSY", "HEARTBEAT"),
        [(visible(w.id), w.state, role(w), visible(w.host), str(w.pid), f"{w.running}/{w.slots}",
          ago(w.heartbeat_at, now))
         for w in workers], paint, state_column=1)
    total_running = counts.get(JobState.PROCESSING, 0)
    more = f", showing {RUNNING_SHOWN}" if total_running > len(running) else ""
    lines += ["", f"Running now ({total_running}{more})"]
    lines += _table(
        ("ID", "WORKER", "ELAPSED", "COMMAND"),
        [(visible(r.job.id), visible(r.job.worker_id or "-"),
          human_duration(now - r.started_at) + (" (paused)" if r.job.paused else ""),
          visible(" ".join(text(r.job.command).split()))) for r in running], paint)
    return lines


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], paint: _Paint,
           state_column: int | None = None) -> list[str]:
    if not rows:
        return ["  -"]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(headers)]
    lines = ["  " + "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    for row in rows:
        cells = [paint(cell, w) if i == state_column else cell.ljust(w)
                 for i, (cell, w) in enumerate(zip(row, widths, strict=True))]
        lines.append("  " + "  ".join(cells).rstrip())
    return lines


def watch(queue: Queue, interval: float, out: TextIO = sys.stdout) -> None:
    """Redraw until Ctrl-C or SIGTERM; returns normally so that the exit status is 0."""
    on_terminal = out.isatty() and os.environ.get("TERM") != "dumb"
    colour = on_terminal and not os.environ.get("NO_COLOR")
    pause = threading.Event()

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    # Both signals explicitly: a shell that starts a command in the background makes it
    # ignore SIGINT, and Python then never turns SIGINT into KeyboardInterrupt.
    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        if on_terminal:
            out.write(ENTER)
        while True:
            lines = frame(queue, interval, colour)
            if on_terminal:
                width = shutil.get_terminal_size().columns
                lines = [_clip(line, width) for line in lines]
                out.write(HOME + f"{CLEAR_LINE}\n".join(lines) + CLEAR_LINE + CLEAR_BELOW)
            else:
                out.write("\n".join(lines) + "\n\n")
            out.flush()
            pause.wait(interval)
    except KeyboardInterrupt:
        pass
    finally:
        if on_terminal:
            out.write(LEAVE)
            out.flush()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _clip(line: str, width: int) -> str:
    """Cut a line to the terminal's width (a wrapped line would scroll the view)."""
    visible, out, i = 0, [], 0
    while i < len(line):
        if line.startswith("\x1b[", i):
            end = line.index("m", i) + 1
            out.append(line[i:end])
            i = end
            continue
        if visible >= width:
            break
        out.append(line[i])
        visible += 1
        i += 1
    return "".join(out) + ("\x1b[0m" if "\x1b[" in line else "")
