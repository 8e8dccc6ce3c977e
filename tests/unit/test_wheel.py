"""The built wheel carries what pyproject's package data names: ``py.typed`` (without it,
mypy ignores queuectl's types in a project that uses it), the SQL, templates and static files.

Built by pip, as ``pip install`` builds it, from a copy of the sources: setuptools writes
``build/`` and ``*.egg-info`` next to what it builds. pip's build isolation stays on, since
pyproject asks for setuptools>=77 (for ``license = "MIT"``), newer than a venv may hold.
About 3 s, so it runs with the rest. (setuptools 69 and later ship a ``py.typed`` unasked;
pyproject names it anyway, and this checks the wheel, whichever did it.)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "queuectl"


def _build_wheel(into: Path) -> Path:
    source = into / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "src", source / "src",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    out = into / "wheel"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out),
         str(source)],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"})
    assert built.returncode == 0, f"pip wheel failed:\n{built.stdout}\n{built.stderr}"
    [wheel] = out.glob("queuectl-*.whl")
    return wheel


def test_the_wheel_carries_py_typed_and_every_file_of_the_package(tmp_path: Path) -> None:
    with zipfile.ZipFile(_build_wheel(tmp_path)) as wheel:
        shipped = set(wheel.namelist())
    assert "queuectl/py.typed" in shipped
    ours = {path.relative_to(PACKAGE.parent).as_posix() for path in PACKAGE.rglob("*")
            if path.is_file() and "__pycache__" not in path.parts}
    assert any(name.endswith(".sql") for name in ours)  # the data files are in the count
    assert sorted(ours - shipped) == []
