"""The API's change feed (issue 20): Sessions, decisions and certificates get an updated_at, moved by any change to them or their children (clea_platform/changes.py); existing rows take their latest known date."""

from django.db import migrations, models
from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Coalesce, Greatest, Now


def _latest(first, *others):
    # Greatest is NULL on PostgreSQL's side only when all are, on SQLite's as soon as one is: coalesce each.
    return Greatest(F(first), *(Coalesce(F(name), F(first)) for name in others)) if others else F(first)


def backfill(apps, schema_editor):
    for model, fields in {"decision": ("decided_at", "revoked_at"), "jurysession": ("created_at", "closed_at")}.items():
        apps.get_model("juries", model).objects.update(updated_at=_latest(*fields))
    # A certificate: its decision's date, or its revocation.
    decided = Subquery(
        apps.get_model("juries", "Decision").objects.filter(pk=OuterRef("decision_id")).values("decided_at")
    )
    Certificate = apps.get_model("juries", "Certificate")
    Certificate.objects.update(updated_at=Coalesce(decided, Now()))
    Certificate.objects.filter(revoked_at__isnull=False).update(updated_at=F("revoked_at"))


class Migration(migrations.Migration):
    dependencies = [("juries", "0001_squashed_2026_12")]

    operations = [
        migrations.AddField(
            model_name="certificate",
            name="updated_at",
            field=models.DateTimeField(auto_now=True, db_index=True, verbose_name="modifié le"),
        ),
        migrations.AddField(
            model_name="decision",
            name="updated_at",
            field=models.DateTimeField(auto_now=True, db_index=True, verbose_name="modifiée le"),
        ),
        migrations.AddField(
            model_name="jurysession",
            name="updated_at",
            field=models.DateTimeField(auto_now=True, db_index=True, verbose_name="modifié le"),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
    ]
