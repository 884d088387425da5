# A dossier's référentiel is now referentiels.Referentiel (moved from evaluations with its table and rows, see
# evaluations/migrations/0002_referentiel_tables_renamed.py): only the state changes, the column and its foreign
# key already point at the renamed table.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("candidates", "0007_move_referral_to_referrals"),
        ("referentiels", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.AlterField(
                    model_name="dossier",
                    name="referentiel",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="dossiers",
                        to="referentiels.referentiel",
                        verbose_name="référentiel",
                    ),
                ),
            ],
        ),
    ]
