"""After bin/start: `bin/manage` (and `python manage.py` with .venv active) work, the admin
password is kept in var/admin-password (mode 600), and the printed reset command works.

Each test points DJANGO_ENV_FILE and DATABASE_URL at its own temporary files, so the
project's own .env and database are never touched.
"""

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
SHOW_SETTINGS = "from django.conf import settings; print('DEBUG', settings.DEBUG, 'KEY', settings.SECRET_KEY)"


@pytest.fixture
def local_env(tmp_path) -> dict[str, str]:
    """A laptop's environment: nothing set but where .env and the SQLite file live."""
    env = {
        name: value for name, value in os.environ.items() if not name.startswith(("DJANGO_", "DATABASE_", "CELERY_"))
    }
    env.pop("REDIS_URL", None)
    return env | {
        "DJANGO_ENV_FILE": str(tmp_path / ".env"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CELERY_BROKER_URL": "memory://",
    }


def manage(env: dict[str, str], *argv: str, stdin: str = "") -> subprocess.CompletedProcess:
    # A session of its own has no terminal, as under CI: getpass then reads standard input.
    return subprocess.run(
        [str(ROOT / "bin" / "manage"), *argv],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        start_new_session=True,
    )


def test_bin_manage_keeps_debug_and_a_generated_secret_key_in_env_once(local_env, tmp_path):
    first = manage(local_env, "shell", "-c", SHOW_SETTINGS)
    assert first.returncode == 0, first.stderr
    env_file = tmp_path / ".env"
    written = env_file.read_text()
    assert re.search(r"^DJANGO_DEBUG=true$", written, re.MULTILINE)
    key = re.search(r"^DJANGO_SECRET_KEY=(\S{50,})$", written, re.MULTILINE).group(1)
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert f"DEBUG True KEY {key}" in first.stdout
    assert "Wrote DJANGO_SECRET_KEY" in first.stderr

    second = manage(local_env, "shell", "-c", SHOW_SETTINGS)
    assert f"DEBUG True KEY {key}" in second.stdout
    assert env_file.read_text() == written, "written once"
    assert "Wrote" not in second.stderr


def test_bin_manage_leaves_what_env_or_the_environment_set(local_env, tmp_path):
    (tmp_path / ".env").write_text(
        "DJANGO_DEBUG=false\nDJANGO_SECRET_KEY=chosen-by-ops-0123456789\nDJANGO_ALLOWED_HOSTS=x\n"
    )
    result = manage(local_env, "shell", "-c", SHOW_SETTINGS)
    assert "DEBUG False KEY chosen-by-ops-0123456789" in result.stdout, result.stderr
    assert (tmp_path / ".env").read_text().count("DJANGO_") == 3

    (tmp_path / ".env").unlink()
    result = manage(
        local_env | {"DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": "from-the-environment-42"},
        "shell",
        "-c",
        SHOW_SETTINGS,
    )
    assert "DEBUG False KEY from-the-environment-42" in result.stdout, result.stderr
    assert not (tmp_path / ".env").exists()


def test_first_start_keeps_the_admin_password_and_the_printed_reset_command_works(local_env, tmp_path):
    password_file = tmp_path / "var" / "admin-password"
    env = local_env | {"DJANGO_DEBUG": "true", "BOOTSTRAP_DEMO_DATA": "false"}
    command = [sys.executable, "bin/bootstrap.py", "--password-file", str(password_file)]
    command += ["--reset-command", "bin/manage changepassword admin"]
    first = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    password = password_file.read_text().strip()
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    assert f"Admin password (generated, kept in {password_file}): {password}" in first.stdout
    assert "Set a new admin password with: bin/manage changepassword admin" in first.stdout

    again = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert password not in again.stdout
    assert f"Admin password: in {password_file}" in again.stdout

    def admin_password_is(candidate: str) -> bool:
        code = "from django.contrib.auth.models import User\n"
        code += f"print(User.objects.get(username='admin').check_password({candidate!r}))"
        return manage(env, "shell", "--no-imports", "-c", code).stdout.strip() == "True"

    assert admin_password_is(password)
    reset = manage(env, "changepassword", "admin", stdin="Fresh-pass-7391\nFresh-pass-7391\n")
    assert reset.returncode == 0, reset.stdout + reset.stderr
    assert "Password changed successfully for user 'admin'" in reset.stdout
    assert admin_password_is("Fresh-pass-7391")
