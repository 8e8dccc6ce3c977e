"""What a job printed is shown on the reader's terminal, not obeyed: a job that prints
``\\x1b[2J`` (clear the screen), an OSC title or a lone ``\\r`` must not do that to the terminal
of whoever reads its output with ``show``, ``logs`` or ``list``. ``logs`` into a file or a pipe
keeps the bytes exactly."""

from __future__ import annotations

import os
import pty
import select
import sqlite3
import subprocess
import time
from contextlib import closing
from pathlib import Path

from tests.helpers import Cli

# Clears the screen, retitles the window, rings the bell, then hides "secret" behind a lone \r;
# a colour (kept by logs on a terminal) and a CRLF line end.
PRINTS = r"printf '\033[2J\033]0;pwned\007x\rsecret\n\033[31mred\033[0m\r\nend\n'"
RAW = b"\x1b[2J\x1b]0;pwned\x07x\rsecret\n\x1b[31mred\x1b[0m\r\nend\n"


def _on_a_terminal(cli: Cli, *args: str, timeout: float = 30) -> tuple[bytes, int]:
    """Everything ``queuectl args`` wrote to a terminal (a pty), and its exit status."""
    main, terminal = pty.openpty()
    proc = subprocess.Popen(cli.argv(*args), env=cli.env, cwd=cli.cwd, stdin=terminal,
                            stdout=terminal, stderr=terminal)
    os.close(terminal)
    seen = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if select.select([main], [], [], 0.1)[0]:
                try:
                    chunk = os.read(main, 65536)
                except OSError:  # the pty closed: the process exited
                    break
                if not chunk:
                    break
                seen.append(chunk)
            elif proc.poll() is not None:
                break
        code = proc.wait(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(main)
    return b"".join(seen), code


def _ran(cli: Cli) -> None:
    cli("enqueue", "-c", PRINTS, "--id", "loud", "--max-retries", "0")
    cli("worker", "start", "--burst", "--quiet", timeout=120)


def _obeyed(output: bytes) -> list[bytes]:
    """The sequences in ``output`` a terminal would obey, of those the job printed."""
    return [seq for seq in (b"\x1b[2J", b"\x1b]0;", b"\x07", b"x\rsecret") if seq in output]


def test_logs_on_a_terminal_shows_the_control_characters_instead_of_obeying_them(
    cli: Cli,
) -> None:
    _ran(cli)
    output, code = _on_a_terminal(cli, "logs", "loud")
    assert code == 0
    assert not _obeyed(output), output
    # The pty turns \n into \r\n.
    assert output == (b"\\x1b[2J\\x1b]0;pwned\\x07x\\rsecret\r\n"
                      b"\x1b[31mred\x1b[0m\r\r\nend\r\n")


def test_logs_follow_on_a_terminal_shows_them_too(cli: Cli) -> None:
    _ran(cli)
    output, code = _on_a_terminal(cli, "logs", "loud", "--follow")
    assert code == 0
    assert not _obeyed(output), output
    assert b"\\x1b[2J\\x1b]0;pwned\\x07x\\rsecret\r\n" in output


def test_logs_into_a_pipe_keeps_the_bytes_exactly(cli: Cli) -> None:
    _ran(cli)
    result = subprocess.run(cli.argv("logs", "loud"), env=cli.env, cwd=cli.cwd,
                            capture_output=True, timeout=60, check=True)
    assert result.stdout == RAW


def test_show_and_list_on_a_terminal_show_them(cli: Cli) -> None:
    _ran(cli)
    cli("enqueue", "-c", "echo '\x1b[2J'", "--id", "typed")
    output, code = _on_a_terminal(cli, "show", "loud")
    assert code == 0
    assert not _obeyed(output), output
    assert b"  | \\x1b[2J\\x1b]0;pwned\\x07x\\rsecret\r\n" in output
    assert b"  | \\x1b[31mred\\x1b[0m\r\n  | end\r\n" in output
    for args in (("show", "typed"), ("list",)):
        output, code = _on_a_terminal(cli, *args)
        assert code == 0
        assert b"\x1b" not in output and b"echo '\\x1b[2J'" in output, output


def _stored_by_hand(db_path: Path, *statements: str) -> None:
    with closing(sqlite3.connect(db_path)) as db, db:
        for statement in statements:
            db.execute(statement)


def test_settings_stored_by_hand_are_shown_not_obeyed(cli: Cli, db_path: Path) -> None:
    cli("enqueue", "-c", "true")
    _stored_by_hand(db_path,
                    "INSERT INTO config VALUES ('on_finish', 'echo ' || char(27) || '[2J')",
                    "INSERT INTO config VALUES ('durability', 'x' || char(27) || '[2J')")
    for args in (("config", "list"), ("config", "get"), ("config", "get", "on_finish"),
                 ("config", "set", "on_finish", "echo \x1b[2J"), ("status",)):
        output, code = _on_a_terminal(cli, *args)
        assert code == 0
        assert b"\x1b" not in output, (args, output)
    output, _ = _on_a_terminal(cli, "config", "get", "on_finish")
    assert output == b"echo \\x1b[2J\r\n"


def test_queue_names_worker_ids_and_hosts_stored_by_hand_are_shown_not_obeyed(
    cli: Cli, db_path: Path,
) -> None:
    cli("enqueue", "-c", "true", "--queue", "video")
    cli("queue", "pause", "video")
    _stored_by_hand(
        db_path,
        "UPDATE queues SET name = 'v' || char(27) || '[2J'",
        "UPDATE jobs SET queue = 'v' || char(27) || '[2J'",
        "INSERT INTO workers (id, host, pid, slots, started_at, heartbeat_at) "
        "VALUES ('w' || char(27) || '[2J', 'h' || char(27) || '[2J', 99999, 1, 0, 0)",
    )
    for args in (("queue", "list"), ("worker", "list"), ("status",)):
        output, code = _on_a_terminal(cli, *args)
        assert code == 0
        assert b"\x1b" not in output, (args, output)
        assert b"\\x1b[2J" in output, (args, output)
