"""The commands that start the system (README, Procfile, Dockerfile, docker-compose.yml,
.ci/run) name programs, modules and options that exist."""

import json
import os
import re
import shlex
import warnings
from pathlib import Path

import pytest
import yaml
from celery.app.utils import find_app
from celery.bin.base import CLIContext
from celery.bin.celery import celery as celery_cli
from celery.utils.imports import symbol_by_name
from django.conf import settings
from django.core.management import get_commands
from gunicorn.config import Config as GunicornConfig
from gunicorn.util import import_app

ROOT = Path(settings.BASE_DIR)
APP_SERVICES = ("bootstrap", "web", "celery", "beat")


def readme_commands() -> list[str]:
    """The command lines of the README's first code block."""
    block = re.search(r"```(?:\w+)?\n(.*?)```", (ROOT / "README.md").read_text(), re.DOTALL)
    assert block, "README.md has no code block"
    return [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.split("#")[0].strip()]


def parse_celery(argv: list[str]) -> tuple[str, dict]:
    """Parse a `celery -A ... <subcommand> ...` line as the celery CLI would, without running it."""
    assert argv[0] == "celery"
    ctx = celery_cli.make_context("celery", list(argv[1:]))
    ctx.obj = CLIContext(app=find_app(ctx.params["app"]), no_color=True, workdir=None, quiet=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # click's protected_args
        name, *rest = [*ctx.protected_args, *ctx.args]
    subcommand = celery_cli.get_command(ctx, name)
    return name, subcommand.make_context(name, rest, parent=ctx).params


def check_command(argv: list[str]) -> str:
    """Fail unless the command would start; return what it runs (a role name)."""
    if argv[0] == "celery":
        name, params = parse_celery(argv)
        if name == "beat":
            assert params["scheduler"] == "django_celery_beat.schedulers:DatabaseScheduler"
            symbol_by_name(params["scheduler"])
        return name
    if argv[0] == "gunicorn":
        GunicornConfig().parser().parse_args(argv[1:])
        wsgi_app = import_app(argv[1])
        assert callable(wsgi_app)
        return "web"
    if argv[:2] == ["python", "bin/bootstrap.py"]:
        bootstrap_script().argument_parser().parse_args(argv[2:])
        return "bootstrap"
    if argv[:2] == ["python", "manage.py"]:
        assert argv[2] in get_commands(), f"manage.py has no command {argv[2]!r}"
        return "web" if argv[2] == "runserver" else argv[2]
    raise AssertionError(f"unexpected command {argv}")


def bootstrap_script():
    import importlib.util

    spec = importlib.util.spec_from_file_location("bootstrap", ROOT / "bin" / "bootstrap.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_opens_with_the_start_and_the_test_command():
    assert readme_commands() == ["bin/start", "bin/test"]
    for command in readme_commands():
        assert os.access(ROOT / command, os.X_OK), f"{command} is not executable"


def test_ci_runs_exactly_the_readme_test_command():
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    test_command = readme_commands()[1]
    assert any(line == test_command or line.startswith(test_command + " ||") for line in ci_lines)


def test_procfile_runs_web_worker_and_beat_with_commands_that_parse():
    processes = dict(line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip())
    assert set(processes) == {"web", "worker", "worker-drains", "worker-background", "beat"}
    roles = {name: check_command(shlex.split(command.replace("$PORT", "8000"))) for name, command in processes.items()}
    assert roles == {
        "web": "web",
        "worker": "worker",
        "worker-drains": "worker",
        "worker-background": "worker",
        "beat": "beat",
    }
    # Beat's runs have a worker of their own; drains and background tasks another.
    assert "-Q periodic " in processes["worker"]
    assert "-Q drains " in processes["worker-drains"] and "-Q celery " in processes["worker-background"]
    assert "--pool=threads" not in processes["worker"], "the threads pool does not enforce time limits"


def load_compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_runs_the_six_services_and_a_one_shot_first_start():
    services = load_compose()["services"]
    assert set(services) == {
        "web",
        "postgres",
        "redis",
        "celery",
        "celery-drains",
        "celery-background",
        "beat",
        "bootstrap",
    }
    for name in ("web", "celery", "celery-drains", "celery-background", "beat"):
        assert services[name]["depends_on"]["bootstrap"] == {"condition": "service_completed_successfully"}
        assert services[name]["depends_on"]["postgres"] == {"condition": "service_healthy"}
        assert services[name]["depends_on"]["redis"] == {"condition": "service_healthy"}
    assert services["bootstrap"]["restart"] == "no"
    assert "deploy" not in services["beat"], "exactly one beat: never scale it"


def test_compose_database_and_broker_have_health_checks_and_postgres_keeps_its_data():
    compose = load_compose()
    services = compose["services"]
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert "ping" in services["redis"]["healthcheck"]["test"]
    volume = services["postgres"]["volumes"][0].split(":")[0]
    assert volume in compose["volumes"]


def test_compose_app_services_share_one_config_pointing_at_postgres_and_redis():
    services = load_compose()["services"]
    for name in APP_SERVICES:
        service = services[name]
        assert service["build"] == "."
        assert "env_file" not in service, "containers get listed variables, never the host's .env"
        environment = service["environment"]
        assert re.fullmatch(r"postgres://.*@postgres:5432/.*", environment["DATABASE_URL"])
        assert environment["CELERY_BROKER_URL"].startswith("redis://redis:6379/")
        assert environment["REDIS_URL"].startswith("redis://redis:6379/")
        assert environment["DJANGO_SECRET_KEY"].startswith("${DJANGO_SECRET_KEY:?")


def test_compose_commands_start_the_roles_they_are_named_for():
    services = load_compose()["services"]
    assert check_command(services["bootstrap"]["command"]) == "bootstrap"
    assert check_command(services["celery"]["command"]) == "worker"
    assert check_command(services["beat"]["command"]) == "beat"
    assert "command" not in services["web"], "web runs the image's gunicorn CMD"


def test_dockerfile_serves_the_wsgi_app_with_gunicorn_as_a_non_root_user():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim$", dockerfile, re.MULTILINE)
    assert re.search(r"^USER app$", dockerfile, re.MULTILINE)
    assert "collectstatic --noinput" in dockerfile
    command = json.loads(re.search(r"^CMD (\[.*\])$", dockerfile, re.MULTILINE).group(1))
    assert command[:2] == ["gunicorn", "budget_system.wsgi:application"]
    assert "0.0.0.0:8000" in command
    assert check_command(command) == "web"


@pytest.mark.parametrize("ignored", [".env", ".venv", ".git", "db.sqlite3"])
def test_docker_build_leaves_out_secrets_and_local_state(ignored):
    assert ignored in (ROOT / ".dockerignore").read_text().split()
