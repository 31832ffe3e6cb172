"""docker-compose.yml and the Dockerfile, checked without a Docker engine: what each
container gets, its health checks, and that the commands they run work here."""

import ast
import importlib.metadata
import os
import re
import runpy
import shlex
import subprocess
import sys
import uuid
from fnmatch import fnmatch
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django_celery_beat.models import CrontabSchedule, PeriodicTask
from packaging.requirements import Requirement

from budget_system.tests.served import free_port
from budget_system.tests.test_settings_env import variables_read_by_settings
from conftest import _database_url_of_test_database, redis_url, wait_for

ROOT = Path(settings.BASE_DIR)
APP_SERVICES = ("bootstrap", "web", "celery", "celery-drains", "celery-background", "beat")
# What a host's .env may hold after bin/start and a developer's edits: none of the
# host-only values may reach a container.
HOST_ENV = {
    "DJANGO_SECRET_KEY": "host-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "POSTGRES_PASSWORD": "pg-secret-42",
    "DJANGO_DEBUG": "true",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/budget_system",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    "REDIS_URL": "redis://127.0.0.1:6379/1",
    "CELERY_RESULT_BACKEND": "redis://127.0.0.1:6379/2",
    "CELERY_FILESYSTEM_BROKER_DIR": "/home/dev/broker",
}
TEST_PACKAGES = {"pytest", "pytest-django", "factory-boy", "time-machine", "schemathesis", "ruff", "selenium"}


def load_compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


INTERPOLATION = re.compile(r"\$\$|\$\{(?P<name>[A-Za-z_]\w*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def interpolate(value: str, host_env: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error} and $$, from the host's .env."""

    def replace(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group("name"), match.group("op"), match.group("arg")
        given = host_env.get(name)
        empty = given is None or (given == "" and op and op.startswith(":"))
        if op and op.endswith("?") and empty:
            raise LookupError(f"{name}: {arg}")
        if op and op.endswith("-") and empty:
            return arg
        return given or ""

    return INTERPOLATION.sub(replace, value)


def container_env(service: str, host_env: dict[str, str]) -> dict[str, str]:
    environment = load_compose()["services"][service]["environment"]
    return {name: interpolate(str(value), host_env) for name, value in environment.items()}


def dockerignored(path: str) -> bool:
    """Whether .dockerignore keeps `path` out of the build context (the patterns this file uses)."""
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()]
    patterns = [pattern for pattern in patterns if pattern and not pattern.startswith("#")]
    parts = Path(path).parts
    for depth in range(1, len(parts) + 1):
        prefix = "/".join(parts[:depth])
        for pattern in patterns:
            if pattern.startswith("**/") and fnmatch(parts[depth - 1], pattern[3:]):
                return True
            if fnmatch(prefix, pattern):
                return True
    return False


# --- What the containers get ----------------------------------------------------------


def test_containers_never_receive_the_host_env_file_or_its_host_only_values():
    for service in APP_SERVICES:
        assert "env_file" not in load_compose()["services"][service], service
        environment = container_env(service, HOST_ENV)
        assert environment["DJANGO_DEBUG"] == "false"
        assert environment["DJANGO_ENV_FILE"] == ""
        assert environment["DATABASE_URL"] == "postgres://budget:pg-secret-42@postgres:5432/budget_system"
        assert environment["CELERY_BROKER_URL"] == "redis://redis:6379/0"
        assert environment["REDIS_URL"] == "redis://redis:6379/1"
        assert "CELERY_RESULT_BACKEND" not in environment and "CELERY_FILESYSTEM_BROKER_DIR" not in environment
        urls = [value for value in environment.values() if "://" in value]
        assert not [url for url in urls if re.search(r"//([^/@]*@)?(127\.0\.0\.1|localhost)\b", url)], service


def test_secrets_come_from_env_never_written_in_the_compose_file():
    compose_text = (ROOT / "docker-compose.yml").read_text()
    for name, service in load_compose()["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if re.search(r"SECRET|PASSWORD|TOKEN", key):
                assert re.fullmatch(r"\$\{" + key + r"(:\?[^}]*|:-)?\}", str(value)), (name, key, value)
    assert "${POSTGRES_PASSWORD:?" in load_compose()["services"]["web"]["environment"]["DATABASE_URL"]
    for secret in (HOST_ENV["DJANGO_SECRET_KEY"], HOST_ENV["POSTGRES_PASSWORD"]):
        assert secret not in compose_text
    # Without them, compose refuses to start and says which to set.
    with pytest.raises(LookupError, match="DJANGO_SECRET_KEY: set DJANGO_SECRET_KEY in .env"):
        container_env("web", {"POSTGRES_PASSWORD": "x"})
    with pytest.raises(LookupError, match="POSTGRES_PASSWORD: set POSTGRES_PASSWORD in .env"):
        container_env("web", {"DJANGO_SECRET_KEY": "x"})


def test_the_admin_password_reaches_the_first_start_script_only():
    services = load_compose()["services"]
    assert services["bootstrap"]["environment"]["DJANGO_SUPERUSER_PASSWORD"] == "${DJANGO_SUPERUSER_PASSWORD:-}"
    for name in ("web", "celery", "beat"):
        assert "DJANGO_SUPERUSER_PASSWORD" not in services[name]["environment"]


def test_every_variable_a_container_gets_is_one_the_project_reads():
    readers = variables_read_by_settings() | {
        "API_THROTTLE_USER_RATE",  # settings.py, read with env_rate
        "API_THROTTLE_SPEND_RATE",
        "DJANGO_ENV_FILE",  # settings.py, read with os.environ
        "DJANGO_SUPERUSER_PASSWORD",  # bin/bootstrap.py
        "BOOTSTRAP_ADMIN",
        "BOOTSTRAP_DEMO_DATA",
        "WEB_CONCURRENCY",  # gunicorn
    }
    example = (ROOT / ".env.example").read_text()
    for service in APP_SERVICES:
        names = set(load_compose()["services"][service]["environment"])
        assert names - readers == set(), service
        assert [name for name in names if not re.search(rf"^#?\s*{name}=", example, re.MULTILINE)] == []


@pytest.mark.parametrize("service", APP_SERVICES)
def test_the_settings_load_in_each_container_with_only_the_two_secrets_in_env(service, monkeypatch):
    environment = container_env(
        service, {"DJANGO_SECRET_KEY": HOST_ENV["DJANGO_SECRET_KEY"], "POSTGRES_PASSWORD": "pw"}
    )
    for name in variables_read_by_settings():
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    loaded = runpy.run_path(str(ROOT / "budget_system" / "settings.py"))
    assert loaded["DEBUG"] is False
    assert loaded["DATABASES"]["default"]["HOST"] == "postgres"
    assert loaded["ALLOWED_HOSTS"] == ["localhost", "127.0.0.1"]
    assert loaded["CSRF_TRUSTED_ORIGINS"] == []
    assert loaded["SECURE_SSL_REDIRECT"] is False
    assert loaded["METRICS_TOKEN"] == ""


# --- Health checks and start order ----------------------------------------------------


def test_web_celery_and_beat_have_health_checks_that_start_order_uses():
    services = load_compose()["services"]
    assert services["web"]["healthcheck"]["test"] == ["CMD", "python", "bin/probe", "http://127.0.0.1:8000/readyz"]
    for worker in ("celery", "celery-drains", "celery-background"):
        assert services[worker]["healthcheck"]["test"][0] == "CMD-SHELL"
        assert "inspect ping --destination celery@$$HOSTNAME" in services[worker]["healthcheck"]["test"][1]
    assert services["beat"]["healthcheck"]["test"] == ["CMD", "python", "manage.py", "check_beat"]
    for name in ("web", "celery", "celery-drains", "celery-background", "beat", "postgres", "redis"):
        check = services[name]["healthcheck"]
        assert set(check) >= {"test", "interval", "timeout", "retries"}, name
    assert services["beat"]["depends_on"]["celery"] == {"condition": "service_healthy"}
    assert services["bootstrap"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}


def test_beat_runs_drains_and_background_work_each_have_a_prefork_worker_of_their_own():
    services = load_compose()["services"]
    expected = {"celery": ("periodic", 2), "celery-drains": ("drains", 1), "celery-background": ("celery", 2)}
    for name, (queues, concurrency) in expected.items():
        command = services[name]["command"]
        assert command == [
            "celery",
            "-A",
            "budget_system",
            "worker",
            "-Q",
            queues,
            "--loglevel=INFO",
            f"--concurrency={concurrency}",
        ]
        assert not any(part.startswith(("--pool", "-P")) for part in command), "prefork is Celery's default pool"
    # Together they serve every queue the tasks are routed to.
    from django.conf import settings

    served = {queue for queues, _ in expected.values() for queue in queues.split(",")}
    assert served == {queue.name for queue in settings.CELERY_TASK_QUEUES}


# --- The image --------------------------------------------------------------------------


def requirement_names(path: Path) -> set[str]:
    names = set()
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            names.add(re.split(r"[=<>~!\[; ]", line)[0].lower().replace("_", "-"))
    return names


def test_the_image_installs_the_runtime_requirements_only_and_runs_as_a_non_root_user():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.findall(r"pip install .*", dockerfile) == ["pip install -r requirements.txt"]
    assert "requirements-dev" not in dockerfile.replace("(requirements-dev.txt)", "")
    users = re.findall(r"^USER (\S+)$", dockerfile, re.MULTILINE)
    assert users and users[-1] == "app"
    assert dockerfile.index("USER app") < dockerfile.index("CMD [")
    assert re.search(r"^\s*DJANGO_ENV_FILE=$", dockerfile, re.MULTILINE), "the image reads no .env file"
    for development_only in ("campaigns/tests/factories.py", "conftest.py", "requirements-dev.txt", ".env"):
        assert dockerignored(development_only), development_only


def test_no_test_package_in_the_runtime_requirements():
    runtime = requirement_names(ROOT / "requirements.txt")
    assert runtime & TEST_PACKAGES == set()
    assert "honcho" not in runtime
    development = (ROOT / "requirements-dev.txt").read_text()
    assert "-r requirements.txt" in development
    assert TEST_PACKAGES | {"honcho"} <= requirement_names(ROOT / "requirements-dev.txt")


def top_level_imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_everything_the_runtime_code_imports_is_installed_by_the_runtime_requirements():
    """Imports of every module the image ships resolve to requirements.txt or their dependencies."""
    installed: set[str] = set()
    pending = list(requirement_names(ROOT / "requirements.txt"))
    while pending:
        name = pending.pop()
        if name in installed:
            continue
        installed.add(name)
        for line in importlib.metadata.requires(name) or []:
            requirement = Requirement(line)
            # Extras are not installed; markers for other Pythons or platforms do not apply.
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                pending.append(requirement.name.lower().replace("_", "-"))
    distributions = importlib.metadata.packages_distributions()
    project = {path.name for path in ROOT.iterdir() if (path / "__init__.py").exists()}
    missing = set()
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith((".venv/", "var/")) or dockerignored(relative):
            continue
        for module in top_level_imports(path):
            if module in sys.stdlib_module_names or module in project or module == "__future__":
                continue
            dists = {d.lower().replace("_", "-") for d in distributions.get(module, [])}
            if not dists & installed:
                missing.add((relative, module))
    assert missing == set()


# --- The commands the services run, run here ------------------------------------------


def test_the_files_the_services_run_are_in_the_image():
    services = load_compose()["services"]
    files = ["manage.py", "bin/bootstrap.py", "bin/probe"]
    assert services["bootstrap"]["command"][1] in files
    assert services["web"]["healthcheck"]["test"][2] in files
    for path in files:
        assert (ROOT / path).is_file() and not dockerignored(path), path


def test_the_celery_command_line_works_here():
    for subcommand in ("worker", "inspect", "beat"):
        result = subprocess.run(
            [sys.executable, "-m", "celery", "-A", "budget_system", subcommand, "--help"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr


def probe_command(url: str) -> list[str]:
    """The web health check with this test server's address in place of the container's."""
    test = load_compose()["services"]["web"]["healthcheck"]["test"][1:]
    return [sys.executable if part == "python" else part.replace("http://127.0.0.1:8000", url) for part in test]


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_the_web_health_check_passes_on_a_ready_server_and_fails_without_one(live_server, settings):
    settings.CELERY_BROKER_URL = redis_url()
    ready = subprocess.run(probe_command(live_server.url), cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert ready.returncode == 0, ready.stdout + ready.stderr
    assert '200 {"status": "ok"}' in ready.stdout

    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"
    unready = subprocess.run(probe_command(live_server.url), cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert unready.returncode == 1
    assert '503 {"status": "unavailable", "unreachable": ["broker"]}' in unready.stdout

    down = subprocess.run(
        probe_command(f"http://127.0.0.1:{free_port()}"), cwd=ROOT, capture_output=True, text=True, timeout=30
    )
    assert down.returncode == 1


def container_like_env(**extra: str) -> dict[str, str]:
    """This machine's test database and Redis in place of the compose services."""
    return os.environ | {
        "DATABASE_URL": _database_url_of_test_database(),
        "CELERY_BROKER_URL": redis_url() or "memory://",
        "DJANGO_SETTINGS_MODULE": "budget_system.test_settings",
        **extra,
    }


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_beat_health_check_works_here():
    command = load_compose()["services"]["beat"]["healthcheck"]["test"][1:]
    command = [sys.executable if part == "python" else part for part in command]

    def run() -> subprocess.CompletedProcess:
        return subprocess.run(command, cwd=ROOT, env=container_like_env(), capture_output=True, text=True, timeout=60)

    never = run()
    assert never.returncode == 1 and "beat has not sent any enabled periodic task yet" in never.stderr
    crontab = CrontabSchedule.objects.create(minute="*", hour="*", timezone="UTC")
    from django.utils import timezone

    PeriodicTask.objects.create(name="dayparting", task="x", crontab=crontab, last_run_at=timezone.now())
    recent = run()
    assert recent.returncode == 0, recent.stderr


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_the_celery_health_check_pings_the_worker_the_compose_command_starts(tmp_path):
    """The worker's exact compose command (prefork, its queues), then its health check."""
    from budget_system.celery import app

    hostname = f"h11-{uuid.uuid4().hex[:8]}"
    worker_command = load_compose()["services"]["celery"]["command"]
    # In a container the default node name is celery@$HOSTNAME; here the host's name is
    # shared, so the node is given the one the health check will ask for.
    worker_command = [
        sys.executable,
        "-m",
        *worker_command,
        "-n",
        f"celery@{hostname}",
        "--without-mingle",
        "--without-gossip",
    ]
    log_path = tmp_path / "worker.log"
    with open(log_path, "w") as log:
        worker = subprocess.Popen(
            worker_command, cwd=ROOT, env=container_like_env(), stdout=log, stderr=subprocess.STDOUT
        )
    try:
        assert wait_for(lambda: app.control.ping(destination=[f"celery@{hostname}"], timeout=0.5), timeout=60), (
            log_path.read_text()[-3000:]
        )
        shell_line = load_compose()["services"]["celery"]["healthcheck"]["test"][1].replace("$$", "$")
        argv = shlex.split(shell_line)
        assert argv[:2] == ["celery", "-A"]
        check = subprocess.run(
            ["sh", "-c", shell_line.replace("celery ", f"{sys.executable} -m celery ", 1)],
            cwd=ROOT,
            env=container_like_env(HOSTNAME=hostname),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert check.returncode == 0, check.stdout + check.stderr
        assert f"celery@{hostname}: OK" in check.stdout
        log = log_path.read_text()
        assert ".> periodic" in log and "(prefork)" in log
    finally:
        worker.terminate()
        worker.wait(timeout=30)
