"""Wake-ups for idle workers on one host: a datagram on a Unix socket.

Each worker binds an abstract-namespace datagram socket named after its own (random, unique)
id, which the workers table lists; an enqueue sends one byte to each worker of this host after
its commit. Abstract names need no files to clean up when a worker dies, and a lost datagram
costs only latency: the worker's fallback poll still finds the job.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable

_JOB = b"j"
_STOP = b"s"


def channel_address(worker_id: str) -> bytes:
    return b"\0queuectl-worker-" + worker_id.encode()


class DatagramWakeChannel:
    def __init__(self, address: bytes) -> None:
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            self._sock.bind(address)
        except OSError:  # the name is taken: a live process of this host holds it
            self._sock.close()
            raise
        self._sock.setblocking(False)

    def fileno(self) -> int:
        return self._sock.fileno()

    # A datagram to a full buffer is dropped, and only this host's workers are told: the
    # fallback poll stays as frequent as poll_interval says.
    reliable = False

    def drain(self) -> bool:
        stop = False
        while True:
            try:
                message = self._sock.recv(64)
            except BlockingIOError:
                return stop
            stop = stop or _STOP in message

    def close(self) -> None:
        self._sock.close()


def send_wakeups(addresses: Iterable[bytes], *, stop: bool = False) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)
        for address in addresses:
            try:
                sock.sendto(_STOP if stop else _JOB, address)
            except OSError:
                # No such worker any more, or its buffer is full of wake-ups already.
                pass
