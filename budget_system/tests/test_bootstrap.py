"""bin/bootstrap.py, run by bin/start: demo data and the admin user on the first start only."""

import importlib.util
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model

from brands.models import Brand
from brands.tests.factories import BrandFactory
from campaigns.models import Campaign
from spend.models import Spend

spec = importlib.util.spec_from_file_location("bootstrap", Path(settings.BASE_DIR) / "bin" / "bootstrap.py")
bootstrap = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bootstrap)

pytestmark = pytest.mark.django_db


def test_first_start_seeds_the_readme_demo_data():
    assert bootstrap.seed_demo_data_once() is True
    assert Brand.objects.count() == 2
    assert Campaign.objects.count() == 10
    assert Spend.objects.count() == 10 * 7
    assert set(Campaign.objects.values_list("daily_budget", "monthly_budget")) == {(75, 1500)}


def test_later_starts_add_no_demo_data():
    bootstrap.seed_demo_data_once()
    assert bootstrap.seed_demo_data_once() is False
    assert Brand.objects.count() == 2
    assert Campaign.objects.count() == 10


def test_a_database_with_brands_gets_no_demo_data():
    BrandFactory()
    assert bootstrap.seed_demo_data_once() is False
    assert Campaign.objects.count() == 0


def test_admin_gets_the_password_from_the_environment_once(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "chosen-by-ops-7")
    assert bootstrap.create_admin_once() == "chosen-by-ops-7"
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert admin.check_password("chosen-by-ops-7")

    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-later-value-8")
    assert bootstrap.create_admin_once() is None
    admin.refresh_from_db()
    assert admin.check_password("chosen-by-ops-7")


def test_admin_password_is_generated_when_none_is_given(monkeypatch):
    monkeypatch.delenv("DJANGO_SUPERUSER_PASSWORD", raising=False)
    password = bootstrap.create_admin_once()
    assert password and len(password) >= 12
    assert get_user_model().objects.get(username="admin").check_password(password)
