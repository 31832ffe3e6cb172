"""Money fields: USD as Decimal with 2 places, never float."""

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models

MONEY_MAX_DIGITS = 14
MONEY_DECIMAL_PLACES = 2


def money_field(verbose_name: str, *, optional: bool = False, **kwargs) -> models.DecimalField:
    """A non-negative USD amount; `optional` means empty is allowed (no limit, for budgets)."""
    return models.DecimalField(
        verbose_name,
        max_digits=MONEY_MAX_DIGITS,
        decimal_places=MONEY_DECIMAL_PLACES,
        validators=[MinValueValidator(Decimal("0"))],
        null=optional,
        blank=optional,
        **kwargs,
    )


def null_or_non_negative(field: str, *, name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=models.Q(**{f"{field}__isnull": True}) | models.Q(**{f"{field}__gte": 0}),
        name=name,
        violation_error_message=f"{field} must be empty or at least 0.",
    )
