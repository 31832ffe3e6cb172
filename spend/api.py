"""`POST /api/v1/spend/`: an external ETL reports spend (SPEC §8).

The view is a thin caller of `spend.services.spend_ingest`; the serializers here only
describe the request and the responses for the OpenAPI schema. Items are validated by
the service, not by a serializer per item, so that 10,000 items cost milliseconds and
the messages are the same as those of `import_spend`.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django.conf import settings
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.exceptions import APIException, ParseError, UnsupportedMediaType
from rest_framework.parsers import BaseParser
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from budget_system.hostile_text import first_unstorable, printable
from budget_system.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS
from budget_system.throttling import UserRateThrottle
from campaigns.enforcement import DrainRequested, brands_mark_pending
from spend.models import SPEND_DATE_FLOOR
from spend.services import (
    CENT,
    MAX_ID,
    MONEY_LIMIT,
    Enforcement,
    SpendValidationError,
    SpendWriteConflict,
    spend_ingest,
)

SPEND_PERMISSIONS = ("spend.add_spend", "spend.change_spend")
# Errors listed in one 400: enough to fix a feed, too few to turn a bad body into a huge reply.
MAX_REPORTED_ERRORS = 1000
# Generous per item (a pretty-printed item is about 120 bytes); the body is refused
# before it is parsed when it could not be a list of at most SPEND_API_MAX_ITEMS.
BODY_BYTES_PER_ITEM = 512


def max_items() -> int:
    return settings.SPEND_API_MAX_ITEMS


def max_body_bytes() -> int:
    return max_items() * BODY_BYTES_PER_ITEM + 1024


# --- Request handling pieces ---------------------------------------------------------


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request has too many spend items."
    default_code = "too_many_items"


class MalformedJSON(ParseError):
    def __init__(self, detail: str, excerpt: str) -> None:
        super().__init__(detail)
        self.excerpt = excerpt


class UnstorableText(ParseError):
    """A string in the body (a value or a key) holds NUL or a lone UTF-16 surrogate."""

    def __init__(self, path: tuple[Any, ...], text: str, reason: str) -> None:
        self.index = path[0] if path and isinstance(path[0], int) else None
        self.field = printable(str(path[1])) if len(path) > 1 else ("item" if self.index is not None else "body")
        self.value = printable(text)
        self.message = f"{self.field} holds {reason}, which cannot be stored: remove it"
        super().__init__(self.message)

    def as_error(self) -> dict[str, Any]:
        return {"index": self.index, "field": self.field, "value": self.value, "message": self.message}


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number")


def _object_without_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json keeps the last of a repeated key silently; a feed that sends a field twice
    # has a bug that should be seen, not half its figures stored.
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"the key {key!r} appears twice in one object")
        seen[key] = value
    return seen


class DecimalJSONParser(BaseParser):
    """JSON whose numbers become Decimal, never float, with a cap on the body size.

    Not a subclass of DRF's JSONParser on purpose: DRF buffers a JSONParser's body
    through `request.body` (Django's 2.5 MB upload cap); here the cap follows
    SPEND_API_MAX_ITEMS instead, and a too-large body is refused with 413 unread.
    """

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        limit = max_body_bytes()
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise PayloadTooLarge(
                f"The body is larger than {limit} bytes: send at most {max_items()} spend items per request."
            )
        try:
            text = raw.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise MalformedJSON(f"Malformed JSON: the body is not valid {encoding}: {exc}", "") from None
        try:
            data = json.loads(
                text, parse_float=Decimal, parse_constant=_reject_constant, object_pairs_hook=_object_without_repeats
            )
        except json.JSONDecodeError as exc:
            excerpt = text[max(exc.pos - 20, 0) : exc.pos + 20]
            raise MalformedJSON(
                f"Malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}.", excerpt
            ) from None
        except (ValueError, RecursionError) as exc:  # NaN/Infinity, an absurdly long integer, deep nesting
            raise MalformedJSON(f"Malformed JSON: {printable(str(exc))}", "") from None
        # "\u0000" and "\ud800" are valid JSON escapes but no PostgreSQL text, and a
        # message echoing a lone surrogate could not even be encoded: refused here,
        # before any value reaches the checks, a query or an error message.
        found = first_unstorable(data)
        if found is not None:
            raise UnstorableText(*found)
        return data


class CanIngestSpend(BasePermission):
    message = "This user needs the spend.add_spend and spend.change_spend permissions to report spend."

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.has_perms(SPEND_PERMISSIONS))


class SpendIngestThrottle(UserRateThrottle):
    """Per-user rate for spend posts, apart from the general `user` rate.

    The rate is `DEFAULT_THROTTLE_RATES["spend_ingest"]`, falling back to the `user`
    rate. Counted atomically (budget_system.throttling), so a burst of concurrent
    posts admits exactly the rate.
    """

    scope = "spend_ingest"

    def get_rate(self) -> str | None:
        rates = api_settings.DEFAULT_THROTTLE_RATES
        return rates.get(self.scope) or rates.get("user")


# --- Schema serializers ----------------------------------------------------------------

# What each field accepts, as the service reads it (spend.services). Strings are
# described in their canonical form; surrounding whitespace is tolerated.
MONEY_PATTERN = rf"^[0-9]{{1,{MONEY_MAX_DIGITS - MONEY_DECIMAL_PLACES}}}(\.[0-9]{{1,{MONEY_DECIMAL_PLACES}}})?$"
MONEY_SCHEMA = {
    "oneOf": [
        {"type": "string", "pattern": MONEY_PATTERN, "example": "12.50"},
        # Read exactly as a decimal (the parser never makes a float of it).
        {"type": "number", "minimum": 0, "maximum": float(MONEY_LIMIT - CENT), "multipleOf": float(CENT)},
    ]
}
CAMPAIGN_SCHEMA = {
    "oneOf": [
        {"type": "integer", "minimum": 1, "maximum": MAX_ID},
        {"type": "string", "pattern": "^[0-9]{1,19}$"},
    ]
}
# Years 2000 to 9999, as YYYY-MM-DD.
DATE_SCHEMA = {"type": "string", "format": "date", "pattern": "^[2-9][0-9]{3}-[0-9]{2}-[0-9]{2}$"}


@extend_schema_field(MONEY_SCHEMA)
class MoneySchemaField(serializers.Field):
    """USD as a decimal string or a JSON number, at most 2 decimal places (schema only)."""


@extend_schema_field(CAMPAIGN_SCHEMA)
class CampaignIdSchemaField(serializers.Field):
    """A campaign id as a JSON integer or a string of digits (schema only)."""


@extend_schema_field(DATE_SCHEMA)
class SpendDateSchemaField(serializers.Field):
    """A spend date, YYYY-MM-DD, from 2000-01-01 (schema only)."""


class SpendItemSerializer(serializers.Serializer):
    campaign = CampaignIdSchemaField(help_text="The campaign's id (a whole number, or a string of digits).")
    date = SpendDateSchemaField(
        help_text=f"A day of the brand's calendar (its timezone), from {SPEND_DATE_FLOOR} up to the brand's today."
    )
    daily_spend = MoneySchemaField(
        help_text='USD spent that day: a decimal string like "12.50" or a JSON number like 12.5, '
        "at most 2 decimal places, never negative."
    )
    monthly_spend = MoneySchemaField(
        help_text="USD spent from the 1st of the month up to and including that day (string or number, "
        "as daily_spend); at least daily_spend.",
    )


class SpendIngestResultSerializer(serializers.Serializer):
    received = serializers.IntegerField(help_text="Items in the request.")
    created = serializers.IntegerField(help_text="New (campaign, date) rows.")
    updated = serializers.IntegerField(help_text="Rows whose figures were replaced.")
    unchanged = serializers.IntegerField(help_text="Rows that already held these figures (a replay).")
    brand_ids = serializers.ListField(
        child=serializers.IntegerField(), help_text="Brands whose campaigns the rule is applied to now."
    )
    enforcement = serializers.CharField(
        help_text='"queued" when the brands were handed to the enforcement drain; "deferred to the periodic '
        'drain" when the broker could not be reached (the spend is stored and the brands stay pending: '
        'the drain that beat runs every minute enforces them); "deferred to the next sweep" when the '
        "database failed just after the spend was stored (the 10-minute sweep enforces them)."
    )


class ItemErrorSerializer(serializers.Serializer):
    index = serializers.IntegerField(allow_null=True, help_text="The item's position in the list, from 0.")
    field = serializers.CharField()
    value = serializers.JSONField(allow_null=True, help_text="The value as received.")
    message = serializers.CharField()


class SpendErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    errors = ItemErrorSerializer(many=True)


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()


def _error(status_code: int, detail: str, errors: list[dict[str, Any]]) -> Response:
    return Response({"detail": detail, "errors": errors}, status=status_code)


def _body_error(status_code: int, detail: str, value: Any) -> Response:
    return _error(status_code, detail, [{"index": None, "field": "body", "value": value, "message": detail}])


class SpendIngestView(APIView):
    # Token first: DRF answers 401 (not 403) only when the first authenticator can
    # name a WWW-Authenticate scheme. Sessions let staff try it in the browsable API.
    authentication_classes = [TokenAuthentication, SessionAuthentication]
    permission_classes = [CanIngestSpend]
    throttle_classes = [SpendIngestThrottle]
    parser_classes = [DecimalJSONParser]

    @extend_schema(
        operation_id="spend_report",
        summary="Report spend (upsert on campaign and date)",
        description=(
            "A JSON list of spend items. Each (campaign, date) row is inserted or replaced; all items "
            "are checked first and nothing is stored if any is bad. After the write, the budget rule "
            "is applied to every campaign of each brand touched. Needs a token whose user has the "
            "spend.add_spend and spend.change_spend permissions. At most SPEND_API_MAX_ITEMS "
            "(default 10,000) items per request."
        ),
        request=SpendItemSerializer(many=True),
        responses={
            200: SpendIngestResultSerializer,
            400: OpenApiResponse(SpendErrorSerializer, description="Bad items (each named) or a malformed body."),
            401: OpenApiResponse(DetailSerializer, description="No valid token."),
            403: OpenApiResponse(DetailSerializer, description="The user lacks the spend permissions."),
            413: OpenApiResponse(SpendErrorSerializer, description="Too many items, or too large a body."),
            409: OpenApiResponse(DetailSerializer, description="The data changed while writing; nothing stored."),
            415: OpenApiResponse(DetailSerializer, description="The body is not application/json."),
            429: OpenApiResponse(DetailSerializer, description="Throttled (see the Retry-After header)."),
            503: OpenApiResponse(
                DetailSerializer, description="The database is unavailable; nothing stored. Retry after Retry-After."
            ),
        },
        examples=[
            OpenApiExample(
                "One campaign's day",
                # drf-spectacular wraps the example of a list body in a list itself.
                value={"campaign": 1, "date": "2026-11-24", "daily_spend": "12.50", "monthly_spend": "812.50"},
                request_only=True,
            )
        ],
    )
    def post(self, request: Request) -> Response:
        # DRF reads a body without a content type, or an empty one, as {}: say what is wrong instead.
        if request.META.get("CONTENT_LENGTH") in (None, "", "0"):
            return _body_error(status.HTTP_400_BAD_REQUEST, "The body is empty: send a JSON list of spend items.", None)
        if not request.content_type:
            raise UnsupportedMediaType("", detail="Send the body as JSON, with Content-Type: application/json.")
        try:
            items = request.data
        except MalformedJSON as exc:
            return _body_error(status.HTTP_400_BAD_REQUEST, str(exc.detail), exc.excerpt)
        except UnstorableText as exc:
            where = f"Item {exc.index}" if exc.index is not None else "The body"
            detail = f"{where} holds text that cannot be stored; nothing was stored."
            return _error(status.HTTP_400_BAD_REQUEST, detail, [exc.as_error()])
        except PayloadTooLarge as exc:
            return _body_error(exc.status_code, str(exc.detail), None)
        if not isinstance(items, list):
            detail = f"The body must be a JSON list of spend items, not {_json_type(items)}."
            return _body_error(status.HTTP_400_BAD_REQUEST, detail, _json_type(items))
        if len(items) > max_items():
            detail = f"{len(items)} items is more than the {max_items()} allowed per request; split the list."
            return _body_error(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, detail, len(items))
        try:
            result = spend_ingest(
                items=enumerate(items),
                source="api",
                chunk_size=max(len(items), 1),
                max_errors=MAX_REPORTED_ERRORS,
                on_committed=_enforce_brands_later,
            )
        except SpendValidationError as exc:
            bad_items = len({e.position for e in exc.errors})
            detail = f"{bad_items} of {len(items)} items are invalid; nothing was stored."
            if exc.truncated:
                detail = f"More than {MAX_REPORTED_ERRORS} errors, the first listed; nothing was stored."
            return _error(status.HTTP_400_BAD_REQUEST, detail, [e.as_dict("index") for e in exc.errors])
        except SpendWriteConflict as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(result.as_dict(), status=status.HTTP_200_OK)


def spend_schema_limits(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular hook: the limits the server enforces that serializers cannot say.

    Unknown fields in an item are refused (additionalProperties: false), and a request
    carries at most SPEND_API_MAX_ITEMS items (maxItems; more is a 413).
    """
    item = result.get("components", {}).get("schemas", {}).get("SpendItem")
    if item is not None:
        item["additionalProperties"] = False
    operation = result.get("paths", {}).get("/api/v1/spend/", {}).get("post")
    if operation is not None:
        body = operation["requestBody"]["content"]["application/json"]["schema"]
        body["maxItems"] = max_items()
    return result


def _enforce_brands_later(brand_ids: list[int]) -> str:
    """Mark the brands pending for the enforcement drain (after the spend committed)."""
    requested = brands_mark_pending(brand_ids=brand_ids, source="api")
    return Enforcement.DEFERRED if requested == DrainRequested.BROKER_DOWN else Enforcement.QUEUED


def _json_type(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, Decimal)):
        return "a number"
    if value is None:
        return "null"
    return type(value).__name__
