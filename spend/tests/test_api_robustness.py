"""The spend API under concurrent writers, hostile bodies, a hung broker and a vanishing campaign."""

import datetime as dt
import socket
import subprocess
import sys
import threading
import time

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from budget_system.timezones import local_date
from campaigns.models import Campaign
from campaigns.tests.factories import CampaignFactory
from spend import services
from spend.api import MAX_REPORTED_ERRORS
from spend.models import Spend
from spend.tests.test_api import SPEND_URL, client_for, with_permissions
from spend.tests.test_api_worker import point_celery_at, restore_celery


@pytest.fixture
def etl_user(django_user_model):
    return with_permissions(django_user_model.objects.create_user("etl-robust"), "add_spend", "change_spend")


def today_for(campaign) -> dt.date:
    return local_date(timezone.now(), campaign.brand.timezone)


def spend_item(campaign_id: int, day: dt.date, daily: str = "1.00", monthly: str = "9.00") -> dict:
    return {"campaign": campaign_id, "date": str(day), "daily_spend": daily, "monthly_spend": monthly}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_overlapping_posts_in_opposite_orders_do_not_deadlock(etl_user):
    brand = CampaignFactory().brand
    campaigns = Campaign.objects.bulk_create(Campaign(brand=brand, name=f"c{i}") for i in range(300))
    day = today_for(campaigns[0])
    forwards = [spend_item(c.pk, day - dt.timedelta(days=back)) for c in campaigns for back in range(3)]
    backwards = [dict(entry, daily_spend="2.00") for entry in reversed(forwards)]
    statuses, start = [], threading.Barrier(2)

    def post(client, body):
        try:
            start.wait()
            for _ in range(5):
                statuses.append(client.post(SPEND_URL, body, format="json").status_code)
        finally:
            connection.close()

    key = Token.objects.create(user=etl_user).key
    threads = []
    for body in (forwards, backwards):
        client = APIClient()  # one per thread, the same ETL user's token
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        threads.append(threading.Thread(target=post, args=(client, body)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 10
    assert Spend.objects.filter(campaign__brand=brand).count() == 900


@pytest.mark.django_db
def test_stray_keys_in_an_item_are_one_error(etl_user):
    campaign = CampaignFactory()
    item = spend_item(campaign.pk, today_for(campaign)) | {f"extra{i}": i for i in range(5000)}
    response = client_for(etl_user).post(SPEND_URL, [item], format="json")
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["field"] == "extra0"
    assert "unknown fields 'extra0', 'extra1', 'extra2', 'extra3', 'extra4' and 4995 more" in error["message"]


@pytest.mark.django_db
def test_a_body_of_bad_items_lists_at_most_a_thousand_errors(etl_user):
    body = [{"campaign": "x", "date": "y", "daily_spend": "z", "monthly_spend": "w"}] * 2000
    response = client_for(etl_user).post(SPEND_URL, body, format="json")
    assert response.status_code == 400
    assert len(response.json()["errors"]) == MAX_REPORTED_ERRORS
    assert response.json()["detail"] == "More than 1000 errors, the first listed; nothing was stored."
    assert not Spend.objects.exists()


@pytest.mark.django_db
def test_a_key_sent_twice_in_one_item_is_refused(etl_user):
    campaign = CampaignFactory()
    body = (
        f'[{{"campaign": {campaign.pk}, "date": "{today_for(campaign)}", '
        '"daily_spend": "100.00", "monthly_spend": "100.00", "daily_spend": "1.00"}]'
    )
    response = client_for(etl_user).post(SPEND_URL, body, content_type="application/json")
    assert response.status_code == 400
    assert "the key 'daily_spend' appears twice in one object" in response.json()["detail"]
    assert not Spend.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_campaign_deleted_between_check_and_commit_is_409_and_nothing_is_stored(etl_user, monkeypatch):
    campaign, other = CampaignFactory(), CampaignFactory()
    validate = services._Batcher.validate

    def validate_then_lose_the_campaign(self, batch):
        outcome = validate(self, batch)
        Campaign.objects.filter(pk=campaign.pk).delete()  # as an ops user would, meanwhile
        return outcome

    monkeypatch.setattr(services._Batcher, "validate", validate_then_lose_the_campaign)
    body = [spend_item(other.pk, today_for(other)), spend_item(campaign.pk, today_for(campaign))]
    response = client_for(etl_user).post(SPEND_URL, body, format="json")
    assert response.status_code == 409
    assert "nothing was stored: send it again" in response.json()["detail"]
    assert not Spend.objects.exists()


@pytest.fixture
def silent_broker():
    """A 'Redis' that accepts connections and never answers, with the production timeouts."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    accepted = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    saved = point_celery_at(
        f"redis://127.0.0.1:{server.getsockname()[1]}/0",
        broker_transport_options=settings.NETWORK_BROKER_TRANSPORT_OPTIONS,
    )
    yield accepted
    restore_celery(saved)
    stop.set()
    thread.join()
    for peer in accepted:
        peer.close()
    server.close()


@pytest.mark.django_db(transaction=True)
def test_a_broker_that_never_answers_holds_the_post_a_quarter_second_not_seconds(etl_user, silent_broker, caplog):
    campaign = CampaignFactory()
    started = time.monotonic()
    response = client_for(etl_user).post(SPEND_URL, [spend_item(campaign.pk, today_for(campaign))], format="json")
    elapsed = time.monotonic() - started
    assert silent_broker, "the request never reached the silent broker"
    assert response.status_code == 200
    assert response.json()["enforcement"] == "deferred to the periodic drain"
    assert Spend.objects.filter(campaign=campaign).exists()
    assert elapsed < 1, f"the POST was held {elapsed:.1f} s by a silent broker"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_database_lost_right_after_the_commit_answers_stored_and_deferred_not_an_error(etl_user, monkeypatch):
    from django.db import OperationalError

    from spend import api

    def database_gone(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(api, "brands_mark_pending", database_gone)
    campaign = CampaignFactory()
    response = client_for(etl_user).post(SPEND_URL, [spend_item(campaign.pk, today_for(campaign))], format="json")
    # The row is committed: a 503 "nothing was changed" would be false, and a client
    # trusting it would not send it again.
    assert response.status_code == 200
    assert response.json()["enforcement"] == "deferred to the next sweep"
    assert Spend.objects.filter(campaign=campaign).exists()


@pytest.mark.django_db(transaction=True)
def test_import_from_standard_input_reads_a_byte_order_mark_and_crlf(tmp_path):
    from conftest import _database_url_of_test_database

    if connection.vendor != "postgresql":
        pytest.skip("the command runs in its own process and needs the test database by URL (PostgreSQL)")
    campaign = CampaignFactory()
    day = today_for(campaign)
    csv_bytes = f"\ufeffcampaign,date,daily_spend,monthly_spend\r\n{campaign.pk},{day},3.00,3.00\r\n".encode()
    env = {
        "DJANGO_SETTINGS_MODULE": "budget_system.test_settings",
        "DATABASE_URL": _database_url_of_test_database(),
        "CELERY_BROKER_URL": "memory://",
        "PATH": "/usr/bin:/bin",
    }
    run = subprocess.run(
        [sys.executable, "manage.py", "import_spend", "-", "--no-progress"],
        input=csv_bytes,
        capture_output=True,
        cwd=settings.BASE_DIR,
        env=env,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr.decode()
    assert b"Imported 1 rows from -: 1 created" in run.stdout
    assert Spend.objects.get(campaign=campaign).daily_spend == 3
