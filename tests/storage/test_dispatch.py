"""open_storage picks the backend from the location; SQLite users never load the driver."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from queuectl.errors import InvalidInput
from queuectl.storage import open_storage


def test_an_unknown_scheme_is_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="postgresql://"):
        open_storage("mysql://db/jobs")


@pytest.mark.parametrize("extra", [[], ["worker", "start", "--burst"], ["db", "status"],
                                   ["db", "upgrade"], ["status"], ["export"]])
def test_the_sqlite_path_never_imports_the_driver(tmp_path: Path, extra: list[str]) -> None:
    code = (
        "import sys, runpy\n"
        "sys.argv = ['queuectl', '--db', sys.argv[1], *sys.argv[2:]]\n"
        "try:\n    runpy.run_module('queuectl', run_name='__main__')\n"
        "except SystemExit as exit:\n    assert not exit.code, exit.code\n"
        "assert 'psycopg' not in sys.modules, 'psycopg was imported'\n"
    )
    args = extra or ["enqueue", '{"command": "true"}']
    if extra in (["db", "status"], ["status"], ["export"]):  # readers want a queue that exists
        subprocess.run([sys.executable, "-m", "queuectl", "--db", str(tmp_path / "q.db"), "db",
                        "upgrade"], check=True, timeout=60, capture_output=True)
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "q.db"), *args], check=True,
                   timeout=60, capture_output=True)
