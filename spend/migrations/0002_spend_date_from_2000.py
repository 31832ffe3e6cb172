"""Spend dates start on 2000-01-01 (a check constraint).

Rows dated earlier were accepted before this migration (0001-01-01 from a feed's
placeholder, say). They are not deleted here, since they are reported data: the
migration stops and names them, so an operator decides (correct the date, or delete
the rows), then runs `migrate` again.
"""

import datetime

from django.db import migrations, models

FLOOR = datetime.date(2000, 1, 1)


def refuse_rows_before_the_floor(apps, schema_editor):
    Spend = apps.get_model("spend", "Spend")
    early = Spend.objects.using(schema_editor.connection.alias).filter(date__lt=FLOOR)
    count = early.count()
    if count:
        shown = ", ".join(f"id {pk} (campaign {campaign}, {day})" for pk, campaign, day in early.order_by("date", "pk").values_list("pk", "campaign_id", "date")[:10])
        raise RuntimeError(
            f"{count} spend row(s) are dated before {FLOOR}, which spend dates may no longer be: {shown}"
            f"{' and more' if count > 10 else ''}. Correct their dates or delete them "
            f"(DELETE FROM spend_spend WHERE date < '{FLOOR}'), then run migrate again."
        )


class Migration(migrations.Migration):
    dependencies = [
        ("spend", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(refuse_rows_before_the_floor, migrations.RunPython.noop, elidable=True),
        migrations.AddConstraint(
            model_name="spend",
            constraint=models.CheckConstraint(
                condition=models.Q(("date__gte", FLOOR)),
                name="spend_date_from_2000",
                violation_error_message="date must be 2000-01-01 or later.",
            ),
        ),
    ]
