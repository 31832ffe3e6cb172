"""Health, readiness and metrics endpoints (SPEC §12), for probes and scrapers.

No login; none says more than up/late/unreachable and task or service names (the
metrics ask for a bearer token). The `ProbeMiddleware` serves them before the rest of
the middleware, so a probe's Host header and plain http are accepted.
"""

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST

from operations.heartbeats import enforcement_late_tasks
from operations.metrics import metrics_exposition
from operations.readiness import readiness_failures


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is up and answering. Touches no database, broker or cache."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    """200 when the database and the broker answer within a short timeout, else 503 naming which."""
    failures = readiness_failures()
    if failures:
        return JsonResponse({"status": "unavailable", "unreachable": failures}, status=503)
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def enforcement_health(request: HttpRequest) -> JsonResponse:
    """200 while the watched periodic tasks finish in time, else 503 naming the late ones."""
    late = [task.task_name for task in enforcement_late_tasks()]
    if late:
        return JsonResponse({"status": "late", "late": late}, status=503)
    return JsonResponse({"status": "ok"})


def _bearer_token_matches(request: HttpRequest, token: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


@never_cache
@require_safe
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text format, for a scraper that sends `Authorization: Bearer <METRICS_TOKEN>`.

    Without METRICS_TOKEN configured the endpoint does not exist (404).
    """
    token = settings.METRICS_TOKEN
    if not token:
        return HttpResponse("Not found: /metrics is off (no METRICS_TOKEN).\n", status=404, content_type="text/plain")
    if not _bearer_token_matches(request, token):
        response = HttpResponse(
            "Unauthorized: send Authorization: Bearer <METRICS_TOKEN>.\n", status=401, content_type="text/plain"
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(metrics_exposition(), content_type=CONTENT_TYPE_LATEST)
