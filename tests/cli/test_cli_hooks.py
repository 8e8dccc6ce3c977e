"""Completion hooks through the real CLI and worker: the command gets the job in its
environment and its JSON on stdin; the webhook gets a POST (tried again on 5xx); hooks run
off the slots and never change a job's outcome."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from tests.helpers import Cli, WorkerPool, as_json, wait_until

RECORD = ('printf "%s %s %s %s %s\\n" "$QUEUECTL_JOB_ID" "$QUEUECTL_JOB_STATE" '
          '"$QUEUECTL_EXIT_CODE" "$QUEUECTL_ATTEMPTS" "${QUEUECTL_DURATION:+timed}" >> hooks.txt;'
          ' cat > "stdin-$QUEUECTL_JOB_ID.json"')


def _hook(cli: Cli, job_id: str) -> Any:
    return as_json(cli("show", job_id, "--json"))["hook"]


def test_the_command_gets_the_job_in_its_environment_and_on_stdin(
    cli: Cli, tmp_path: Path
) -> None:
    cli("add", "--id", "ok", "--on-finish", RECORD, "echo done")
    cli("add", "--id", "bad", "--max-retries", "0", "--on-finish", RECORD, "exit 3")
    cli("add", "--id", "never", "--delay", "1h", "--on-finish", RECORD, "true")
    cli("cancel", "never")
    cli("worker", "start", "--burst", "--quiet")
    lines = sorted((tmp_path / "hooks.txt").read_text().splitlines())
    assert lines == ["bad dead 3 1 timed", "never canceled  0 ", "ok completed 0 1 timed"]
    document = json.loads((tmp_path / "stdin-ok.json").read_text())
    assert (document["id"], document["state"], document["exit_code"]) == ("ok", "completed", 0)
    assert document["duration"] >= 0
    assert _hook(cli, "ok") == {"on_finish": {"error": None, "exit_code": 0, "output": ""}}
    assert "on finish:   " in cli("show", "ok").stdout and "(ok)" in cli("show", "ok").stdout


def test_a_failing_hook_never_changes_the_outcome(cli: Cli) -> None:
    cli("add", "--id", "j", "--on-finish", "echo oops; exit 7", "true")
    cli("worker", "start", "--burst", "--quiet")
    job = as_json(cli("show", "j", "--json"))
    assert job["state"] == "completed"
    assert job["hook"]["on_finish"] == {"error": "exit code 7", "exit_code": 7,
                                        "output": "oops\n"}
    assert "failed: exit code 7" in cli("show", "j").stdout


def test_a_hook_never_holds_a_slot(cli: Cli, workers: WorkerPool, tmp_path: Path) -> None:
    cli("add", "--id", "first", "--on-finish",
        "while [ ! -e release ]; do sleep 0.02; done; touch hook-done", "true")
    cli("add", "--id", "second", "true")
    workers.start(1)  # one slot: the second job runs while the first's hook still waits
    wait_until(lambda: as_json(cli("show", "second", "--json"))["state"] == "completed",
               message="the second job done while the hook waits")
    assert not (tmp_path / "hook-done").exists() and _hook(cli, "first") is None
    (tmp_path / "release").touch()
    wait_until(lambda: _hook(cli, "first") is not None, message="the hook recorded")
    assert (tmp_path / "hook-done").exists()


def test_a_configured_hook_is_every_new_jobs_unless_it_says_none(
    cli: Cli, tmp_path: Path
) -> None:
    cli("add", "--id", "before", "true")
    cli("config", "set", "on_finish", RECORD)
    cli("add", "--id", "after", "true")
    cli("enqueue", '{"id":"optout","command":"true","on_finish":null}')
    assert as_json(cli("show", "after", "--json"))["on_finish"] == RECORD
    cli("worker", "start", "--burst", "--quiet")
    assert [line.split()[0] for line in (tmp_path / "hooks.txt").read_text().splitlines()] \
        == ["after"]


class _Receiver(BaseHTTPRequestHandler):
    answers: ClassVar[list[int]]  # the statuses to answer, in order (then 200)
    received: ClassVar[list[dict[str, Any]]]

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        self.received.append(json.loads(self.rfile.read(length)))
        self.send_response(self.answers.pop(0) if self.answers else 200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, type[_Receiver]]]:
    handler = type("Receiver", (_Receiver,), {"answers": [], "received": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", handler
    finally:
        server.shutdown()
        server.server_close()


def test_the_webhook_gets_the_jobs_json_and_is_tried_again_on_5xx(
    cli: Cli, receiver: tuple[str, type[_Receiver]]
) -> None:
    url, handler = receiver
    handler.answers += [503, 200, 404]
    cli("add", "--id", "a", "--webhook", url, "echo a")
    cli("worker", "start", "--burst", "--quiet")
    assert _hook(cli, "a") == {"webhook": {"status": 200, "tries": 2}}
    assert [body["id"] for body in handler.received] == ["a", "a"]
    assert handler.received[1]["state"] == "completed"
    cli("add", "--id", "b", "--webhook", url, "echo b")
    cli("worker", "start", "--burst", "--quiet")
    assert _hook(cli, "b") == {"webhook": {"error": "HTTP 404", "status": 404, "tries": 1}}


@pytest.mark.parametrize(("args", "word"), [
    (["add", "--webhook", "ftp://example.org/x", "true"], "webhook"),
    (["add", "--webhook", "http://a b", "true"], "webhook"),
    # urllib refused these only when the hook ran (the first), or posted elsewhere (port
    # 99999 is 34463 to the socket)
    (["add", "--webhook", "http://[::1/done", "true"], "webhook"),
    (["add", "--webhook", "http://127.0.0.1:99999/done", "true"], "webhook"),
    (["add", "--webhook", "http://:8080/done", "true"], "webhook"),
    (["config", "set", "webhook", "https://hooks.example.org:0/"], "webhook"),
    (["add", "--on-finish", " ", "true"], "on_finish"),
    (["config", "set", "webhook", "example.org"], "webhook"),
    (["config", "set", "on_finish", "bad\udcffbyte"], "on_finish"),
])
def test_bad_hooks_are_refused(cli: Cli, args: list[str], word: str) -> None:
    cli("add", "true")
    result = cli(*args, check=2)
    assert result.stderr.startswith(f"error: {word}: ") and result.stderr.count(word) == 1


def test_a_webhook_urllib_cannot_read_fails_its_hook_instead_of_staying_not_run(
    cli: Cli,
) -> None:
    """A row edited by hand (or stored before the URL was checked) with a URL urllib
    refuses: the hook thread failed on it, the result was never recorded, and show said
    'not run yet' for ever. Now the hook fails at once, saying why, and is not tried again."""
    cli("add", "--id", "odd", "--webhook", "http://[::1]:9/done", "true")
    with sqlite3.connect(cli.env["QUEUECTL_DB"]) as db:
        db.execute("UPDATE jobs SET webhook = 'http://[::1/done' WHERE id = 'odd'")
    worker = cli("worker", "start", "--burst")
    assert "completion hooks" not in worker.stderr
    assert _hook(cli, "odd") == {"webhook": {"error": "bad URL: Invalid IPv6 URL", "tries": 1}}
    assert "(failed: bad URL: Invalid IPv6 URL)" in cli("show", "odd").stdout
