"""The dashboard's defences, against the real server: cross-origin posts, CSRF, DNS
rebinding, tokens on non-loopback binds, read-only mode, and clear start-up errors.

"Loopback" means exactly 127.0.0.1 and ::1: any other address, even 127.0.0.2, may be
reachable by others (a forwarded port, a container's published address), so it needs a
token. That lets these tests bind 127.0.0.2 as a stand-in for a public address.
"""

from __future__ import annotations

import json
import socket
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import Cli, dump
from tests.web.conftest import DashboardServer, seed

TOKEN = "correct-horse-battery-staple"


def dead_count(cli: Cli) -> int:
    count: int = json.loads(cli("status", "--json").stdout)["jobs"]["dead"]
    return count


def csrf_token(server: DashboardServer, **headers: str) -> str:
    response = httpx.get(server.url + "api/csrf", headers=headers, timeout=30)
    token: str = response.json()["csrf_token"]
    return token


def post(server: DashboardServer, path: str, **kwargs: Any) -> httpx.Response:
    return httpx.post(server.url + path, timeout=30, **kwargs)


def test_only_same_origin_posts_with_the_csrf_token_act(
    cli: Cli, db_path: Path, dashboard: DashboardServer
) -> None:
    seed(db_path)
    before = dump(db_path)
    own = dashboard.url.rstrip("/")
    token = csrf_token(dashboard)
    form = {"csrf_token": token}
    refused = [
        post(dashboard, "dlq/retry-all", data=form, headers={"Origin": "http://evil.example"}),
        post(dashboard, "dlq/retry-all", data=form, headers={"Sec-Fetch-Site": "cross-site"}),
        post(dashboard, "dlq/retry-all", data={}, headers={"Origin": own}),
        post(dashboard, "dlq/retry-all", data={"csrf_token": "guess"}, headers={"Origin": own}),
        post(dashboard, "api/dlq/retry", json={"all": True},
             headers={"Origin": "http://evil.example", "X-CSRF-Token": token}),
        post(dashboard, "api/dlq/retry", json={"all": True}),
    ]
    assert [r.status_code for r in refused] == [403] * len(refused)
    assert "cross-origin request refused" in refused[0].text
    assert "CSRF token" in refused[2].text
    assert dump(db_path) == before, "a refused request changed the database"

    too_big = post(dashboard, "dlq/retry-all", content=b"x" * (2 * 1024 * 1024),
                   headers={"Origin": own, "Content-Type": "application/x-www-form-urlencoded"})
    assert too_big.status_code == 413
    assert httpx.put(dashboard.url + "dlq/retry-all", timeout=30).status_code == 405

    asked = post(dashboard, "dlq/retry-all", data=form, headers={"Origin": own})
    assert asked.status_code == 200 and "Retry all 2 dead jobs?" in asked.text  # confirm step
    assert dead_count(cli) == 2
    done = post(dashboard, "dlq/retry-all", data={**form, "confirm": "yes"},
                headers={"Origin": own})
    assert (done.status_code, done.headers["location"]) == (303, "/dlq?retried=2")
    assert dead_count(cli) == 0


def test_a_foreign_host_name_is_refused(dashboard: DashboardServer) -> None:
    """DNS rebinding: evil.example resolved to 127.0.0.1 must not read the dashboard."""
    response = httpx.get(dashboard.url, headers={"Host": "evil.example"}, timeout=30)
    assert response.status_code == 421
    port = dashboard.url.rsplit(":", 1)[1].rstrip("/")
    for host in ("127.0.0.1", "localhost"):
        ok = httpx.get(dashboard.url, headers={"Host": f"{host}:{port}"}, timeout=30)
        assert ok.status_code == 200


def test_a_non_loopback_bind_needs_a_token(cli: Cli) -> None:
    result = cli("dashboard", "--host", "127.0.0.2", "--port", "0", check=2)
    assert result.stderr == ("error: --host 127.0.0.2 makes the dashboard reachable by others:"
                             " give it a token (--token or QUEUECTL_DASHBOARD_TOKEN)\n")


def test_with_a_token_every_request_must_carry_it(cli: Cli) -> None:
    server = DashboardServer(cli, "--host", "127.0.0.2",
                             env={"QUEUECTL_DASHBOARD_TOKEN": TOKEN})
    try:
        assert server.url.startswith("http://127.0.0.2:")
        assert "token required" in server.banner
        for path in ("", "jobs", "api/status", "metrics", "static/app.css"):
            assert httpx.get(server.url + path, timeout=30).status_code == 401, path
        wrong = httpx.get(server.url, headers={"Authorization": "Bearer nope"}, timeout=30)
        assert wrong.status_code == 401
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        assert httpx.get(server.url + "api/status", headers=bearer, timeout=30).status_code == 200

        # A browser opens /?token=... once: it gets a cookie and an address without the token.
        with httpx.Client(timeout=30) as browser:
            first = browser.get(server.url + f"jobs?state=dead&token={TOKEN}")
            assert first.status_code == 303
            assert first.headers["location"] == "/jobs?state=dead"
            cookie = first.headers["set-cookie"].lower()
            assert "httponly" in cookie and "samesite=lax" in cookie
            assert browser.get(server.url + "jobs?state=dead").status_code == 200
        assert httpx.get(server.url + "?token=nope", timeout=30).status_code == 401
    finally:
        assert server.stop() == 0


@pytest.mark.parametrize("token", ["", "   ", "x", "fifteen-chars-x"])
def test_a_short_or_blank_token_is_refused(cli: Cli, token: str) -> None:
    result = cli("dashboard", "--port", "0", "--token", token, check=2)
    assert result.stderr.startswith("error: --token: must be at least 16 characters, got ")
    assert result.stderr.count("\n") == 1


def test_the_token_redirect_stays_on_the_dashboard(cli: Cli) -> None:
    server = DashboardServer(cli, "--host", "127.0.0.2",
                             env={"QUEUECTL_DASHBOARD_TOKEN": TOKEN})
    try:
        for path, kept in ((f"//evil.example/x?token={TOKEN}", "/evil.example/x"),
                           (f"///evil.example?token={TOKEN}&a=1", "/evil.example?a=1"),
                           (f"/%2F%2Fevil.example?token={TOKEN}", None)):
            response = httpx.get(server.url.rstrip("/") + path, timeout=30)
            if kept is None:  # a path that is not ours is no redirect at all
                assert response.status_code in (303, 404)
            location = response.headers.get("location", "/")
            assert location.startswith("/") and not location.startswith("//"), location
            if kept is not None:
                assert (response.status_code, location) == (303, kept)
    finally:
        assert server.stop() == 0


def test_read_only_hides_and_refuses_actions(cli: Cli, db_path: Path) -> None:
    seed(db_path)
    server = DashboardServer(cli, "--read-only")
    try:
        assert "(read-only)" in server.banner
        own = server.url.rstrip("/")
        page = httpx.get(server.url + "dlq", timeout=30).text
        assert "dead-1" in page and "read-only" in page
        assert "<form method=\"post\"" not in page and "<button type=\"submit\"" not in page
        job_page = httpx.get(server.url + "jobs/dead-1", timeout=30).text
        assert "<button type=\"submit\"" not in job_page and "method=\"post\"" not in job_page
        token = csrf_token(server)
        refused = [
            post(server, "dlq/retry-all", data={"csrf_token": token}, headers={"Origin": own}),
            post(server, "jobs/dead-1/retry", data={"csrf_token": token},
                 headers={"Origin": own}),
            post(server, "api/dlq/retry", json={"all": True}, headers={"X-CSRF-Token": token}),
        ]
        assert [r.status_code for r in refused] == [403, 403, 403]
        assert refused[0].text == "the dashboard is read-only\n"
        assert dead_count(cli) == 2
    finally:
        server.stop()


def test_a_busy_port_is_a_one_line_error(cli: Cli) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli("dashboard", "--port", str(port), check=1)
    assert result.stderr == (f"error: cannot listen on 127.0.0.1 port {port}: "
                             "Address already in use\n")


def test_without_the_web_extra_the_command_says_what_to_install(
    cli: Cli, tmp_path: Path
) -> None:
    shadow = tmp_path / "shadow"
    (shadow / "uvicorn").mkdir(parents=True)
    (shadow / "uvicorn" / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'uvicorn'\", name='uvicorn')\n")
    env = {**cli.env, "PYTHONPATH": f"{shadow}:{cli.env.get('PYTHONPATH', '')}"}
    result = subprocess.run(cli.argv("dashboard", "--port", "0"), env=env, cwd=cli.cwd,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr == ("error: the dashboard needs the web extra (uvicorn is missing): "
                             "pip install 'queuectl[web]'\n")


@pytest.mark.parametrize("flag", ["--port=70000", "--port=-1"])
def test_bad_ports_are_usage_errors(cli: Cli, flag: str) -> None:
    assert "Invalid value for '--port'" in cli("dashboard", flag, check=2).stderr
