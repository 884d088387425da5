"""The API's change feed (issue 20): Referrals get an updated_at, moved by any change to them or their children (clea_platform/changes.py); existing rows take their latest known date."""

from django.db import migrations, models
from django.db.models import F
from django.db.models.functions import Coalesce, Greatest


def _latest(first, *others):
    # Greatest is NULL on PostgreSQL's side only when all are, on SQLite's as soon as one is: coalesce each.
    return Greatest(F(first), *(Coalesce(F(name), F(first)) for name in others)) if others else F(first)


def backfill(apps, schema_editor):
    for model, fields in {"referral": ("sent_at", "answered_at", "anonymised_at")}.items():
        apps.get_model("referrals", model).objects.update(updated_at=_latest(*fields))


class Migration(migrations.Migration):
    dependencies = [("referrals", "0001_squashed_2026_12")]

    operations = [
        migrations.AddField(
            model_name="referral",
            name="updated_at",
            field=models.DateTimeField(auto_now=True, db_index=True, verbose_name="modifiée le"),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
    ]
