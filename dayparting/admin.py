"""Dayparting windows on their own list (they are also edited on the campaign page, with its week grid)."""

from django import forms
from django.contrib import admin

from budget_system.admin_helpers import AutocompleteFilter, AutocompleteFilterMedia, TimezoneInput, WallClockInput
from budget_system.admin_history import HistoryBaselineMixin
from campaigns.edit_warnings import WarnOnEnforcedEdits
from dayparting.models import DaypartingSchedule
from dayparting.schedule import window_label
from dayparting.windows import Window


class DaypartingScheduleForm(forms.ModelForm):
    class Meta:
        model = DaypartingSchedule
        fields = ("campaign", "day_of_week", "start_time", "end_time", "timezone")
        widgets = {"timezone": TimezoneInput(), "start_time": WallClockInput(), "end_time": WallClockInput()}


@admin.register(DaypartingSchedule)
class DaypartingScheduleAdmin(WarnOnEnforcedEdits, HistoryBaselineMixin, AutocompleteFilterMedia, admin.ModelAdmin):
    form = DaypartingScheduleForm
    list_display = ("campaign", "brand", "window", "timezone", "dayparting_enabled")
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

    @admin.display(description="window (24-hour wall clock)", ordering="day_of_week")
    def window(self, obj: DaypartingSchedule) -> str:
        return window_label(Window(obj.day_of_week, obj.start_time, obj.end_time, obj.timezone))

    @admin.display(description="dayparting enabled", boolean=True, ordering="campaign__is_dayparting_enabled")
    def dayparting_enabled(self, obj: DaypartingSchedule) -> bool:
        return obj.campaign.is_dayparting_enabled

    # A window opened, closed or moved: re-decide its campaign once this has committed.

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        campaign_ids = {obj.campaign_id}
        if change and form.initial.get("campaign"):
            campaign_ids.add(form.initial["campaign"])  # moved: the old campaign lost a window
        self.enforce_after_edit(request, campaign_ids=campaign_ids)

    def delete_model(self, request, obj):
        campaign_id = obj.campaign_id
        super().delete_model(request, obj)
        self.enforce_after_edit(request, campaign_ids=[campaign_id])

    def delete_queryset(self, request, queryset):
        campaign_ids = list(queryset.order_by().values_list("campaign_id", flat=True).distinct())
        super().delete_queryset(request, queryset)
        self.enforce_after_edit(request, campaign_ids=campaign_ids)
