"""Spend rows as reported, for reading and for an ops correction now and then."""

from django.contrib import admin

from budget_system.admin_format import money
from budget_system.admin_helpers import AutocompleteFilter, AutocompleteFilterMedia, EstimatedCountPaginator
from campaigns.edit_warnings import WarnOnEnforcedEdits
from campaigns.models import Campaign
from spend.models import Spend


@admin.register(Spend)
class SpendAdmin(WarnOnEnforcedEdits, AutocompleteFilterMedia, admin.ModelAdmin):
    list_display = ("campaign", "brand", "date", "spend_that_day", "month_to_date")
    list_filter = ("date", ("campaign__brand", AutocompleteFilter), ("campaign", AutocompleteFilter))
    date_hierarchy = "date"
    search_fields = ("campaign__name",)
    list_select_related = ("campaign", "campaign__brand")
    autocomplete_fields = ("campaign",)
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    # Spend.clean (run by the form) refuses monthly < daily and a date after the
    # brand's today, naming the values.
    fields = ("campaign", "date", ("daily_spend", "monthly_spend"), ("created_at", "updated_at"))
    readonly_fields = ("created_at", "updated_at")

    @admin.display(description="brand", ordering="campaign__brand__name")
    def brand(self, obj: Spend):
        return obj.campaign.brand

    @admin.display(description="spend that day", ordering="daily_spend")
    def spend_that_day(self, obj: Spend) -> str:
        return money(obj.daily_spend)

    @admin.display(description="month-to-date", ordering="monthly_spend")
    def month_to_date(self, obj: Spend) -> str:
        return money(obj.monthly_spend)

    # A brand's totals include every campaign's spend, so a spend edit re-decides every
    # campaign of the brand once it has committed.

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        brand_ids = {obj.campaign.brand_id}
        if change and "campaign" in form.changed_data and form.initial.get("campaign"):
            # Moved to another campaign: the old campaign's brand lost this spend.
            brand_ids.update(Campaign.objects.filter(pk=form.initial["campaign"]).values_list("brand_id", flat=True))
        self.enforce_after_edit(request, brand_ids=brand_ids)

    def delete_model(self, request, obj):
        brand_id = obj.campaign.brand_id
        super().delete_model(request, obj)
        self.enforce_after_edit(request, brand_ids=[brand_id])

    def delete_queryset(self, request, queryset):
        brand_ids = list(queryset.order_by().values_list("campaign__brand_id", flat=True).distinct())
        super().delete_queryset(request, queryset)
        self.enforce_after_edit(request, brand_ids=brand_ids)
