"""Fuzzing with hostile input: the API and every admin list page never answer 5xx.

Hostile means what broke them before: NUL, lone UTF-16 surrogates, huge numbers,
deep JSON, absurd dates, in JSON bodies, query strings, filters, search, the
autocomplete and admin forms. Bounded by a fixed number of examples (no deadline):
about 20 seconds on an idle machine; schemathesis covers the API's schema in
spend/tests/test_schema.py.
"""

import json
from urllib.parse import quote

import hypothesis
import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from campaigns.models import Campaign, CampaignStatusChange
from campaigns.tests.factories import CampaignFactory
from conftest import CI
from dayparting.tests.factories import DaypartingScheduleFactory
from spend.tests.factories import SpendFactory

pytestmark = pytest.mark.django_db


def fuzz(examples: int) -> hypothesis.settings:
    return hypothesis.settings(
        max_examples=examples,
        deadline=None,
        # Under CI the same examples every run (repeatable, not a lottery); elsewhere new ones.
        derandomize=CI,
        suppress_health_check=list(hypothesis.HealthCheck),
    )


KNOWN_HOSTILE = [
    "\x00",
    "a\x00b",
    "\ud800",
    "\udfff",
    "x\udc80",
    "9" * 500,
    "99999999",
    "-1",
    "-0",
    "1e400",
    "NaN",
    "Infinity",
    "0001-01-01",
    "1999-12-31",
    "10000-01-01",
    "9999-12-31",
    "99999999-99-99",
    "2026-02-30",
    "%00",
    "' OR 1=1 --",
    "\u202e",
    "",
    " ",
    "🙂",
]
hostile_text = st.one_of(
    st.sampled_from(KNOWN_HOSTILE),
    st.text(alphabet=st.characters(codec=None, categories=["Cs", "Cc", "Nd", "Lu", "Po", "So"]), max_size=20),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
)
json_leaf = st.one_of(
    hostile_text,
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(),  # NaN and Infinity too: json.dumps writes them, the parser must refuse them
    st.booleans(),
    st.none(),
)
json_value = st.recursive(
    json_leaf,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(hostile_text, children, max_size=4)),
    max_leaves=12,
)
FIELDS = ["campaign", "date", "daily_spend", "monthly_spend"]


@st.composite
def spend_bodies(draw) -> str:
    kind = draw(st.sampled_from(["items", "any", "deep"]))
    if kind == "deep":
        depth = draw(st.integers(min_value=1, max_value=5000))
        return "[" * depth + draw(st.sampled_from(["", '"\\u0000"', "1"])) + "]" * depth
    if kind == "any":
        return json.dumps(draw(json_value))
    items = draw(
        st.lists(
            st.dictionaries(st.one_of(st.sampled_from(FIELDS), hostile_text), json_leaf, max_size=5),
            max_size=5,
        )
    )
    return json.dumps(items)


@pytest.fixture
def world(django_user_model):
    campaign = CampaignFactory(daily_budget=5)
    SpendFactory(campaign=campaign)
    DaypartingScheduleFactory(campaign=campaign)
    CampaignStatusChange.objects.create(
        campaign=campaign, old_status="ACTIVE", new_status="PAUSED_BY_USER", actor="user", source="admin"
    )
    user = django_user_model.objects.create_user("fuzzer")
    user.user_permissions.add(*Permission.objects.filter(codename__in=["add_spend", "change_spend", "view_campaign"]))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def encoded(text: str) -> str:
    # A lone surrogate has no UTF-8: on the wire it is its three raw bytes.
    return quote(text, safe="", errors="surrogatepass")


@fuzz(400)
@hypothesis.given(body=spend_bodies())
def test_spend_posts_never_answer_5xx(world, body):
    response = world.post("/api/v1/spend/", body, content_type="application/json")
    assert response.status_code < 500, response.content[:500]
    response.content.decode("utf-8")  # an answer a client can decode


@fuzz(300)
@hypothesis.given(params=st.dictionaries(st.sampled_from(["brand", "status", "page", "format"]), hostile_text))
def test_the_campaign_list_never_answers_5xx(world, params):
    query = "&".join(f"{encoded(name)}={encoded(value)}" for name, value in params.items())
    response = world.get(f"/api/v1/campaigns/?{query}")
    assert response.status_code < 500, response.content[:500]


def changelist_parameters() -> list[tuple[str, list[str]]]:
    """Each admin list and the query parameters it reads (filters, date parts, search, paging)."""
    lists = []
    for model in admin.site._registry:
        names = ["q", "o", "p", "e", "all", "_to_field", "_popup"]
        for field in model._meta.concrete_fields:
            names += [f"{field.name}{suffix}" for suffix in ("", "__exact", "__gte", "__lt", "__isnull", "__in")]
            if field.get_internal_type() in {"DateField", "DateTimeField"}:
                names += [f"{field.name}__{part}" for part in ("year", "month", "day")]
            if field.is_relation:
                names.append(f"{field.name}__id__exact")
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        lists.append((url, names))
    return lists


CHANGELISTS = changelist_parameters()


@st.composite
def changelist_queries(draw) -> str:
    url, names = draw(st.sampled_from(CHANGELISTS))
    params = draw(st.lists(st.tuples(st.sampled_from(names), hostile_text), min_size=1, max_size=4))
    return url + "?" + "&".join(f"{encoded(name)}={encoded(value)}" for name, value in params)


# Committed data and autocommit requests, as in production: a value PostgreSQL refuses
# (a DataError answered 400) must not leave the next example in an aborted transaction.
@pytest.mark.django_db(transaction=True)
@fuzz(600)
@hypothesis.given(url=changelist_queries())
def test_admin_list_pages_never_answer_5xx(world, staff_client, url):
    response = staff_client.get(url)
    assert response.status_code < 500, url


@fuzz(300)
@hypothesis.given(
    term=hostile_text,
    target=st.sampled_from(
        [
            ("campaigns", "campaign", "brand"),
            ("spend", "spend", "campaign"),
            ("dayparting", "daypartingschedule", "campaign"),
        ]
    ),
    page=hostile_text,
)
def test_the_admin_autocomplete_never_answers_5xx(world, staff_client, term, target, page):
    app_label, model_name, field_name = target
    query = f"term={encoded(term)}&app_label={app_label}&model_name={model_name}&field_name={field_name}"
    response = staff_client.get(f"/admin/autocomplete/?{query}&page={encoded(page)}")
    assert response.status_code < 500, query


@pytest.mark.django_db(transaction=True)
@fuzz(300)
@hypothesis.given(
    form=st.sampled_from(["login", "action", "spend"]),
    values=st.lists(hostile_text, min_size=4, max_size=4),
)
def test_admin_forms_never_answer_5xx(world, staff_client, form, values):
    campaign_id = str(Campaign.objects.values_list("pk", flat=True).first())
    if form == "login":
        client, url, fields = Client(), "/admin/login/", [("username", values[0]), ("password", values[1])]
    elif form == "action":
        client, url = staff_client, "/admin/campaigns/campaign/"
        fields = [("action", values[0]), ("_selected_action", values[1]), ("_selected_action", campaign_id)]
    else:
        client, url = staff_client, "/admin/spend/spend/add/"
        fields = [("campaign", campaign_id), ("date", values[0]), ("daily_spend", values[1])]
        fields.append(("monthly_spend", values[2]))
    body = "&".join(f"{encoded(name)}={encoded(value)}" for name, value in fields)
    response = client.post(url, body, content_type="application/x-www-form-urlencoded")
    assert response.status_code < 500, (form, values)
