"""Alert settings from the environment: usable values, and a clear stop on a bad one."""

import runpy

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

SETTINGS_FILE = settings.BASE_DIR / "budget_system" / "settings.py"
VARIABLES = (
    "EMAIL_URL",
    "DEFAULT_FROM_EMAIL",
    "ALERT_DEFAULT_THRESHOLDS",
    "ALERT_DELIVERY_MAX_ATTEMPTS",
    "ALERT_DELIVERY_BACKOFF_SECONDS",
)


@pytest.fixture
def load(monkeypatch):
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DJANGO_ENV_FILE", "")
    monkeypatch.setenv("DJANGO_DEBUG", "true")

    def run(**variables: str) -> dict:
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        return runpy.run_path(str(SETTINGS_FILE))

    return run


def test_by_default_alert_email_goes_to_the_console_and_thresholds_are_50_80_100(load):
    values = load()
    assert values["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"
    assert values["ALERT_DEFAULT_THRESHOLDS"] == [50, 80, 100]
    assert (values["ALERT_DELIVERY_MAX_ATTEMPTS"], values["ALERT_DELIVERY_BACKOFF_SECONDS"]) == (8, 30)


def test_an_smtp_url_sets_djangos_mail_settings(load):
    values = load(
        EMAIL_URL="smtp+tls://alerts%40example.com:pa55@smtp.example.com:587", ALERT_DEFAULT_THRESHOLDS="90, 75"
    )
    assert values["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (values["EMAIL_HOST"], values["EMAIL_PORT"], values["EMAIL_USE_TLS"]) == ("smtp.example.com", 587, True)
    assert (values["EMAIL_HOST_USER"], values["EMAIL_HOST_PASSWORD"]) == ("alerts@example.com", "pa55")
    assert values["ALERT_DEFAULT_THRESHOLDS"] == [75, 90]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("EMAIL_URL", "smpt://host", "EMAIL_URL='smpt://host' is not a supported URL"),
        ("ALERT_DEFAULT_THRESHOLDS", "50,eighty", "ALERT_DEFAULT_THRESHOLDS='50,eighty' is not a list of percentages"),
        ("ALERT_DEFAULT_THRESHOLDS", "0", "ALERT_DEFAULT_THRESHOLDS='0' is not a list of percentages"),
        ("ALERT_DELIVERY_MAX_ATTEMPTS", "0", "ALERT_DELIVERY_MAX_ATTEMPTS='0' is not a positive whole number"),
    ],
)
def test_a_bad_value_stops_the_start_naming_it(load, name, value, message):
    with pytest.raises(ImproperlyConfigured, match=message.replace("(", r"\(")):
        load(**{name: value})
