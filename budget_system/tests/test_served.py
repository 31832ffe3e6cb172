"""Through a real gunicorn: chunked bodies, a concurrent burst against the spend
throttle on real Redis, and 503s while the database cannot be reached."""

import datetime as dt
import io
import json
import re
import socket
import time
import uuid
from collections import Counter

import pytest
import redis
from django.contrib.auth.models import Permission
from django.utils import timezone
from rest_framework.authtoken.models import Token

from budget_system.chunked import ChunkedBodyReader
from budget_system.tests.served import burst, closed_port, gunicorn
from budget_system.timezones import local_date
from campaigns.tests.factories import CampaignFactory
from conftest import _database_url_of_test_database, redis_url
from spend.models import Spend

SPEND_URL = "/api/v1/spend/"


@pytest.fixture
def etl_token(django_user_model) -> str:
    user = django_user_model.objects.create_user(f"etl-{uuid.uuid4().hex[:8]}")
    user.user_permissions.add(*Permission.objects.filter(codename__in=["add_spend", "change_spend", "view_campaign"]))
    return Token.objects.create(user=user).key


def chunked_post(port: int, path: str, body: bytes, *, token: str, chunk_size: int = 7) -> tuple[int, bytes]:
    """A POST whose body is sent Transfer-Encoding: chunked, with no Content-Length."""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Token {token}\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    ).encode()
    chunks = b"".join(
        f"{len(body[i : i + chunk_size]):x}\r\n".encode() + body[i : i + chunk_size] + b"\r\n"
        for i in range(0, len(body), chunk_size)
    )
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(head + chunks + b"0\r\n\r\n")
        answer = b""
        while part := connection.recv(65536):
            answer += part
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_chunked_body_is_read_not_taken_for_empty(tmp_path, etl_token):
    campaign = CampaignFactory()
    day = local_date(timezone.now(), campaign.brand.timezone)
    body = json.dumps([{"campaign": campaign.pk, "date": str(day), "daily_spend": "4.25", "monthly_spend": 9.5}])
    with gunicorn(tmp_path, database_url=_database_url_of_test_database()) as served:
        status, answer = chunked_post(served.port, SPEND_URL, body.encode(), token=etl_token)
    assert status == 200, answer
    assert json.loads(answer)["created"] == 1
    row = Spend.objects.get(campaign=campaign, date=day)
    assert (str(row.daily_spend), str(row.monthly_spend)) == ("4.25", "9.50")


def test_a_chunked_body_larger_than_the_limit_is_refused_with_413_unread(settings):
    settings.REQUEST_BODY_MAX_BYTES = 10
    reached = []
    application = ChunkedBodyReader(lambda environ, start_response: reached.append(environ) or [b""])
    statuses = []
    environ = {
        "HTTP_TRANSFER_ENCODING": "chunked",
        "wsgi.input_terminated": True,
        "wsgi.input": io.BytesIO(b"[" + b" " * 100 + b"]"),
    }
    answer = b"".join(application(environ, lambda status, headers: statuses.append(status)))
    assert statuses == ["413 Request Entity Too Large"] and not reached
    assert json.loads(answer) == {"detail": "The chunked request body is larger than 10 bytes."}


@pytest.mark.django_db
def test_a_chunked_body_the_server_cannot_hand_over_is_411(client):
    # Without wsgi.input_terminated (Django's runserver, the test client) nobody can
    # tell where the body ends: refuse it instead of reading it as empty.
    response = client.generic("POST", SPEND_URL, b"", content_type="application/json", HTTP_TRANSFER_ENCODING="chunked")
    assert response.status_code == 411
    assert "send the body with a Content-Length header" in response.json()["detail"]


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_spend_throttle_admits_exactly_its_rate_of_a_concurrent_burst(tmp_path, etl_token):
    """Before: DRF's read-append-write throttle let 76-142 of 200 through at 50/minute."""
    prefix = f"test-burst-{uuid.uuid4().hex}"
    env = {"REDIS_URL": redis_url(), "REDIS_KEY_PREFIX": prefix, "API_THROTTLE_SPEND_RATE": "50/minute"}
    try:
        with gunicorn(tmp_path, database_url=_database_url_of_test_database(), env=env, workers=3, threads=8) as served:
            statuses = burst(served, count=200, path=SPEND_URL, data=[], token=etl_token)
    finally:
        shared = redis.Redis.from_url(redis_url())
        for key in shared.scan_iter(f"{prefix}:*"):  # this test's keys only: never a flush
            shared.delete(key)
    print(f"burst of 200 at 50/minute through gunicorn 3x8 on Redis: {dict(Counter(statuses))}")
    assert Counter(statuses) == {200: 50, 429: 150}


def admin_login_attempt(served) -> tuple[int, dict[str, str], bytes]:
    """The login form as a browser sends it: with the CSRF cookie and token of its page."""
    status, headers, page = served.request("GET", "/admin/login/")
    assert status == 200, page[:300]  # the form itself needs no database
    cookie = headers["set-cookie"].split(";")[0]
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
    return served.request(
        "POST",
        "/admin/login/",
        body=f"csrfmiddlewaretoken={token}&username=ops&password=wrong".encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
    )


def test_while_the_database_cannot_be_reached_every_request_is_503_with_retry_after(tmp_path):
    database_url = f"postgres://postgres@127.0.0.1:{closed_port()}/gone"
    item = {"campaign": 1, "date": str(dt.date.today()), "daily_spend": "1", "monthly_spend": "1"}
    token = {"Authorization": "Token " + "a" * 40}
    session = {"Cookie": "sessionid=" + "s" * 32}  # a well-formed key: looking it up needs the database
    with gunicorn(tmp_path, database_url=database_url) as served:
        started = time.monotonic()
        answers = {
            "spend post": served.post_json(SPEND_URL, [item], token="a" * 40),
            "campaign list": served.request("GET", "/api/v1/campaigns/", headers=token),
            "admin page": served.request("GET", "/admin/campaigns/campaign/", headers=session),
            "admin login": admin_login_attempt(served),
        }
        elapsed = time.monotonic() - started
        log = served.log()
    for name, (status, headers, body) in answers.items():
        assert status == 503, f"{name}: {status} {body[:300]!r}\n{log}"
        assert headers["retry-after"] == "5", name
    for name in ("spend post", "campaign list"):
        status, headers, body = answers[name]
        assert headers["content-type"] == "application/json"
        assert json.loads(body)["detail"].startswith("The database is unavailable; nothing was changed.")
    status, headers, body = answers["admin page"]
    assert headers["content-type"].startswith("text/html") and b"<h1>Service unavailable</h1>" in body
    assert "Internal Server Error" not in log
    assert elapsed < 5, f"four requests took {elapsed:.1f} s with the database down"
