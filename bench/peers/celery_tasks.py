"""Celery's app and task (``celery -A celery_tasks worker``): Redis broker and result backend."""

from __future__ import annotations

import os

from celery import Celery
from tasks_common import run_capture, run_command

app = Celery("bench", broker=os.environ["BENCH_REDIS_URL"], backend=os.environ["BENCH_REDIS_URL"])
app.conf.update(worker_hijack_root_logger=False, broker_connection_retry_on_startup=True)
run = app.task(name="bench.run")(run_command)
capture = app.task(name="bench.capture")(run_capture)
