"""`GET /api/v1/campaigns/`: each campaign's status and spend in its brand's calendar."""

from __future__ import annotations

import re
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import generics, serializers
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from budget_system.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS
from campaigns.figures import campaigns_with_spend
from campaigns.forecast import CampaignForecast, PeriodForecast, campaigns_forecast
from campaigns.models import Campaign
from spend.api import DetailSerializer
from spend.services import MAX_ID

_ID = re.compile(r"[0-9]{1,19}")


def _money(help_text: str, **kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES, help_text=help_text, **kwargs
    )


class PeriodForecastSerializer(serializers.Serializer):
    spend = _money("Spend so far this period (the rule's reading).")
    budget = _money("The budget (null: no limit).", allow_null=True)
    projected_spend = _money(
        "Spend at the end of the period at the current pace (null in the very first instant of a period).",
        allow_null=True,
    )
    budget_reached = serializers.BooleanField(help_text="Spend has already reached the budget.")
    budget_reached_at = serializers.DateTimeField(
        allow_null=True,
        help_text="When the current pace reaches the budget, in the brand's timezone; null if not this period.",
    )
    ends_at = serializers.DateTimeField(help_text="The end of the period (local midnight) in the brand's timezone.")

    def to_representation(self, instance: PeriodForecast) -> dict[str, Any]:
        # DRF would convert the times to the server's zone; the brand's local offset is the point.
        data = super().to_representation(instance)
        data["budget_reached_at"] = instance.budget_reached_at.isoformat() if instance.budget_reached_at else None
        data["ends_at"] = instance.ends_at.isoformat()
        return data


class CampaignForecastSerializer(serializers.Serializer):
    daily = PeriodForecastSerializer(source="campaign.daily", help_text="The campaign's local day.")
    monthly = PeriodForecastSerializer(source="campaign.monthly", help_text="The campaign's local month.")
    brand_daily = PeriodForecastSerializer(source="brand.daily", help_text="The brand's total, local day.")
    brand_monthly = PeriodForecastSerializer(source="brand.monthly", help_text="The brand's total, local month.")


class CampaignSerializer(serializers.ModelSerializer):
    brand_today = serializers.DateField(
        read_only=True, allow_null=True, help_text="Today in the brand's timezone (null if its timezone is unknown)."
    )
    today_spend = serializers.DecimalField(
        max_digits=MONEY_MAX_DIGITS,
        decimal_places=MONEY_DECIMAL_PLACES,
        read_only=True,
        help_text="daily_spend of the row dated the brand's today, else 0.",
    )
    month_to_date_spend = serializers.DecimalField(
        max_digits=MONEY_MAX_DIGITS,
        decimal_places=MONEY_DECIMAL_PLACES,
        read_only=True,
        help_text="monthly_spend of the latest row of the brand's current month, else 0.",
    )
    forecast = serializers.SerializerMethodField(
        help_text="Linear pacing forecast of the campaign and its brand (null if the brand's timezone is unknown)."
    )

    @extend_schema_field(CampaignForecastSerializer(allow_null=True))
    def get_forecast(self, campaign: Campaign) -> dict[str, Any] | None:
        forecast: CampaignForecast | None = self.context.get("forecasts", {}).get(campaign.pk)
        return None if forecast is None else CampaignForecastSerializer(forecast).data

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "brand",
            "status",
            "pause_reason",
            "daily_budget",
            "monthly_budget",
            "is_dayparting_enabled",
            "brand_today",
            "today_spend",
            "month_to_date_spend",
            "forecast",
        ]
        read_only_fields = fields


class CanViewCampaigns(BasePermission):
    message = "This user needs the campaigns.view_campaign permission."

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm("campaigns.view_campaign"))


class FilterErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    errors = serializers.ListField(child=serializers.DictField())


def _filter_error(name: str, value: str, message: str) -> ValidationError:
    return ValidationError(
        {
            "detail": f"Invalid filter {name}={value!r}: {message}",
            "errors": [{"field": name, "value": value, "message": message}],
        }
    )


def campaign_filters(params: Any) -> dict[str, Any]:
    """The ORM filters for the query string; a ValidationError names a bad field and value."""
    filters: dict[str, Any] = {}
    brand = params.get("brand")
    if brand is not None:
        if not _ID.fullmatch(brand) or not 1 <= int(brand) <= MAX_ID:
            raise _filter_error("brand", brand, "must be a brand id (a positive whole number)")
        filters["brand_id"] = int(brand)
    status_value = params.get("status")
    if status_value is not None:
        if status_value not in Campaign.Status.values:
            raise _filter_error("status", status_value, f"must be one of {', '.join(Campaign.Status.values)}")
        filters["status"] = status_value
    return filters


class CampaignListView(generics.ListAPIView):
    authentication_classes = [TokenAuthentication, SessionAuthentication]
    permission_classes = [CanViewCampaigns]
    serializer_class = CampaignSerializer

    def get_queryset(self) -> QuerySet[Campaign]:
        self.now = timezone.now()
        campaigns = Campaign.objects.filter(**campaign_filters(self.request.query_params)).select_related("brand")
        return campaigns_with_spend(campaigns, now=self.now)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        # The brands' totals for the page's rows in a fixed number of queries.
        forecasts = campaigns_forecast(campaigns=page, now=self.now)
        serializer = self.get_serializer(
            page, many=True, context={**self.get_serializer_context(), "forecasts": forecasts}
        )
        return self.get_paginated_response(serializer.data)

    @extend_schema(
        operation_id="campaigns_list",
        summary="List campaigns with their status and spend",
        parameters=[
            OpenApiParameter("brand", int, description="Only this brand's campaigns."),
            OpenApiParameter("status", str, enum=Campaign.Status.values, description="Only campaigns in this status."),
        ],
        responses={
            200: CampaignSerializer(many=True),
            400: OpenApiResponse(FilterErrorSerializer, description="A filter value is invalid (named)."),
            401: OpenApiResponse(DetailSerializer, description="No valid token."),
            403: OpenApiResponse(DetailSerializer, description="The user lacks campaigns.view_campaign."),
            404: OpenApiResponse(DetailSerializer, description="No such page."),
            429: OpenApiResponse(DetailSerializer, description="Throttled."),
        },
    )
    def get(self, request: Request, *args: Any, **kwargs: Any):
        return super().get(request, *args, **kwargs)
