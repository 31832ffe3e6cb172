"""Sending deliveries: signed webhooks and emails, one attempt at a time, with backoff.

A delivery is created with its body fixed, then attempted by the `alerts.tasks.deliver`
task after the transaction that created it commits, never inside the engine's. An
attempt first takes the delivery with a conditional UPDATE (`next_attempt_at <= now`
moves to a lease in the future), so a duplicated task message cannot send it twice at
once; the attempt is recorded, and a failure schedules the next try after an
exponentially growing wait, until ALERT_DELIVERY_MAX_ATTEMPTS.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from alerts.models import BrandAlertSettings, BudgetAlert, Delivery, DeliveryAttempt

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Budget-Signature"
DELIVERY_ID_HEADER = "X-Budget-Delivery-Id"
TIMESTAMP_HEADER = "X-Budget-Timestamp"
EVENT_HEADER = "X-Budget-Event"
ATTEMPT_HEADER = "X-Budget-Attempt"


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def webhook_body(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent and signed: sorted keys, so every retry sends the same body."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


def webhook_signature(*, body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def retry_delay(attempts: int) -> timedelta:
    """Wait after the `attempts`-th failure: base, 2 x base, 4 x base, ... up to the cap."""
    seconds = settings.ALERT_DELIVERY_BACKOFF_SECONDS * 2 ** (attempts - 1)
    return timedelta(seconds=min(seconds, settings.ALERT_DELIVERY_BACKOFF_MAX_SECONDS))


# --- Creating deliveries ------------------------------------------------------------


def _percent(spend: Decimal, budget: Decimal) -> str:
    return f"{(spend * 100 / budget).quantize(Decimal('0.1'))}"


def budget_alert_payload(alert: BudgetAlert) -> dict[str, Any]:
    """The `alert` object of a budget alert webhook body."""
    return {
        "id": alert.pk,
        "scope": alert.scope,
        "period": alert.period,
        "period_start": alert.period_start.isoformat(),
        "threshold_percent": alert.threshold_percent,
        "spend": f"{alert.spend:.2f}",
        "budget": f"{alert.budget:.2f}",
        "spent_percent": _percent(alert.spend, alert.budget),
        "timezone": alert.timezone,
        "crossed_at": iso(alert.crossed_at),
        "source": alert.source,
        "brand": {"id": alert.brand_id, "name": alert.brand.name},
        "campaign": {"id": alert.campaign_id, "name": alert.campaign.name} if alert.campaign_id else None,
    }


def budget_alert_email(alert: BudgetAlert) -> dict[str, str]:
    period = "daily" if alert.period == BudgetAlert.Period.DAILY else "monthly"
    when = alert.period_start.isoformat() if period == "daily" else alert.period_start.strftime("%B %Y")
    brand = alert.brand.name
    who = f"Campaign {alert.campaign.name!r} ({brand})" if alert.campaign_id else f"Brand {brand!r}"
    subject = f"{who} reached {alert.threshold_percent} % of its {period} budget"
    body = "\n".join(
        [
            subject + ".",
            "",
            f"Spend: {alert.spend:.2f} USD of {alert.budget:.2f} USD ({_percent(alert.spend, alert.budget)} %)",
            f"Period: {when} ({alert.timezone})",
            f"Found at: {iso(alert.crossed_at)} by {alert.source}",
            "",
            "At 100 % the system pauses the campaigns concerned until the period ends or the budget is raised.",
        ]
    )
    return {"subject": subject, "body": body}


def _deliveries_for(alert: BudgetAlert, alert_settings: BrandAlertSettings, now: datetime) -> list[Delivery]:
    deliveries = []
    if alert_settings.recipient_list:
        deliveries.append(
            Delivery(
                kind=Delivery.Kind.BUDGET_ALERT,
                channel=Delivery.Channel.EMAIL,
                brand_id=alert.brand_id,
                alert=alert,
                target=", ".join(alert_settings.recipient_list),
                payload=budget_alert_email(alert),
                created_at=now,
                next_attempt_at=now,
            )
        )
    if alert_settings.webhook_url:
        delivery = Delivery(
            kind=Delivery.Kind.BUDGET_ALERT,
            channel=Delivery.Channel.WEBHOOK,
            brand_id=alert.brand_id,
            alert=alert,
            target=alert_settings.webhook_url,
            created_at=now,
            next_attempt_at=now,
        )
        delivery.payload = {
            "id": str(delivery.delivery_id),
            "type": "budget_alert",
            "created_at": iso(now),
            "alert": budget_alert_payload(alert),
        }
        deliveries.append(delivery)
    return deliveries


def deliveries_create_for_alerts(*, alert_ids: Sequence[int]) -> list[Delivery]:
    """An email and/or a webhook delivery per alert, as its brand's settings say (3 queries per 5,000)."""
    now = timezone.now()
    created: list[Delivery] = []
    for start in range(0, len(alert_ids), 5000):
        chunk = alert_ids[start : start + 5000]
        alerts = list(
            BudgetAlert.objects.filter(pk__in=chunk)
            .filter(brand__alert_settings__isnull=False)
            .select_related("brand", "campaign", "brand__alert_settings")
            .order_by("pk")
        )
        deliveries = [d for alert in alerts for d in _deliveries_for(alert, alert.brand.alert_settings, now)]
        created += Delivery.objects.bulk_create(deliveries)
    return created


def deliveries_enqueue(*, delivery_ids: Iterable[int]) -> None:
    """Hand deliveries to the worker; any the broker refuses are picked up by retry_due_deliveries."""
    from alerts.tasks import deliver

    for delivery_id in delivery_ids:
        try:
            deliver.apply_async(args=[delivery_id])
        except Exception:  # a broker outage: the rows are safe, the periodic sweep sends them
            logger.exception("could not enqueue delivery %s: retry_due_deliveries will send it", delivery_id)
            return


def deliveries_enqueue_on_commit(*, delivery_ids: list[int]) -> None:
    if delivery_ids:
        transaction.on_commit(lambda: deliveries_enqueue(delivery_ids=delivery_ids), robust=True)


def budget_alerts_send_again(*, alert_ids: Sequence[int]) -> int:
    """New deliveries for these alerts, to the brand's current recipients and URL."""
    with transaction.atomic():
        deliveries = deliveries_create_for_alerts(alert_ids=list(alert_ids))
        deliveries_enqueue_on_commit(delivery_ids=[d.pk for d in deliveries])
    return len(deliveries)


def deliveries_retry(*, delivery_ids: Sequence[int]) -> int:
    """Give failed or pending deliveries a fresh set of attempts, now."""
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            Delivery.objects.filter(pk__in=list(delivery_ids))
            .exclude(state=Delivery.State.DELIVERED)
            .values_list("pk", flat=True)
        )
        Delivery.objects.filter(pk__in=ids).update(
            state=Delivery.State.PENDING,
            give_up_after=F("attempts") + settings.ALERT_DELIVERY_MAX_ATTEMPTS,
            next_attempt_at=now,
        )
        deliveries_enqueue_on_commit(delivery_ids=ids)
    return len(ids)


# --- Attempting one ---------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    succeeded: bool
    status_code: int | None = None
    error: str = ""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect would resend the body somewhere else unsigned-for; treat 3xx as a failure.
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def _post_webhook(delivery: Delivery, *, secret: str, attempt: int) -> Outcome:
    body = webhook_body(delivery.payload)
    request = urllib.request.Request(
        delivery.target,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "budget-system-webhooks/1",
            SIGNATURE_HEADER: webhook_signature(body=body, secret=secret),
            DELIVERY_ID_HEADER: str(delivery.delivery_id),
            TIMESTAMP_HEADER: str(int(delivery.created_at.timestamp())),
            EVENT_HEADER: delivery.kind,
            ATTEMPT_HEADER: str(attempt),
        },
    )
    try:
        with _opener.open(request, timeout=settings.ALERT_WEBHOOK_TIMEOUT_SECONDS) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        return Outcome(False, error.code, f"HTTP {error.code} {error.reason}")
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        return Outcome(False, None, f"{type(error).__name__}: {reason}"[:1000])
    if 200 <= status < 300:
        return Outcome(True, status)
    return Outcome(False, status, f"HTTP {status}")


def _send_email(delivery: Delivery) -> Outcome:
    try:
        send_mail(
            delivery.payload["subject"],
            delivery.payload["body"],
            settings.DEFAULT_FROM_EMAIL,
            [address.strip() for address in delivery.target.split(",")],
            fail_silently=False,
        )
    except Exception as error:  # SMTP and socket errors alike: recorded, then retried
        return Outcome(False, None, f"{type(error).__name__}: {error}"[:1000])
    return Outcome(True)


def delivery_attempt(*, delivery_id: int) -> Delivery | None:
    """Try a due delivery once and record it; None when it is not due (or another worker has it)."""
    now = timezone.now()
    lease = now + timedelta(seconds=settings.ALERT_WEBHOOK_TIMEOUT_SECONDS + 60)
    taken = Delivery.objects.filter(pk=delivery_id, state=Delivery.State.PENDING, next_attempt_at__lte=now).update(
        next_attempt_at=lease, attempts=F("attempts") + 1
    )
    if not taken:
        return None
    delivery = Delivery.objects.get(pk=delivery_id)
    started = time.monotonic()
    if delivery.channel == Delivery.Channel.EMAIL:
        outcome = _send_email(delivery)
    else:
        secret = BrandAlertSettings.objects.filter(brand_id=delivery.brand_id).values_list("webhook_secret", flat=True)
        secret = secret.first()
        if secret is None:
            outcome = Outcome(False, None, "the brand has no alert settings (no secret to sign with)")
        else:
            outcome = _post_webhook(delivery, secret=secret, attempt=delivery.attempts)
    duration_ms = int((time.monotonic() - started) * 1000)
    finished = timezone.now()
    with transaction.atomic():
        DeliveryAttempt.objects.create(
            delivery=delivery,
            number=delivery.attempts,
            started_at=now,
            duration_ms=duration_ms,
            succeeded=outcome.succeeded,
            status_code=outcome.status_code,
            error=outcome.error,
        )
        if outcome.succeeded:
            delivery.state, delivery.delivered_at, delivery.last_error = Delivery.State.DELIVERED, finished, ""
        elif delivery.attempts >= delivery.give_up_after:
            delivery.state, delivery.last_error = Delivery.State.FAILED, outcome.error
        else:
            delivery.next_attempt_at = finished + retry_delay(delivery.attempts)
            delivery.last_error = outcome.error
        Delivery.objects.filter(pk=delivery.pk).update(
            state=delivery.state,
            delivered_at=delivery.delivered_at,
            last_error=delivery.last_error,
            next_attempt_at=delivery.next_attempt_at,
        )
    log = logger.info if outcome.succeeded else logger.warning
    log(
        "delivery %s (%s by %s) attempt %d: %s",
        delivery.pk,
        delivery.kind,
        delivery.channel,
        delivery.attempts,
        "delivered" if outcome.succeeded else f"{outcome.error}; now {delivery.state}",
        extra={
            "event": "delivery_attempt",
            "delivery_id": delivery.pk,
            "attempt": delivery.attempts,
            "state": delivery.state,
            "status_code": outcome.status_code,
        },
    )
    return delivery
