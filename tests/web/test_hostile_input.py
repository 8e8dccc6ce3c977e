"""Hostile values in every parameter of every route answer a clean 4xx, never a 500, and
every response (a 500 too) carries the security headers.

The application runs in this process (httpx's ASGI transport) over a real SQLite file:
thousands of requests through a subprocess would take minutes.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from queuectl import Queue
from queuectl.web.app import create_app
from queuectl.web.security import CONTENT_SECURITY_POLICY
from tests.web.conftest import seed

T = TypeVar("T")

# Every parameter any route reads from the query string or a form.
QUERY_NAMES = ["state", "q", "queue", "tag", "error", "before", "after", "limit", "since",
               "retried", "deleted", "run", "offset", "token", "confirm", "action", "ids"]
FORM_NAMES = ["ids", "limit", "state", "q", "queue", "tag", "error", "confirm", "action",
              "signal", "command", "priority", "count"]
JSON_NAMES = ["ids", "limit", "all", "signal", "changes"]
HOSTILE_TEXT = [str(2**63), str(10**30), "9" * 5000, "-1", "²", "١٢", "NaN", "1e400", "inf",
                "x" * 10_000, "\x00", "<script>", "%ff", " "]
# Raw JSON: values json.loads turns into a NaN, an infinity, a 5,000-digit int, ...
HOSTILE_JSON = ["[1]", "1e400", "NaN", "-Infinity", str(2**63), str(10**30), "9" * 5000,
                '{"a": 1}', '"' + "x" * 10_000 + '"', "true", "null", "-1", "1.5", '"²"']
PATH_VALUES = {"job_id": "dead-1", "name": "default", "worker_id": "w1", "number": "1",
               "what": "kill"}
HOSTILE_PATH = ["x" * 10_000, "%00", "%ff%fe", "²", str(10**30)]


class AppClient:
    """httpx over the ASGI app, called synchronously: an event loop in a thread of its own
    (Playwright's sync API, used by other tests in the session, holds this thread's)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        self.http = httpx.AsyncClient(transport=transport, base_url="http://testserver")

    def _run(self, work: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout=60)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self._run(self.http.request(method, path, **kwargs))

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def close(self) -> None:
        self._run(self.http.aclose())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppClient]:
    db = tmp_path_factory.mktemp("hostile") / "queue.db"
    seed(db)
    with Queue(db, environ={}) as queue:
        test_client = AppClient(create_app(queue))
        try:
            token = test_client.get("/api/csrf").json()["csrf_token"]
            test_client.http.headers.update({"X-CSRF-Token": token,
                                             "Origin": "http://testserver"})
            yield test_client
        finally:
            test_client.close()


def _routes(client: AppClient) -> list[Route]:
    app: Any = client.app
    return [route for route in app.routes if isinstance(route, Route)]


def _path(route: Route, **given: str) -> str:
    path = route.path
    for name in route.param_convertors:
        path = path.replace("{" + name + "}", given.get(name, PATH_VALUES[name]))
    return path


def _check(response: Any, what: str) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code} {response.text[:200]}"
    assert response.headers.get("content-security-policy") == CONTENT_SECURITY_POLICY, what
    assert response.headers.get("x-frame-options") == "DENY", what


def test_hostile_query_values_are_refused_cleanly(client: AppClient) -> None:
    gets = [route for route in _routes(client) if "GET" in (route.methods or ())]
    assert len(gets) >= 10
    sent = 0
    for route in gets:
        path = _path(route)
        for name in QUERY_NAMES:
            for value in HOSTILE_TEXT:
                _check(client.get(path, params={name: value}), f"GET {path} {name}={value[:20]}")
                sent += 1
            # A list where one value belongs.
            _check(client.get(path, params=[(name, "1"), (name, "2")]), f"GET {path} {name} x2")
    print(f"{sent} hostile query values on {len(gets)} routes")


def test_hostile_path_values_are_refused_cleanly(client: AppClient) -> None:
    for route in _routes(client):
        if not route.param_convertors:
            continue
        for name in route.param_convertors:
            for value in HOSTILE_PATH:
                path = _path(route, **{name: value})
                method = "GET" if "GET" in (route.methods or ()) else "POST"
                _check(client.request(method, path), f"{method} {route.path} {name}")


def test_hostile_forms_and_json_bodies_are_refused_cleanly(client: AppClient) -> None:
    posts = [route for route in _routes(client) if "POST" in (route.methods or ())]
    assert len(posts) >= 10
    for route in posts:
        path = _path(route, job_id="missing", name="nothing-here")
        if path.startswith("/api/"):
            for name in JSON_NAMES:
                for raw in HOSTILE_JSON:
                    body = '{"' + name + '": ' + raw + "}"
                    response = client.post(path, content=body,
                                           headers={"Content-Type": "application/json"})
                    _check(response, f"POST {path} {body[:40]}")
            for raw in ("[]", "1", "not json", "[" * 100_000, '{"a": ' * 10_000):
                _check(client.post(path, content=raw), f"POST {path} {raw[:10]}")
            many = '{"ids": [' + ",".join(['"x"'] * 20_000) + "]}"
            _check(client.post(path, content=many), f"POST {path} 20,000 ids")
        else:
            for name in FORM_NAMES:
                for value in HOSTILE_TEXT:
                    _check(client.post(path, data={name: value}), f"POST {path} {name}")
                _check(client.post(path, data={name: ["1", "2"]}), f"POST {path} {name} x2")
            form = {"ids": [f"j{i}" for i in range(20_000)]}
            _check(client.post(path, data=form), f"POST {path} 20,000 fields")


def test_a_server_error_still_carries_the_security_headers(client: AppClient) -> None:
    async def broken(request: Request) -> Response:
        raise RuntimeError("a bug")

    app: Any = client.app
    app.router.routes.insert(0, Route("/broken-for-this-test", broken))
    try:
        response = client.get("/broken-for-this-test")
    finally:
        del app.router.routes[0]
    assert response.status_code == 500
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["x-content-type-options"] == "nosniff"


def test_every_route_is_covered(client: AppClient) -> None:
    """A new route with a path parameter needs a value in PATH_VALUES to be tested above."""
    app: Any = client.app
    names = {name for route in app.routes if not isinstance(route, Mount)
             for name in route.param_convertors}
    assert names <= set(PATH_VALUES), names - set(PATH_VALUES)
