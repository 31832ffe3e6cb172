"""Dayparting windows on their own list (they are also edited on the campaign page)."""

from django import forms
from django.contrib import admin

from campaigns.admin import ADMIN_SOURCE, AutocompleteFilter, AutocompleteFilterMedia, TimezoneInput
from campaigns.enforcement import enforce_after_commit
from dayparting.models import DaypartingSchedule


class DaypartingScheduleForm(forms.ModelForm):
    class Meta:
        model = DaypartingSchedule
        fields = ("campaign", "day_of_week", "start_time", "end_time", "timezone")
        widgets = {"timezone": TimezoneInput()}


@admin.register(DaypartingSchedule)
class DaypartingScheduleAdmin(AutocompleteFilterMedia, admin.ModelAdmin):
    form = DaypartingScheduleForm
    list_display = ("campaign", "brand", "day_of_week", "start_time", "end_time", "timezone", "dayparting_enabled")
    list_filter = (
        ("campaign__brand", AutocompleteFilter),
        ("campaign", AutocompleteFilter),
        "day_of_week",
        "campaign__is_dayparting_enabled",
    )
    search_fields = ("campaign__name", "campaign__brand__name")
    list_select_related = ("campaign", "campaign__brand")
    autocomplete_fields = ("campaign",)
    show_full_result_count = False

    @admin.display(description="brand", ordering="campaign__brand__name")
    def brand(self, obj: DaypartingSchedule):
        return obj.campaign.brand

    @admin.display(description="dayparting enabled", boolean=True, ordering="campaign__is_dayparting_enabled")
    def dayparting_enabled(self, obj: DaypartingSchedule) -> bool:
        return obj.campaign.is_dayparting_enabled

    # A window opened, closed or moved: re-decide its campaign once this has committed.

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        campaign_ids = {obj.campaign_id}
        if change and form.initial.get("campaign"):
            campaign_ids.add(form.initial["campaign"])  # moved: the old campaign lost a window
        enforce_after_commit(campaign_ids=campaign_ids, source=ADMIN_SOURCE)

    def delete_model(self, request, obj):
        campaign_id = obj.campaign_id
        super().delete_model(request, obj)
        enforce_after_commit(campaign_ids=[campaign_id], source=ADMIN_SOURCE)

    def delete_queryset(self, request, queryset):
        campaign_ids = list(queryset.order_by().values_list("campaign_id", flat=True).distinct())
        super().delete_queryset(request, queryset)
        enforce_after_commit(campaign_ids=campaign_ids, source=ADMIN_SOURCE)
