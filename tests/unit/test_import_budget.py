"""The import budget of ``queuectl enqueue``: the modules each plain form loads, beyond what
``python -c pass`` loads, are exactly those listed here. A module that joins the path fails
this test; measure what it costs (``python -X importtime -m queuectl enqueue -c true``) and
import it inside the function that needs it, or add it here with the reason it must load.

Every ``queuectl enqueue`` in a shell loop pays for its imports: the target is a cold start
at most 3x ``python -c pass`` (bench/), and these modules are most of the difference.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# What the plain enqueue loads, and why. Stdlib modules come with the module named.
ALLOWED = {
    # queuectl: the CLI's plain path, the Queue facade's core (QueueCore: no other part of
    # Queue), job input, the SQLite store
    "queuectl", "queuectl.cli", "queuectl.cli.plain_enqueue", "queuectl.cli.render",
    "queuectl.errors", "queuectl.queue", "queuectl.enqueuing", "queuectl.clock",
    "queuectl.config", "queuectl.named_tuple", "queuectl.units",
    "queuectl.hosts", "queuectl.jobspec", "queuectl.jobspec.limits",
    "queuectl.jobspec.text",
    "queuectl.jobspec.fields", "queuectl.jobspec.parse", "queuectl.jobspec.newjob",
    "queuectl.storage", "queuectl.storage.store", "queuectl.storage.driver",
    "queuectl.storage.enqueue", "queuectl.storage.rows",
    "queuectl.storage.sql", "queuectl.storage.sqlite", "queuectl.storage.sqlite.driver",
    "queuectl.storage.sqlite.migrate", "queuectl.storage.sqlite.cmodule",
    "queuectl.storage.idle",
    "__future__",  # every module's `from __future__ import annotations`
    "gc",  # enqueuing.py: the collector paused while a batch is built
    # SQLite's C module alone (storage/sqlite/cmodule.py: not the sqlite3 package, whose
    # dbapi2 imports datetime and math), with what it imports (functools, collections.abc)
    "_sqlite3", "collections", "collections.abc", "_collections", "itertools", "keyword",
    "operator", "_operator", "reprlib", "functools", "_functools", "types",
}
# Job input given as JSON (an argument or a file) needs json, and json imports re, which
# imports enum.
JSON_INPUT = {
    "json", "json.decoder", "json.encoder", "json.scanner", "_json", "re", "re._casefix",
    "re._compiler", "re._constants", "re._parser", "_sre", "copyreg", "enum",
}

_PROBE = """
import atexit, sys
baseline = set(sys.modules)
atexit.register(lambda: sys.stderr.write(
    "MODULES " + " ".join(sorted(set(sys.modules) - baseline)) + "\\n"))
sys.argv = ["queuectl", *sys.argv[1:]]
from queuectl.cli import main
main()
"""


def _loaded(tmp_path: Path, *args: str) -> set[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("QUEUECTL_")}
    env["QUEUECTL_DB"] = str(tmp_path / "queue.db")
    result = subprocess.run([sys.executable, "-c", _PROBE, *args], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    [line] = [line for line in result.stderr.splitlines() if line.startswith("MODULES ")]
    return set(line.split()[1:])


@pytest.mark.parametrize(("args", "allowed"), [
    (["enqueue", "-c", "true"], ALLOWED),
    (["enqueue", '{"command":"true","priority":2}'], ALLOWED | JSON_INPUT),
    (["enqueue", "--file", "jobs.jsonl"], ALLOWED | JSON_INPUT),
], ids=["command", "json", "file"])
def test_the_plain_enqueue_loads_only_the_modules_allowed(
        tmp_path: Path, args: list[str], allowed: set[str]) -> None:
    (tmp_path / "jobs.jsonl").write_text('{"command":"true"}\n{"command":"false"}\n')
    joined = _loaded(tmp_path, *args) - allowed
    assert not joined, f"new on the enqueue path: {sorted(joined)}"


def test_enqueue_command_loads_no_typing_json_re_enum_threading_or_contextlib(
        tmp_path: Path) -> None:
    # The costliest of the stdlib modules the rest of queuectl uses (together about half of
    # a cold start): they stay off `queuectl enqueue -c`, whatever ALLOWED says.
    costly = {"typing", "json", "re", "enum", "threading", "contextlib", "warnings",
              "dataclasses", "queuectl.states", "queuectl.models"}
    assert _loaded(tmp_path, "enqueue", "-c", "true") & costly == set()


def test_job_input_and_settings_load_no_typing_re_json_or_datetime() -> None:
    # Job input's own part of the budget, whatever the storage imports.
    code = ("import sys; import queuectl.jobspec.parse, queuectl.jobspec.fields, queuectl.config;"
            " print(sorted({'typing', 're', 'json', 'datetime', 'contextlib', 'dataclasses'}"
            " & set(sys.modules)))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, timeout=60)
    assert result.stdout.strip() == "[]"


def test_sqlite_errors_are_the_packages_own() -> None:
    """The store uses SQLite's C module alone (storage/sqlite/cmodule.py); what it raises and
    returns must be what callers of the ``sqlite3`` package know."""
    import sqlite3

    from queuectl.storage.sqlite.cmodule import sqlite3 as used

    assert used.Error is sqlite3.Error and used.Connection is sqlite3.Connection
    assert used.IntegrityError is sqlite3.IntegrityError and used.connect is sqlite3.connect


def test_status_loads_no_part_of_the_claim(tmp_path: Path) -> None:
    """``queuectl status`` (watched in loops too) reads counts: the claim's counting
    (``storage.claims`` with ``run_counts``, ``rollups``, ``stats`` and ``logging``) cost it
    ~10 ms of ~74 when the workers' storage module imported it at the top."""
    (tmp_path / "queue.db").touch()
    _loaded(tmp_path, "enqueue", "-c", "true")  # a real queue to read
    loaded = _loaded(tmp_path, "status")
    assert not loaded & {"queuectl.storage.claims", "queuectl.storage.run_counts",
                         "queuectl.rollups", "logging"}


def test_list_loads_no_statistics(tmp_path: Path) -> None:
    """``queuectl list`` shows how long runs took (``units.human_duration``), not statistics:
    ``queuectl.stats`` (dataclasses built at import) cost it ~4 ms of ~67."""
    _loaded(tmp_path, "enqueue", "-c", "true")
    assert "queuectl.stats" not in _loaded(tmp_path, "list")
