"""Test hosts on one machine: network namespaces joined to this one by veth pairs.

Host ``a`` is namespace ``qa-<tag>`` with address 10.231.N.2, reaching this machine (and the
test's PostgreSQL instance) at 10.231.N.1; host ``b`` likewise on 10.231.N+1.0/24, where N is
drawn per run so that two runs of the suite at once seldom share a subnet (1 chance in 120
per pair of users, more with more hosts): within one run, the tests that make hosts are in
the xdist group ``test-hosts``, which ``--dist loadgroup`` runs one after another. Each host's
processes also get a host name of their own (a UTS namespace), so that queuectl sees two
hosts, as it would on two machines. Where namespaces are refused the hosts fall back to
loopback, with distinct host names if UTS namespaces work, and ``mode`` says which.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
from pathlib import Path


def _run(*argv: str) -> bool:
    return subprocess.run(argv, capture_output=True, timeout=30).returncode == 0


class TestHosts:
    __test__ = False  # not a test class, despite its name

    def __init__(self, names: tuple[str, ...] = ("a", "b")) -> None:
        self.names = names
        self.tag = secrets.token_hex(2)
        self._subnet_base = 2 * secrets.randbelow(120)  # the runs' subnets stay apart
        self.namespaces: dict[str, str] = {}
        self.addresses = {name: "127.0.0.1" for name in names}
        self.uts = _run("unshare", "--uts", "true")
        for number, name in enumerate(names, start=1):
            if not self._add_namespace(name, number):
                self.close()
                self.namespaces, self.addresses = {}, dict.fromkeys(names, "127.0.0.1")
                break

    def _add_namespace(self, name: str, number: int) -> bool:
        ns, outer, inner = f"q{name}-{self.tag}", f"vq{name}{self.tag}o", f"vq{name}{self.tag}i"
        if not _run("ip", "netns", "add", ns):
            return False
        self.namespaces[name] = ns
        subnet = f"10.231.{self._subnet_base + number}"
        steps = [
            ("ip", "link", "add", outer, "type", "veth", "peer", "name", inner),
            ("ip", "link", "set", inner, "netns", ns),
            ("ip", "addr", "add", f"{subnet}.1/24", "dev", outer),
            ("ip", "link", "set", outer, "up"),
            ("ip", "netns", "exec", ns, "ip", "addr", "add", f"{subnet}.2/24", "dev", inner),
            ("ip", "netns", "exec", ns, "ip", "link", "set", inner, "up"),
            ("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"),
        ]
        if not all(_run(*step) for step in steps):
            return False
        self.addresses[name] = f"{subnet}.1"
        return True

    @property
    def mode(self) -> str:
        if self.namespaces:
            return "two network namespaces joined by veth pairs, with host names of their own"
        if self.uts:
            return ("FALLBACK: network namespaces refused; both hosts on loopback, with host "
                    "names of their own")
        return ("FALLBACK: network and UTS namespaces refused; both hosts on loopback with the "
                "same host name (a dead worker is then found by pid, not by lease expiry)")

    def hostname(self, name: str) -> str:
        return f"host-{name}-{self.tag}"

    def command(self, name: str, argv: list[str]) -> list[str]:
        """``argv`` run on host ``name``; every process it starts carries the host's marker."""
        if self.uts:
            argv = ["unshare", "--uts", "sh", "-c", 'hostname "$0" && exec "$@"',
                    self.hostname(name), *argv]
        if name in self.namespaces:
            argv = ["ip", "netns", "exec", self.namespaces[name], *argv]
        return argv

    def marker(self, name: str) -> dict[str, str]:
        return {"QUEUECTL_TEST_HOST": f"{name}-{self.tag}"}

    def pids(self, name: str) -> list[int]:
        needle = f"QUEUECTL_TEST_HOST={name}-{self.tag}".encode()
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and int(entry.name) != os.getpid():
                try:
                    if needle in (entry / "environ").read_bytes().split(b"\0"):
                        found.append(int(entry.name))
                except OSError:
                    continue
        return found

    def crash(self, name: str) -> None:
        """Host ``name`` loses power: SIGKILL to every process that runs on it."""
        for _ in range(3):  # a job may be forking while we look
            for pid in self.pids(name):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass

    def close(self) -> None:
        for name in self.names:
            self.crash(name)
        for name, ns in self.namespaces.items():
            _run("ip", "netns", "del", ns)  # takes the veth pair with it
            _run("ip", "link", "del", f"vq{name}{self.tag}o")
