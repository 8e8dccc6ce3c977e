"""``queuectl add``: a command typed as words; and ``queuectl completion`` for the shells."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tests.helpers import Cli, as_json

from queuectl import Queue


def _run_all(db_path: Path) -> None:
    with Queue(db_path, environ={}) as queue, queue.worker(slots=2) as worker:
        while worker.run_once():
            pass


def test_several_words_reach_the_command_as_they_were_typed(
    cli: Cli, db_path: Path
) -> None:
    words = ["printf", "%s|", "two words", "it's", "$HOME", "*", "a\"b", "--json"]
    out = cli("add", "--id", "words", *words).stdout
    assert out.startswith("Enqueued job words: printf ")
    cli("add", "--id", "line", "echo one && echo two")  # one word: a shell line as it is
    _run_all(db_path)
    assert cli("logs", "words").stdout == "two words|it's|$HOME|*|a\"b|--json|"
    assert cli("logs", "line").stdout == "one\ntwo\n"


def test_flags_go_before_the_command_and_everything_after_it_is_the_commands(
    cli: Cli
) -> None:
    cli("add", "--id", "build", "true")
    job = as_json(cli("add", "--id", "deploy", "--after", "build", "--queue", "deploy",
                      "--priority", "5", "--max-retries", "1", "--env", "MODE=prod", "--json",
                      "--", "make", "-C", "site", "--id", "x"))
    assert job["command"] == "make -C site --id x"
    assert (job["id"], job["queue"], job["depends_on"], job["priority"]) == (
        "deploy", "deploy", ["build"], 5)
    assert (job["max_retries"], job["env"], job["created"]) == (1, {"MODE": "prod"}, True)
    # without `--` the first word that is not a flag starts the command
    job = as_json(cli("add", "--json", "ls", "-l", "--json"))
    assert job["command"] == "ls -l --json"


def test_help_has_an_example_of_each_form(cli: Cli) -> None:
    out = cli("add", "--help").stdout
    assert "queuectl add make test" in out and "queuectl add --after build" in out


def _shell_env(cli: Cli) -> dict[str, str]:
    # The scripts call `queuectl` by name: the one installed beside this Python.
    bin_dir = str(Path(sys.executable).parent)
    return {**cli.env, "PATH": bin_dir + os.pathsep + cli.env.get("PATH", "")}


def _bash_completes(cli: Cli, script: str, words: list[str]) -> list[str]:
    # As bash calls it: the command, the word being completed, the word before it.
    program = (f"{script}\nCOMP_WORDS=({' '.join(words)}); COMP_CWORD={len(words) - 1}\n"
               f"_queuectl_completion queuectl {words[-1]} {words[-2]}\n"
               "printf '%s\\n' \"${COMPREPLY[@]}\"\n")
    result = subprocess.run(["bash", "--norc", "-c", program], env=_shell_env(cli),
                            capture_output=True, text=True, timeout=60, check=True)
    return result.stdout.split()


def test_bash_completion_completes_commands_subcommands_and_flags(cli: Cli) -> None:
    script = cli("completion", "bash").stdout
    assert "complete -o nosort -F _queuectl_completion queuectl" in script
    assert "enqueue" in _bash_completes(cli, script, ["queuectl", "enq"])
    assert _bash_completes(cli, script, ["queuectl", "worker", "st"]) == ["start", "stop"]
    assert "--state" in _bash_completes(cli, script, ["queuectl", "list", "--st"])
    assert _bash_completes(cli, script, ["queuectl", "completion", "f"]) == ["fish"]


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_scripts_and_their_answers(cli: Cli, shell: str) -> None:
    script = cli("completion", shell).stdout
    assert f"_QUEUECTL_COMPLETE={shell}_complete" in script and "queuectl" in script
    # What the script asks `queuectl` for, and the answer it gets.
    env = {**_shell_env(cli), "_QUEUECTL_COMPLETE": f"{shell}_complete",
           "COMP_WORDS": "queuectl enq", "COMP_CWORD": "1" if shell == "zsh" else "enq"}
    answer = subprocess.run(["queuectl"], env=env, capture_output=True, text=True, timeout=60)
    assert answer.returncode == 0 and "enqueue" in answer.stdout
    if shutil.which(shell) is not None:  # and the shell accepts the script
        check = ["zsh", "-n"] if shell == "zsh" else ["fish", "--no-execute"]
        subprocess.run([*check], input=script, text=True, check=True, timeout=60)
