import django.db.models.deletion
from django.db import migrations, models


def forget_gaps(apps, schema_editor):
    """Derived rows: the next rebuild (nightly, or manage.py indicators_rebuild) writes them again with their
    scope."""
    apps.get_model("indicators", "DossierFactGap").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("indicators", "0003_cube_delays_national"),
        ("organisations", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(forget_gaps, migrations.RunPython.noop),
        migrations.AddField(
            model_name="dossierfactgap",
            name="organisation",
            field=models.ForeignKey(
                db_index=False,
                default=0,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="organisations.organisation",
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="dossierfactgap",
            name="region",
            field=models.CharField(default="", max_length=2),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="dossierfactgap",
            name="certification",
            field=models.CharField(default="", max_length=20),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="dossierfactgap",
            name="opened_month",
            field=models.DateField(default="2000-01-01"),
            preserve_default=False,
        ),
        migrations.AddIndex(
            model_name="dossierfactgap",
            index=models.Index(fields=["organisation", "opened_month"], name="factgap_org_month"),
        ),
        migrations.AddIndex(
            model_name="dossierfactgap",
            index=models.Index(fields=["region", "opened_month"], name="factgap_region_month"),
        ),
    ]
