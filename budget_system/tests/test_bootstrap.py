"""bin/bootstrap.py, run by bin/start: demo data and the admin user on the first start only."""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model

from brands.models import Brand
from brands.tests.factories import BrandFactory
from budget_system.tests.test_compose import container_like_env, load_compose
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


# --- As the compose `bootstrap` service runs it -----------------------------------------


def run_bootstrap(**extra: str) -> subprocess.CompletedProcess:
    command = [sys.executable, *load_compose()["services"]["bootstrap"]["command"][1:]]
    env = container_like_env()
    env.pop("DJANGO_SUPERUSER_PASSWORD", None)
    env.update(extra)
    result = subprocess.run(command, cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_first_start_script_run_twice_makes_one_admin_and_demo_data_once():
    first = run_bootstrap()
    password = re.search(r"Admin password \(generated, shown once\): (\S+)", first.stdout).group(1)
    assert "docker compose exec web python manage.py changepassword admin" in first.stdout
    brands = Brand.objects.count()
    assert brands == 2

    second = run_bootstrap()
    assert password not in second.stdout, "the password is printed once"
    assert "adding demo data" not in second.stdout
    assert Brand.objects.count() == brands
    admins = get_user_model().objects.filter(is_superuser=True)
    assert [user.username for user in admins] == ["admin"]
    assert admins.get().check_password(password)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_first_start_script_can_skip_demo_data_and_take_the_password_from_env():
    result = run_bootstrap(BOOTSTRAP_DEMO_DATA="false", DJANGO_SUPERUSER_PASSWORD="chosen-in-dotenv-9")
    assert "Admin password: the value of DJANGO_SUPERUSER_PASSWORD" in result.stdout
    assert "chosen-in-dotenv-9" not in result.stdout
    assert Brand.objects.count() == 0
    assert get_user_model().objects.get(username="admin").check_password("chosen-in-dotenv-9")


def test_a_misspelt_first_start_flag_stops_the_script(tmp_path):
    env = os.environ | {
        "BOOTSTRAP_DEMO_DATA": "nope",
        "DJANGO_SETTINGS_MODULE": "budget_system.test_settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'untouched.sqlite3'}",
    }
    result = subprocess.run(
        [sys.executable, "bin/bootstrap.py", "--no-collectstatic"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "BOOTSTRAP_DEMO_DATA='nope' is not a boolean" in result.stderr
