"""Middleware that keeps hostile input and outages from becoming 500s.

- `HostileInputMiddleware`: refuses, with a 400 naming the place, any URL path, query
  string parameter, form field or header holding text PostgreSQL cannot store or
  compare (budget_system.hostile_text), and on admin pages any date part (the
  `__year`, `__month`, `__day`... of list filters and date drill-downs) outside what
  Python's dates can hold. One check for every view, the admin's own and the
  third-party apps' included, instead of a guard in each. A value that still reaches
  PostgreSQL and is refused there (a DataError) is a 400 too.
- `LengthRequiredMiddleware`: a chunked body the server could not hand over
  (budget_system.chunked reads it under gunicorn) is refused with 411, never taken
  for an empty body.
- `DatabaseUnavailableMiddleware`: a view that cannot reach PostgreSQL answers 503
  with Retry-After (budget_system.errors.server_error covers the rest of the stack).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from django.db import DataError, connection
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError

from budget_system.errors import (
    database_outage,
    database_unavailable_response,
    error_response,
    is_api,
    is_database_unavailable,
)
from budget_system.hostile_text import printable, unstorable_reason

# The date parts Django's lookups and the admin's date hierarchy accept, and the
# values they can take. The admin's drill-down computes the end of the period (the
# next year, month or day), so the last year it can show is 9998.
DATE_PART_RANGES = {
    "year": (1, 9998),
    "iso_year": (1, 9998),
    "quarter": (1, 4),
    "month": (1, 12),
    "week": (1, 53),
    "day": (1, 31),
    "week_day": (1, 7),
    "iso_week_day": (1, 7),
    "hour": (0, 23),
    "minute": (0, 59),
    "second": (0, 59),
}
FORM_CONTENT_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}

Problem = tuple[str, str, str, str]  # (where, name, value, message)


class HostileInputMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            problem = next(_unstorable_text(request), None)
        except MultiPartParserError as error:
            return error_response(
                request, 400, "Bad request", f"The form body cannot be read: {printable(str(error))}."
            )
        if problem is not None:
            return _refuse(request, problem)
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> HttpResponse | None:
        match = request.resolver_match
        if match is None or match.app_name != "admin":
            return None
        problem = next(_bad_date_parts(request), None)
        return _refuse(request, problem) if problem is not None else None

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        # A value no check above knows about that PostgreSQL cannot compare with its
        # column (SQLSTATE class 22: "abc" for an inet, a number out of range), e.g.
        # any local field of any admin list is a filter (`?ip_address=1`). Bad input
        # the database found, so a 400 naming it; the request changed nothing.
        # (SQLite's driver raises OverflowError for an integer past 64 bits.)
        if not isinstance(exception, (DataError, OverflowError)):
            return None
        first_line = printable(str(exception).strip().splitlines()[0] if str(exception).strip() else "")
        return error_response(
            request,
            400,
            "Bad request",
            f"A value in this request cannot be stored or compared by the database ({first_line}); "
            "nothing was changed.",
        )


def _unstorable_text(request: HttpRequest) -> Iterator[Problem]:
    reason = unstorable_reason(request.path_info)
    if reason:
        yield "URL path", "path", request.path_info, f"The URL path holds {reason}"
    for name, values in request.GET.lists():
        for text in (name, *values):
            reason = unstorable_reason(text)
            if reason:
                yield "query string parameter", name, text, f"The query string parameter {_quoted(name)} holds {reason}"
    for key, value in request.META.items():
        if key.startswith("HTTP_") and isinstance(value, str):
            reason = unstorable_reason(value)
            if reason:
                header = key[5:].replace("_", "-").title()
                yield "header", header, value, f"The {header} header holds {reason}"
    # Forms are the admin's (the API reads JSON only, and DRF must read a form body
    # itself to refuse it with 415: reading request.POST here would consume it).
    if request.method == "POST" and request.content_type in FORM_CONTENT_TYPES and not is_api(request):
        for name, values in request.POST.lists():
            for text in (name, *values):
                reason = unstorable_reason(text)
                if reason:
                    yield "form field", name, text, f"The form field {_quoted(name)} holds {reason}"


def _bad_date_parts(request: HttpRequest) -> Iterator[Problem]:
    for name, values in request.GET.lists():
        part = name.rsplit("__", 1)[-1]
        if part not in DATE_PART_RANGES or "__" not in name:
            continue
        low, high = DATE_PART_RANGES[part]
        for value in values:
            text = value.strip()
            number = int(text) if text.lstrip("-").isdigit() and len(text) <= 10 else None
            if number is None or not low <= number <= high:
                yield (
                    "query string parameter",
                    name,
                    value,
                    f"The filter {_quoted(name)}={_quoted(value)} is not a {part.replace('_', ' ')} "
                    f"the admin can show: use a whole number from {low} to {high}",
                )


def _quoted(text: str) -> str:
    return repr(printable(text))


def _refuse(request: HttpRequest, problem: Problem) -> HttpResponse:
    where, name, value, message = problem
    if "holds" in message:
        message += ", which cannot be stored or searched: remove it"
    detail = f"{message}."
    return error_response(
        request,
        400,
        "Bad request",
        detail,
        errors=[{"field": printable(name), "where": where, "value": printable(value), "message": detail}],
    )


class LengthRequiredMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and not request.META.get("CONTENT_LENGTH"):
            return error_response(
                request,
                411,
                "Length required",
                "This server cannot read a chunked request body (Transfer-Encoding: chunked): "
                "send the body with a Content-Length header.",
            )
        return self.get_response(request)


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # Back when a request got a connection and was answered (one that touched no
        # table, a static file, says nothing either way).
        if (
            database_outage.is_down
            and not getattr(response, "database_unavailable", False)
            and connection.connection is not None
        ):
            database_outage.succeeded()
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if is_database_unavailable(exception):
            return database_unavailable_response(request, exception)
        return None
