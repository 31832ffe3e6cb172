"""Prepare the database before bin/start runs the processes.

Migrates, adds demo data and an `admin` superuser the first time only, and collects
static files when DEBUG is off (with DEBUG on, whitenoise serves them from the apps).
One Python process does it all, so a restart costs one Django start-up, not five.
"""

import os
import secrets
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

DEMO_DATA_ARGS = [
    "--brands=2",
    "--campaigns=10",
    "--spend-days=7",
    "--daily-budget=75",
    "--monthly-budget=1500",
]
ADMIN_USERNAME = "admin"


def seed_demo_data_once() -> bool:
    """Seed when the database holds no brand yet; the demo data is for a first look."""
    from django.core.management import call_command

    from brands.models import Brand

    if Brand.objects.exists():
        return False
    print("First start: adding demo data (seed_data " + " ".join(DEMO_DATA_ARGS) + ")", flush=True)
    call_command("seed_data", *DEMO_DATA_ARGS)
    return True


def create_admin_once() -> str | None:
    """Create the `admin` superuser if missing; return the password when one was made.

    The password comes from DJANGO_SUPERUSER_PASSWORD (the variable Django's own
    createsuperuser reads) or is generated; an existing admin is never touched.
    """
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    if user_model.objects.filter(username=ADMIN_USERNAME).exists():
        return None
    password = os.environ.get("DJANGO_SUPERUSER_PASSWORD") or secrets.token_urlsafe(12)
    user_model.objects.create_superuser(username=ADMIN_USERNAME, email="admin@example.com", password=password)
    return password


def main() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "budget_system.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=1)
    seed_demo_data_once()
    password = create_admin_once()
    if not settings.DEBUG:
        call_command("collectstatic", interactive=False, verbosity=0)

    port = os.environ.get("PORT", "8000")
    print(f"\nAdmin: http://127.0.0.1:{port}/admin/  user: {ADMIN_USERNAME}", flush=True)
    if password is not None and os.environ.get("DJANGO_SUPERUSER_PASSWORD"):
        print("Admin password: the value of DJANGO_SUPERUSER_PASSWORD", flush=True)
    elif password is not None:
        print(f"Admin password (generated, shown once): {password}", flush=True)
    else:
        print("Admin user exists already (reset with: .venv/bin/python manage.py changepassword admin)", flush=True)
    print(flush=True)


if __name__ == "__main__":
    main()
