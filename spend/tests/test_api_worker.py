"""Enforcement after a spend write through the real path: Redis and a Celery worker process.

These tests commit (transaction=True) so that the worker, another process with its
own connection to the test database, sees the rows. They use the real clock: the
worker cannot share a frozen one.
"""

import io
import os
import time
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from budget_system.celery import app
from budget_system.timezones import local_date
from campaigns.models import Campaign, CampaignStatusChange, PendingBrand
from campaigns.tasks import drain_pending_brands
from campaigns.tests.factories import CampaignFactory
from conftest import wait_for
from spend.models import Spend

SPEND_URL = "/api/v1/spend/"
_ENVIRONMENT_BROKER = "CELERY_BROKER_URL"


def point_celery_at(broker_url: str, **conf) -> dict:
    """Point this process's Celery app at another broker; return what to restore.

    Celery reads CELERY_BROKER_URL from the environment before its configuration
    (`app.conf.broker_url` is a property that prefers it), so a broker named there
    would win over `broker_url`: the variable is set to the new broker too.
    """
    keys = ("broker_url", "broker_transport_options", "broker_connection_timeout", *conf)
    saved = {key: app.conf[key] for key in keys}
    saved[_ENVIRONMENT_BROKER] = os.environ.get(_ENVIRONMENT_BROKER)
    os.environ[_ENVIRONMENT_BROKER] = broker_url
    app.conf.update(broker_url=broker_url, **conf)
    _forget_connections()
    return saved


def _forget_connections() -> None:
    # Celery caches the connection pool and producer pool of the first broker it used.
    app._pool = None
    app.amqp._producer_pool = None


def restore_celery(saved: dict) -> None:
    saved = dict(saved)
    environment_broker = saved.pop(_ENVIRONMENT_BROKER)
    if environment_broker is None:
        os.environ.pop(_ENVIRONMENT_BROKER, None)
    else:
        os.environ[_ENVIRONMENT_BROKER] = environment_broker
    app.conf.update(saved)
    _forget_connections()


@pytest.fixture
def etl(django_user_model):
    user = django_user_model.objects.create_user("etl")
    user.user_permissions.add(*Permission.objects.filter(codename__in=["add_spend", "change_spend"]))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def broker_down():
    # Port 1 on localhost refuses at once; one quick retry keeps the request short.
    saved = point_celery_at(
        "redis://127.0.0.1:1/0",
        broker_transport_options={"max_retries": 1, "interval_start": 0, "interval_step": 0.1},
        broker_connection_timeout=1,
    )
    yield
    restore_celery(saved)


def wait_for_status(campaign, status: str, *, worker) -> None:
    if not wait_for(lambda: Campaign.objects.filter(pk=campaign.pk, status=status).exists(), timeout=30):
        log = worker.log_path.read_text()[-4000:]
        pytest.fail(f"campaign {campaign.pk} is not {status}; worker log:\n{log}")
    campaign.refresh_from_db()


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_post_that_crosses_the_budget_is_paused_by_a_real_worker(etl, celery_worker_process):
    campaign = CampaignFactory(daily_budget=Decimal("100.00"))
    today = local_date(timezone.now(), campaign.brand.timezone)
    response = etl.post(
        SPEND_URL,
        [{"campaign": campaign.pk, "date": str(today), "daily_spend": "100.00", "monthly_spend": "100.00"}],
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["enforcement"] == "queued"
    wait_for_status(campaign, "PAUSED_BY_SYSTEM", worker=celery_worker_process)
    assert campaign.pause_reason == "DAILY_BUDGET"
    change = CampaignStatusChange.objects.get(campaign=campaign)
    assert (change.source, change.actor, change.new_reason) == ("api", "system", "DAILY_BUDGET")


@pytest.mark.django_db(transaction=True)
def test_with_the_broker_down_the_post_succeeds_fast_and_the_drain_catches_up(etl, broker_down, caplog):
    campaign = CampaignFactory(daily_budget=Decimal("100.00"))
    today = local_date(timezone.now(), campaign.brand.timezone)
    started = time.monotonic()
    response = etl.post(
        SPEND_URL,
        [{"campaign": campaign.pk, "date": str(today), "daily_spend": "150.00", "monthly_spend": "150.00"}],
        format="json",
    )
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert response.json()["enforcement"] == "deferred to the periodic drain"
    assert elapsed < 5, f"the POST took {elapsed:.1f}s with the broker down"
    assert Spend.objects.get(campaign=campaign).daily_spend == Decimal("150.00")
    assert "could not send drain_pending_brands (source api)" in caplog.text
    assert list(PendingBrand.objects.values_list("brand_id", flat=True)) == [campaign.brand_id]  # kept
    campaign.refresh_from_db()
    assert campaign.status == "ACTIVE"  # nothing enforced yet...

    drain_pending_brands(source="drain_pending_brands")  # ...until beat's drain runs
    campaign.refresh_from_db()
    assert (campaign.status, campaign.pause_reason) == ("PAUSED_BY_SYSTEM", "DAILY_BUDGET")


@pytest.mark.django_db(transaction=True)
def test_with_the_broker_down_the_import_applies_the_rule_itself(broker_down, tmp_path):
    campaign = CampaignFactory(daily_budget=Decimal("100.00"))
    today = local_date(timezone.now(), campaign.brand.timezone)
    path = tmp_path / "spend.csv"
    path.write_text(f"campaign,date,daily_spend,monthly_spend\n{campaign.pk},{today},100.00,100.00\n")
    out = io.StringIO()
    call_command("import_spend", str(path), stdout=out, stderr=io.StringIO(), skip_checks=True)
    assert "broker unreachable: the rule was applied in-process for 1 brand(s)" in out.getvalue()
    campaign.refresh_from_db()
    assert (campaign.status, campaign.pause_reason) == ("PAUSED_BY_SYSTEM", "DAILY_BUDGET")
    assert CampaignStatusChange.objects.get(campaign=campaign).source == "command"
