"""Brand pages: spend against the brand's budgets, its campaigns by status, its history."""

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from brands.models import Brand
from budget_system.admin_format import local_time_text, usage_bar
from budget_system.admin_helpers import (
    ConsoleMedia,
    FirstRowsInline,
    FirstRowsInlineFormSet,
    TimezoneInput,
    save_form_edits,
)
from budget_system.admin_history import HistoryBaselineMixin
from budget_system.timezones import timezone_names
from campaigns.admin_display import pace_html
from campaigns.edit_warnings import WarnOnEnforcedEdits
from campaigns.explain import BrandOverview, BudgetUse, brands_overview
from campaigns.forecast import spend_forecast
from campaigns.history import brand_history
from campaigns.models import Campaign

# What the rule reads from a brand: a change to any of them re-decides its campaigns.
RULE_FIELDS = {"daily_budget", "monthly_budget", "timezone"}
HISTORY_SHOWN = 20
HISTORY_PAGE = 200


class BrandAdminForm(forms.ModelForm):
    class Meta:
        model = Brand
        fields = ("name", "timezone", "daily_budget", "monthly_budget")
        widgets = {"timezone": TimezoneInput()}


class BrandCampaignFormSet(FirstRowsInlineFormSet):
    def save_existing(self, form, obj, commit=True):
        # Budgets and names only: never the status the enforcement service keeps.
        campaign = form.save(commit=False)
        if commit:
            save_form_edits(campaign, form)
        return campaign


class CampaignInline(FirstRowsInline, admin.TabularInline):
    model = Campaign
    formset = BrandCampaignFormSet
    max_rows_shown = 50
    fields = ("name", "daily_budget", "monthly_budget", "is_dayparting_enabled", "status", "pause_reason")
    readonly_fields = ("status", "pause_reason")
    ordering = ("name", "id")
    show_change_link = True
    extra = 0
    verbose_name_plural = f"campaigns (the first {max_rows_shown} by name; all of them in the campaign list)"


class BrandChangeList(ChangeList):
    """Reads the page's brands' spend and campaign counts in one batch (fixed queries per page)."""

    def get_results(self, request):
        super().get_results(request)
        page = list(self.result_list)
        overviews = brands_overview(brand_ids=[brand.pk for brand in page], now=timezone.now())
        for brand in page:
            brand.overview = overviews.get(brand.pk)


def use_html(label: str, use: BudgetUse) -> SafeString:
    return usage_bar(label=label, spend=use.spend, budget=use.budget, percent=use.percent, level=use.level)


def campaigns_by_status_html(brand: Brand, overview: BrandOverview | None) -> SafeString:
    """'12 campaigns: 9 active · 2 paused by system · 1 paused by user', each linked to the list."""
    counts = overview.campaigns_by_status if overview else {}
    parts = format_html_join(
        " · ",
        '<a href="{}">{} {}</a>',
        (
            (f"{campaign_list_url(brand)}&status__exact={status.value}", counts[status.value], status.label.lower())
            for status in Campaign.Status
            if counts.get(status.value)
        ),
    )
    total = sum(counts.values())
    link = format_html('<a href="{}">{} campaign{}</a>', campaign_list_url(brand), total, "" if total == 1 else "s")
    return format_html('{}<br><span class="usage-muted">{}</span>', link, parts) if total else link


@admin.register(Brand)
class BrandAdmin(WarnOnEnforcedEdits, HistoryBaselineMixin, ConsoleMedia, admin.ModelAdmin):
    form = BrandAdminForm
    list_display = ("name", "timezone", "spend_today", "spend_this_month", "pace", "campaign_count")
    search_fields = ("name",)
    fields = ("name", "timezone", ("daily_budget", "monthly_budget"), "campaigns_link", ("created_at", "updated_at"))
    readonly_fields = ("campaigns_link", "created_at", "updated_at")
    inlines = [CampaignInline]

    def get_changelist(self, request, **kwargs):
        return BrandChangeList

    def get_queryset(self, request):
        # A correlated count: PostgreSQL computes it only for the rows a page shows, so
        # the brand autocomplete and list stay cheap however many campaigns there are.
        campaigns = (
            Campaign.objects.filter(brand=OuterRef("pk")).order_by().values("brand").annotate(n=Count("*")).values("n")
        )
        return (
            super()
            .get_queryset(request)
            .annotate(campaign_count=Coalesce(Subquery(campaigns, output_field=IntegerField()), Value(0)))
        )

    @admin.display(description="spend today (brand's day)")
    def spend_today(self, obj: Brand) -> SafeString | str:
        overview = getattr(obj, "overview", None)
        return use_html("", overview.today) if overview else "-"

    @admin.display(description="month-to-date")
    def spend_this_month(self, obj: Brand) -> SafeString | str:
        overview = getattr(obj, "overview", None)
        return use_html("", overview.month) if overview else "-"

    @admin.display(description="at today's pace (brand's time)")
    def pace(self, obj: Brand) -> SafeString | str:
        overview = getattr(obj, "overview", None)
        if overview is None or overview.timezone not in timezone_names():
            return "-"
        forecast = spend_forecast(
            today_spend=overview.today.spend,
            month_to_date_spend=overview.month.spend,
            daily_budget=overview.today.budget,
            monthly_budget=overview.month.budget,
            zone_name=overview.timezone,
            now=overview.now,
        )
        return pace_html(forecast, overview.timezone)

    @admin.display(description="campaigns", ordering="campaign_count")
    def campaign_count(self, obj: Brand) -> SafeString:
        return campaigns_by_status_html(obj, getattr(obj, "overview", None))

    @admin.display(description="campaigns")
    def campaigns_link(self, obj: Brand | None):
        if obj is None or obj.pk is None:
            return "-"
        return format_html(
            '<a href="{}">All {} campaigns of this brand</a>', campaign_list_url(obj), obj.campaign_count
        )

    # --- The brand page: figures and history ----------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        brand = self.get_object(request, unquote(object_id))
        context = dict(extra_context or {})
        if brand is not None:
            now = timezone.now()
            overview = brands_overview(brand_ids=[brand.pk], now=now).get(brand.pk)
            context.update(
                overview=overview,
                uses=[use_html("Brand today", overview.today), use_html("Brand this month", overview.month)],
                campaigns_by_status=campaigns_by_status_html(brand, overview),
                local_now=local_time_text(now, brand.timezone),
                history=brand_history(brand=brand, limit=HISTORY_SHOWN),
                history_zone=brand.timezone,
                history_shown=HISTORY_SHOWN,
            )
        return super().change_view(request, object_id, form_url, context)

    def history_view(self, request, object_id, extra_context=None):
        """One history: the brand's edits and its campaigns' status changes, in its local time."""
        brand = self.get_object(request, unquote(object_id))
        if brand is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, brand):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": f"History of “{brand}”",
            "subtitle": None,
            "object": brand,
            "opts": self.opts,
            "history": brand_history(brand=brand, limit=HISTORY_PAGE),
            "history_zone": brand.timezone,
            "history_shown": HISTORY_PAGE,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/console/object_history.html", context)

    def save_related(self, request, form, formsets, change):
        if change:
            # The campaign rows below are saved in the page's order (by name); lock them
            # first in the one order every writer uses (id), so a sweep holding some of
            # them cannot deadlock with this save.
            list(
                Campaign.objects.select_for_update(no_key=True)
                .filter(brand_id=form.instance.pk)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
        super().save_related(request, form, formsets, change)
        # New budgets or a new calendar, or campaigns edited or added below: re-decide
        # every campaign of the brand once this has committed.
        if RULE_FIELDS & set(form.changed_data) or any(formset.has_changed() for formset in formsets):
            self.enforce_after_edit(request, brand_ids=[form.instance.pk])


def campaign_list_url(brand: Brand) -> str:
    return f"{reverse('admin:campaigns_campaign_changelist')}?brand__id__exact={brand.pk}"
