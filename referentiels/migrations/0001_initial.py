# The référentiels, moved from `evaluations` with their rows: evaluations' migration 0002 renamed their tables to
# referentiels_*; this one only takes them into the référentiels' state (nothing to do in the database), then
# moves their content types so that whatever points at one (the audit log's object_type, permissions) keeps
# pointing at the same model. The dossiers and the training plans then point here (candidates 0008, training
# 0002), and evaluations 0003 lets go of the models.

import django.core.validators
import django.db.models.deletion
from django.db import migrations, models

MOVED_MODELS = ["referentiel", "domain", "subdomain", "criterion"]


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


def content_types_to_referentiels(apps, schema_editor):
    _move_content_types(apps, schema_editor, "evaluations", "referentiels")


def content_types_to_evaluations(apps, schema_editor):
    _move_content_types(apps, schema_editor, "referentiels", "evaluations")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("organisations", "0001_initial"),
        ("evaluations", "0002_referentiel_tables_renamed"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="Referentiel",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "certification",
                            models.CharField(
                                choices=[
                                    ("clea", "CléA"),
                                    ("clea_numerique", "CléA numérique"),
                                    ("clea_management", "CléA management"),
                                ],
                                max_length=20,
                                verbose_name="certification",
                            ),
                        ),
                        ("version", models.CharField(max_length=40, verbose_name="version")),
                        ("title", models.CharField(max_length=200, verbose_name="intitulé")),
                        (
                            "is_current",
                            models.BooleanField(
                                default=False,
                                help_text="Les nouveaux dossiers sont ouverts sur la version en vigueur.",
                                verbose_name="version en vigueur",
                            ),
                        ),
                        (
                            "is_provisional",
                            models.BooleanField(
                                default=False,
                                help_text="Jeu de démonstration, à remplacer par le référentiel officiel.",
                                verbose_name="provisoire",
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="créé le")),
                    ],
                    options={
                        "verbose_name": "référentiel",
                        "verbose_name_plural": "référentiels",
                        "ordering": ["certification", "-created_at"],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("certification", "version"), name="referentiel_unique_version"
                            ),
                            models.UniqueConstraint(
                                condition=models.Q(("is_current", True)),
                                fields=("certification",),
                                name="referentiel_one_current_per_certification",
                            ),
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="Domain",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("code", models.CharField(max_length=10, verbose_name="code")),
                        ("title", models.CharField(max_length=255, verbose_name="intitulé")),
                        ("is_transversal", models.BooleanField(default=False, verbose_name="domaine transversal")),
                        ("position", models.PositiveSmallIntegerField(default=0, verbose_name="ordre")),
                        (
                            "referentiel",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="domains",
                                to="referentiels.referentiel",
                                verbose_name="référentiel",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "domaine",
                        "verbose_name_plural": "domaines",
                        "ordering": ["position", "code"],
                        "constraints": [
                            models.UniqueConstraint(fields=("referentiel", "code"), name="domain_unique_code")
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="SubDomain",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("code", models.CharField(max_length=10, verbose_name="code")),
                        ("title", models.CharField(max_length=255, verbose_name="intitulé")),
                        (
                            "threshold_percent",
                            models.PositiveSmallIntegerField(
                                default=75,
                                help_text="Part des critères du sous-domaine à acquérir pour le valider.",
                                validators=[
                                    django.core.validators.MinValueValidator(1),
                                    django.core.validators.MaxValueValidator(100),
                                ],
                                verbose_name="seuil de validation (%)",
                            ),
                        ),
                        ("position", models.PositiveSmallIntegerField(default=0, verbose_name="ordre")),
                        (
                            "domain",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="subdomains",
                                to="referentiels.domain",
                                verbose_name="domaine",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "sous-domaine",
                        "verbose_name_plural": "sous-domaines",
                        "ordering": ["position", "code"],
                        "constraints": [
                            models.UniqueConstraint(fields=("domain", "code"), name="subdomain_unique_code"),
                            models.CheckConstraint(
                                condition=models.Q(("threshold_percent__gte", 1), ("threshold_percent__lte", 100)),
                                name="subdomain_threshold_range",
                            ),
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="Criterion",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("code", models.CharField(max_length=12, verbose_name="code")),
                        ("title", models.TextField(verbose_name="intitulé")),
                        (
                            "is_mandatory",
                            models.BooleanField(
                                default=False,
                                help_text="Sans lui, le sous-domaine n'est pas validé, quel que soit le seuil.",
                                verbose_name="critère obligatoire",
                            ),
                        ),
                        ("position", models.PositiveSmallIntegerField(default=0, verbose_name="ordre")),
                        (
                            "subdomain",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="criteria",
                                to="referentiels.subdomain",
                                verbose_name="sous-domaine",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "critère",
                        "verbose_name_plural": "critères",
                        "ordering": ["position", "code"],
                        "constraints": [
                            models.UniqueConstraint(fields=("subdomain", "code"), name="criterion_unique_code")
                        ],
                    },
                ),
            ],
        ),
        migrations.RunPython(content_types_to_referentiels, content_types_to_evaluations),
    ]
