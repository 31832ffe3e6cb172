"""Read a chunked request body (Transfer-Encoding: chunked, no Content-Length).

Django reads `CONTENT_LENGTH` bytes of a request body; without the header it reads
none, so a chunked upload (as many HTTP clients send a streamed body) looked empty.
Servers that decode chunked bodies and say so (`wsgi.input_terminated`, gunicorn
does) hand over a stream that ends where the body ends: this WSGI wrapper reads it,
up to a limit, and passes it on with its length. Where the server does not say so,
budget_system.middleware.LengthRequiredMiddleware answers 411 instead.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings


class ChunkedBodyReader:
    def __init__(self, application: Callable[..., Iterable[bytes]]) -> None:
        self.application = application

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and not environ.get("CONTENT_LENGTH") and environ.get("wsgi.input_terminated"):
            limit = settings.REQUEST_BODY_MAX_BYTES
            body = environ["wsgi.input"].read(limit + 1)
            if len(body) > limit:
                return _too_large(start_response, limit)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        return self.application(environ, start_response)


def _too_large(start_response: Callable[..., Any], limit: int) -> list[bytes]:
    detail = f"The chunked request body is larger than {limit} bytes."
    body = json.dumps({"detail": detail}).encode()
    start_response(
        "413 Request Entity Too Large",
        [("Content-Type", "application/json"), ("Content-Length", str(len(body))), ("Connection", "close")],
    )
    return [body]
