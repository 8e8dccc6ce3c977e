"""A PgBouncer of a test's own, in transaction mode, in front of the test server.

Debian's ``pgbouncer`` package (scripts/test.sh installs it); it refuses to run as root, so
under root it runs as the ``postgres`` user, like the private server (server.py).
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from .server import free_port
from .support import PG_URL

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"


def require_pgbouncer() -> None:
    if Path(PGBOUNCER).exists():
        return
    message = "needs PgBouncer: apt-get install pgbouncer"
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


class Bouncer:
    """PgBouncer on a free port, lending at most ``server_connections`` server sessions."""

    def __init__(self, server_connections: int = 3) -> None:
        require_pgbouncer()
        target = urlsplit(PG_URL)
        self.root = Path(tempfile.mkdtemp(prefix="queuectl-pgbouncer-"))
        self.port = free_port()
        self.database = target.path.lstrip("/")
        user = target.username or "postgres"
        (self.root / "pgbouncer.ini").write_text(
            "[databases]\n"
            f"{self.database} = host={target.hostname} port={target.port or 5432}"
            f" dbname={self.database} user={user}\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.port}\n"
            f"unix_socket_dir = {self.root}\n"
            "auth_type = any\n"
            "pool_mode = transaction\n"
            f"default_pool_size = {server_connections}\nmax_client_conn = 500\n"
            f"logfile = {self.root}/pgbouncer.log\npidfile = {self.root}/pgbouncer.pid\n")
        command = [PGBOUNCER, str(self.root / "pgbouncer.ini")]
        if os.geteuid() == 0:
            account = pwd.getpwnam("postgres")
            os.chown(self.root, account.pw_uid, account.pw_gid)
            for entry in self.root.iterdir():
                os.chown(entry, account.pw_uid, account.pw_gid)
            command = ["runuser", "-u", "postgres", "--", *command]
        self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._wait_ready()

    def _wait_ready(self) -> None:
        import psycopg

        deadline = time.monotonic() + 30
        while True:
            try:
                psycopg.connect(self.url(), connect_timeout=2).close()
                return
            except psycopg.Error:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"pgbouncer did not start: {self.log()}") from None
                time.sleep(0.05)

    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{self.database}"

    def store_url(self, schema: str, *, listen: bool = True) -> str:
        """A queuectl URL through the pooler, hearing wake-ups directly (``listen``)."""
        url = f"{self.url()}?schema={schema}&pool_mode=transaction"
        return url + (f"&listen_url={quote(PG_URL, safe='')}" if listen else "")

    def log(self) -> str:
        try:
            return (self.root / "pgbouncer.log").read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def close(self) -> None:
        # PgBouncer itself, not runuser in front of it: runuser passes a signal on and then
        # sleeps 2 s before it exits (util-linux su-common), a 2 s teardown for every test.
        try:
            os.kill(int((self.root / "pgbouncer.pid").read_text().split()[0]), signal.SIGTERM)
        except (OSError, ValueError, IndexError):
            self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        shutil.rmtree(self.root, ignore_errors=True)
