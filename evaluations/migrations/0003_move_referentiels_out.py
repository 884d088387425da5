# The référentiels now belong to the `referentiels` app: once it holds them (its 0001) and the dossiers and the
# training plans point at them there (candidates 0008, training 0002), the evaluations' state lets go of them.
# Nothing to do in the database: 0002 gave the tables their new names, and the criterion results' column and
# foreign key are unchanged.

import django.db.models.deletion
from django.db import migrations, models

# Children first: each points at the next.
MOVED_MODELS = ["Criterion", "SubDomain", "Domain", "Referentiel"]


class Migration(migrations.Migration):
    dependencies = [
        ("evaluations", "0002_referentiel_tables_renamed"),
        ("referentiels", "0001_initial"),
        ("candidates", "0008_dossier_referentiel_in_referentiels"),
        ("training", "0002_target_criteria_in_referentiels"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.AlterField(
                    model_name="criterionresult",
                    name="criterion",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="referentiels.criterion",
                        verbose_name="critère",
                    ),
                ),
                *[migrations.DeleteModel(name=name) for name in MOVED_MODELS],
            ],
        ),
    ]
