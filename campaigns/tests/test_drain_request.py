"""The drain request flag on every backend (SQLite included): a refused send is asked again soon."""

import pytest
import time_machine
from django.utils import timezone

from brands.tests.factories import BrandFactory
from budget_system import celery as celery_module
from campaigns import enforcement
from campaigns.enforcement import DrainRequested
from campaigns.models import DrainRequest, PendingBrand


@pytest.mark.django_db
def test_a_refused_send_is_recorded_and_posts_say_deferred_until_a_send_succeeds(monkeypatch):
    def broker_down(signature, **_):
        raise OSError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(celery_module, "send_quickly", broker_down)
    brand = BrandFactory()
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        assert enforcement.brands_mark_pending(brand_ids=[brand.pk], source="api") == DrainRequested.BROKER_DOWN
        assert DrainRequest.objects.get().send_failed
        traveller.shift(enforcement.DRAIN_REQUEST_RETRY_SECONDS - 1)
        # Within the retry interval posts do not each pay a failed send, and say deferred.
        assert enforcement.brands_mark_pending(brand_ids=[brand.pk], source="api") == DrainRequested.BROKER_DOWN
        monkeypatch.setattr(celery_module, "send_quickly", lambda signature, **_: None)
        traveller.shift(2)
        assert enforcement.brands_mark_pending(brand_ids=[brand.pk], source="api") == DrainRequested.REQUESTED
        assert enforcement.brands_mark_pending(brand_ids=[brand.pk], source="api") == DrainRequested.ALREADY
        assert not DrainRequest.objects.get().send_failed
    assert PendingBrand.objects.filter(brand=brand).exists()  # nothing was forgotten meanwhile
