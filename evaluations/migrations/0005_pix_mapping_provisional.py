"""The provisional mapping from Pix competence levels to the CléA numérique domains (issue 21), shipped current and
marked « provisoire » until Certif'Pro enters its own in the admin. Read from evaluations/data, as it was when
this migration was written: the rows are copied here so that the migration never changes meaning."""

from django.db import migrations

RULES = [
    ("5.2", 1, "1"),
    ("3.1", 1, "1"),
    ("1.2", 1, "1"),
    ("1.1", 1, "2"),
    ("1.3", 1, "2"),
    ("2.1", 1, "3"),
    ("2.2", 1, "3"),
    ("2.3", 1, "3"),
    ("4.1", 1, "4"),
    ("4.2", 1, "4"),
]


def load(apps, schema_editor):
    version_model = apps.get_model("evaluations", "PixMappingVersion")
    rule_model = apps.get_model("evaluations", "PixMappingRule")
    version, created = version_model.objects.get_or_create(
        label="2026-provisoire",
        defaults={
            "is_provisional": True,
            "is_current": not version_model.objects.filter(is_current=True).exists(),
            "note": "Table provisoire livrée avec la plateforme (evaluations/data/pix_clea_numerique_provisoire.csv) : "
            "à remplacer par la correspondance officielle de Certif'Pro.",
        },
    )
    if created:
        rule_model.objects.bulk_create(
            rule_model(version=version, competence=c, minimum_level=level, domain_code=d) for c, level, d in RULES
        )


class Migration(migrations.Migration):
    dependencies = [("evaluations", "0004_pix_results")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop, elidable=True)]
