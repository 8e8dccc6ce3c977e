"""Redraw the README's dashboard screenshots: docs/dashboard.png and docs/job-page.png.

    .venv/bin/python scripts/doc_screenshots.py

Builds a small demo queue in a temporary directory (three queues, an hour of finished runs,
dead jobs, a job still running and printing), serves it with the real ``queuectl dashboard``
and photographs two pages in Debian's Chromium at 1440 px.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from queuectl import Queue
from queuectl.clock import FakeClock

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"


def build(db: Path) -> None:
    """An hour of work: a batch every two minutes on a clock that starts an hour ago."""
    clock = FakeClock(time.time() - 3600)
    with Queue(db, environ={}, clock=clock) as queue:
        queue.config_set("backoff_base", "600")
        for minute in range(0, 60, 2):
            batch = [{"id": f"thumb-{minute:02d}-{i}", "command": f"echo resized {i}.jpg",
                      "queue": "images", "tags": ["thumbnails"]}
                     for i in range(5 + (minute * 7) % 11)]
            batch += [{"id": f"mail-{minute:02d}-{i}", "command": f"echo digest {i}",
                       "queue": "mail"} for i in range(3 + minute % 5)]
            if minute % 10 == 4:
                batch.append({"id": f"sync-{minute:02d}", "queue": "mail", "max_retries": 0,
                              "command": "echo 'upstream said 503' >&2; exit 75"})
            queue.enqueue_many(batch)
            clock.advance(1.5)
            with queue.worker(4) as worker:
                while worker.run_once():
                    clock.advance(0.2)
            clock.advance(120 - 1.5)
        queue.enqueue_many([{"id": f"later-{i}", "command": "true", "queue": "images",
                             "delay": 3600} for i in range(12)])
        queue.queues.limit("images", 4)


def main() -> None:
    home = Path(tempfile.mkdtemp(prefix="queuectl-shots-"))
    db = home / "queue.db"
    build(db)
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUEUECTL_")}
    env.update(QUEUECTL_DB=str(db), XDG_DATA_HOME=str(home / "xdg"))
    cli = [sys.executable, "-m", "queuectl"]
    subprocess.run([*cli, "enqueue", "--id", "encode-4k", "--queue", "video", "--tag", "release",
                    "-c", "for i in $(seq 1 400); do echo \"frame $i encoded\"; sleep 0.05; done"],
                   env=env, check=True, capture_output=True)
    worker = subprocess.Popen([*cli, "worker", "start"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    server = subprocess.Popen([*cli, "dashboard", "--port", "0"], env=env,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        found = re.search(r"http://\S+?/", server.stdout.readline())
        assert found is not None
        url = found.group(0)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                                 args=["--headless", "--no-sandbox"])
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            page.goto(url)
            page.screenshot(path=str(ROOT / "docs" / "dashboard.png"), full_page=True)
            page.goto(url + "jobs/encode-4k")
            page.locator("#log", has_text="frame 60 ").wait_for(timeout=30_000)
            time.sleep(0.5)  # one more poll of the log, as a reader would see it
            page.screenshot(path=str(ROOT / "docs" / "job-page.png"), full_page=True)
            browser.close()
    finally:
        subprocess.run([*cli, "cancel", "encode-4k"], env=env, capture_output=True)
        for proc in (server, worker):
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=30)
    print("wrote docs/dashboard.png and docs/job-page.png")


if __name__ == "__main__":
    main()
