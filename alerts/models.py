"""Budget alerts, their deliveries by email and webhook, and each delivery's attempts.

This app sits above `campaigns`: it reads campaigns, brands and the audit trail, and
nothing below imports it. Per-brand settings live here, not on `Brand`.
"""

import secrets
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, validate_email
from django.db import models
from django.db.models import Q
from django.utils.timezone import now as current_time

from budget_system.money import money_field

MIN_THRESHOLD_PERCENT = 1
MAX_THRESHOLD_PERCENT = 1000


def max_attempts_setting() -> int:
    return settings.ALERT_DELIVERY_MAX_ATTEMPTS


def new_webhook_secret() -> str:
    return secrets.token_urlsafe(32)


def parse_recipients(value: str) -> list[str]:
    """Addresses separated by commas, semicolons or new lines, in order, without repeats."""
    addresses = [part.strip() for part in value.replace(";", ",").replace("\n", ",").split(",")]
    return list(dict.fromkeys(address for address in addresses if address))


def validate_recipients(value: str) -> None:
    for address in parse_recipients(value):
        try:
            validate_email(address)
        except ValidationError:
            raise ValidationError(
                "%(value)r is not an email address.", code="invalid_recipient", params={"value": address}
            ) from None


class BrandAlertSettings(models.Model):
    """Where and when a brand's alerts go. A brand without a row gets the default thresholds
    (ALERT_DEFAULT_THRESHOLDS) and its alerts are recorded, but sent nowhere."""

    brand = models.OneToOneField(
        "brands.Brand", on_delete=models.CASCADE, primary_key=True, related_name="alert_settings"
    )
    email_recipients = models.TextField(
        blank=True,
        validators=[validate_recipients],
        help_text="Addresses for budget alerts, separated by commas or new lines. Empty: no email.",
    )
    webhook_url = models.URLField(
        "budget alert webhook URL", max_length=500, blank=True, help_text="POSTed a signed JSON body per alert."
    )
    status_change_webhook_url = models.URLField(
        "status change webhook URL",
        max_length=500,
        blank=True,
        help_text="POSTed the brand's campaign status changes (signed JSON, at least once).",
    )
    webhook_secret = models.CharField(
        max_length=200,
        default=new_webhook_secret,
        help_text="Both webhooks send X-Budget-Signature: sha256=<HMAC-SHA256 of the body with this secret>.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "brand alert settings"
        verbose_name_plural = "brand alert settings"
        constraints = [
            # A signature with an empty key proves nothing.
            models.CheckConstraint(condition=~Q(webhook_secret=""), name="alert_settings_secret_not_empty"),
        ]

    def __str__(self) -> str:
        return f"alerts of brand {self.brand_id}"

    @property
    def recipient_list(self) -> list[str]:
        return parse_recipients(self.email_recipients)


class AlertThreshold(models.Model):
    """One percentage of a budget at which the brand is alerted (its campaigns' and its own)."""

    settings = models.ForeignKey(BrandAlertSettings, on_delete=models.CASCADE, related_name="thresholds")
    percent = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(MIN_THRESHOLD_PERCENT), MaxValueValidator(MAX_THRESHOLD_PERCENT)],
        help_text=f"{MIN_THRESHOLD_PERCENT} to {MAX_THRESHOLD_PERCENT} (% of the budget).",
    )

    class Meta:
        ordering = ["settings_id", "percent"]
        constraints = [
            models.UniqueConstraint(fields=["settings", "percent"], name="alert_threshold_unique_per_brand"),
            models.CheckConstraint(
                condition=Q(percent__gte=MIN_THRESHOLD_PERCENT, percent__lte=MAX_THRESHOLD_PERCENT),
                name="alert_threshold_percent_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.percent} %"


class BudgetAlert(models.Model):
    """Spend reached `threshold_percent` of a budget, once per threshold and local period.

    The partial unique constraints are what make an alert happen once: detection inserts
    with ON CONFLICT DO NOTHING, so overlapping runs cannot both create it.
    """

    class Scope(models.TextChoices):
        CAMPAIGN = "campaign", "Campaign"
        BRAND = "brand", "Brand"

    class Period(models.TextChoices):
        DAILY = "daily", "Daily"
        MONTHLY = "monthly", "Monthly"

    scope = models.CharField(max_length=10, choices=Scope.choices)
    period = models.CharField(max_length=10, choices=Period.choices)
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    # The local day, or the 1st of the local month, in the brand's timezone.
    period_start = models.DateField()
    threshold_percent = models.PositiveSmallIntegerField()
    spend = money_field("spend (USD)")
    budget = money_field("budget (USD)")
    timezone = models.CharField(max_length=64)
    crossed_at = models.DateTimeField(default=current_time, help_text="When the crossing was found (UTC).")
    source = models.CharField(max_length=100, help_text="The enforcement run that found it.")

    class Meta:
        ordering = ["-crossed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "period", "period_start", "threshold_percent"],
                condition=Q(scope="campaign"),
                name="budget_alert_once_per_campaign_period",
            ),
            models.UniqueConstraint(
                fields=["brand", "period", "period_start", "threshold_percent"],
                condition=Q(scope="brand"),
                name="budget_alert_once_per_brand_period",
            ),
            models.CheckConstraint(
                condition=Q(scope="campaign", campaign__isnull=False) | Q(scope="brand", campaign__isnull=True),
                name="budget_alert_campaign_iff_campaign_scope",
            ),
            models.CheckConstraint(condition=Q(period__in=["daily", "monthly"]), name="budget_alert_period_valid"),
            models.CheckConstraint(
                condition=Q(threshold_percent__gte=MIN_THRESHOLD_PERCENT, threshold_percent__lte=MAX_THRESHOLD_PERCENT),
                name="budget_alert_threshold_range",
            ),
        ]
        indexes = [
            # The admin list, newest first.
            models.Index(fields=["-crossed_at", "-id"], name="budget_alert_crossed_idx"),
        ]

    def __str__(self) -> str:
        subject = f"campaign {self.campaign_id}" if self.scope == self.Scope.CAMPAIGN else f"brand {self.brand_id}"
        return f"{subject} {self.period} {self.threshold_percent} % on {self.period_start}"


class Delivery(models.Model):
    """One message to send (an alert's email or webhook, or a batch of status changes).

    Retried with exponential backoff until it succeeds or runs out of attempts; each
    try is a `DeliveryAttempt`. `next_attempt_at` doubles as a lease: an attempt starts
    only by moving it forward in a conditional UPDATE, so two workers never send the
    same delivery at once.
    """

    class Kind(models.TextChoices):
        BUDGET_ALERT = "budget_alert", "Budget alert"
        STATUS_CHANGES = "status_changes", "Status changes"

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        WEBHOOK = "webhook", "Webhook"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed (gave up)"

    # Sent as X-Budget-Delivery-Id and in the body; the same on every retry.
    delivery_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    alert = models.ForeignKey(BudgetAlert, on_delete=models.CASCADE, null=True, blank=True, related_name="deliveries")
    # The URL, or the recipients separated by commas, as they were when it was created.
    target = models.TextField()
    # The webhook body or the email's subject and text, fixed at creation so every retry
    # sends (and signs) the same bytes.
    payload = models.JSONField()
    attempts = models.PositiveIntegerField(default=0)
    # It gives up after this attempt; "retry" in the admin grants another round.
    give_up_after = models.PositiveIntegerField(default=max_attempts_setting)
    created_at = models.DateTimeField(default=current_time)
    next_attempt_at = models.DateTimeField(default=current_time)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="budget_alert", alert__isnull=False) | Q(kind="status_changes", alert__isnull=True),
                name="delivery_alert_iff_budget_alert",
            ),
            models.CheckConstraint(
                condition=Q(state__in=["pending", "delivered", "failed"]), name="delivery_state_valid"
            ),
            models.CheckConstraint(condition=Q(channel__in=["email", "webhook"]), name="delivery_channel_valid"),
        ]
        indexes = [
            # retry_due_deliveries: WHERE state = 'pending' AND next_attempt_at <= now.
            models.Index(fields=["next_attempt_at"], condition=Q(state="pending"), name="delivery_pending_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.channel} to {self.target} ({self.state})"


class DeliveryAttempt(models.Model):
    """One try of a delivery: when, how long, and what came back."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField()
    succeeded = models.BooleanField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True, help_text="The webhook's HTTP status.")
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["delivery_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="delivery_attempt_number_unique"),
        ]

    def __str__(self) -> str:
        outcome = "ok" if self.succeeded else (self.error or f"HTTP {self.status_code}")
        return f"attempt {self.number}: {outcome}"


class FeedCursor(models.Model):
    """How far a reader of the status-change feed inside this system has got (the webhook drain)."""

    name = models.CharField(max_length=50, primary_key=True)
    txid = models.BigIntegerField(default=0)
    last_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.name} at {self.txid}-{self.last_id}"
