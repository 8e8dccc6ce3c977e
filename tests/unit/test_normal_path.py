"""``storage.normal_path`` gives what pathlib gives, without importing it for usual paths."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from queuectl.storage import normal_path

PATHS = [
    "/var/lib/queue.db", "queue.db", "data/queue.db", "../queue.db", "a/../b/q.db", "/a/../q.db",
    "./queue.db", "data/./queue.db", "data//queue.db", "//srv/q.db", "///srv/q.db", "data/",
    "/data/.", ".", "..", "~/queue.db", "~", "/srv/a~b/q.db", "sp ace/q.db", "/x/.hidden/q.db",
    "/x/..hidden", "data/..", "/",
]


@pytest.mark.parametrize("text", PATHS)
@pytest.mark.parametrize("workdir", ["plain", "root"])
def test_normal_path_is_what_pathlib_gives(
    text: str, workdir: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path if workdir == "plain" else "/")
    assert normal_path(text) == str(Path(text))
    assert normal_path(text, absolute=True) == str(Path(text).expanduser().absolute())


def test_a_usual_location_is_normalized_without_importing_pathlib(tmp_path: Path) -> None:
    code = ("import sys; from queuectl.storage import normal_path; "
            "normal_path(sys.argv[1], absolute=True); normal_path('q.db', absolute=True); "
            "print('pathlib' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path / "queue.db")],
                            capture_output=True, text=True, check=True, cwd=tmp_path,
                            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    assert result.stdout.strip() == "False"
