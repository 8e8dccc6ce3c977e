"""The dashboard's guard: one ASGI middleware that every request passes through.

In order, for each request:

1. Host check (loopback binds only): the ``Host`` header must name the address we listen
   on. Without it, a web page could rebind its own domain name to 127.0.0.1 and read the
   dashboard as "same origin" (DNS rebinding).
2. Token check, when a token is configured (always, on any bind but 127.0.0.1 and ::1):
   ``Authorization: Bearer <token>``, or the cookie a browser gets by opening any page once
   with ``?token=<token>`` (SameSite=Lax: top-level links from elsewhere work; cross-site
   POSTs carry no cookie). Compared in constant time.
3. Anything but GET and HEAD must be a POST; in read-only mode every POST is refused.
4. A POST must come from our own pages: ``Origin`` (and ``Sec-Fetch-Site``, when the browser
   sends them) must be ours, and the CSRF token of this server process must be in the form
   field ``csrf_token`` or the ``X-CSRF-Token`` header. A page on another site can neither
   read that token nor forge the Origin a browser sends.

Every response (a 500 too: ``SecurityHeaders`` wraps the whole application) gets a strict
Content-Security-Policy (scripts and styles only from our own
``/static/``, nothing inline), and headers that forbid framing, sniffing and referrers.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, urlencode

from starlette.datastructures import URL, Headers
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

TOKEN_COOKIE = "queuectl_token"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
MAX_POST_BYTES = 1024 * 1024
MIN_TOKEN_LENGTH = 16

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
_SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),  # "no-referrer" would make Origin null
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]


@dataclass(frozen=True)
class GuardOptions:
    """``allowed_hosts``: the Host header values accepted (None: any, for non-loopback binds
    where the token does the guarding)."""

    csrf_token: str
    token: str | None = None
    read_only: bool = False
    allowed_hosts: frozenset[str] | None = None


def loopback_hosts(host: str, port: int) -> frozenset[str]:
    """The Host headers a browser sends for a dashboard on a loopback address and port."""
    names = {"127.0.0.1", "localhost"} if host == "127.0.0.1" else {"[::1]", "localhost"}
    return frozenset(f"{name}:{port}" for name in names)


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


class Guard:
    def __init__(self, app: ASGIApp, options: GuardOptions) -> None:
        self.app = app
        self.options = options

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refusal = self._refuse_host(headers) or self._refuse_token(scope, headers)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        method = scope["method"]
        if method in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        if method != "POST":
            await _text(405, "only GET and POST are served", allow="GET, HEAD, POST")(
                scope, receive, send)
            return
        body = await _read_body(receive)
        if body is None:
            await _text(413, "request body too large")(scope, receive, send)
            return
        refusal = self._refuse_post(scope, headers, body)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)

    def _refuse_host(self, headers: Headers) -> Response | None:
        allowed = self.options.allowed_hosts
        if allowed is not None and headers.get("host", "") not in allowed:
            return _text(421, "unexpected Host header: open the dashboard by the address it "
                              "listens on")
        return None

    def _refuse_token(self, scope: Scope, headers: Headers) -> Response | None:
        token = self.options.token
        if token is None:
            return None
        offered = _bearer(headers.get("authorization", ""))
        if offered is None:
            cookie = SimpleCookie(headers.get("cookie", "")).get(TOKEN_COOKIE)
            offered = cookie.value if cookie is not None else None
        if offered is not None and _same(offered, token):
            return None
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        in_query = query.get("token", [None])[-1]
        if in_query is not None and _same(in_query, token) and scope["method"] == "GET":
            # Trade the token in the address for a cookie, and drop it from the address
            # (so that it stays out of the history and of links the page makes).
            rest = {key: values for key, values in query.items() if key != "token"}
            url = URL(scope=scope).replace(query=urlencode(rest, doseq=True))
            # "//evil.example/x" would be a link to another site: one slash keeps it ours.
            path = "/" + url.path.lstrip("/")
            redirect = RedirectResponse(path + (f"?{url.query}" if url.query else ""), 303)
            # Lax: a link from another site (a chat, a ticket) opens the page signed in; a
            # POST from another site still carries no cookie, and needs the CSRF token.
            redirect.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="lax")
            return redirect
        return _text(401, "this dashboard needs its token: send 'Authorization: Bearer TOKEN', "
                          "or open it once as /?token=TOKEN", www_authenticate="Bearer")

    def _refuse_post(self, scope: Scope, headers: Headers, body: bytes) -> Response | None:
        if self.options.read_only:
            return _text(403, "the dashboard is read-only")
        origin = headers.get("origin")
        own = f"{scope.get('scheme', 'http')}://{headers.get('host', '')}"
        if origin is not None and origin != own:
            return _text(403, "cross-origin request refused")
        if headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
            return _text(403, "cross-site request refused")
        offered = headers.get(CSRF_HEADER) or _form_field(headers, body, CSRF_FIELD)
        if offered is None or not _same(offered, self.options.csrf_token):
            return _text(403, "missing or wrong CSRF token: reload the page and try again")
        return None


def _bearer(value: str) -> str | None:
    scheme, _, credentials = value.partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" and credentials.strip() else None


def _form_field(headers: Headers, body: bytes, name: str) -> str | None:
    if not headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return None
    values = parse_qs(body.decode("latin-1")).get(name)
    return values[-1] if values else None


def _text(status: int, message: str, **headers: str) -> Response:
    extra = {key.replace("_", "-"): value for key, value in headers.items()}
    return PlainTextResponse(message + "\n", status_code=status, headers=extra)


async def _read_body(receive: Receive) -> bytes | None:
    """The whole request body, or None past MAX_POST_BYTES (forms here are tiny)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_POST_BYTES:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, original: Receive) -> Receive:
    """A ``receive`` that hands the app the body the guard already read, then waits on the
    connection as usual (for a disconnect)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return await original()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


class SecurityHeaders:
    """Adds the security headers to every response. It wraps the whole application, outside
    Starlette's error handler, so that a 500 carries them too."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                extra: Iterable[tuple[bytes, bytes]] = (
                    (name, value) for name, value in _SECURITY_HEADERS if name not in names)
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, wrapped)
