"""Text PostgreSQL cannot store or compare, and absurd dates: a clear 400, never a 500.

Each case here was a 500 before (NUL in an admin filter or autocomplete term, a year
past 9998 in an admin drill-down, a lone surrogate in a JSON body).
"""

import json

import pytest
from django.contrib import admin
from django.urls import reverse
from rest_framework.test import APIClient

from budget_system.middleware import DATE_PART_RANGES
from campaigns.tests.factories import CampaignFactory
from spend.tests.factories import SpendFactory

pytestmark = pytest.mark.django_db


def changelists() -> list[tuple[str, admin.ModelAdmin]]:
    return [
        (reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"), model_admin)
        for model, model_admin in admin.site._registry.items()
    ]


def date_filter_fields(model_admin: admin.ModelAdmin) -> list[str]:
    """The fields of a list's date hierarchy and date filters."""
    fields = [model_admin.date_hierarchy] if model_admin.date_hierarchy else []
    for entry in model_admin.list_filter:
        name = entry if isinstance(entry, str) else entry[0] if isinstance(entry, tuple) else None
        if name and model_admin.model._meta.get_field(name.split("__")[0]).get_internal_type() in {
            "DateField",
            "DateTimeField",
        }:
            fields.append(name)
    return fields


def filter_parameters(model_admin: admin.ModelAdmin) -> list[str]:
    names = []
    for entry in model_admin.list_filter:
        if isinstance(entry, str):
            names += [entry, f"{entry}__exact"]
        elif isinstance(entry, tuple):
            names.append(f"{entry[0]}__id__exact")
        else:
            names.append(entry.parameter_name)
    return names


@pytest.fixture
def some_rows():
    SpendFactory(campaign=CampaignFactory())


DATED_LISTS = [(url, field) for url, model_admin in changelists() for field in date_filter_fields(model_admin)]


def test_every_list_with_dates_is_covered():
    covered = {url for url, _ in DATED_LISTS}
    assert {"/admin/spend/spend/", "/admin/campaigns/campaignstatuschange/"} <= covered
    assert "/admin/django_celery_beat/periodictask/" in covered  # third-party lists too


@pytest.mark.parametrize(("url", "field"), DATED_LISTS)
@pytest.mark.parametrize(
    "query",
    [
        "{f}__year=99999999",
        "{f}__year=9999",
        "{f}__year=9999&{f}__month=12",
        "{f}__year=9999&{f}__month=12&{f}__day=31",
    ],
)
def test_an_absurd_year_in_a_date_drill_down_or_filter_is_a_clear_400(staff_client, some_rows, url, field, query):
    response = staff_client.get(f"{url}?{query.format(f=field)}")
    assert response.status_code == 400
    assert f"is not a year the admin can show: use a whole number from 1 to {DATE_PART_RANGES['year'][1]}" in (
        response.content.decode()
    )


@pytest.mark.parametrize(("url", "field"), DATED_LISTS)
def test_a_real_year_still_drills_down(staff_client, some_rows, url, field):
    assert staff_client.get(f"{url}?{field}__year=2026").status_code == 200
    assert staff_client.get(f"{url}?{field}__year=9998&{field}__month=12&{field}__day=31").status_code == 200


@pytest.mark.parametrize("query", ["created_at__year=99999999", "created_at__month=13", "created_at__day=-1"])
def test_an_absurd_date_part_on_a_list_without_a_drill_down_is_a_400_too(staff_client, query):
    assert staff_client.get(f"/admin/campaigns/campaign/?{query}").status_code == 400


@pytest.mark.parametrize(
    ("url", "parameter"),
    [(url, name) for url, model_admin in changelists() for name in [*filter_parameters(model_admin), "q"]],
)
def test_a_nul_in_an_admin_filter_or_search_is_a_clear_400(staff_client, some_rows, url, parameter):
    response = staff_client.get(f"{url}?{parameter}=a%00b")
    assert response.status_code == 400
    page = response.content.decode()
    assert f"The query string parameter &#x27;{parameter}&#x27; holds a NUL character (\\x00) at position 1" in page
    assert response["Content-Type"] == "text/html; charset=utf-8"


@pytest.mark.parametrize(
    "query",
    [
        "term=%00&app_label=campaigns&model_name=campaign&field_name=brand",
        "term=x%00&app_label=spend&model_name=spend&field_name=campaign",
        "term=x&app_label=%00&model_name=campaign&field_name=brand",
    ],
)
def test_a_nul_in_an_autocomplete_query_is_a_400(staff_client, query):
    assert staff_client.get(f"/admin/autocomplete/?{query}").status_code == 400


def test_a_nul_in_an_admin_form_field_is_a_400(staff_client):
    response = staff_client.post("/admin/campaigns/campaign/", {"action": "pause_selected", "_selected_action": "\x00"})
    assert response.status_code == 400
    assert "The form field &#x27;_selected_action&#x27; holds a NUL character" in response.content.decode()


def test_a_nul_in_the_url_path_is_a_400(staff_client):
    assert staff_client.get("/admin/campaigns/campaign/%00/change/").status_code == 400


# --- The API ----------------------------------------------------------------------------


def test_a_nul_in_an_api_query_string_is_a_json_400_naming_it():
    response = APIClient().get("/api/v1/campaigns/?status=ACTIVE%00")
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error == {
        "field": "status",
        "where": "query string parameter",
        "value": "ACTIVE\\u0000",
        "message": "The query string parameter 'status' holds a NUL character (\\x00) at position 6, "
        "which cannot be stored or searched: remove it.",
    }


def test_a_nul_in_the_token_header_is_a_400_not_a_database_error():
    response = APIClient().get("/api/v1/campaigns/", HTTP_AUTHORIZATION="Token abc\x00def")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "Authorization"


@pytest.fixture
def etl(django_user_model):
    from spend.tests.test_api import client_for, with_permissions

    return client_for(with_permissions(django_user_model.objects.create_user("etl"), "add_spend", "change_spend"))


def post_text(client, text: str):
    return client.post("/api/v1/spend/", text, content_type="application/json")


@pytest.mark.parametrize(
    ("body", "index", "field", "value", "says"),
    [
        (
            '[{"campaign": 1, "date": "2026-01-01", "daily_spend": "\\ud800", "monthly_spend": "1"}]',
            0,
            "daily_spend",
            "\\ud800",
            "daily_spend holds a lone UTF-16 surrogate (\\ud800) at position 0, which cannot be stored: remove it",
        ),
        (
            '[{}, {"campaign": "1\\u0000", "date": "2026-01-01"}]',
            1,
            "campaign",
            "1\\u0000",
            "campaign holds a NUL character (\\x00) at position 1, which cannot be stored: remove it",
        ),
        ('[{"\\udfff": 1}]', 0, "\\udfff", "\\udfff", "holds a lone UTF-16 surrogate (\\udfff) at position 0"),
        ('["\\ud800"]', 0, "item", "\\ud800", "item holds a lone UTF-16 surrogate"),
        ('"\\ud800x"', None, "body", "\\ud800x", "body holds a lone UTF-16 surrogate"),
        ("[[[[" * 50 + '"\\u0000"' + "]]]]" * 50, 0, "0", "\\u0000", "holds a NUL character"),
    ],
)
def test_text_postgresql_cannot_store_in_a_json_body_is_a_400_naming_the_item_and_field(
    etl, body, index, field, value, says
):
    response = post_text(etl, body)
    assert response.status_code == 400
    json.loads(response.content.decode("utf-8"))  # the answer itself is valid UTF-8 JSON
    (error,) = response.json()["errors"]
    assert (error["index"], error["field"], error["value"]) == (index, field, value)
    assert says in error["message"]
    assert "nothing was stored" in response.json()["detail"]


def test_a_surrogate_in_a_body_that_is_not_spend_items_is_still_400(etl):
    response = post_text(etl, '{"\\ud800": "\\udc00"}')
    assert response.status_code == 400
