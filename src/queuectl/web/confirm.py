"""The confirm step of a destructive action: a page that says what is about to happen (how
many jobs, which schedule) and posts the same form again with ``confirm=yes``.

It is a page, not a ``confirm()`` dialog: it works without script, a test can read it, and
the question can carry the count the server computed.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from .app import dashboard_of
from .params import Fields
from .security import CSRF_FIELD

CONFIRM_FIELD = "confirm"


def confirmation(request: Request, fields: Fields, question: str, button: str, *,
                 back: str, detail: str = "") -> Response | None:
    """The confirm page, or None once the form came back confirmed."""
    if fields.text(CONFIRM_FIELD) == "yes":
        return None
    kept = [(name, value) for name, value in fields.items()
            if name not in (CONFIRM_FIELD, CSRF_FIELD)]
    return dashboard_of(request).render(
        request, "confirm.html", question=question, detail=detail, button=button,
        action=request.url.path, kept=kept, back=back)
