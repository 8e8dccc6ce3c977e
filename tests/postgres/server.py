"""A PostgreSQL instance of a test's own, made with initdb and run with pg_ctl.

For the tests that restart the server or serve it on a veth address: the shared server on
127.0.0.1:5432 must never be restarted by a test. The instance runs as the ``postgres`` user
when the tests run as root (initdb refuses root), with fsync off: it is thrown away after.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

_BINDIRS = sorted(glob.glob("/usr/lib/postgresql/*/bin"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def require_private_server() -> None:
    """Skip (fail under CI) when this machine cannot run a PostgreSQL instance of our own."""
    if not _BINDIRS or not Path(_BINDIRS[-1], "initdb").exists():
        reason = "no initdb in /usr/lib/postgresql/*/bin (apt-get install postgresql)"
    elif os.geteuid() == 0 and not _has_user("postgres"):
        reason = "running as root without a postgres user to run the server as"
    else:
        return
    message = f"needs a private PostgreSQL instance: {reason}"
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


class PrivateServer:
    def __init__(self) -> None:
        require_private_server()
        self.bindir = Path(_BINDIRS[-1])
        self.root = Path(tempfile.mkdtemp(prefix="queuectl-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = free_port()
        self.addresses: list[str] = []
        if os.geteuid() == 0:
            account = pwd.getpwnam("postgres")
            os.chown(self.root, account.pw_uid, account.pw_gid)
        self._pg("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync",
                 "--no-instructions")
        with (self.data / "pg_hba.conf").open("a") as hba:
            # The test hosts' own veth subnets (see test_multihost.py).
            hba.write("host all all 10.231.0.0/16 trust\n")

    def _pg(self, program: str, *args: str) -> None:
        command = [str(self.bindir / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120,
                                cwd=self.root)
        if result.returncode != 0:
            raise RuntimeError(f"{program} failed: {result.stderr}\n{self.server_log()}")

    def server_log(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def start(self, addresses: list[str] | None = None) -> None:
        self.addresses = addresses or ["127.0.0.1"]
        self._pg_ctl("start")

    def stop(self) -> None:
        """A fast shutdown: every session is ended, and the server stays down until start."""
        self._pg("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def restart(self) -> None:
        """A fast shutdown (every session is ended) and a start, as an operator would."""
        self._pg_ctl("restart", "-m", "fast")

    def _pg_ctl(self, action: str, *args: str) -> None:
        # The log file matters: without it the server would hold our output pipes open.
        options = (f"-c listen_addresses='{','.join(self.addresses)}' -p {self.port}"
                   f" -k {self.root} -c fsync=off -c synchronous_commit=off")
        self._pg("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w",
                 "-t", "60", *args, action)

    def url(self, address: str | None = None) -> str:
        return f"postgresql://postgres@{address or self.addresses[0]}:{self.port}/postgres"

    def close(self) -> None:
        if (self.data / "postmaster.pid").exists():
            try:
                self._pg("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
            except RuntimeError:
                pass  # not running after all
        shutil.rmtree(self.root, ignore_errors=True)
