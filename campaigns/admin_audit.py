"""The audit trail in the admin: every status change, read-only, in the brand's local time, exportable."""

from collections.abc import Iterator

from django.contrib import admin
from django.utils.html import format_html_join
from django.utils.safestring import SafeString, mark_safe

from budget_system.admin_export import EXPORT_CHUNK, CsvExportMixin
from budget_system.admin_format import local_time, local_time_text, utc_text
from budget_system.admin_helpers import (
    AutocompleteFilter,
    AutocompleteFilterMedia,
    ConsoleMedia,
    EstimatedCountPaginator,
)
from campaigns.history import changed_by, details_in_words, key_figures, reason_label
from campaigns.models import CampaignStatusChange


class StatusChangeColumns:
    """The audit row's columns in words."""

    @admin.display(description="when (brand's time)", ordering="created_at")
    def when(self, obj: CampaignStatusChange) -> SafeString:
        return local_time(obj.created_at, brand_zone(obj))

    @admin.display(description="status")
    def status_change(self, obj: CampaignStatusChange) -> str:
        return f"{obj.get_old_status_display()} → {obj.get_new_status_display()}"

    @admin.display(description="pause reason")
    def reason_change(self, obj: CampaignStatusChange) -> str:
        return f"{reason_label(obj.old_reason)} → {reason_label(obj.new_reason)}"

    @admin.display(description="by")
    def by(self, obj: CampaignStatusChange) -> str:
        return changed_by(obj)

    @admin.display(description="the figure that decided it")
    def decided_by(self, obj: CampaignStatusChange) -> SafeString:
        return figures_html(key_figures(obj))

    @admin.display(description="figures that decided it")
    def all_figures(self, obj: CampaignStatusChange) -> SafeString:
        return figures_html(details_in_words(obj.details))


def brand_zone(change: CampaignStatusChange) -> str:
    """The brand's zone now; UTC once the brand is deleted (its audit rows stay)."""
    return change.brand.timezone if change.brand_id and change.brand else "UTC"


def figures_html(figures: tuple[str, ...]) -> SafeString:
    if not figures:
        return mark_safe("-")
    return format_html_join(mark_safe("<br>"), "{}", ((figure,) for figure in figures))


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
class CampaignStatusChangeAdmin(
    StatusChangeColumns, CsvExportMixin, ConsoleMedia, AutocompleteFilterMedia, admin.ModelAdmin
):
    """Read-only: the audit trail is written by the enforcement service alone."""

    list_display = (
        "when",
        "campaign_name",
        "brand_name",
        "status_change",
        "reason_change",
        "by",
        "source",
        "decided_by",
    )
    list_filter = (
        ("campaign", AutocompleteFilter),
        "actor",
        SourceFilter,
        "new_status",
        "new_reason",
    )
    date_hierarchy = "created_at"
    search_fields = ("campaign_name", "brand_name")
    # Not the campaign: audit rows outlive it, and an inner join would hide their rows.
    list_select_related = ("brand", "user")
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    fields = (
        ("campaign", "campaign_name", "brand_name"),
        "when",
        ("old_status", "new_status"),
        ("old_reason", "new_reason"),
        "by",
        "source",
        "all_figures",
    )
    readonly_fields = (
        "campaign",
        "campaign_name",
        "brand_name",
        "when",
        "old_status",
        "new_status",
        "old_reason",
        "new_reason",
        "by",
        "source",
        "all_figures",
    )
    csv_name = "status-changes"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    # --- CSV export -------------------------------------------------------------------

    def csv_header(self) -> list[str]:
        return [
            "id",
            "time (UTC)",
            "time (brand's zone)",
            "brand timezone",
            "campaign id",
            "campaign",
            "brand",
            "old status",
            "new status",
            "old reason",
            "new reason",
            "by",
            "source",
            "figures",
        ]

    def csv_rows(self, queryset) -> Iterator[list]:
        # One server-side cursor over the joined rows: no query per row or per chunk.
        rows = queryset.select_related("brand", "user").iterator(chunk_size=EXPORT_CHUNK)
        for change in rows:
            zone_name = brand_zone(change)
            yield [
                change.pk,
                utc_text(change.created_at),
                local_time_text(change.created_at, zone_name),
                zone_name,
                change.campaign_id,
                change.campaign_name,
                change.brand_name,
                change.get_old_status_display(),
                change.get_new_status_display(),
                reason_label(change.old_reason),
                reason_label(change.new_reason),
                self.by(change),
                change.source,
                "; ".join(details_in_words(change.details)),
            ]
