"""Alerts in the admin: per-brand settings, the alerts with their delivery state, deliveries.

Alerts and deliveries are records: shown, filtered, never edited. The actions ("Send
again", "Retry now") call services in alerts/delivery.py.
"""

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.db.models import Exists, OuterRef
from django.utils.html import format_html

from alerts.delivery import budget_alerts_send_again, deliveries_retry, webhook_body
from alerts.models import AlertThreshold, BrandAlertSettings, BudgetAlert, Delivery, DeliveryAttempt


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


# --- Settings ------------------------------------------------------------------------


class AlertThresholdFormSet(forms.BaseInlineFormSet):
    def __init__(self, *args, **kwargs):
        if kwargs.get("instance") is None or kwargs["instance"].pk is None:
            # A new brand's settings start with the usual 50 / 80 / 100 %.
            kwargs.setdefault("initial", [{"percent": percent} for percent in (50, 80, 100)])
        super().__init__(*args, **kwargs)


class AlertThresholdInline(admin.TabularInline):
    model = AlertThreshold
    formset = AlertThresholdFormSet
    verbose_name_plural = "thresholds (% of each daily and monthly budget, the brand's and its campaigns')"

    def get_extra(self, request, obj=None, **kwargs) -> int:
        return 3 if obj is None else 1


@admin.register(BrandAlertSettings)
class BrandAlertSettingsAdmin(admin.ModelAdmin):
    list_display = ("brand", "threshold_list", "email_recipients", "webhook_url", "status_change_webhook_url")
    list_select_related = ("brand",)
    search_fields = ("brand__name",)
    autocomplete_fields = ("brand",)
    fields = ("brand", "email_recipients", "webhook_url", "status_change_webhook_url", "webhook_secret")
    inlines = [AlertThresholdInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("thresholds")

    @admin.display(description="thresholds")
    def threshold_list(self, obj: BrandAlertSettings) -> str:
        return ", ".join(f"{threshold.percent} %" for threshold in obj.thresholds.all()) or "none (no alerts)"


# --- Alerts ------------------------------------------------------------------------


def _deliveries(state: str):
    return Exists(Delivery.objects.filter(alert=OuterRef("pk"), state=state))


class DeliveryStateFilter(admin.SimpleListFilter):
    title = "delivery"
    parameter_name = "delivery"

    def lookups(self, request, model_admin):
        return [
            ("failed", "Failed (gave up)"),
            ("pending", "Being retried"),
            ("delivered", "All delivered"),
            ("none", "Not sent (no channel)"),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value in ("failed", "pending"):
            return queryset.filter(_deliveries(value))
        if value == "delivered":
            return (
                queryset.filter(_deliveries("delivered")).exclude(_deliveries("failed")).exclude(_deliveries("pending"))
            )
        if value == "none":
            return queryset.exclude(Exists(Delivery.objects.filter(alert=OuterRef("pk"))))
        return queryset


class AlertDeliveryInline(ReadOnlyInline):
    model = Delivery
    fields = ("channel", "target", "state", "attempts", "last_error", "created_at", "delivered_at")
    readonly_fields = fields
    show_change_link = True
    verbose_name_plural = "deliveries (open one for its attempts)"


@admin.register(BudgetAlert)
class BudgetAlertAdmin(admin.ModelAdmin):
    list_display = (
        "crossed_at",
        "brand",
        "campaign",
        "scope",
        "period",
        "period_start",
        "threshold_percent",
        "spend",
        "budget",
        "delivery_state",
    )
    list_select_related = ("brand", "campaign")
    list_filter = ("scope", "period", "threshold_percent", DeliveryStateFilter, "crossed_at")
    search_fields = ("brand__name", "campaign__name")
    show_full_result_count = False
    readonly_fields = [field.name for field in BudgetAlert._meta.fields]
    inlines = [AlertDeliveryInline]
    actions = ["send_again"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                any_failed=_deliveries("failed"),
                any_pending=_deliveries("pending"),
                any_delivered=_deliveries("delivered"),
            )
        )

    @admin.display(description="delivery")
    def delivery_state(self, obj: BudgetAlert) -> str:
        if obj.any_failed:
            return format_html('<span style="color: var(--error-fg)">{}</span>', "failed")
        if obj.any_pending:
            return "pending"
        return "delivered" if obj.any_delivered else "not sent (no channel)"

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Send again (to the brand's current recipients and webhook)", permissions=["change"])
    def send_again(self, request, queryset):
        count = budget_alerts_send_again(alert_ids=list(queryset.values_list("pk", flat=True)))
        if count:
            self.message_user(request, f"{count} deliveries queued.", messages.SUCCESS)
        else:
            self.message_user(request, "Nothing to send: these brands have no email or webhook set.", messages.WARNING)


# --- Deliveries ----------------------------------------------------------------------


class DeliveryAttemptInline(ReadOnlyInline):
    model = DeliveryAttempt
    fields = ("number", "started_at", "duration_ms", "succeeded", "status_code", "error")
    readonly_fields = fields


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "kind", "channel", "brand", "target", "state", "attempts", "last_error")
    list_select_related = ("brand",)
    list_filter = ("state", "kind", "channel", "created_at")
    search_fields = ("brand__name", "target", "=delivery_id")
    show_full_result_count = False
    fields = (
        "delivery_id",
        "kind",
        "channel",
        "brand",
        "alert",
        "target",
        "state",
        ("attempts", "give_up_after"),
        ("created_at", "next_attempt_at", "delivered_at"),
        "last_error",
        "body",
    )
    readonly_fields = [name for entry in fields for name in (entry if isinstance(entry, tuple) else (entry,))]
    inlines = [DeliveryAttemptInline]
    actions = ["retry_now"]

    @admin.display(description="body as sent")
    def body(self, obj: Delivery):
        return format_html("<pre style='white-space: pre-wrap'>{}</pre>", webhook_body(obj.payload).decode())

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Retry now (with a fresh set of attempts)", permissions=["change"])
    def retry_now(self, request, queryset):
        count = deliveries_retry(delivery_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{count} deliveries queued again (delivered ones are left alone).")
