"""Serving the dashboard with uvicorn on a socket we bind ourselves.

Binding first lets ``--port 0`` pick a free port and lets us print the real address before
the first request, and makes "address in use" a clear one-line error.
"""

from __future__ import annotations

import signal
import socket
import sys
from types import FrameType

import uvicorn

from ..errors import InvalidInput, QueuectlError
from ..queue import Queue
from .app import DashboardOptions, create_app
from .security import MIN_TOKEN_LENGTH, loopback_hosts

# Only these addresses are "local": a dashboard on any other one, 127.0.0.2 and 0.0.0.0
# included, is reachable by more than this user's browser and must have a token.
LOOPBACK = ("127.0.0.1", "::1")


def is_loopback(host: str) -> bool:
    return host in LOOPBACK


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise QueuectlError(f"cannot listen on {host} port {port}: {exc.strerror}") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def serve(queue: Queue, host: str, port: int, *, token: str | None = None,
          read_only: bool = False) -> None:
    """Serve until SIGINT or SIGTERM. Any bind but 127.0.0.1 and ::1 needs a token, and a
    token given (even a blank one) has at least MIN_TOKEN_LENGTH characters."""
    host = "127.0.0.1" if host == "localhost" else host
    if token is not None and len(token.strip()) < MIN_TOKEN_LENGTH:
        raise InvalidInput(
            f"--token: must be at least {MIN_TOKEN_LENGTH} characters, got {len(token.strip())} "
            "(a short token is guessed; e.g. python3 -c 'import secrets; "
            "print(secrets.token_urlsafe())')"
        )
    if not is_loopback(host) and not token:
        raise InvalidInput(
            f"--host {host} makes the dashboard reachable by others: give it a token "
            "(--token or QUEUECTL_DASHBOARD_TOKEN)"
        )
    sock = bind(host, port)
    port = sock.getsockname()[1]
    options = DashboardOptions(
        token=token,
        read_only=read_only,
        allowed_hosts=loopback_hosts(host, port) if is_loopback(host) else None,
    )
    app = create_app(queue, options)
    shown = f"[{host}]" if ":" in host else host
    mode = " (read-only)" if read_only else ""
    need = ", token required" if token else ""
    print(f"queuectl dashboard on http://{shown}:{port}/{mode}{need}; Ctrl-C to stop",
          flush=True)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                            server_header=False)
    # uvicorn shuts down gracefully on SIGINT and SIGTERM, then raises the signal again:
    # make both a KeyboardInterrupt, and a stop by signal a clean exit.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        sock.close()
        sys.stdout.flush()


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt
