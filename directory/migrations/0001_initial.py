# The commune table and the directory sheets, moved from `organisations` with their rows: organisations'
# migration 0004 renamed their tables to directory_*; this one only takes them into the directory's state
# (nothing to do in the database), then moves their content types so that whatever points at one (the audit
# log's object_type, permissions) keeps pointing at the same model.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

MOVED_MODELS = ["commune", "communepostcode", "directorysheet"]


def _move_content_types(apps, schema_editor, source, target):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    AuditLog = apps.get_model("organisations", "AuditLog")
    db = schema_editor.connection.alias
    for model in MOVED_MODELS:
        moving = ContentType.objects.using(db).filter(app_label=source, model=model).first()
        if moving is None:  # a fresh database: post_migrate creates the content types afterwards
            continue
        existing = ContentType.objects.using(db).filter(app_label=target, model=model).first()
        if existing is not None:
            # Created under the new label by a `migrate` run in between: the old row, which the audit log
            # and the granted permissions point at, wins.
            AuditLog.objects.using(db).filter(object_type=existing).update(object_type=moving)
            Permission.objects.using(db).filter(content_type=existing).delete()
            existing.delete()
        moving.app_label = target
        moving.save(update_fields=["app_label"])


def content_types_to_directory(apps, schema_editor):
    _move_content_types(apps, schema_editor, "organisations", "directory")


def content_types_to_organisations(apps, schema_editor):
    _move_content_types(apps, schema_editor, "directory", "organisations")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("organisations", "0004_directory_models_move_out"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="Commune",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID"),
                        ),
                        ("insee_code", models.CharField(max_length=5, unique=True, verbose_name="code INSEE")),
                        ("name", models.CharField(max_length=100, verbose_name="nom")),
                        ("name_folded", models.CharField(db_index=True, editable=False, max_length=100)),
                        ("departement", models.CharField(db_index=True, max_length=3, verbose_name="département")),
                        ("departement_name", models.CharField(max_length=80, verbose_name="nom du département")),
                        ("region", models.CharField(max_length=3, verbose_name="région")),
                        ("region_name", models.CharField(max_length=80, verbose_name="nom de la région")),
                        ("postcodes", models.CharField(blank=True, max_length=200, verbose_name="codes postaux")),
                        ("population", models.PositiveIntegerField(default=0, verbose_name="population")),
                        ("latitude", models.FloatField(verbose_name="latitude")),
                        ("longitude", models.FloatField(verbose_name="longitude")),
                        ("is_approximate", models.BooleanField(default=False, verbose_name="position approchée")),
                    ],
                    options={
                        "verbose_name": "commune",
                        "verbose_name_plural": "communes",
                        "ordering": ["name", "insee_code"],
                    },
                ),
                migrations.CreateModel(
                    name="CommunePostcode",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID"),
                        ),
                        ("postcode", models.CharField(db_index=True, max_length=5, verbose_name="code postal")),
                        (
                            "commune",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="postcode_rows",
                                to="directory.commune",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "code postal",
                        "verbose_name_plural": "codes postaux",
                        "constraints": [
                            models.UniqueConstraint(fields=("commune", "postcode"), name="commune_postcode_unique")
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="DirectorySheet",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID"),
                        ),
                        ("requested_on", models.DateField(verbose_name="date")),
                        (
                            "scope",
                            models.CharField(
                                choices=[("departement", "Un département"), ("radius", "Autour d'une commune")],
                                max_length=12,
                                verbose_name="territoire",
                            ),
                        ),
                        ("departement", models.CharField(blank=True, max_length=3, verbose_name="département")),
                        (
                            "commune_insee",
                            models.CharField(blank=True, max_length=5, verbose_name="code INSEE de la commune"),
                        ),
                        (
                            "radius_km",
                            models.PositiveSmallIntegerField(blank=True, null=True, verbose_name="rayon (km)"),
                        ),
                        ("place_label", models.CharField(max_length=150, verbose_name="territoire")),
                        (
                            "certification",
                            models.CharField(
                                blank=True,
                                choices=[
                                    ("clea", "CléA"),
                                    ("clea_numerique", "CléA numérique"),
                                    ("clea_management", "CléA management"),
                                ],
                                max_length=20,
                                verbose_name="certification",
                            ),
                        ),
                        (
                            "wheelchair_accessible",
                            models.BooleanField(default=False, verbose_name="accessible en fauteuil roulant"),
                        ),
                        (
                            "remote_evaluation",
                            models.BooleanField(default=False, verbose_name="évaluation à distance possible"),
                        ),
                        ("params_key", models.CharField(editable=False, max_length=120)),
                        (
                            "status",
                            models.CharField(
                                choices=[("pending", "En préparation"), ("ready", "Prête"), ("failed", "Échec")],
                                default="pending",
                                max_length=10,
                                verbose_name="état",
                            ),
                        ),
                        (
                            "file",
                            models.FileField(blank=True, upload_to="directory_sheets/%Y/", verbose_name="fichier"),
                        ),
                        ("sha256", models.CharField(blank=True, max_length=64, verbose_name="empreinte SHA-256")),
                        ("site_count", models.PositiveIntegerField(default=0, verbose_name="nombre de sites")),
                        ("generated_at", models.DateTimeField(blank=True, null=True, verbose_name="générée le")),
                        ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="demandée le")),
                        (
                            "organisation",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="directory_sheets",
                                to="organisations.organisation",
                                verbose_name="organisation",
                            ),
                        ),
                        (
                            "requested_by",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="demandée par",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "fiche de l'annuaire",
                        "verbose_name_plural": "fiches de l'annuaire",
                        "ordering": ["-created_at", "-id"],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("organisation", "requested_on", "params_key"),
                                name="directory_sheet_unique_per_day",
                            )
                        ],
                    },
                ),
            ],
        ),
        migrations.RunPython(content_types_to_directory, content_types_to_organisations),
    ]
