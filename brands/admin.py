"""Brand pages: budgets, the brand's calendar (timezone) and its campaigns at a glance."""

from django import forms
from django.contrib import admin
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.html import format_html

from brands.models import Brand
from campaigns.admin import (
    ADMIN_SOURCE,
    FirstRowsInline,
    FirstRowsInlineFormSet,
    TimezoneInput,
    save_campaign_edits,
)
from campaigns.enforcement import enforce_after_commit
from campaigns.models import Campaign

# What the rule reads from a brand: a change to any of them re-decides its campaigns.
RULE_FIELDS = {"daily_budget", "monthly_budget", "timezone"}


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
            save_campaign_edits(campaign, form)
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


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin):
    form = BrandAdminForm
    list_display = ("name", "timezone", "daily_budget", "monthly_budget", "campaign_count")
    search_fields = ("name",)
    fields = ("name", "timezone", ("daily_budget", "monthly_budget"), "campaigns_link", ("created_at", "updated_at"))
    readonly_fields = ("campaigns_link", "created_at", "updated_at")
    inlines = [CampaignInline]

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

    @admin.display(description="campaigns", ordering="campaign_count")
    def campaign_count(self, obj: Brand):
        return format_html('<a href="{}">{}</a>', campaign_list_url(obj), obj.campaign_count)

    @admin.display(description="campaigns")
    def campaigns_link(self, obj: Brand | None):
        if obj is None or obj.pk is None:
            return "-"
        return format_html(
            '<a href="{}">All {} campaigns of this brand</a>', campaign_list_url(obj), obj.campaign_count
        )

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # New budgets or a new calendar, or campaigns edited or added below: re-decide
        # every campaign of the brand once this has committed.
        if RULE_FIELDS & set(form.changed_data) or any(formset.has_changed() for formset in formsets):
            enforce_after_commit(brand_ids=[form.instance.pk], source=ADMIN_SOURCE)


def campaign_list_url(brand: Brand) -> str:
    return f"{reverse('admin:campaigns_campaign_changelist')}?brand__id__exact={brand.pk}"
