"""RQ's job function, imported by ``rq worker`` by dotted name: ``rq_tasks.run``."""

from __future__ import annotations

from tasks_common import run_capture, run_command

run = run_command
capture = run_capture
