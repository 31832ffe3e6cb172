"""The campaign pages ops work in all day.

The list answers "what is spending, what is paused, why, and until when"; the campaign
page explains its status (every reason, the figures, the next resume, its windows as a
week) beside one history of status changes and edits. The admin only edits what ops
own (names, budgets, the dayparting flag and windows): `status` and `pause_reason`
belong to the enforcement service, and every save or ops action goes through
`campaigns/enforcement.py`. What the pages say comes from `campaigns/explain.py`.
"""

from collections.abc import Iterator

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.safestring import SafeString

from budget_system.admin_export import EXPORT_CHUNK, CsvExportMixin, chunked
from budget_system.admin_format import local_time, money, utc_text
from budget_system.admin_helpers import (
    ADMIN_SOURCE,
    AutocompleteFilter,
    AutocompleteFilterMedia,
    ConsoleMedia,
    FirstRowsInline,
    FirstRowsInlineFormSet,
    TimezoneInput,
    ViewOnlyInline,
    WallClockInput,
    save_form_edits,
)
from budget_system.admin_history import HistoryBaselineMixin
from campaigns.admin_audit import CampaignStatusChangeAdmin  # noqa: F401  (registers the audit list)
from campaigns.admin_display import (
    campaign_csv_row,
    pace_html,
    pause_message,
    paused_again_message,
    resume_html,
    resume_message,
    status_html,
    use_html,
)
from campaigns.dry_run import enforcement_preview
from campaigns.edit_warnings import WarnOnEnforcedEdits
from campaigns.enforcement import campaigns_pause, campaigns_resume
from campaigns.explain import campaigns_explain
from campaigns.forecast import facts_forecast
from campaigns.history import campaign_history
from campaigns.models import Campaign
from dayparting.models import DaypartingSchedule
from dayparting.schedule import week_grids
from spend.models import Spend

Status = Campaign.Status
# Entries on the campaign page; the History button shows up to HISTORY_PAGE.
HISTORY_SHOWN = 20
HISTORY_PAGE = 200
# Rows of a preview shown on its page (the total is always counted).
PREVIEW_ROWS_SHOWN = 500


class DaypartingScheduleInlineForm(forms.ModelForm):
    class Meta:
        model = DaypartingSchedule
        fields = ("day_of_week", "start_time", "end_time", "timezone")
        widgets = {
            "timezone": TimezoneInput(with_datalist=False),
            "start_time": WallClockInput(),
            "end_time": WallClockInput(),
        }


class DaypartingScheduleInline(admin.TabularInline):
    model = DaypartingSchedule
    form = DaypartingScheduleInlineForm
    extra = 0
    verbose_name = "dayparting window"
    verbose_name_plural = "dayparting windows (24-hour wall-clock times; used when dayparting is enabled)"


class RecentSpendInline(FirstRowsInline, ViewOnlyInline, admin.TabularInline):
    model = Spend
    formset = FirstRowsInlineFormSet
    max_rows_shown = 14
    fields = ("date", "daily", "month_to_date", "reported")
    readonly_fields = fields
    ordering = ("-date",)
    show_change_link = True
    verbose_name_plural = f"recent spend (the latest {max_rows_shown} days reported; all of it in the spend list)"

    @admin.display(description="spend that day")
    def daily(self, obj: Spend) -> str:
        return money(obj.daily_spend)

    @admin.display(description="month-to-date")
    def month_to_date(self, obj: Spend) -> str:
        return money(obj.monthly_spend)

    @admin.display(description="last reported")
    def reported(self, obj: Spend) -> str:
        return utc_text(obj.updated_at)


class CampaignChangeList(ChangeList):
    """Explains the page's campaigns in one batch (a fixed number of queries per page)."""

    def get_results(self, request):
        super().get_results(request)
        page = list(self.result_list)
        explanations = campaigns_explain(campaign_ids=[campaign.pk for campaign in page], now=timezone.now())
        for campaign in page:
            campaign.explanation = explanations.get(campaign.pk)


@admin.register(Campaign)
class CampaignAdmin(
    WarnOnEnforcedEdits, HistoryBaselineMixin, CsvExportMixin, ConsoleMedia, AutocompleteFilterMedia, admin.ModelAdmin
):
    # Dayparting shows as a reason ("Outside dayparting windows"); its window is on the page.
    list_display = ("name", "brand", "status_now", "spend_today", "spend_this_month", "pace", "resumes")
    list_filter = (
        "status",
        "pause_reason",
        ("brand", AutocompleteFilter),
        "is_dayparting_enabled",
    )
    search_fields = ("name", "brand__name")
    list_select_related = ("brand",)
    autocomplete_fields = ("brand",)
    show_full_result_count = False
    # Rows are two to five lines tall (bars, reasons, resume times): 50 fill a few screens.
    list_per_page = 50
    actions = ("pause_selected", "resume_selected", "preview_enforcement")
    fieldsets = (
        (None, {"fields": ("brand", "name", ("status", "pause_reason"))}),
        ("Budgets (USD; empty means no limit)", {"fields": (("daily_budget", "monthly_budget"),)}),
        ("Dayparting", {"fields": ("is_dayparting_enabled",)}),
        ("Record", {"fields": (("created_at", "updated_at"),), "classes": ("collapse",)}),
    )
    # Never written by the form: the enforcement service and the pause/resume actions own them.
    readonly_fields = ("status", "pause_reason", "created_at", "updated_at")
    csv_name = "campaigns"

    def get_changelist(self, request, **kwargs):
        return CampaignChangeList

    def get_inlines(self, request, obj):
        if obj is None:
            return [DaypartingScheduleInline]
        return [DaypartingScheduleInline, RecentSpendInline]

    # --- The list's columns (explained per page by CampaignChangeList) ---------------------

    # Not sortable: sorting 100,000 campaigns by status reads and sorts them all (no index
    # serves it, and the engine keeps status out of every index); filter by status instead.
    @admin.display(description="status · every reason now")
    def status_now(self, obj: Campaign) -> SafeString:
        return status_html(obj.status, getattr(obj, "explanation", None))

    @admin.display(description="spend today")
    def spend_today(self, obj: Campaign) -> SafeString | str:
        explanation = getattr(obj, "explanation", None)
        return use_html("", explanation.campaign_today) if explanation else "-"

    @admin.display(description="month-to-date")
    def spend_this_month(self, obj: Campaign) -> SafeString | str:
        explanation = getattr(obj, "explanation", None)
        return use_html("", explanation.campaign_month) if explanation else "-"

    @admin.display(description="at today's pace (brand's time)")
    def pace(self, obj: Campaign) -> SafeString | str:
        explanation = getattr(obj, "explanation", None)
        if explanation is None:
            return "-"
        return pace_html(facts_forecast(explanation.facts, now=explanation.now).campaign, explanation.timezone)

    @admin.display(description="resumes (brand's time)")
    def resumes(self, obj: Campaign) -> SafeString | str:
        # The year only on hover: a resume is at most a month away.
        return resume_html(getattr(obj, "explanation", None), with_year=False)

    # --- The campaign page ------------------------------------------------------------------

    @staticmethod
    def _pace(explanation) -> dict:
        if explanation is None:
            return {}
        forecast = facts_forecast(explanation.facts, now=explanation.now)
        return {
            "pace_campaign": pace_html(forecast.campaign, explanation.timezone),
            "pace_brand": pace_html(forecast.brand, explanation.timezone),
        }

    def change_view(self, request, object_id, form_url="", extra_context=None):
        campaign = self.get_object(request, unquote(object_id))
        context = dict(extra_context or {})
        if campaign is not None:
            now = timezone.now()
            explanation = campaigns_explain(campaign_ids=[campaign.pk], now=now).get(campaign.pk)
            context.update(
                explanation=explanation,
                status_summary=status_html(campaign.status, explanation),
                resume_summary=resume_html(explanation),
                uses=[
                    use_html(label, getattr(explanation, name))
                    for label, name in (
                        ("Campaign today", "campaign_today"),
                        ("Campaign this month", "campaign_month"),
                        ("Brand today", "brand_today"),
                        ("Brand this month", "brand_month"),
                    )
                ]
                if explanation
                else [],
                window_change=local_time(explanation.next_window_change, explanation.timezone)
                if explanation and explanation.next_window_change
                else "",
                week_grids=week_grids(explanation.facts.windows, now=now) if explanation else [],
                **self._pace(explanation),
                history=campaign_history(campaign=campaign, limit=HISTORY_SHOWN),
                history_zone=explanation.timezone if explanation else campaign.brand.timezone,
                history_shown=HISTORY_SHOWN,
            )
        return super().change_view(request, object_id, form_url, context)

    def history_view(self, request, object_id, extra_context=None):
        """One history: status changes and edits together, in the brand's local time."""
        campaign = self.get_object(request, unquote(object_id))
        if campaign is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, campaign):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": f"History of “{campaign}”",
            "subtitle": None,
            "object": campaign,
            "opts": self.opts,
            "history": campaign_history(campaign=campaign, limit=HISTORY_PAGE),
            "history_zone": campaign.brand.timezone,
            "history_shown": HISTORY_PAGE,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/console/object_history.html", context)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # One list of zone names for all the window rows (see TimezoneInput).
        context["timezone_datalist"] = TimezoneInput.datalist()
        return super().render_change_form(request, context, add, change, form_url, obj)

    # --- Saving: apply the rule once the edit has committed, then say what it changed -----

    def save_model(self, request, obj, form, change):
        obj._enforcement_source = ADMIN_SOURCE  # the decision at creation is the admin's
        save_form_edits(obj, form)

    def save_related(self, request, form, formsets, change):
        # After the inline windows are saved, so the rule sees them.
        super().save_related(request, form, formsets, change)
        campaign = form.instance
        old_brand_id = form.initial.get("brand")
        if change and "brand" in form.changed_data and old_brand_id:
            # Moving a campaign changes both brands' totals, so both brands' campaigns.
            self.enforce_after_edit(request, brand_ids=[old_brand_id, campaign.brand_id])
        else:
            # A new campaign gets the rule at once; an edited one after its new budgets,
            # flag or windows.
            self.enforce_after_edit(request, campaign_ids=[campaign.pk])

    def delete_model(self, request, obj):
        brand_id = obj.brand_id
        super().delete_model(request, obj)
        # Its spend no longer counts towards the brand's totals.
        self.enforce_after_edit(request, brand_ids=[brand_id])

    def delete_queryset(self, request, queryset):
        brand_ids = list(queryset.order_by().values_list("brand_id", flat=True).distinct())
        super().delete_queryset(request, queryset)
        self.enforce_after_edit(request, brand_ids=brand_ids)

    # --- Ops actions (SPEC §7) --------------------------------------------------------

    @admin.action(description="Preview enforcement (what the rule would change now)", permissions=["view"])
    def preview_enforcement(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> TemplateResponse:
        """The dry run for the selected campaigns: what the rule would change now and why; writes nothing."""
        at = timezone.now()
        lines, shown, total = [], PREVIEW_ROWS_SHOWN, 0
        for line in enforcement_preview(at=at, campaigns=queryset):
            total += 1
            if len(lines) < shown:
                lines.append(line)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Preview enforcement",
            "at": at,
            "lines": lines,
            "total": total,
            "selected": queryset.count(),
            "shown": shown,
        }
        return TemplateResponse(request, "admin/campaigns/campaign/preview_enforcement.html", context)

    @admin.action(description="Pause selected campaigns", permissions=["change"])
    def pause_selected(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        selected = queryset.count()
        paused = campaigns_pause(campaigns=queryset, user=request.user, source=ADMIN_SOURCE)
        self.message_user(request, pause_message(paused, selected), messages.SUCCESS)

    @admin.action(description="Resume selected campaigns", permissions=["change"])
    def resume_selected(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        selected = queryset.count()
        summary = campaigns_resume(campaigns=queryset, user=request.user, source=ADMIN_SOURCE)
        level = messages.WARNING if summary.paused else messages.SUCCESS
        self.message_user(request, resume_message(summary, selected), level)

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        # Before the stock URLs: their "<path:object_id>/" would swallow ".../pause/".
        return [
            path(
                "<path:object_id>/pause/",
                self.admin_site.admin_view(self.pause_view),
                name=f"{info[0]}_{info[1]}_pause",
            ),
            path(
                "<path:object_id>/resume/",
                self.admin_site.admin_view(self.resume_view),
                name=f"{info[0]}_{info[1]}_resume",
            ),
            *super().get_urls(),
        ]

    def pause_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The Pause button on the campaign page (POST only; admin_view adds CSRF and login)."""

        def pause(campaign: Campaign) -> tuple[int, str]:
            paused = campaigns_pause(
                campaigns=Campaign.objects.filter(pk=campaign.pk), user=request.user, source=ADMIN_SOURCE
            )
            if paused:
                return messages.SUCCESS, (
                    f"Paused “{campaign}”. The system will not resume it until someone resumes it here."
                )
            return messages.INFO, f"“{campaign}” was already paused by a user; nothing changed."

        return self._status_button_view(request, object_id, pause)

    def resume_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The Resume button on the campaign page: the rule decides what it becomes."""

        def resume(campaign: Campaign) -> tuple[int, str]:
            summary = campaigns_resume(
                campaigns=Campaign.objects.filter(pk=campaign.pk), user=request.user, source=ADMIN_SOURCE
            )
            campaign.refresh_from_db(fields=["status", "pause_reason"])
            if not summary.examined:
                return messages.INFO, f"“{campaign}” was not paused by a user; nothing changed."
            if campaign.status == Status.ACTIVE:
                return messages.SUCCESS, f"Resumed “{campaign}”: it is active."
            return messages.WARNING, paused_again_message(campaign)

        return self._status_button_view(request, object_id, resume)

    def _status_button_view(self, request, object_id, act) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        campaign = self.get_object(request, unquote(object_id))
        if campaign is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_change_permission(request, campaign):
            raise PermissionDenied
        level, text = act(campaign)
        self.message_user(request, text, level)
        change_url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[campaign.pk])
        preserved = {"preserved_filters": self.get_preserved_filters(request), "opts": self.opts}
        return HttpResponseRedirect(add_preserved_filters(preserved, change_url))

    # --- CSV export of the filtered list ---------------------------------------------------

    def csv_header(self) -> list[str]:
        return [
            "id",
            "campaign",
            "brand",
            "brand timezone",
            "status",
            "reasons that hold now",
            "daily budget",
            "spend today",
            "today % of budget",
            "monthly budget",
            "month-to-date",
            "month % of budget",
            "resumes (brand's time)",
            "resumes (UTC)",
            "resumes how",
            "dayparting",
        ]

    def csv_rows(self, queryset) -> Iterator[list]:
        """Chunks of ids from one server-side cursor; each chunk explained in a fixed number of queries."""
        now = timezone.now()
        ids = queryset.values_list("pk", flat=True).iterator(chunk_size=EXPORT_CHUNK)
        for chunk in chunked(ids, EXPORT_CHUNK):
            campaigns = Campaign.objects.select_related("brand").in_bulk(chunk)
            explanations = campaigns_explain(campaign_ids=chunk, now=now)
            for pk in chunk:
                if pk in campaigns:
                    yield campaign_csv_row(campaigns[pk], explanations.get(pk))
