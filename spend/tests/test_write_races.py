"""Concurrent spend writers in one lock order: a multi-batch import racing an API post,
and a brand-page edit racing a sweep, both complete (no deadlock, no 500)."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from brands.tests.factories import BrandFactory
from campaigns.tests.factories import CampaignFactory
from conftest import wait_for
from spend.models import Spend
from spend.services import spend_ingest

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TODAY = datetime.datetime.now(datetime.UTC).date()


def waiting_for_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
        return cursor.fetchone()[0]


def item(campaign_id: int, amount: str) -> dict:
    return {"campaign": campaign_id, "date": str(TODAY), "daily_spend": amount, "monthly_spend": amount}


def test_a_multi_batch_import_racing_an_api_post_of_the_same_rows_both_complete(django_user_model):
    brand = BrandFactory(timezone="UTC")
    campaigns = [CampaignFactory(brand=brand) for _ in range(40)]
    user = django_user_model.objects.create_user("etl")
    user.user_permissions.add(*Permission.objects.filter(codename__in=["add_spend", "change_spend"]))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")

    # The file lists the highest ids first: its first batch covers the upper half.
    ordered = sorted(campaigns, key=lambda c: -c.pk)
    file_items = [(line, item(c.pk, "10.00")) for line, c in enumerate(ordered, start=2)]
    first_batch_written, post_is_waiting = threading.Event(), threading.Event()
    outcome: dict = {}

    def after_each_batch(count: int) -> None:
        if not first_batch_written.is_set():
            first_batch_written.set()
            post_is_waiting.wait(10)  # hold the first batch's locks while the API post runs

    def run_import():
        try:
            outcome["import"] = spend_ingest(
                items=iter(file_items),
                source="command",
                chunk_size=20,
                position_name="line",
                on_progress=after_each_batch,
            )
        except Exception as exc:  # noqa: BLE001  (the test reports it)
            outcome["import"] = exc
        finally:
            connection.close()

    def run_post():
        # All rows in one request, lowest ids first.
        outcome["post"] = client.post("/api/v1/spend/", [item(c.pk, "20.00") for c in campaigns], format="json")
        connection.close()

    importer = threading.Thread(target=run_import)
    importer.start()
    assert first_batch_written.wait(10)
    poster = threading.Thread(target=run_post)
    poster.start()
    # Either the post waits on the import's rows, or it has nothing to wait on and is done.
    wait_for(lambda: waiting_for_a_lock() >= 1 or not poster.is_alive(), timeout=10)
    post_is_waiting.set()
    importer.join(30)
    poster.join(30)

    assert not isinstance(outcome["import"], Exception), outcome["import"]
    assert outcome["post"].status_code == 200, outcome["post"].content
    # One of the two wrote last; every row holds one of the two reports, none is lost.
    assert Spend.objects.count() == 40
    assert set(Spend.objects.values_list("daily_spend", flat=True)) <= {Decimal("10.00"), Decimal("20.00")}


def test_a_brand_page_edit_racing_a_sweep_both_complete(staff_user, caplog):
    """The page saves its campaign rows by name; the sweep locks by id. Without one lock
    order the two would deadlock; the admin locks the brand's campaigns by id first."""
    from django.db.models.signals import post_save
    from django.test import Client

    from campaigns.models import Campaign
    from campaigns.tasks import check_all_campaign_budgets
    from campaigns.tests.test_admin import change_form_data, change_url

    brand = BrandFactory(timezone="UTC")
    zulu = CampaignFactory(brand=brand, name="Zulu", daily_budget=Decimal("50.00"))  # the lower id
    alpha = CampaignFactory(brand=brand, name="Alpha", daily_budget=Decimal("50.00"))
    client = Client()
    client.force_login(staff_user)
    page = client.get(change_url(brand))
    data = change_form_data(page)
    inline = next(i.formset for i in page.context["inline_admin_formsets"] if i.formset.model is Campaign)
    for form in inline.forms:
        data[form.add_prefix("daily_budget")] = "75.00"

    first_row_saved, sweep_is_waiting = threading.Event(), threading.Event()

    def hold_after_the_first_row(sender, instance, **kwargs):
        if threading.current_thread().name == "admin" and not first_row_saved.is_set():
            first_row_saved.set()
            sweep_is_waiting.wait(10)

    outcome: dict = {}

    def edit():
        outcome["edit"] = client.post(change_url(brand), data)
        connection.close()

    def sweep():
        try:
            outcome["sweep"] = check_all_campaign_budgets()
        except Exception as exc:  # noqa: BLE001  (the test reports it)
            outcome["sweep"] = exc
        finally:
            connection.close()

    post_save.connect(hold_after_the_first_row, sender=Campaign, dispatch_uid="race")
    try:
        editor = threading.Thread(target=edit, name="admin")
        editor.start()
        assert first_row_saved.wait(10)
        sweeper = threading.Thread(target=sweep)
        sweeper.start()
        wait_for(lambda: waiting_for_a_lock() >= 1 or not sweeper.is_alive(), timeout=10)
        sweep_is_waiting.set()
        editor.join(30)
        sweeper.join(30)
    finally:
        post_save.disconnect(dispatch_uid="race", sender=Campaign)

    assert outcome["edit"].status_code == 302, outcome["edit"].content[:2000]
    assert not isinstance(outcome["sweep"], Exception), outcome["sweep"]
    assert set(Campaign.objects.values_list("daily_budget", flat=True)) == {Decimal("75.00")}
    assert {zulu.pk, alpha.pk} == set(Campaign.objects.values_list("pk", flat=True))
    assert "retrying" not in caplog.text  # no deadlock to retry: one lock order
