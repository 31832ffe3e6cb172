"""Error answers shared by the middleware: JSON for the API, a plain page elsewhere.

Also the project's handler500, which answers 503 when the error was the database
being unreachable (raised outside a view, e.g. while saving the session), so such a
request is never a 500.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.html import format_html
from django.views import defaults

from budget_system.outage import Outage

logger = logging.getLogger(__name__)

# Seconds a client is asked to wait before trying again while the database is away:
# a restart takes a few seconds, a failover longer; the client retries, then backs off.
DATABASE_RETRY_AFTER_SECONDS = 5

database_outage = Outage("PostgreSQL", logger=logger)


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


def error_response(
    request: HttpRequest,
    status: int,
    title: str,
    detail: str,
    *,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> HttpResponse:
    """`{"detail", "errors"}` for the API; a minimal HTML page for the admin and the rest.

    JSON is written with ASCII escapes, so no text the client sent can make the answer
    itself unencodable.
    """
    if is_api(request):
        body: dict[str, Any] = {"detail": detail}
        if errors is not None:
            body["errors"] = errors
        response: HttpResponse = JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": True})
    else:
        page = format_html(
            '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{}</title></head>'
            "<body><h1>{}</h1><p>{}</p></body></html>",
            title,
            title,
            detail,
        )
        response = HttpResponse(page, status=status, content_type="text/html; charset=utf-8")
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def is_database_unavailable(error: BaseException | None) -> bool:
    """Connection refused, lost, reset or timed out (what a restart or failover raises).

    Django wraps the driver's errors in these two classes; a deadlock or a statement
    timeout is an OperationalError too, and retrying later is the right answer to it.
    """
    return isinstance(error, (OperationalError, InterfaceError))


def database_unavailable_response(request: HttpRequest, error: BaseException) -> HttpResponse:
    database_outage.failed(error, fallback="requests are answered 503 with Retry-After")
    response = error_response(
        request,
        503,
        "Service unavailable",
        "The database is unavailable; nothing was changed. Try again in a few seconds.",
        headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
    )
    response.database_unavailable = True
    # The outage is logged once (database_outage), not as an error per request by
    # django.request; the access log still shows each 503.
    response._has_been_logged = True
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a 503 for a database outage, else Django's (or a JSON) 500."""
    error = sys.exc_info()[1]
    if is_database_unavailable(error):
        return database_unavailable_response(request, error)
    if is_api(request):
        return error_response(request, 500, "Server error", "A server error occurred.")
    return defaults.server_error(request)
