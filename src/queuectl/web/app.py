"""The dashboard as a Starlette application: pages, actions, the JSON API and /metrics.

Every handler reaches the database through ``Dashboard.read``: one ``Queue`` (one
connection) used by one thread at a time, off the event loop. Handlers call only ``Queue``
methods; they hold no SQL and no rules.

Pages are listed in ``NAV``; a new page is a template, a handler in ``pages.py`` and one
line there.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from jinja2 import Environment, PackageLoader, StrictUndefined
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from ..errors import (
    InvalidInput,
    InvalidTransition,
    JobNotFound,
    QueuectlError,
    ScheduleNotFound,
)
from ..queue import Queue
from . import filters
from .security import CSRF_FIELD, Guard, GuardOptions, SecurityHeaders

T = TypeVar("T")

# (title, path): the navigation bar, in order.
NAV = [
    ("Overview", "/"),
    ("Jobs", "/jobs"),
    ("Dead letters", "/dlq"),
    ("Workers", "/workers"),
    ("Queues", "/queues"),
    ("Schedules", "/schedules"),
]


@dataclass(frozen=True)
class DashboardOptions:
    token: str | None = None
    read_only: bool = False
    allowed_hosts: frozenset[str] | None = None


class Dashboard:
    """What every handler shares: the queue, the options, the templates."""

    def __init__(self, queue: Queue, options: DashboardOptions) -> None:
        self.queue = queue
        self.options = options
        self.csrf_token = secrets.token_urlsafe(32)
        self._cache: dict[str, tuple[float, Any]] = {}
        self.templates = Environment(
            loader=PackageLoader("queuectl.web", "templates"),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        filters.install(self.templates)
        self.templates.globals.update(nav=NAV, read_only=options.read_only,
                                      csrf_field=CSRF_FIELD, csrf_token=self.csrf_token)

    async def read(self, work: Callable[[Queue], T]) -> T:
        """Run ``work(queue)`` in a worker thread. Reads run side by side: the store lends
        each thread a connection of its own while its main one is busy (storage drivers)."""
        return await run_in_threadpool(work, self.queue)

    async def cached(self, key: str, seconds: float, work: Callable[[Queue], T]) -> T:
        """``read(work)``, reused for ``seconds``: for figures that cost a scan of the last
        hour, so that many open pages refreshing cost what one does."""
        hit = self._cache.get(key)
        if hit is not None and time.monotonic() - hit[0] < seconds:
            value: T = hit[1]
            return value
        value = await self.read(work)
        self._cache[key] = (time.monotonic(), value)
        return value

    def render(self, request: Request, template: str, status: int = 200,
               **context: Any) -> HTMLResponse:
        """A page, or only its live part when htmx asks for a refresh."""
        fragment = request.headers.get("hx-request") == "true"
        page = self.templates.get_template(template)
        html = page.render(request=request, fragment=fragment, now=self.queue.clock.now(),
                           database=self.queue.location, **context)
        return HTMLResponse(html, status_code=status,
                            headers={"cache-control": "no-store", "vary": "HX-Request"})


def dashboard_of(request: Request) -> Dashboard:
    dashboard: Dashboard = request.app.state.dashboard
    return dashboard


_STATUS_OF = [(InvalidInput, 400), (JobNotFound, 404), (ScheduleNotFound, 404),
              (InvalidTransition, 409)]


async def _queuectl_error(request: Request, exc: Exception) -> Response:
    status = next((code for kind, code in _STATUS_OF if isinstance(exc, kind)), 500)
    return _error(request, status, str(exc))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return _error(request, exc.status_code, exc.detail)


def _error(request: Request, status: int, message: str) -> Response:
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": message}, status_code=status)
    back = _back_link(request)
    title = "the overview" if back == "/" else next(
        (title for title, path in NAV if path == back), "the page you came from")
    return dashboard_of(request).render(request, "error.html", status=status, message=message,
                                        status_code=status, back=back, back_title=title)


def _back_link(request: Request) -> str:
    """Where an error page links back to: the page the request came from, as its Referer
    names it (our pages send it to us only: ``referrer-policy: same-origin``), if that is a
    page of ours and not this address itself (a confirmation is shown at its action's, which
    answers POST only); else the request's part of the dashboard (``NAV``), else the overview.

    Only a path on this dashboard is given back, never another address: a Referer of another
    origin, or whose path would read as another site's (``//evil.example``,
    ``/\\evil.example``, a control character), is ignored.
    """
    from urllib.parse import urlsplit

    referer = urlsplit(request.headers.get("referer", ""))
    own = f"{request.url.scheme}://{request.headers.get('host', '')}"
    path, query = referer.path, referer.query
    if (f"{referer.scheme}://{referer.netloc}" == own and path.startswith("/")
            and not path.startswith("//") and path != request.url.path
            and not any(char == "\\" or ord(char) < 0x21 for char in path + query)):
        return path + (f"?{query}" if query else "")
    section = "/" + request.url.path.split("/")[1]
    return section if any(section == path for _, path in NAV) else "/"


class _Application(Starlette):
    def build_middleware_stack(self) -> ASGIApp:
        # Outside ServerErrorMiddleware, which Starlette puts around every middleware given.
        return SecurityHeaders(super().build_middleware_stack())


def create_app(queue: Queue, options: DashboardOptions | None = None) -> Starlette:
    from . import actions, api, bulk, job_page, logs, pages

    options = options or DashboardOptions()
    dashboard = Dashboard(queue, options)
    guard = GuardOptions(csrf_token=dashboard.csrf_token, token=options.token,
                         read_only=options.read_only, allowed_hosts=options.allowed_hosts)
    routes = [
        *pages.routes,
        *bulk.routes,
        *job_page.routes,
        *logs.routes,
        *actions.routes,
        *api.routes,
        Route("/metrics", api.metrics),
        Mount("/static", StaticFiles(packages=[("queuectl.web", "static")]), name="static"),
    ]
    app = _Application(
        routes=routes,
        middleware=[Middleware(Guard, options=guard)],
        exception_handlers={QueuectlError: _queuectl_error, HTTPException: _http_error},
    )
    app.state.dashboard = dashboard
    return app
