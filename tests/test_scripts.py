"""The README's two commands: ``scripts/dev-env.sh`` installs what the next script lacks
whatever ran before it, and ``scripts/demo.sh`` prints commands that can be typed again."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"

# A stand-in for .venv/bin/python: it records each `pip install` and the checks succeed, so
# that the stamp logic runs in a second without a network or a real environment.
FAKE_PYTHON = """#!/usr/bin/env bash
if [ "$1 $2" = "-m pip" ]; then echo "$*" >> "$(dirname "$0")/../pip.log"; fi
exit 0
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "scripts").mkdir()
    shutil.copy(SCRIPTS / "dev-env.sh", tmp_path / "scripts")
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    python = tmp_path / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(FAKE_PYTHON)
    python.chmod(python.stat().st_mode | stat.S_IXUSR)
    return tmp_path


def _source_dev_env(project: Path, extras: str | None) -> list[str]:
    """Source dev-env.sh as demo.sh (no EXTRAS) or test.sh does; the installs it ran."""
    env = {k: v for k, v in os.environ.items() if k != "EXTRAS"}
    if extras is not None:
        env["EXTRAS"] = extras
    log = project / ".venv" / "pip.log"
    log.unlink(missing_ok=True)
    subprocess.run(["bash", "-c", "source scripts/dev-env.sh"], cwd=project, env=env,
                   check=True, capture_output=True, timeout=60)
    lines = log.read_text().splitlines() if log.exists() else []
    return [line.split()[-1] for line in lines if "install --quiet -e" in line]


def test_either_script_first_then_the_other_installs_only_what_is_missing(
    project: Path
) -> None:
    assert _source_dev_env(project, None) == [".[dev]"]              # demo.sh first
    assert _source_dev_env(project, "web,postgres") == [".[dev,postgres,web]"]  # then test.sh
    assert _source_dev_env(project, "web,postgres") == []            # test.sh again
    assert _source_dev_env(project, None) == []                      # demo.sh again
    os.utime(project / "pyproject.toml", (4e9, 4e9))                 # dependencies changed
    assert _source_dev_env(project, None) == [".[dev,postgres,web]"]  # keeps every extra


def test_the_other_order(project: Path) -> None:
    assert _source_dev_env(project, "web,postgres") == [".[dev,postgres,web]"]
    assert _source_dev_env(project, None) == []
    assert _source_dev_env(project, "web") == []


def _quote_and_step() -> str:
    text = (SCRIPTS / "demo.sh").read_text()
    start = text.index("quote() {")
    end = text.index("\n}\n", text.index("step() {")) + 3
    return text[start:end]


def test_the_demo_prints_commands_that_run_again_as_they_ran(tmp_path: Path) -> None:
    words = ["printf", "%s|", "it's", "two words", '{"id":"a","command":"echo hi"}', "",
             "$HOME", "plain-word_1.2"]
    program = _quote_and_step() + "\nstep " + " ".join(f"\"${{W[{i}]}}\""
                                                       for i in range(len(words)))
    shown = subprocess.run(["bash", "-c", f"W=(\"$@\"); {program}", "demo", *words],
                           capture_output=True, text=True, check=True, timeout=60).stdout
    _, line, output = shown.split("\n", 2)
    line = line.removeprefix("\x1b[1m$ ").removesuffix("\x1b[0m")
    assert "plain-word_1.2" in line.split()  # plain words stay unquoted
    again = subprocess.run(["bash", "-c", line], capture_output=True, text=True, check=True,
                           timeout=60).stdout
    assert again == output == "it's|two words|{\"id\":\"a\",\"command\":\"echo hi\"}||$HOME|" \
        "plain-word_1.2|"
