"""The dashboard command: the web UI, JSON API and /metrics over this queue."""

from __future__ import annotations

import click

from ..errors import QueuectlError
from .context import Session


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; any but 127.0.0.1 and ::1 needs --token.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0: any free port).")
@click.option("--token", envvar="QUEUECTL_DASHBOARD_TOKEN", show_envvar=True,
              help="A secret every request must carry (Bearer header, or ?token= once).")
@click.option("--read-only", is_flag=True, help="Hide and refuse every action.")
@click.pass_obj
def dashboard(session: Session, host: str, port: int, token: str | None,
              read_only: bool) -> None:
    """Serve the web dashboard: overview, jobs, dead letters, workers, /api/, /metrics.

    \b
    Examples:
      queuectl dashboard                          # http://127.0.0.1:8080/
      queuectl dashboard --read-only --port 9000
      QUEUECTL_DASHBOARD_TOKEN=s3cret queuectl dashboard --host 0.0.0.0
    """
    try:
        from ..web.server import serve
    except ImportError as exc:
        raise QueuectlError(
            f"the dashboard needs the web extra ({exc.name} is missing): "
            "pip install 'queuectl[web]'"
        ) from None
    serve(session.queue, host, port, token=token, read_only=read_only)
