"""Where the figures came from: date, machine, load, versions, and the commit measured."""

from __future__ import annotations

import datetime
import importlib.metadata
import os
import platform
import shutil
import sqlite3
import subprocess
from typing import Any

import queuectl
from common import REPO_DIR


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load() -> list[float]:
    """The 1, 5 and 15 minute load averages."""
    return [round(value, 2) for value in os.getloadavg()]


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=REPO_DIR, capture_output=True, text=True,
                              timeout=30, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def _tsp_version() -> str | None:
    if shutil.which("tsp") is None:
        return None
    result = subprocess.run(["tsp", "-V"], capture_output=True, text=True, timeout=30,
                            check=False)
    text = (result.stdout or result.stderr).strip()
    return text.split(" - ")[0].removeprefix("Task Spooler ") if text else None


def _commit(source: str) -> str:
    """The commit measured: this repository's HEAD, unless queuectl was imported from elsewhere
    (a checkout put first on PYTHONPATH), which ``BENCH_COMMIT`` then names."""
    if source.startswith(str(REPO_DIR)):
        return _git("rev-parse", "--short", "HEAD")
    return os.environ.get("BENCH_COMMIT", f"unknown (queuectl from {source})")


def describe() -> dict[str, Any]:
    source = os.path.dirname(queuectl.__file__)
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "cpu": _cpu_model(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "load_before": load(),
        "queuectl_source": source,
        "commit": _commit(source),
        "uncommitted_changes_in_src": (
            source.startswith(str(REPO_DIR)) and bool(_git("status", "--porcelain", "--", "src"))
        ),
        "versions": {name: _version(name) for name in ("huey", "rq", "celery", "redis")}
                    | {"tsp": _tsp_version()},
    }
