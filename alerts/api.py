"""`GET /api/v1/status-changes/?after=<cursor>`: the audit trail as a feed (alerts/feed.py)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from alerts.feed import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, FeedCursorError, feed_cursor_parse, status_changes_page
from campaigns.api import FilterErrorSerializer
from campaigns.models import Campaign
from spend.api import DetailSerializer


class StatusChangeSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The change's id, unique for ever: deduplicate on it.")
    cursor = serializers.CharField(help_text="This change's position in the feed.")
    campaign = serializers.IntegerField(help_text="The campaign's id (it may since have been deleted).")
    campaign_name = serializers.CharField(help_text="The campaign's name when the change was made.")
    brand = serializers.IntegerField(allow_null=True, help_text="The campaign's brand's id.")
    brand_name = serializers.CharField(help_text="The brand's name when the change was made.")
    created_at = serializers.DateTimeField(help_text="When the change was decided (UTC).")
    old_status = serializers.ChoiceField(Campaign.Status.choices)
    old_reason = serializers.ChoiceField(Campaign.PauseReason.choices)
    new_status = serializers.ChoiceField(Campaign.Status.choices)
    new_reason = serializers.ChoiceField(Campaign.PauseReason.choices)
    actor = serializers.ChoiceField(["system", "user"])
    user = serializers.CharField(allow_null=True, help_text="The username, for changes an ops user made.")
    source = serializers.CharField(help_text='The task name, "admin", "api" or "command".')
    details = serializers.DictField(
        child=serializers.CharField(), help_text="The figures that decided it (spend, budgets, local date, timezone)."
    )


class StatusChangePageSerializer(serializers.Serializer):
    results = StatusChangeSerializer(many=True)
    next_cursor = serializers.CharField(
        help_text="Keep it and pass it as `after` next time, also when `results` is empty: "
        "you then get only what came after."
    )
    has_more = serializers.BooleanField(help_text="True when another page is ready now.")


class CanViewStatusChanges(BasePermission):
    message = "This user needs the campaigns.view_campaignstatuschange permission."

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm("campaigns.view_campaignstatuschange"))


def _bad(name: str, value: str, message: str) -> ValidationError:
    return ValidationError(
        {
            "detail": f"Invalid {name}={value!r}: {message}",
            "errors": [{"field": name, "value": value, "message": message}],
        }
    )


def _limit(value: str | None) -> int:
    if value is None:
        return DEFAULT_PAGE_SIZE
    if not value.isdigit() or not 1 <= int(value) <= MAX_PAGE_SIZE:
        raise _bad("limit", value, f"must be a whole number from 1 to {MAX_PAGE_SIZE}")
    return int(value)


class StatusChangeFeedView(APIView):
    authentication_classes = [TokenAuthentication, SessionAuthentication]
    permission_classes = [CanViewStatusChanges]

    @extend_schema(
        operation_id="status_changes_list",
        summary="Campaign status changes after a cursor, in commit order",
        description=(
            "Every change of a campaign's status or pause reason, each exactly once and in order, "
            "for systems that must act on them. Start without `after`, then always pass the "
            "`next_cursor` of the last page: a change whose transaction committed late still comes "
            "after it, never behind it. Changes appear once every transaction older than them has "
            "finished (usually well under a second)."
        ),
        parameters=[
            OpenApiParameter("after", str, description="The next_cursor of an earlier page; empty: the beginning."),
            OpenApiParameter("limit", int, description=f"Changes per page, 1 to {MAX_PAGE_SIZE} (default 100)."),
        ],
        responses={
            200: StatusChangePageSerializer,
            400: OpenApiResponse(FilterErrorSerializer, description="`after` or `limit` is invalid (named)."),
            401: OpenApiResponse(DetailSerializer, description="No valid token."),
            403: OpenApiResponse(DetailSerializer, description="The user lacks campaigns.view_campaignstatuschange."),
            429: OpenApiResponse(DetailSerializer, description="Throttled."),
        },
        examples=[
            OpenApiExample(
                "A page",
                value={
                    "results": [
                        {
                            "id": 812,
                            "cursor": "73155-812",
                            "campaign": 12,
                            "campaign_name": "Winter sale",
                            "brand": 3,
                            "brand_name": "Acme",
                            "created_at": "2026-11-24T12:00:00.123456Z",
                            "old_status": "ACTIVE",
                            "old_reason": "",
                            "new_status": "PAUSED_BY_SYSTEM",
                            "new_reason": "DAILY_BUDGET",
                            "actor": "system",
                            "user": None,
                            "source": "check_all_campaign_budgets",
                            "details": {"campaign_daily_spend": "200.00", "campaign_daily_budget": "200.00"},
                        }
                    ],
                    "next_cursor": "73155-812",
                    "has_more": False,
                },
                response_only=True,
            )
        ],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        after_text = request.query_params.get("after")
        try:
            after = feed_cursor_parse(after_text)
        except FeedCursorError as error:
            raise _bad("after", error.value, "is not a cursor: pass the next_cursor of an earlier page") from None
        page = status_changes_page(after=after, limit=_limit(request.query_params.get("limit")))
        return Response({"results": page.changes, "next_cursor": str(page.next_cursor), "has_more": page.has_more})
