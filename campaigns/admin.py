"""The campaign pages ops work in all day, and the admin pieces the other apps share.

The admin only edits what ops own (names, budgets, the dayparting flag and windows).
`status` and `pause_reason` belong to the enforcement service: the form shows them
read-only and never writes them, and every save or ops action goes through
`campaigns/enforcement.py`, which applies the rule and writes the audit rows.
"""

import functools

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from budget_system.timezones import timezone_names
from campaigns.enforcement import campaigns_pause, campaigns_resume, enforce_after_commit
from campaigns.models import Campaign, CampaignStatusChange
from dayparting.models import DaypartingSchedule
from spend.models import Spend

ADMIN_SOURCE = "admin"

# --- Shared pieces (brands, spend and dayparting admins use them too) ---------------


class TimezoneInput(forms.TextInput):
    """A text box that suggests IANA names and leaves the checking to the model.

    The suggestions are an HTML <datalist>; the field's own validator refuses any other
    value with a message naming it. `with_datalist=False` is for inline rows: they point
    at one list rendered once per page instead of repeating ~600 options per row.
    """

    datalist_id = "iana-timezone-names"

    def __init__(self, attrs=None, *, with_datalist: bool = True):
        super().__init__({"list": self.datalist_id, "autocomplete": "off", **(attrs or {})})
        self.with_datalist = with_datalist

    @classmethod
    def datalist(cls) -> SafeString:
        return _timezone_datalist(cls.datalist_id)

    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        html = super().render(name, value, attrs, renderer)
        return html + self.datalist() if self.with_datalist else html


@functools.cache
def _timezone_datalist(datalist_id: str) -> SafeString:
    options = format_html_join("", '<option value="{}">', ((name,) for name in sorted(timezone_names())))
    return format_html('<datalist id="{}">{}</datalist>', datalist_id, options)


class AutocompleteFilter(admin.RelatedFieldListFilter):
    """Filter by a related object picked in a search box, like an autocomplete field.

    The stock related filter lists every brand (or campaign) in the sidebar; this one
    lists none and loads the selected one only, so the page costs the same however many
    there are. It uses the admin's own autocomplete view, so the related model's admin
    needs `search_fields`. `AutocompleteFilterMedia` adds the select2 scripts.
    """

    template = "admin/autocomplete_filter.html"

    def __init__(self, field, request, params, model, model_admin, field_path):
        self.model_admin = model_admin
        # A cleared search box submits an empty value: treat it as no filter, not an error.
        lookup_kwarg = f"{field_path}__{field.target_field.name}__exact"
        if params.get(lookup_kwarg) in ([""], ""):
            params.pop(lookup_kwarg)
        super().__init__(field, request, params, model, model_admin, field_path)

    def field_choices(self, field, request, model_admin):
        return []  # Nothing listed: the search box replaces the list.

    def has_output(self) -> bool:
        return True

    def get_facet_counts(self, pk_attname, filtered_qs):
        return {}

    def choices(self, changelist):
        selected = self.lookup_val[-1] if self.lookup_val else None
        keep = changelist.get_query_string(remove=[self.lookup_kwarg, self.lookup_kwarg_isnull])
        search_box = forms.ModelChoiceField(
            queryset=self.field.remote_field.model._default_manager.all(),
            required=False,
            widget=AutocompleteSelect(self.field, self.model_admin.admin_site, attrs={"style": "width: 100%"}),
        )
        yield {
            "selected": selected is None,
            "query_string": keep,
            "display": "All",
            # The search form resubmits every other filter, search and ordering in use.
            "hidden_params": [
                (name, value)
                for name, values in changelist.filter_params.items()
                if name not in (self.lookup_kwarg, self.lookup_kwarg_isnull)
                for value in values
            ],
            "widget": search_box.widget.render(self.lookup_kwarg, selected, attrs={"id": f"id_{self.lookup_kwarg}"}),
        }


class AutocompleteFilterMedia:
    """ModelAdmin mixin: the scripts the `AutocompleteFilter` search boxes need on the list."""

    @property
    def media(self):
        select2 = AutocompleteSelect(Campaign._meta.get_field("brand"), admin.site).media
        return super().media + select2


class FirstRowsInlineFormSet(BaseInlineFormSet):
    """An inline formset showing only the first `max_rows` rows of its ordering.

    A brand may have thousands of campaigns and a campaign years of spend and audit
    rows; the page shows the newest (or first) few, loaded in one query.
    """

    max_rows: int = 20

    def get_queryset(self):
        # One queryset object, kept: the formset indexes into it for every row.
        if not hasattr(self, "_first_rows"):
            queryset = super().get_queryset()
            if self.is_bound:
                # The rows the page showed, even if others have sorted in before them
                # since: re-slicing would silently drop the edits to the rows pushed out.
                queryset = queryset.filter(pk__in=self._posted_pks())
            else:
                queryset = queryset[: self.max_rows]
            self._first_rows = queryset
        return self._first_rows

    def _posted_pks(self) -> list[str]:
        pk_name = self.model._meta.pk.name
        shown = min(self.initial_form_count(), self.max_rows)
        posted = (self.data.get(f"{self.add_prefix(i)}-{pk_name}", "") for i in range(shown))
        return [pk for pk in posted if pk.isdigit()]


class FirstRowsInline:
    """InlineModelAdmin mixin: show only `max_rows_shown` rows (see FirstRowsInlineFormSet)."""

    max_rows_shown = 20

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.max_rows = self.max_rows_shown
        return formset


class ViewOnlyInline:
    """InlineModelAdmin mixin for rows that are shown, never edited from this page."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class EstimatedCountPaginator(Paginator):
    """Counts a whole big table from PostgreSQL's statistics instead of scanning it.

    For the spend and audit lists, which grow every day: unfiltered, an exact COUNT(*)
    would read the whole table on every page view. Filtered lists and small tables are
    counted exactly.
    """

    exact_below = 50_000

    @cached_property
    def count(self) -> int:
        query = getattr(self.object_list, "query", None)
        if query is not None and not query.where and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)",
                    [query.model._meta.db_table],
                )
                row = cursor.fetchone()
            # reltuples is -1 for a table never analysed.
            if row and row[0] >= self.exact_below:
                return row[0]
        return super().count


def edited_model_fields(form: forms.ModelForm) -> list[str]:
    """The model fields this form changed: what a save may write, and nothing else."""
    concrete = {field.name for field in form._meta.model._meta.concrete_fields}
    return [name for name in form.changed_data if name in concrete]


def save_campaign_edits(campaign: Campaign, form: forms.ModelForm) -> None:
    """Save a campaign from an admin form without writing `status` or `pause_reason`.

    The enforcement service may have paused or resumed the campaign since the page was
    loaded (or even since this request read it); writing only the edited columns keeps
    a stale form from undoing that.
    """
    if campaign._state.adding:
        campaign.save()
    else:
        campaign.save(update_fields=[*edited_model_fields(form), "updated_at"])


# --- Campaign -------------------------------------------------------------------------


class DaypartingScheduleInlineForm(forms.ModelForm):
    class Meta:
        model = DaypartingSchedule
        fields = ("day_of_week", "start_time", "end_time", "timezone")
        widgets = {"timezone": TimezoneInput(with_datalist=False)}


class DaypartingScheduleInline(admin.TabularInline):
    model = DaypartingSchedule
    form = DaypartingScheduleInlineForm
    extra = 0
    verbose_name = "dayparting window"
    verbose_name_plural = "dayparting windows (used when dayparting is enabled)"


class RecentSpendInline(FirstRowsInline, ViewOnlyInline, admin.TabularInline):
    model = Spend
    formset = FirstRowsInlineFormSet
    max_rows_shown = 14
    fields = ("date", "daily_spend", "monthly_spend", "updated_at")
    readonly_fields = fields
    ordering = ("-date",)
    show_change_link = True
    verbose_name_plural = f"recent spend (the latest {max_rows_shown} days reported; all of it in the spend list)"


class StatusChangeColumns:
    """The audit row's columns, shared by the campaign page's history and the audit list."""

    @admin.display(description="status")
    def status_change(self, obj: CampaignStatusChange) -> str:
        return f"{obj.get_old_status_display()} → {obj.get_new_status_display()}"

    @admin.display(description="pause reason")
    def reason_change(self, obj: CampaignStatusChange) -> str:
        return f"{reason_label(obj.old_reason)} → {reason_label(obj.new_reason)}"

    @admin.display(description="details")
    def decided_by(self, obj: CampaignStatusChange) -> SafeString:
        return format_details(obj.details)


class StatusChangeInline(StatusChangeColumns, FirstRowsInline, ViewOnlyInline, admin.TabularInline):
    model = CampaignStatusChange
    formset = FirstRowsInlineFormSet
    max_rows_shown = 20
    fields = ("created_at", "status_change", "reason_change", "actor", "user", "source", "decided_by")
    readonly_fields = fields
    ordering = ("-created_at", "-id")
    verbose_name = "status change"
    verbose_name_plural = f"status history (the latest {max_rows_shown} changes; all of them in the audit list)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")


def reason_label(reason: str) -> str:
    return Campaign.PauseReason(reason).label if reason else "-"


def format_details(details: dict) -> SafeString:
    if not details:
        return mark_safe("-")
    return format_html_join(mark_safe("<br>"), "{}: {}", sorted(details.items()))


@admin.register(Campaign)
class CampaignAdmin(AutocompleteFilterMedia, admin.ModelAdmin):
    list_display = (
        "name",
        "brand",
        "status",
        "why_paused",
        "daily_budget",
        "monthly_budget",
        "is_dayparting_enabled",
    )
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
    actions = ("pause_selected", "resume_selected")
    fieldsets = (
        (None, {"fields": ("brand", "name", ("status", "pause_reason"))}),
        ("Budgets (USD; empty means no limit)", {"fields": (("daily_budget", "monthly_budget"),)}),
        ("Dayparting", {"fields": ("is_dayparting_enabled",)}),
        ("Record", {"fields": (("created_at", "updated_at"),), "classes": ("collapse",)}),
    )
    # Never written by the form: the enforcement service and the pause/resume actions own them.
    readonly_fields = ("status", "pause_reason", "created_at", "updated_at")

    def get_inlines(self, request, obj):
        if obj is None:
            return [DaypartingScheduleInline]
        return [DaypartingScheduleInline, RecentSpendInline, StatusChangeInline]

    @admin.display(description="pause reason", ordering="pause_reason")
    def why_paused(self, obj: Campaign) -> str | None:
        return obj.get_pause_reason_display() if obj.pause_reason else None

    # --- Saving: apply the rule once the edit has committed ---------------------------

    def save_model(self, request, obj, form, change):
        save_campaign_edits(obj, form)

    def save_related(self, request, form, formsets, change):
        # After the inline windows are saved, so the rule sees them.
        super().save_related(request, form, formsets, change)
        campaign = form.instance
        old_brand_id = form.initial.get("brand")
        if change and "brand" in form.changed_data and old_brand_id:
            # Moving a campaign changes both brands' totals, so both brands' campaigns.
            enforce_after_commit(brand_ids=[old_brand_id, campaign.brand_id], source=ADMIN_SOURCE)
        else:
            # A new campaign gets the rule at once; an edited one after its new budgets,
            # flag or windows.
            enforce_after_commit(campaign_ids=[campaign.pk], source=ADMIN_SOURCE)

    def delete_model(self, request, obj):
        brand_id = obj.brand_id
        super().delete_model(request, obj)
        # Its spend no longer counts towards the brand's totals.
        enforce_after_commit(brand_ids=[brand_id], source=ADMIN_SOURCE)

    def delete_queryset(self, request, queryset):
        brand_ids = list(queryset.order_by().values_list("brand_id", flat=True).distinct())
        super().delete_queryset(request, queryset)
        enforce_after_commit(brand_ids=brand_ids, source=ADMIN_SOURCE)

    # --- Ops actions (SPEC §7) --------------------------------------------------------

    @admin.action(description="Pause selected campaigns", permissions=["change"])
    def pause_selected(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        selected = queryset.count()
        paused = campaigns_pause(campaigns=queryset, user=request.user, source=ADMIN_SOURCE)
        self.message_user(request, pause_message(paused, selected), messages.SUCCESS)

    @admin.action(description="Resume selected campaigns", permissions=["change"])
    def resume_selected(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        selected = queryset.count()
        summary = campaigns_resume(campaigns=queryset, user=request.user, source=ADMIN_SOURCE)
        self.message_user(request, resume_message(summary, selected), messages.SUCCESS)

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

        def pause(campaign: Campaign) -> str:
            paused = campaigns_pause(
                campaigns=Campaign.objects.filter(pk=campaign.pk), user=request.user, source=ADMIN_SOURCE
            )
            if paused:
                return f"Paused “{campaign}”. The system will not resume it until someone resumes it here."
            return f"“{campaign}” was already paused by a user; nothing changed."

        return self._status_button_view(request, object_id, pause)

    def resume_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The Resume button on the campaign page: the rule decides what it becomes."""

        def resume(campaign: Campaign) -> str:
            summary = campaigns_resume(
                campaigns=Campaign.objects.filter(pk=campaign.pk), user=request.user, source=ADMIN_SOURCE
            )
            campaign.refresh_from_db(fields=["status", "pause_reason"])
            if not summary.examined:
                return f"“{campaign}” was not paused by a user; nothing changed."
            if campaign.status == Campaign.Status.ACTIVE:
                return f"Resumed “{campaign}”: it is active."
            return f"Resumed “{campaign}”, but the system paused it at once: {reason_label(campaign.pause_reason)}."

        return self._status_button_view(request, object_id, resume)

    def _status_button_view(self, request, object_id, act) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        campaign = self.get_object(request, unquote(object_id))
        if campaign is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_change_permission(request, campaign):
            raise PermissionDenied
        self.message_user(request, act(campaign), messages.SUCCESS)
        change_url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[campaign.pk])
        preserved = {"preserved_filters": self.get_preserved_filters(request), "opts": self.opts}
        return HttpResponseRedirect(add_preserved_filters(preserved, change_url))

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # One list of zone names for all the window rows (see TimezoneInput).
        context["timezone_datalist"] = TimezoneInput.datalist()
        return super().render_change_form(request, context, add, change, form_url, obj)


def pause_message(paused: int, selected: int) -> str:
    message = f"Paused {paused} campaign{'s' if paused != 1 else ''}."
    if selected > paused:
        message += f" {selected - paused} already paused by a user, left as they were."
    return message


def resume_message(summary, selected: int) -> str:
    resumed = summary.activated + summary.paused
    message = f"Resumed {resumed} campaign{'s' if resumed != 1 else ''}: {summary.activated} now active"
    if summary.paused:
        message += f", {summary.paused} paused by the system at once (a budget or the schedule still blocks them)"
    message += "."
    if selected > summary.examined:
        message += f" {selected - summary.examined} not paused by a user, left as they were."
    return message


# --- The audit trail ------------------------------------------------------------------


class SourceFilter(admin.SimpleListFilter):
    """The known sources, listed without a DISTINCT scan of the whole audit table."""

    title = "source"
    parameter_name = "source"
    sources = (
        "admin",
        "api",
        "command",
        "check_all_campaign_budgets",
        "reactivate_daily_campaigns",
        "reactivate_monthly_campaigns",
        "enforce_dayparting_for_all_campaigns",
        "enforce_brand_campaigns",
    )

    def lookups(self, request, model_admin):
        return [(source, source) for source in self.sources]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(source=self.value())
        return queryset


@admin.register(CampaignStatusChange)
class CampaignStatusChangeAdmin(StatusChangeColumns, AutocompleteFilterMedia, admin.ModelAdmin):
    """Read-only: the audit trail is written by the enforcement service alone."""

    list_display = (
        "created_at",
        "campaign",
        "brand",
        "status_change",
        "reason_change",
        "actor",
        "user",
        "source",
    )
    list_filter = (
        ("campaign", AutocompleteFilter),
        "actor",
        SourceFilter,
        "new_status",
        "new_reason",
    )
    date_hierarchy = "created_at"
    search_fields = ("campaign__name",)
    list_select_related = ("campaign", "campaign__brand", "user")
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    fields = (
        "campaign",
        "created_at",
        ("old_status", "new_status"),
        ("old_reason", "new_reason"),
        "actor",
        "user",
        "source",
        "decided_by",
    )
    readonly_fields = (
        "campaign",
        "created_at",
        "old_status",
        "new_status",
        "old_reason",
        "new_reason",
        "actor",
        "user",
        "source",
        "decided_by",
    )

    @admin.display(description="brand", ordering="campaign__brand__name")
    def brand(self, obj: CampaignStatusChange):
        return obj.campaign.brand

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
