"""Prepare the database before the processes start: the first-start script.

Run by bin/start and by the `bootstrap` service of docker compose. Migrates, then on the
first start only adds an `admin` superuser and demo data, and collects static files
when DEBUG is off (with DEBUG on, whitenoise serves them from the apps). Running it
again changes nothing but new migrations: it is safe on every start.

    python bin/bootstrap.py [--password-file PATH] [--reset-command CMD] [--no-collectstatic]

BOOTSTRAP_ADMIN=false or BOOTSTRAP_DEMO_DATA=false (environment or .env) skip either
step. The admin password is DJANGO_SUPERUSER_PASSWORD, or generated and printed once
(and written to --password-file, mode 600, when given).
"""

import argparse
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


def env_flag(name: str, default: bool = True) -> bool:
    """A true/false variable; a typo stops the script rather than silently meaning false."""
    raw = os.environ.get(name, "").strip().lower()
    if raw == "":
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise SystemExit(f"error: {name}={os.environ[name]!r} is not a boolean: use true or false.")


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


def write_secret_file(path: Path, content: str) -> None:
    """Write `content` to `path` readable by its owner only (mode 600), even if it existed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(content + "\n")
    path.chmod(0o600)


def report_admin(password: str | None, *, password_file: Path | None, reset_command: str) -> None:
    port = os.environ.get("PORT", "8000")
    print(f"\nAdmin: http://127.0.0.1:{port}/admin/  user: {ADMIN_USERNAME}", flush=True)
    if password is not None and os.environ.get("DJANGO_SUPERUSER_PASSWORD"):
        print("Admin password: the value of DJANGO_SUPERUSER_PASSWORD", flush=True)
    elif password is not None:
        if password_file is not None:
            write_secret_file(password_file, password)
            print(f"Admin password (generated, kept in {password_file}): {password}", flush=True)
        else:
            print(f"Admin password (generated, shown once): {password}", flush=True)
    elif password_file is not None and password_file.exists():
        print(f"Admin password: in {password_file} (as generated on the first start)", flush=True)
    print(f"Set a new admin password with: {reset_command}", flush=True)
    print(flush=True)


def argument_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--password-file", type=Path, help="keep a generated admin password in this file (mode 600)")
    parser.add_argument(
        "--reset-command",
        default="python manage.py changepassword admin",
        help="the command printed for setting a new admin password",
    )
    parser.add_argument("--no-collectstatic", action="store_true", help="static files are collected already")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = argument_parser().parse_args(argv)

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "budget_system.settings")
    import django

    django.setup()  # reads .env into the environment, so the flags below may come from it
    from django.conf import settings
    from django.core.management import call_command

    create_admin, demo_data = env_flag("BOOTSTRAP_ADMIN"), env_flag("BOOTSTRAP_DEMO_DATA")
    call_command("migrate", interactive=False, verbosity=1)
    if demo_data:
        seed_demo_data_once()
    password = create_admin_once() if create_admin else None
    if not settings.DEBUG and not args.no_collectstatic:
        call_command("collectstatic", interactive=False, verbosity=0)
    if create_admin:
        # A relative path is relative to the project, wherever the script runs from.
        password_file = ROOT / args.password_file if args.password_file else None
        report_admin(password, password_file=password_file, reset_command=args.reset_command)


if __name__ == "__main__":
    main()
