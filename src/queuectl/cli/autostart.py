"""Opt-in autostart after an enqueue: ``queuectl config set autostart 4`` and the first
enqueue with no worker running on this host for the queue starts one of 4 slots in the
background, as tsp starts its server on first use. Shared by the plain enqueue (which runs
without Click, hence no Click here) and the Click commands."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..queue import QueueCore


def start_worker_if_configured(queue: QueueCore) -> None:
    """Start the worker if the setting asks for one and none runs; say so on stderr (stdout
    stays the enqueue's own line, which scripts read)."""
    started = queue.autostart_worker()  # None when the setting is off or a worker runs
    if started is not None:
        print(f"Started worker {started.worker_id} (autostart: {queue.settings.autostart} "
              f"slots, pid {started.pid}), logging to {started.log_path}", file=sys.stderr)
