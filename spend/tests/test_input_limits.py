"""Loose input: spend dates from 2000-01-01 to the brand's today (API, CSV, admin and a
check constraint), exact money as string or number, and a schema that says so."""

import datetime as dt
import importlib
import io
from decimal import Decimal

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from campaigns.tests.factories import CampaignFactory
from spend.models import SPEND_DATE_FLOOR, Spend
from spend.tests.test_admin import spend_form
from spend.tests.test_api import client_for, with_permissions

NOW = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)
SPEND_URL = "/api/v1/spend/"

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]


@pytest.fixture
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def etl(django_user_model):
    return client_for(with_permissions(django_user_model.objects.create_user("etl"), "add_spend", "change_spend"))


def post_one(etl, campaign, *, date="2026-11-24", daily="1.00", monthly="1.00"):
    item = {"campaign": campaign.pk, "date": date, "daily_spend": daily, "monthly_spend": monthly}
    return etl.post(SPEND_URL, [item], format="json")


@pytest.mark.parametrize(
    ("date", "says"),
    [
        ("0001-01-01", "date '0001-01-01' is before 2000-01-01: spend dates start on 2000-01-01"),
        ("1999-12-31", "date '1999-12-31' is before 2000-01-01"),
        ("10000-01-01", "date '10000-01-01' has a year beyond 9999: spend dates run from 2000-01-01"),
        ("99999999-12-31", "has a year beyond 9999"),
        ("9999-12-31", "date 9999-12-31 is after today (2026-11-24)"),
    ],
)
def test_a_date_outside_2000_to_today_is_a_400_naming_it(etl, date, says):
    campaign = CampaignFactory()
    response = post_one(etl, campaign, date=date)
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert (error["field"], error["value"]) == ("date", date)
    assert says in error["message"]
    assert not Spend.objects.exists()


def test_the_first_day_of_2000_is_accepted(etl):
    assert post_one(etl, CampaignFactory(), date=str(SPEND_DATE_FLOOR)).status_code == 200
    assert Spend.objects.get().date == SPEND_DATE_FLOOR


@pytest.mark.parametrize(
    ("daily", "monthly", "stored"),
    [(12.5, "12.50", "12.50"), (7, 100.25, "7.00"), (Decimal("1E+2"), "100", "100.00")],
)
def test_money_may_be_a_json_number_or_a_decimal_string_and_stays_exact(etl, daily, monthly, stored):
    campaign = CampaignFactory()
    assert post_one(etl, campaign, daily=daily, monthly=monthly).status_code == 200
    assert str(Spend.objects.get().daily_spend) == stored


@pytest.mark.parametrize(
    ("raw", "says"),
    [("-0", "is negative"), ("-0.00", "is negative"), (12.345, "more than 2 decimal places")],
)
def test_money_that_is_negative_even_as_minus_zero_or_over_precise_is_refused(etl, raw, says):
    response = post_one(etl, CampaignFactory(), daily=raw, monthly="20.00")
    assert response.status_code == 400
    assert says in response.json()["errors"][0]["message"]


def test_a_huge_json_number_is_refused_not_rounded(etl):
    campaign = CampaignFactory()
    body = f'[{{"campaign": {campaign.pk}, "date": "2026-11-24", "daily_spend": 1e400, "monthly_spend": 1e400}}]'
    response = etl.post(SPEND_URL, body, content_type="application/json")
    assert response.status_code == 400
    assert "is too large: at most 999999999999.99" in response.json()["errors"][0]["message"]


def test_a_csv_row_dated_before_2000_is_named_and_nothing_is_imported(tmp_path):
    campaign = CampaignFactory()
    path = tmp_path / "spend.csv"
    path.write_text(
        f"campaign,date,daily_spend,monthly_spend\n{campaign.pk},2026-11-24,1,1\n{campaign.pk},1999-12-31,1,1\n"
    )
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 error"):
        call_command("import_spend", str(path), stdout=io.StringIO(), stderr=err, skip_checks=True)
    assert "line 3: date '1999-12-31' is before 2000-01-01" in err.getvalue()
    assert not Spend.objects.exists()


def test_a_csv_field_with_a_nul_is_named(tmp_path):
    campaign = CampaignFactory()
    path = tmp_path / "spend.csv"
    path.write_text(f"campaign,date,daily_spend,monthly_spend\n{campaign.pk},2026-11-24,1\x00,1\n")
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 error"):
        call_command("import_spend", str(path), stdout=io.StringIO(), stderr=err, skip_checks=True)
    assert "line 2: daily_spend holds a NUL character (\\x00) at position 1, which cannot be stored" in err.getvalue()


@pytest.mark.postgres
def test_the_admin_refuses_a_date_before_2000_naming_it(staff_client):
    campaign = CampaignFactory()
    data = spend_form(staff_client, campaign=campaign.pk, date="1999-12-31", daily_spend="1", monthly_spend="1")
    response = staff_client.post(reverse("admin:spend_spend_add"), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["date"] == [
        "date 1999-12-31 is before 2000-01-01: spend dates start on 2000-01-01."
    ]
    data["date"] = "99999-01-01"
    response = staff_client.post(reverse("admin:spend_spend_add"), data)
    assert response.context["adminform"].form.errors["date"] == ["Enter a valid date."]
    assert not Spend.objects.exists()


def test_the_database_refuses_a_date_before_2000_written_straight_to_the_table():
    campaign = CampaignFactory()
    with pytest.raises(IntegrityError, match="spend_date_from_2000"), transaction.atomic():
        Spend.objects.create(campaign=campaign, date=dt.date(1999, 12, 31), daily_spend=1, monthly_spend=1)


@pytest.mark.postgres
def test_the_migration_stops_and_names_rows_dated_before_2000():
    migration = importlib.import_module("spend.migrations.0002_spend_date_from_2000")
    campaign = CampaignFactory()
    with connection.cursor() as cursor:  # as before the migration: no constraint (rolled back with the test)
        cursor.execute("ALTER TABLE spend_spend DROP CONSTRAINT spend_date_from_2000")
    early = Spend.objects.create(campaign=campaign, date=dt.date(1, 1, 1), daily_spend=1, monthly_spend=1)

    class Editor:
        connection = connection

    from django.apps import apps

    with pytest.raises(RuntimeError) as refused:
        migration.refuse_rows_before_the_floor(apps, Editor())
    assert f"1 spend row(s) are dated before 2000-01-01, which spend dates may no longer be: id {early.pk}" in str(
        refused.value
    )
    assert "then run migrate again" in str(refused.value)


# --- What the schema says ----------------------------------------------------------------


def spend_schema(client):
    return client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()


def test_the_schema_says_money_is_a_decimal_string_or_a_number(client):
    item = spend_schema(client)["components"]["schemas"]["SpendItem"]
    for field in ("daily_spend", "monthly_spend"):
        string, number = item["properties"][field]["oneOf"]
        assert string == {"type": "string", "pattern": "^[0-9]{1,12}(\\.[0-9]{1,2})?$", "example": "12.50"}
        assert number == {"type": "number", "minimum": 0, "maximum": 999999999999.99, "multipleOf": 0.01}
    assert item["properties"]["campaign"]["oneOf"] == [
        {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
        {"type": "string", "pattern": "^[0-9]{1,19}$"},
    ]
    assert item["properties"]["date"]["pattern"] == "^[2-9][0-9]{3}-[0-9]{2}-[0-9]{2}$"
    assert item["additionalProperties"] is False


def test_the_schema_says_how_many_items_a_request_may_carry(client, settings):
    settings.SPEND_API_MAX_ITEMS = 250
    body = spend_schema(client)["paths"]["/api/v1/spend/"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"]["maxItems"] == 250
