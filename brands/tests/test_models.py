"""Brand invariants: in the database, and as clear validation messages."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from brands.models import Brand
from brands.tests.factories import BrandFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.mark.parametrize("field", ["daily_budget", "monthly_budget"])
def test_negative_brand_budget_is_refused_by_the_database(field):
    with pytest.raises(IntegrityError, match=f"brand_{field}_null_or_non_negative"), transaction.atomic():
        Brand.objects.bulk_create([Brand(name="x", **{field: Decimal("-0.01")})])
    brand = BrandFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Brand.objects.filter(pk=brand.pk).update(**{field: Decimal("-5")})


def test_empty_and_zero_budgets_are_allowed():
    Brand.objects.bulk_create([Brand(name="no limit"), Brand(name="zero", daily_budget=0, monthly_budget=0)])
    assert Brand.objects.count() == 2


def test_brand_name_is_unique_in_the_database():
    BrandFactory(name="Acme")
    with pytest.raises(IntegrityError), transaction.atomic():
        Brand.objects.bulk_create([Brand(name="Acme")])


def test_empty_timezone_is_refused_by_the_database():
    with pytest.raises(IntegrityError, match="brand_timezone_not_empty"), transaction.atomic():
        Brand.objects.bulk_create([Brand(name="x", timezone="")])


def test_timezone_defaults_to_utc():
    assert Brand.objects.create(name="plain").timezone == "UTC"


@pytest.mark.parametrize("bad", ["Mars/Olympus_Mons", "utc ", "EST+5", "../etc/passwd"])
def test_unknown_timezone_gets_a_message_naming_the_value(bad):
    brand = Brand(name="Acme", timezone=bad)
    with pytest.raises(ValidationError) as caught:
        brand.full_clean()
    message = caught.value.message_dict["timezone"][0]
    assert repr(bad) in message and "IANA" in message


def test_over_precise_or_negative_budget_gets_a_message_naming_the_field():
    brand = Brand(name="Acme", daily_budget=Decimal("10.001"), monthly_budget=Decimal("-1"))
    with pytest.raises(ValidationError) as caught:
        brand.full_clean()
    errors = caught.value.message_dict
    assert "2 decimal places" in errors["daily_budget"][0]
    assert "greater than or equal to 0" in errors["monthly_budget"][0]
